"""Security headers on every response, and role checks for staff routes."""
from functools import wraps

from flask import abort, request
from flask_login import current_user, login_required

from .roles import SUPERVISORS


def csp(host: str) -> str:
    # No inline scripts and no eval: htmx is configured (meta htmx-config) not to need them.
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        f"connect-src 'self' ws://{host} wss://{host}",
        "media-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def add_security_headers(response):
    h = response.headers
    h.setdefault("Content-Security-Policy", csp(request.host))
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "geolocation=(), microphone=(), payment=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        h.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def roles_required(*roles):
    """Staff only, with one of ``roles`` (managers and admins always pass)."""
    allowed = set(roles) | set(SUPERVISORS)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def record_of_my_site(model, record_id: int):
    """The record if it belongs to the signed-in user's site, else 404 (never 403: another site's
    ids are not even confirmed to exist). The one place staff routes scope records by site."""
    from .extensions import db
    record = db.session.get(model, record_id)
    if record is None or record.site_id != current_user.site_id:
        abort(404)
    return record


def visit_or_404(visit_id: int):
    from .models import Visit
    return record_of_my_site(Visit, visit_id)
