"""What the workshop screens (dispatch, QC, the technician's tablet) show: labels,
times, and one job as a row. Shared by webapp/views/workshop.py and webapp/views/tech.py."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from . import jobs as rules
from .models import Job, Visit
from .services import workshop as svc
from .timeutil import local_day, utcnow
from .statuses import JobStatus

ACTIVE = (JobStatus.ASSIGNED, JobStatus.IN_PROGRESS, JobStatus.PAUSED)
JOB_STATUS = {
    JobStatus.WAITING: _l("Waiting for a technician"), JobStatus.ASSIGNED: _l("Assigned"),
    JobStatus.IN_PROGRESS: _l("In progress"), JobStatus.PAUSED: _l("Paused"), JobStatus.DONE: _l("Finished, waiting for QC"), JobStatus.PASSED: _l("Passed QC"),
}
PAUSE_REASONS = {
    "waiting_parts": _l("Waiting for parts"), "waiting_approval": _l("Waiting for approval"),
    "break": _l("Break"), "other": _l("Other"),
}
QC_ITEMS = {
    "work_done": _l("All approved work done"), "parts_fitted": _l("Parts fitted and tightened"),
    "no_leaks": _l("No leaks"), "road_test": _l("Road test passed"),
    "no_warning_lights": _l("No warning lights on"), "clean_interior": _l("Interior clean, covers removed"),
}
WORK_STATUS = {"reported": _l("Reported to the advisor"), "priced": _l("Priced, waiting for the customer"),
               "approved": _l("Approved by the customer"), "declined": _l("Declined by the customer")}


def hours_text(seconds: int) -> str:
    minutes = max(int(seconds), 0) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def fmt_hours(value) -> str:
    value = Decimal(value or 0).normalize()
    return f"{value:f}"


def local_time(dt, tz_name):
    if dt is None:
        return None
    from datetime import timezone
    from zoneinfo import ZoneInfo
    return dt.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz_name))


def promise_text(visit: Visit) -> str:
    est = visit.estimate
    if est is None or est.promised_at is None:
        return ""
    tz = visit.site.timezone
    at = local_time(est.promised_at, tz)
    if at.date() == local_day(tz):
        return at.strftime("%H:%M")
    return at.strftime("%m-%d %H:%M")


def job_row(job: Job, now=None, pending: set[int] | None = None) -> dict:
    """What every workshop screen shows of a job. ``pending``: the site's visits waiting for the
    manufacturer, read once by a screen of many jobs (else one query for this job)."""
    visit = job.visit
    vehicle = visit.vehicle
    model = " ".join(x for x in ((vehicle.make, vehicle.model) if vehicle else ()) if x)
    now = now or utcnow()
    return {
        "job": job, "visit": visit, "number": visit.ticket.number if visit.ticket else f"#{visit.id}",
        "plate": visit.plate, "model": model, "hours": fmt_hours(svc.planned_hours(visit)),
        "planned": svc.planned_hours(visit), "promise": promise_text(visit),
        "overdue": bool(visit.estimate and visit.estimate.promised_at and visit.estimate.promised_at < now),
        "manufacturer": visit.id in pending if pending is not None else svc.waiting_manufacturer(visit),
        "clocked": hours_text(rules.clocked(job.clocked_seconds, job.running_since, now)),
        "clocked_seconds": rules.clocked(job.clocked_seconds, job.running_since, now),
    }


def _globals():
    return {"job_status": lambda c: str(JOB_STATUS.get(c, c)), "pause_label": lambda c: str(PAUSE_REASONS.get(c, c)),
            "qc_label": lambda c: str(QC_ITEMS.get(c, c)), "work_label": lambda c: str(WORK_STATUS.get(c, c)),
            "pause_reasons": rules.PAUSE_REASONS, "qc_items": rules.QC_CHECKLIST}


# ---------------------------------------------------------------- dispatch

