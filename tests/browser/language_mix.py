"""Does a screen speak one language? Text of the other language outside names and brands.

- An English screen may show Chinese only where it comes from the data (a customer's name, a car's
  make, a concern in the customer's words, a plate) or is the language switch's own "中文".
  Every Chinese run left after removing the database's strings is a phrase we failed to translate.
- A Chinese screen must not show any English message of the catalogue of two words or more
  (an untranslated msgid): single words such as "VIN" or "PIN" are the trade's own terms.
"""
import re
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import String, Text, inspect, select

from webapp.validation import PROVINCES

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
ALLOWED_ZH = ("中文",)
# The plate keyboard's province keys are the first character of a plate: data, not language.
PROVINCE_KEYS = re.compile(r"(?<![\u4e00-\u9fff])[" + "".join(PROVINCES) + r"](?![\u4e00-\u9fff])")
PO = Path(__file__).resolve().parents[2] / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLATE = re.compile(r"[\u4e00-\u9fff][A-Z][·•・ ]?[A-Z0-9*]{4,6}")


def data_strings(db) -> list[str]:
    """Every string value stored in the database (and its comma- or line-separated parts), longest
    first: names, makes, plates, concerns, catalogue names — what people typed, in any language."""
    found = set()
    for mapper in db.Model.registry.mappers:
        cols = [c for c in inspect(mapper.class_).columns if isinstance(c.type, (String, Text))]
        if not cols:
            continue
        for row in db.session.execute(select(*cols)).all():
            for value in row:
                if isinstance(value, str) and len(value.strip()) >= 2 and not value.startswith(("{", "[", "data:")):
                    found.add(value.strip())
                    found.update(part.strip() for part in re.split(r"[\n;；，,、]", value) if len(part.strip()) >= 2)
    return sorted(found, key=len, reverse=True)


def english_phrases() -> list[str]:
    """The catalogue's English messages of two words or more, placeholders cut out."""
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    phrases = set()
    for m in catalog:
        for text in (m.id if isinstance(m.id, tuple) else (m.id,)):
            for piece in re.split(r"%\(\w+\)[sd]|%[sd]|[\n:：]", text or ""):
                piece = piece.strip(" .,;!?—-()“”\"'")
                if len(piece.split()) >= 2 and re.search(r"[a-z]{3}", piece):
                    phrases.add(piece)
    return sorted(phrases, key=len, reverse=True)


def chinese_on_english_screen(text: str, data: list[str]) -> list[str]:
    for value in data:
        text = text.replace(value, " ")
    text = PLATE.sub(" ", text)
    text = PROVINCE_KEYS.sub(" ", text)
    for word in ALLOWED_ZH:
        text = text.replace(word, " ")
    return sorted(set(CJK.findall(text)))


def english_on_chinese_screen(text: str, phrases: list[str], data: list[str]) -> list[str]:
    for value in data:
        text = text.replace(value, " ")
    flat = " ".join(text.split())
    return [p for p in phrases if re.search(r"(?<![A-Za-z])" + re.escape(p) + r"(?![A-Za-z])", flat)]
