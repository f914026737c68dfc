"""Advisor console (/advisor): the waiting queue, calling, and the advisor's visits in progress.

Every action answers with the console's ``panel`` block (an HTMX partial of the same page), so
the advisor's screen shows the server's truth after each click; other consoles and the lobby
TV follow through Socket.IO."""
from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from ..extensions import db
from ..models import Ticket, Visit
from ..readmodels import queue_state, visit_risk
from ..roles import ADVISOR
from ..messages import error_text
from ..security import roles_required
from ..services import ServiceError, appointment_preparation, appointments, calling
from ..services import intake as intake_svc
from ..services.calling import current_call
from ..workflow import OPEN_STATES
from ..parsing import read_id
from ..statuses import TicketStatus
from ..timeutil import utcnow

bp = Blueprint("advisor", __name__, url_prefix="/advisor")
PAGE = "advisor/console.html"


def _panel_context(message=None, level="info"):
    me = current_user._get_current_object()
    in_progress = db.session.scalars(
        select(Visit).where(Visit.site_id == me.site_id, Visit.advisor_id == me.id,
                            Visit.state.in_([s.value for s in OPEN_STATES]))
        .order_by(Visit.updated_at.desc()).limit(20)).all()
    skipped = db.session.scalars(
        select(Ticket).where(Ticket.site_id == me.site_id, Ticket.status == TicketStatus.SKIPPED,
                             Ticket.called_by_id == me.id)
        .order_by(Ticket.closed_at.desc()).limit(5)).all()
    colleagues = calling.transfer_candidates(me)
    now = utcnow()
    arrivals = appointments.expected_today(me.site, now)
    return {
        "arrivals": arrivals,
        "arrivals_prepared": appointment_preparation.prepared(me.site, arrivals, now),
        "now": now,
        "readiness": intake_svc.readiness_today(me),
        "current": current_call(me),
        "queue": queue_state(me),
        "in_progress": in_progress,
        "skipped": skipped,
        "colleagues": colleagues,
        "risks": {v.id: visit_risk(v) for v in in_progress},
        "message": message,
        "level": level,
    }


def _render_panel(message=None, level="info", status=200):
    ctx = _panel_context(message, level)
    if request.htmx:
        return render_block(PAGE, "panel", **ctx), status
    if status >= 400:
        return render_block(PAGE, "panel", **ctx), status
    return redirect(url_for(".console"))


def _act(action):
    try:
        action()
    except ServiceError as exc:
        return _render_panel(error_text(exc.message), "error", exc.status)
    return _render_panel()


@bp.get("")
@roles_required(ADVISOR)
def console():
    from flask import render_template
    return render_template(PAGE, **_panel_context())


@bp.get("/panel")
@roles_required(ADVISOR)
def panel():
    return render_block(PAGE, "panel", **_panel_context())


@bp.post("/call-next")
@roles_required(ADVISOR)
def call_next():
    return _act(lambda: calling.call_next(current_user))


@bp.post("/tickets/<int:ticket_id>/<action>")
@roles_required(ADVISOR)
def ticket_action(ticket_id, action):
    me = current_user._get_current_object()
    actions = {
        "recall": lambda: calling.recall(me, ticket_id),
        "skip": lambda: calling.skip(me, ticket_id),
        "requeue": lambda: calling.requeue(me, ticket_id),
        "start": lambda: calling.start_reception(me, ticket_id),
        "transfer": lambda: calling.transfer(me, ticket_id, read_id("to_advisor") or 0),
    }
    if action not in actions:
        abort(404)
    return _act(actions[action])


@bp.post("/readiness")
@roles_required(ADVISOR)
def readiness():
    """The start-of-day checklist (接待准备): kept per advisor and day."""
    item = request.form.get("item", "")
    if item not in intake_svc.READINESS_ITEMS:
        abort(400)
    intake_svc.save_readiness_item(current_user._get_current_object(), item, bool(request.form.get("checked")))
    return _render_panel()
