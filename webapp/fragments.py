"""What the live sections of a page share (estimate, delivery, settlement, history panel, the
cashier's bill): a fingerprint of what a section shows, the ``?seen=`` answer "nothing changed"
(204, so a live hint about something else never swaps away what someone is typing), and the Jinja
global through which the visit page includes a section rendered with its own context."""
import hashlib
import json

from flask import request
from markupsafe import Markup


def fingerprint(*data) -> str:
    """A short digest of everything a section shows that someone else can change."""
    return hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()[:16]


def unchanged(current: str) -> bool:
    """The refetch says it already shows ``current`` (``?seen=``): answer 204, keep the screen."""
    seen = request.args.get("seen")
    return bool(seen) and seen == current


def page_global(bp, name, render):
    """``{{ name(visit) }}`` on any page: the section as ``render(visit)`` draws it."""
    bp.app_context_processor(lambda: {name: lambda visit: Markup(render(visit))})


def refused(action, invalid, error_text, render):
    """Run a section's service. Bad input (``invalid``, carrying ``errors`` {field: code}) →
    ``render(422, {field: message})``; a refusal (ServiceError) → ``render(status, {"_": message})``,
    after a rollback so the section shows the database as it is. None when the action went through."""
    from .extensions import db
    from .services import ServiceError
    try:
        action()
    except invalid as exc:
        db.session.rollback()
        db.session.expire_all()
        return render(422, {k: error_text(v) for k, v in exc.errors.items()})
    except ServiceError as exc:
        db.session.rollback()
        db.session.expire_all()
        return render(exc.status, {"_": error_text(exc.message)})
    return None
