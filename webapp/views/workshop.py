"""Workshop dispatch (/workshop) and quality control + wash (/workshop/qc), stages 12 and 14.

Like the advisor console, every action answers with the page's ``panel`` block (an HTMX partial
of the same template) so the screen shows the server's truth after each click; the other
screens of the site follow through the ``advisor`` Socket.IO room (a hint for every event)."""
from decimal import Decimal

from markupsafe import Markup

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import jobs as rules
from ..extensions import db
from ..models import Bay, Concern, Estimate, Job, ManufacturerRequest, QcCheck, Site, TechnicianShift, User, Visit
from ..roles import DISPATCHER, QC, TECHNICIAN
from ..messages import error_text
from ..security import roles_required
from ..services import parts_desk
from ..services import ServiceError
from ..services import workshop as svc
from ..timeutil import local_day, utcnow
from ..workflow import VisitState

from ..workshop_screens import ACTIVE, _globals, fmt_hours, hours_text, job_row, promise_text
from ..parsing import read_id
from ..rendercache import RenderCache, placeholder_csrf, with_csrf
from ..statuses import JobStatus

bp = Blueprint("workshop", __name__, url_prefix="/workshop")
PAGE = "workshop/dispatch.html"
QC_PAGE = "workshop/qc.html"

def _dispatch_context(message=None, level="info", job_id=None):
    me = current_user._get_current_object()
    now = utcnow()
    jobs = db.session.scalars(
        # Led by the visit's site and state (its index finds the few active ones); by the job's site
        # it read every job the site ever had.
        select(Job).join(Visit).where(Visit.site_id == me.site_id, Job.status.in_((JobStatus.WAITING, *ACTIVE)),
                                      Visit.state.in_((VisitState.DISPATCH.value, VisitState.REPAIR.value,
                                                       VisitState.AUTHORISATION.value)))
        .order_by(Job.created_at, Job.id)
        # What each row shows, loaded with the jobs: 200 jobs cost a handful of queries, not 600.
        .options(joinedload(Job.visit).joinedload(Visit.ticket), joinedload(Job.visit).joinedload(Visit.vehicle),
                 joinedload(Job.visit).joinedload(Visit.estimate).selectinload(Estimate.lines),
                 joinedload(Job.technician), joinedload(Job.bay))).unique().all()
    pending = set(db.session.scalars(select(Concern.visit_id).join(ManufacturerRequest).where(
        ManufacturerRequest.site_id == me.site_id, ManufacturerRequest.status == "pending")))
    rows = [job_row(j, now, pending) for j in jobs]
    # Parts approved but not issued yet, for the whole site at once (one query, not two per job).
    unissued = {}
    for item in parts_desk.outstanding(me.site_id):
        unissued.setdefault(item.visit.id, []).append(item)
    for row in rows:
        row["parts_to_issue"] = unissued.get(row["visit"].id, [])
    techs = db.session.scalars(select(User).where(User.site_id == me.site_id, User.role == TECHNICIAN,
                                                  User.active.is_(True)).order_by(User.display_name)).all()
    today = local_day(me.site.timezone)
    on_shift = set(db.session.scalars(select(TechnicianShift.user_id).where(
        TechnicianShift.site_id == me.site_id, TechnicianShift.day == today)))
    load = []
    for t in techs:
        mine = [r for r in rows if r["job"].technician_id == t.id and r["job"].status in ACTIVE]
        load.append({"user": t, "on_shift": t.id in on_shift, "jobs": len(mine),
                     "hours": fmt_hours(sum((r["planned"] for r in mine), Decimal("0"))),
                     "clocked": hours_text(sum(r["clocked_seconds"] for r in mine)),
                     "running": any(r["job"].status == JobStatus.IN_PROGRESS for r in mine)})
    load.sort(key=lambda x: (not x["on_shift"], x["user"].display_name))
    bays = db.session.scalars(select(Bay).where(Bay.site_id == me.site_id, Bay.active.is_(True))
                              .order_by(Bay.name)).all()
    if job_id not in {r["job"].id for r in rows}:
        job_id = None   # the job left this list: show the message above it
    return {
        "waiting": [r for r in rows if r["job"].status == JobStatus.WAITING],
        "active": [r for r in rows if r["job"].status in ACTIVE],
        "load": load, "technicians": techs, "bays": bays,
        "message": message, "level": level, "message_job": job_id, **_globals(),
    }


def _dispatch_panel_html() -> Markup:
    """The dispatch panel as every dispatcher of the site sees it now, rendered once per change
    of the site's data (its change_seq), language and minute (clocked times and "overdue" are
    worked out at render time) and shared (webapp/rendercache.py). 200 jobs cost ~30 ms of CPU to
    render; a site's dispatch screens all refetch after every change. Per request: the CSRF token.
    A panel carrying a message (an action's answer) is rendered for its request alone."""
    site_id = current_user.site_id
    seq = db.session.scalar(select(Site.change_seq).where(Site.id == site_id))
    key = ("dispatch", site_id, seq, str(get_locale()), utcnow().strftime("%Y%m%d%H%M"))
    html = _cache().get_or_render(key, lambda: render_block(PAGE, "panel", **_dispatch_context(),
                                                            csrf_token=placeholder_csrf))
    return Markup(with_csrf(html))


def _cache() -> RenderCache:
    """Rendered dispatch panels of this app (one per site, language and minute in use)."""
    return current_app.extensions.setdefault("servicelane.dispatch_cache", RenderCache(size=256))


def _respond(page, block, context_fn, endpoint, message=None, level="info", status=200, job_id=None,
             shared=None):
    """``shared``: renders the block as everyone sees it (cached), used when there is no message."""
    if request.htmx and shared is not None and message is None:
        return shared(), status
    ctx = context_fn(message, level, job_id)
    if request.htmx:
        return render_block(page, block, **ctx), status
    if status >= 400:
        return render_template(page, **ctx), status
    return redirect(url_for(endpoint))


def _act(action, page, block, context_fn, endpoint, job_id=None, shared=None):
    try:
        action()
    except ServiceError as exc:
        return _respond(page, block, context_fn, endpoint, error_text(exc.message), "error",
                        exc.status, job_id)
    return _respond(page, block, context_fn, endpoint, shared=shared)


@bp.get("")
@roles_required(DISPATCHER)
def dispatch():
    return render_template(PAGE, panel_html=_dispatch_panel_html())


@bp.get("/panel")
@roles_required(DISPATCHER)
def dispatch_panel():
    return _dispatch_panel_html()


@bp.post("/jobs/<int:job_id>/assign")
@roles_required(DISPATCHER)
def assign(job_id):
    me = current_user._get_current_object()
    tech = read_id("technician_id") or 0
    bay = read_id("bay_id")
    return _act(lambda: svc.assign(me, job_id, tech, bay), PAGE, "panel", _dispatch_context,
                ".dispatch", job_id, shared=_dispatch_panel_html)


# ---------------------------------------------------------------- quality control and wash

def _qc_context(message=None, level="info", job_id=None):
    me = current_user._get_current_object()
    now = utcnow()
    in_qc = db.session.scalars(
        select(Job).join(Visit).where(Job.site_id == me.site_id, Visit.state == VisitState.QC.value)
        .order_by(Job.stage_since, Job.id)).all()
    rows = []
    for job in in_qc:
        row = job_row(job, now)
        row["technician"] = job.technician
        row["last_fail"] = db.session.scalar(select(QcCheck).where(QcCheck.job_id == job.id, QcCheck.result == "fail")
                                             .order_by(QcCheck.id.desc()).limit(1))
        rows.append(row)
    wash = db.session.scalars(
        select(Visit).where(Visit.site_id == me.site_id, Visit.state == VisitState.WASH.value)
        .order_by(Visit.updated_at, Visit.id)).all()
    wash_rows = [job_row(v.job, now) if v.job else {"visit": v, "number": v.ticket.number if v.ticket else "",
                                                     "plate": v.plate, "model": "", "promise": promise_text(v)}
                 for v in wash]
    if job_id not in {r["job"].id for r in rows}:
        job_id = None
    return {"in_qc": rows, "wash": wash_rows, "message": message, "level": level, "message_job": job_id,
            "ticked": request.form if request.method == "POST" else {}, **_globals()}


@bp.get("/qc")
@roles_required(QC, DISPATCHER)
def qc_page():
    return render_template(QC_PAGE, **_qc_context())


@bp.get("/qc/panel")
@roles_required(QC, DISPATCHER)
def qc_panel():
    return render_block(QC_PAGE, "panel", **_qc_context())


@bp.post("/qc/jobs/<int:job_id>")
@roles_required(QC, DISPATCHER)
def qc_check(job_id):
    me = current_user._get_current_object()
    result = request.form.get("result")
    if result not in ("pass", "fail"):
        return _respond(QC_PAGE, "panel", _qc_context, ".qc_page", _("Choose pass or fail."), "error", 422, job_id)
    ticked = {item: request.form.get(item) for item in rules.QC_CHECKLIST}
    return _act(lambda: svc.qc(me, job_id, ticked, result == "pass", request.form.get("reason")),
                QC_PAGE, "panel", _qc_context, ".qc_page", job_id)


@bp.post("/wash/<int:visit_id>")
@roles_required(QC, DISPATCHER)
def wash_done(visit_id):
    me = current_user._get_current_object()
    return _act(lambda: svc.wash_done(me, visit_id), QC_PAGE, "panel", _qc_context, ".qc_page")
