"""The technician's tablet (/tech), stage 13: my jobs, start / pause / resume / finish, and
additional work (增项) reported to the advisor. The ``jobs`` block refetches on every hint of
the site's ``advisor`` room, so the customer's answer shows without a reload."""
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import func, select

from ..extensions import db
from ..models import AdditionalWork, Concern, Job, JobEvent, QcCheck, Visit
from ..roles import TECHNICIAN
from ..messages import error_text
from ..security import roles_required
from ..services import ServiceError
from ..services import workshop as svc
from ..timeutil import utcnow
from ..workshop_screens import _globals, job_row
from ..statuses import JobStatus, LineDecision

bp = Blueprint("tech", __name__, url_prefix="/tech")
PAGE = "tech/tablet.html"
SHOWN = (JobStatus.ASSIGNED, JobStatus.IN_PROGRESS, JobStatus.PAUSED, JobStatus.DONE)


def job_brief(visit):
    """What the technician must know before touching the car: the customer's concerns in their
    own words with the advisor's notes, the mileage and VIN, and the damage already on the car."""
    concerns = db.session.scalars(select(Concern).where(Concern.visit_id == visit.id)
                                  .order_by(Concern.position, Concern.id)).all()
    intake = visit.intake
    return {"concerns": concerns, "mileage": intake.mileage if intake else None,
            "vin": visit.vehicle.vin if visit.vehicle else None,
            "marks": intake.marks if intake else [], "description": visit.description}


def _jobs_context(message=None, level="info", job_id=None, form=None):
    me = current_user._get_current_object()
    now = utcnow()
    assigned_at = (select(func.max(JobEvent.at)).where(JobEvent.job_id == Job.id, JobEvent.kind == "assign")
                   .correlate(Job).scalar_subquery())
    jobs = db.session.scalars(
        select(Job).join(Visit).where(Job.site_id == me.site_id, Job.technician_id == me.id, Job.status.in_(SHOWN),
                                      Visit.state.in_(("dispatch", "repair", "authorisation", "qc")))
        .order_by((Job.status == JobStatus.DONE).asc(), assigned_at.asc(), Job.id)).all()
    cards = []
    for job in jobs:
        row = job_row(job, now)
        est = job.visit.estimate
        row["lines"] = [ln for ln in (est.lines if est else []) if ln.decision == LineDecision.APPROVED]
        row["brief"] = job_brief(job.visit)
        row["works"] = db.session.scalars(select(AdditionalWork).where(AdditionalWork.job_id == job.id)
                                          .order_by(AdditionalWork.id.desc())).all()
        row["last_fail"] = db.session.scalar(select(QcCheck).where(QcCheck.job_id == job.id, QcCheck.result == "fail")
                                             .order_by(QcCheck.id.desc()).limit(1)) if job.rework_count else None
        cards.append(row)
    if job_id not in {c["job"].id for c in cards}:
        job_id = None   # the job left this list: show the message above it
    return {"cards": cards, "message": message, "level": level, "message_job": job_id, "form": form or {},
            **_globals()}


def _respond(message=None, level="info", status=200, job_id=None, form=None):
    ctx = _jobs_context(message, level, job_id, form)
    if request.htmx:
        return render_block(PAGE, "jobs", **ctx), status
    if status >= 400:
        return render_template(PAGE, **ctx), status
    return redirect(url_for(".tablet"))


@bp.get("")
@roles_required(TECHNICIAN)
def tablet():
    return render_template(PAGE, **_jobs_context())


@bp.get("/jobs")
@roles_required(TECHNICIAN)
def jobs():
    return render_block(PAGE, "jobs", **_jobs_context())


@bp.post("/jobs/<int:job_id>/<action>")
@roles_required(TECHNICIAN)
def job_action(job_id, action):
    me = current_user._get_current_object()
    form = request.form
    actions = {
        "start": lambda: svc.start(me, job_id),
        "pause": lambda: svc.pause(me, job_id, form.get("reason", ""), form.get("note")),
        "resume": lambda: svc.resume(me, job_id),
        "finish": lambda: svc.finish(me, job_id),
        "additional": lambda: svc.report_additional(
            me, job_id, form.get("description", ""), form.get("suggestion"),
            [f.read() for f in request.files.getlist("photos") if f and f.filename]),
    }
    if action not in actions:
        abort(404)
    try:
        actions[action]()
    except ServiceError as exc:
        return _respond(error_text(exc.message), "error", exc.status, job_id,
                        form if action == "additional" else None)
    if action == "additional":
        return _respond(_("Sent to the advisor. The job waits for the customer's answer."), "info", 200, job_id)
    return _respond()
