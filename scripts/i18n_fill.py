"""Fill catalogues after `pybabel update`.

- English: message ids are English, so an empty msgstr takes its msgid (plural forms too).
- Chinese: with ``--zh FILE.json`` ({msgid: translation}), fills those entries.
Prints what is still untranslated, so `make messages` ends with the to-do list."""
import argparse
import json
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


def load(lang):
    path = ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po"  # zh_CN lives in zh_Hans_CN (Babel's name)
    with path.open("rb") as fh:
        return path, read_po(fh, locale=lang)


def save(path, catalog):
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--zh", action="append", default=[], help="JSON file of zh_CN translations")
    args = parser.parse_args()

    path, en = load("en")
    for m in en:
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            if not all(m.string):
                m.string = tuple(m.id)
        elif not m.string:
            m.string = m.id
        m.flags.discard("fuzzy")
    save(path, en)

    path, zh = load("zh_Hans_CN")
    extra = {}
    for f in args.zh:
        extra.update(json.loads(Path(f).read_text(encoding="utf-8")))
    for m in zh:
        if m.id and isinstance(m.id, str) and m.id in extra:
            m.string = extra[m.id]
            m.flags.discard("fuzzy")
        elif m.id and isinstance(m.id, tuple) and m.id[0] in extra:
            m.string = (extra[m.id[0]],)  # Chinese has one plural form
            m.flags.discard("fuzzy")
    save(path, zh)
    missing = [m.id for m in zh if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)]
    for mid in missing:
        print("untranslated zh_CN:", json.dumps(mid, ensure_ascii=False))
    print(f"{len(missing)} zh_CN messages to translate")


if __name__ == "__main__":
    main()
