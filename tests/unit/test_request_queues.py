"""A section's request queue (hx-sync) lives on an element that no swap replaces or morphs.

htmx keeps a queued request (a click waiting behind a refresh) in the data of the hx-sync
element and wipes that data when it re-processes the element with different attributes, which
a morph swap of the element itself does (its class carries htmx-request/htmx-settling for a
moment, its data-* attributes follow the state). "Call next" clicked while a refresh was on its
way was then silently dropped on a busy machine. The browser test
test_call_next_is_never_undone_by_a_refresh_already_on_its_way shows the user-visible side; this
check keeps every template to the rule, so the next section gets it right too."""
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
START_TAG = re.compile(r"<[a-zA-Z][^<>]*?hx-sync=[^<>]*>", re.S)
ID = re.compile(r'\bid="([^"{}]+)"')


def start_tags_with_sync():
    for path in sorted(TEMPLATES.rglob("*.html")):
        for tag in START_TAG.findall(path.read_text(encoding="utf-8")):
            yield path.relative_to(TEMPLATES).as_posix(), " ".join(tag.split())


def test_templates_declare_request_queues():
    assert len(list(start_tags_with_sync())) >= 10


def test_no_queue_sits_on_an_element_that_is_swapped():
    all_text = "\n".join(p.read_text(encoding="utf-8") for p in TEMPLATES.rglob("*.html"))
    offenders = []
    for name, tag in start_tags_with_sync():
        swaps_itself = "outerHTML" in tag and ('hx-target="this"' in tag or "hx-target" not in tag)
        element_id = ID.search(tag)
        swapped_by_id = bool(element_id) and re.search(
            r'hx-target="#%s"[^<>]*outerHTML|outerHTML[^<>]*hx-target="#%s"' % ((re.escape(element_id[1]),) * 2), all_text)
        if swaps_itself or swapped_by_id:
            offenders.append((name, tag[:120]))
    assert offenders == []
