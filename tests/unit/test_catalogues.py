"""Both languages are complete: every message in the code and templates is translated in
zh_CN and en, so no screen shows a stray English or untranslated string."""
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def source_messages():
    found = {}
    for sub, method in (("webapp", "python"), ("kiosk", "python"), ("templates", "jinja2")):
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
                ROOT / sub, method_map=[("**.py", "python")] if method == "python" else [("**.html", "jinja2")],
                keywords=KEYWORDS):
            msgid = message[0] if isinstance(message, tuple) else message
            found.setdefault(msgid, f"{sub}/{filename}:{lineno}")
    return found


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_catalogue_complete(lang):
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    missing = []
    for msgid, where in sorted(source_messages().items()):
        message = catalog.get(msgid)
        if message is None or not message.string or message.fuzzy:
            missing.append(f"{where}: {msgid!r}")
    assert not missing, f"{len(missing)} messages untranslated in {lang}:\n" + "\n".join(missing[:60])


def test_chinese_catalogue_is_really_chinese():
    with open(ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    same = [m.id for m in catalog if m.id and m.string == m.id and any(c.isalpha() for c in str(m.id))
            and not str(m.id).isupper()]
    # Brand names and codes may stay; whole English sentences may not.
    sentences = [s for s in same if " " in str(s)]
    assert not sentences, sentences[:20]
