"""Which site a public screen (kiosk, lobby TV) belongs to.

Staff pages use the signed-in user's site. A kiosk or TV is set up once with ``?site=CODE``;
the choice is kept in a cookie so the bookmarked URL (``/kiosk``, ``/lobby``) stays short.
With a single site nothing needs configuring."""
from flask import abort, request
from sqlalchemy import bindparam, select

from .extensions import db
from .models import Site

COOKIE = "site"
# Built once: every kiosk and lobby request asks.
_BY_CODE = select(Site).where(Site.code == bindparam("code"))


def public_site() -> Site | None:
    code = request.args.get("site") or request.cookies.get(COOKIE)
    if code:
        site = db.session.scalar(_BY_CODE, {"code": code})
        if site is None and request.args.get("site"):
            abort(404)
        if site is not None:
            return site
    sites = db.session.scalars(select(Site).order_by(Site.id).limit(2)).all()
    return sites[0] if len(sites) == 1 else None


def all_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).order_by(Site.code)))


def remember(response, site: Site):
    if request.args.get("site"):
        response.set_cookie(COOKIE, site.code, max_age=5 * 365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
