"""The parts desk (/parts): the approved parts each car still needs from stock, issued with one tap.

The parts clerk works from this list; the dispatcher opens it too (a job should not start while
its parts are still on the shelf). Follows the workshop's live channel, so a newly approved estimate
appears without a reload."""
from datetime import date, timedelta

from flask import Blueprint, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block

from ..models import Site
from ..extensions import db
from ..roles import DISPATCHER, PARTS
from ..security import roles_required
from ..services import ServiceError
from ..services import appointment_preparation, booking_capacity, parts_desk
from ..validation import Invalid
from ..workshop_screens import _globals as workshop_labels
from ..parsing import read_id

bp = Blueprint("parts", __name__, url_prefix="/parts")
PAGE = "parts/desk.html"


def _context(message=None, level="info"):
    rows = parts_desk.outstanding(current_user.site_id)
    return {"rows": rows, "message": message, "level": level, **workshop_labels()}


@bp.get("/")
@roles_required(PARTS, DISPATCHER)
def desk():
    return render_template(PAGE, **_context())


@bp.get("/panel")
@roles_required(PARTS, DISPATCHER)
def panel():
    return render_block(PAGE, "panel", **_context())


@bp.post("/issue")
@roles_required(PARTS)
def issue():
    status, message, level = 200, None, "info"
    try:
        row = parts_desk.issue_for_visit(current_user, read_id("visit_id") or 0,
                                         read_id("part_id") or 0)
        message = _("Issued %(qty)s × %(part)s for %(number)s.", qty=f"{row.outstanding.normalize():f}",
                    part=row.part.name(str(get_locale())),
                    number=row.visit.ticket.number if row.visit.ticket else row.visit.plate)
    except Invalid:
        status, level = 409, "error"
        message = _("Not enough in stock to issue this part: receive it first, or tell the advisor.")
    except ServiceError:
        status, level = 409, "error"
        message = _("Nothing left to issue for this car: someone issued it already.")
    return render_block(PAGE, "panel", **_context(message, level)), status


@bp.get("/picklist")
@roles_required(PARTS)
def picklist():
    """The parts to pick for a day's bookings (接待准备), on A4: tomorrow unless ``day`` says."""
    site = db.session.get(Site, current_user.site_id)
    today = booking_capacity.today(site)
    try:
        day = date.fromisoformat(request.args.get("day") or "")
    except ValueError:
        day = None
    if day is None or not today - timedelta(days=31) <= day <= today + timedelta(days=booking_capacity.HORIZON_DAYS):
        day = today + timedelta(days=1)     # nothing is booked outside the booking horizon
    rows = appointment_preparation.pick_list(site, day)
    return render_template("parts/picklist.html", site=site, day=day, today=today, rows=rows,
                           horizon=today + timedelta(days=appointment_preparation.HORIZON_DAYS),
                           short_count=sum(1 for _a, _t, p in rows if p.short))
