"""What the live sections of a page share (estimate, delivery, settlement, history panel, the
cashier's bill): the Jinja global through which the visit
page includes a section rendered with its own context. (Live refreshes merge into the page, see
static/js/live.js: no "nothing changed" shortcut is needed to keep what someone is typing.)"""
import re

from markupsafe import Markup

# Sections of the visit page by name ("estimate", "history", "progress", …) -> render(visit, names)
# -> {name: html}: a save answers with every other section it changed (changed_out_of_band)
# without one view importing another; each view module registers the sections it owns, several
# at once when they share one context (drawn once per call, not once per section).
VISIT_SECTIONS: dict = {}

OOB_SWAP = 'hx-swap-oob="morph"'   # idiomorph outerHTML merge (live.js keeps typed input)
_ROOT_TAG = re.compile(r"<[a-zA-Z][\w-]*(?=[^<>]*\sid=)")   # the first start tag with an id


def page_global(bp, name, render):
    """``{{ name(visit) }}`` on any page: the section as ``render(visit)`` draws it."""
    bp.app_context_processor(lambda: {name: lambda visit: Markup(render(visit))})


def visit_section(name, render):
    """Register ``render(visit)`` as the visit-page section ``name`` for out-of-band answers."""
    VISIT_SECTIONS[name] = lambda visit, names: {name: render(visit)}


def visit_sections(names, render_many):
    """Register ``render_many(visit, names) -> {name: html}`` for the sections ``names``."""
    for name in names:
        VISIT_SECTIONS[name] = render_many


def mark_out_of_band(html: str) -> str:
    """The section's root element, told to merge into the element with its id on the page. The
    sections stay plain templates (the same HTML serves the page, a refetch and this answer)."""
    found = _ROOT_TAG.search(html)
    if found is None:
        raise ValueError("a section swapped out of band needs an id on its root element")
    return html[:found.end()] + " " + OOB_SWAP + html[found.end():]


def render_sections(visit, names) -> dict:
    """The sections in ``names`` as they are drawn now: {name: html}. Nothing for a request
    that is not htmx's (a plain form post): nothing would merge them into a page."""
    from flask import request
    if not request.headers.get("HX-Request"):
        return {}
    groups: dict = {}
    for name in names:
        groups.setdefault(VISIT_SECTIONS[name], []).append(name)
    drawn = {}
    for render, group in groups.items():
        drawn.update(render(visit, group))
    return {name: str(drawn[name]) for name in names}


def changed_out_of_band(visit, before: dict) -> str:
    """The sections of ``before`` (drawn before a save) that the save changed, drawn anew and
    marked for an out-of-band morph: appended to the save's answer, one response brings the page
    up to date instead of one refetch per section, and sends nothing the page already shows."""
    after = render_sections(visit, before)
    return "".join(mark_out_of_band(html) for name, html in after.items() if html != before[name])


def refused(action, render):
    """Run a section's service. Bad input (``Invalid``, carrying ``errors`` {field: code}) →
    ``render(422, {field: message})``; a refusal (ServiceError) → ``render(status, {"_": message})``,
    after a rollback so the section shows the database as it is. None when the action went through."""
    from .extensions import db
    from .messages import error_text
    from .services import ServiceError
    from .validation import Invalid
    try:
        action()
    except Invalid as exc:
        db.session.rollback()
        db.session.expire_all()
        return render(422, {k: error_text(v) for k, v in exc.errors.items()})
    except ServiceError as exc:
        db.session.rollback()
        db.session.expire_all()
        return render(exc.status, {"_": error_text(exc.message)})
    return None
