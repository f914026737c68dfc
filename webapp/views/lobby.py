"""Lobby calling display (/lobby): the TV that tells customers whose turn it is.

Public (numbers and desks only, never names or plates). The page and its ``board`` block are
one template; live.js refetches the block after every Socket.IO message and reconnect."""
from flask import Blueprint, abort, make_response, render_template
from jinja2_fragments.flask import render_block

from ..extensions import limiter
from ..readmodels import lobby_state
from ..sites import all_sites, public_site, remember

bp = Blueprint("lobby", __name__)
PAGE = "lobby/display.html"


def _public_limit():
    from flask import current_app
    return current_app.config["RATELIMIT_STATUS"]


@bp.get("/lobby")
@limiter.limit(_public_limit)
def display():
    site = public_site()
    if site is None:
        return render_template("lobby/pick_site.html", sites=all_sites())
    response = make_response(render_template(PAGE, site=site, state=lobby_state(site)))
    return remember(response, site)


@bp.get("/lobby/board")
@limiter.limit(_public_limit)
def board():
    site = public_site()
    if site is None:
        abort(404)
    return render_block(PAGE, "board", site=site, state=lobby_state(site))
