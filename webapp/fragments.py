"""What the live sections of a page share (estimate, delivery, settlement, history panel, the
cashier's bill): the Jinja global through which the visit
page includes a section rendered with its own context. (Live refreshes merge into the page, see
static/js/live.js: no "nothing changed" shortcut is needed to keep what someone is typing.)"""
from markupsafe import Markup


def page_global(bp, name, render):
    """``{{ name(visit) }}`` on any page: the section as ``render(visit)`` draws it."""
    bp.app_context_processor(lambda: {name: lambda visit: Markup(render(visit))})


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
