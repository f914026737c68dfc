"""Workshop wall board (/board): the TV in the workshop showing every car by stage.

No login on the TV: the site's board token in the URL is the capability (wrong or missing → 404).
No personal data: masked plate, model, technician display name, bay. The page and its ``lanes``
block are one template; static/js/board.js refetches /board/state after every newer "board"
message (numbered by the site's change sequence), every reconnect and every minute."""
from datetime import timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, make_response, render_template, request
from flask_babel import get_locale, gettext as _
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from ..extensions import db, limiter
from ..jobs import LANES
from ..models import Site
from ..readmodels import board_state
from ..rendercache import RenderCache
from ..timeutil import utcnow

bp = Blueprint("board", __name__)
PAGE = "board/page.html"
ROOMY = 4      # cards per lane shown full size; a busier lane shows compact cards
MAX_CARDS = 8  # compact cards that fit 1080 px at a size read from 5 m; the rest is "+N more"


def lane_names():
    return {"dispatch": _("Waiting dispatch"), "in_progress": _("In progress"), "waiting_parts": _("Waiting parts"),
            "waiting_approval": _("Waiting approval"), "qc": _("Quality check"), "wash": _("Wash"),
            "ready": _("Ready")}


def duration(minutes: int) -> str:
    """The same wording board.js ticks with (data-fmt-hm / data-fmt-m)."""
    minutes = max(0, int(minutes))
    if minutes < 60:
        return _("{m} min").replace("{m}", str(minutes))
    return _("{h} h {m} min").replace("{h}", str(minutes // 60)).replace("{m}", f"{minutes % 60:02d}")


def _context(site: Site) -> dict:
    state = board_state(site)
    now, tz = state.now, ZoneInfo(site.timezone or "Asia/Shanghai")

    def local(dt):
        return dt.replace(tzinfo=timezone.utc).astimezone(tz)

    def countdown(promised):
        minutes = int((promised - now).total_seconds() // 60)
        if minutes >= 0:
            return _("{t} left").replace("{t}", duration(minutes))
        return _("{t} late").replace("{t}", duration(-minutes))

    return dict(site=site, state=state, lanes=LANES, token=site.board_token, max_cards=MAX_CARDS, roomy=ROOMY,
                lane_names=lane_names(), iso=lambda dt: dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt else "",
                elapsed=lambda dt: duration((now - dt).total_seconds() // 60) if dt else "",
                local_hm=lambda dt: local(dt).strftime("%H:%M"), countdown=countdown,
                clock_now=local(now).strftime("%H:%M"))


def _public_limit():
    return current_app.config["RATELIMIT_STATUS"]


def _site() -> Site:
    token = request.args.get("token", "")
    if not token or len(token) > 64:
        abort(404)
    site = db.session.scalar(select(Site).where(Site.board_token == token))
    if site is None:
        abort(404)
    return site


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    return response


@bp.get("/board")
@limiter.limit(_public_limit)
def page():
    site = _site()
    return _no_store(make_response(render_template(PAGE, **_context(site))))


@bp.get("/board/state")
@limiter.limit(_public_limit)
def state():
    site = _site()
    html = _cache().get_or_render(_cache_key(site), lambda: render_block(PAGE, "lanes", **_context(site)))
    return _no_store(make_response(html))


def _cache() -> RenderCache:
    """Rendered lanes per app (webapp/rendercache.py): every TV of a site refetches after every
    change, and all of them ask for the same lanes."""
    return current_app.extensions.setdefault("servicelane.board_cache", RenderCache(size=256))


def _cache_key(site: Site):
    """What the lanes depend on: the site's data (change_seq), the language, and the minute (the
    countdowns and "late" flags are worked out at render time; board.js ticks them between)."""
    return (site.id, site.change_seq, str(get_locale()), utcnow().replace(second=0, microsecond=0))
