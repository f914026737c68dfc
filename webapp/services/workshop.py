"""Workshop use cases (stages 12–14): dispatch, the technician's job, additional work, QC, wash.

Each function validates with webapp/jobs.py and the visit workflow, writes the job's event log,
commits, then publishes an event (the board, the tablets, the status page and the consoles
follow). A job exists once the customer approved work; it cannot start while a warranty line
waits for the manufacturer's decision."""
import json
from decimal import Decimal

from sqlalchemy import select

from .. import jobs as rules
from .. import notify
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import (AdditionalWork, Bay, Concern, Job, JobEvent, ManufacturerRequest, Photo, QcCheck, User,
                      Visit)
from ..storage import ImageRefused, store_image
from ..roles import TECHNICIAN
from ..timeutil import utcnow
from ..workflow import VisitState
from . import ServiceError
from .visits import record_transition
from ..statuses import JobStatus, LineDecision


def _publish(visit: Visit, name: str, **data):
    publish(DomainEvent(name, visit.site_id, visit.id, visit.ticket.id if visit.ticket else None, data))


def _log(job: Job, kind: str, user, reason=None, detail=None):
    db.session.add(JobEvent(site_id=job.site_id, job=job, kind=kind, reason=reason,
                            detail=json.dumps(detail, ensure_ascii=False) if detail else None,
                            user_id=getattr(user, "id", None)))


def _apply(job: Job, action: str):
    try:
        job.status = rules.move(job.status, action)
    except rules.IllegalJobMove:
        raise ServiceError("job_move_not_allowed", 409) from None
    job.stage_since = utcnow()


def ensure_job(visit: Visit) -> Job:
    """The visit's job, created when its work was approved (called by the estimate service)."""
    job = visit.job
    if job is None:
        job = Job(site_id=visit.site_id, visit=visit)
        db.session.add(job)
        db.session.flush()
    return job


def planned_hours(visit: Visit) -> Decimal:
    est = visit.estimate
    if est is None:
        return Decimal("0")
    return sum((line.quantity for line in est.lines
                if line.kind in ("labour", "diagnosis") and line.decision == LineDecision.APPROVED), Decimal("0"))


def waiting_manufacturer(visit: Visit) -> bool:
    return db.session.scalar(select(ManufacturerRequest.id).join(Concern).where(
        Concern.visit_id == visit.id, ManufacturerRequest.status == "pending").limit(1)) is not None


def _job(site_id: int, job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.site_id != site_id:
        raise ServiceError("job_not_found", 404)
    return job


# ---------------------------------------------------------------- dispatch

def assign(dispatcher, job_id: int, technician_id: int, bay_id: int | None) -> Job:
    job = _job(dispatcher.site_id, job_id)
    tech = db.session.get(User, technician_id)
    if tech is None or tech.site_id != job.site_id or tech.role != TECHNICIAN or not tech.active:
        raise ServiceError("technician_invalid", 422)
    bay = None
    if bay_id:
        bay = db.session.get(Bay, bay_id)
        if bay is None or bay.site_id != job.site_id:
            raise ServiceError("bay_invalid", 422)
    _apply(job, "assign")
    job.technician_id, job.bay_id = tech.id, bay.id if bay else None
    job.first_assigned_at = job.first_assigned_at or utcnow()      # the report's "dispatched"
    _log(job, "assign", dispatcher, detail={"technician": tech.id, "bay": bay.id if bay else None})
    db.session.commit()
    _publish(job.visit, "job.assigned", job=job.id)
    return job


# ---------------------------------------------------------------- the technician

def _own(tech, job_id: int) -> Job:
    job = _job(tech.site_id, job_id)
    if job.technician_id != tech.id and tech.role == TECHNICIAN:
        raise ServiceError("job_not_yours", 403)
    return job


def start(tech, job_id: int) -> Job:
    job = _own(tech, job_id)
    visit = job.visit
    if waiting_manufacturer(visit):
        raise ServiceError("waiting_manufacturer", 409)
    if visit.state == VisitState.AUTHORISATION.value:
        raise ServiceError("waiting_customer", 409)
    _apply(job, "start")
    job.running_since = utcnow()
    job.first_started_at = job.first_started_at or job.running_since   # the report's "work started"
    if visit.state == VisitState.DISPATCH.value:
        record_transition(visit, VisitState.REPAIR, "start_job", tech)
    _log(job, "start", tech)
    db.session.commit()
    _publish(visit, "job.started", job=job.id)
    return job


def _stop_clock(job: Job):
    if job.running_since is not None:
        job.clocked_seconds = rules.clocked(job.clocked_seconds, job.running_since, utcnow())
        job.running_since = None


def pause(tech, job_id: int, reason: str, note: str | None = None) -> Job:
    if reason not in rules.PAUSE_REASONS:
        raise ServiceError("pause_reason_invalid", 422)
    job = _own(tech, job_id)
    _apply(job, "pause")
    _stop_clock(job)
    job.pause_reason, job.pause_note = reason, (note or "").strip()[:200] or None
    _log(job, "pause", tech, reason)
    db.session.commit()
    _publish(job.visit, "job.paused", job=job.id, reason=reason)
    return job


def resume(tech, job_id: int) -> Job:
    job = _own(tech, job_id)
    if job.visit.state == VisitState.AUTHORISATION.value:
        raise ServiceError("waiting_customer", 409)
    _apply(job, "resume")
    job.running_since = utcnow()
    job.pause_reason = job.pause_note = None
    _log(job, "resume", tech)
    db.session.commit()
    _publish(job.visit, "job.resumed", job=job.id)
    return job


def finish(tech, job_id: int) -> Job:
    job = _own(tech, job_id)
    _apply(job, "finish")
    _stop_clock(job)
    record_transition(job.visit, VisitState.QC, "finish_job", tech)
    _log(job, "finish", tech)
    db.session.commit()
    _publish(job.visit, "job.finished", job=job.id)
    return job


def report_additional(tech, job_id: int, description: str, suggestion: str | None = None,
                      photos: list[bytes] = ()) -> AdditionalWork:
    """增项: found during the repair, with photos. The job pauses waiting for the customer's answer.
    Photos are checked before anything is written, so a refused photo leaves nothing behind."""
    job = _own(tech, job_id)
    description = (description or "").strip()
    if not description:
        raise ServiceError("description_required", 422)
    stored = []
    for data in photos[:6]:
        try:
            stored.append(store_image(data, job.site_id))
        except ImageRefused as exc:
            raise ServiceError(f"photo_{exc.code}", 422) from None
    work = AdditionalWork(site_id=job.site_id, visit_id=job.visit_id, job_id=job.id,
                          description=description[:2000], suggestion=(suggestion or "").strip()[:2000] or None,
                          reported_by_id=tech.id)
    db.session.add(work)
    db.session.flush()
    for image in stored:
        db.session.add(Photo(site_id=job.site_id, visit_id=job.visit_id, additional_work_id=work.id,
                             sha256=image.sha256, content_type=image.content_type, size=image.size,
                             width=image.width, height=image.height, path=image.path,
                             thumb_path=image.thumb_path, uploaded_by_id=tech.id))
    if job.status == JobStatus.IN_PROGRESS:
        _apply(job, "pause")
        _stop_clock(job)
        job.pause_reason = "waiting_approval"
    _log(job, "additional", tech, description[:200])
    db.session.commit()
    _publish(job.visit, "job.additional", job=job.id)
    return work


def additional_priced(visit: Visit, version: int):
    """The advisor presented the new estimate version carrying the additional work."""
    for work in db.session.scalars(select(AdditionalWork).where(AdditionalWork.visit_id == visit.id,
                                                                AdditionalWork.status == "reported")):
        work.status, work.estimate_version = "priced", version


def additional_decided(visit: Visit, any_approved_new: bool):
    for work in db.session.scalars(select(AdditionalWork).where(AdditionalWork.visit_id == visit.id,
                                                                AdditionalWork.status == "priced")):
        work.status = "approved" if any_approved_new else "declined"


# ---------------------------------------------------------------- QC and wash

def qc(inspector, job_id: int, ticked: dict, passed: bool, reason: str | None) -> QcCheck:
    job = _job(inspector.site_id, job_id)
    if job.visit.state != VisitState.QC.value:
        raise ServiceError("not_in_qc", 409)
    checklist = {item: bool(ticked.get(item)) for item in rules.QC_CHECKLIST}
    if passed and not all(checklist.values()):
        raise ServiceError("qc_checklist_incomplete", 422)
    if not passed and not (reason or "").strip():
        raise ServiceError("qc_reason_required", 422)
    check = QcCheck(site_id=job.site_id, job_id=job.id, checklist=json.dumps(checklist), result="pass" if passed else "fail",
                    reason=(reason or "").strip()[:1000] or None, inspector_id=inspector.id)
    db.session.add(check)
    visit = job.visit
    if passed:
        _apply(job, "qc_pass")
        wash = visit.repair_order is not None and visit.repair_order.car_wash
        record_transition(visit, VisitState.WASH if wash else VisitState.READY, "qc_pass", inspector)
    else:
        _apply(job, "qc_fail")
        job.rework_count += 1
        record_transition(visit, VisitState.REPAIR, "qc_fail", inspector, {"reason": check.reason})
    _log(job, "qc_pass" if passed else "qc_fail", inspector, check.reason)
    notice = notify.add_ready_notice(visit) if visit.state == VisitState.READY.value else None
    db.session.commit()
    _publish(visit, "job.qc", job=job.id, result=check.result)
    if visit.state == VisitState.READY.value:      # passed without a wash: ready for pickup
        _publish(visit, "visit.ready")
        notify.enqueue(notice)
    return check


def wash_done(user, visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None or visit.site_id != user.site_id:
        raise ServiceError("visit_not_found", 404)
    if visit.state != VisitState.WASH.value:
        raise ServiceError("not_in_wash", 409)
    record_transition(visit, VisitState.READY, "wash_done", user)
    notice = notify.add_ready_notice(visit)
    db.session.commit()
    _publish(visit, "visit.ready")
    notify.enqueue(notice)
    return visit
