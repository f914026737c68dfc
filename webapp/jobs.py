"""Rules of a workshop job (pure Python): the moves a technician, the dispatcher and QC make,
the clocked time, and the wall board's lanes and warnings."""
from datetime import datetime, timedelta
from .statuses import JobStatus

PAUSE_REASONS = ("waiting_parts", "waiting_approval", "break", "other")
QC_CHECKLIST = ("work_done", "parts_fitted", "no_leaks", "road_test", "no_warning_lights", "clean_interior")

# status -> action -> new status
MOVES = {
    JobStatus.WAITING: {"assign": JobStatus.ASSIGNED},
    JobStatus.ASSIGNED: {"assign": JobStatus.ASSIGNED, "start": JobStatus.IN_PROGRESS},
    JobStatus.IN_PROGRESS: {"pause": JobStatus.PAUSED, "finish": JobStatus.DONE},
    JobStatus.PAUSED: {"resume": JobStatus.IN_PROGRESS, "assign": JobStatus.PAUSED},
    JobStatus.DONE: {"qc_pass": JobStatus.PASSED, "qc_fail": JobStatus.ASSIGNED},
    JobStatus.PASSED: {},
}


class IllegalJobMove(Exception):
    def __init__(self, status, action):
        super().__init__(f"cannot {action} a job that is {status}")
        self.status, self.action = status, action


def move(status: str, action: str) -> str:
    try:
        return MOVES[status][action]
    except KeyError:
        raise IllegalJobMove(status, action) from None


def clocked(closed_seconds: int, running_since: datetime | None, now: datetime) -> int:
    """Seconds worked: closed periods plus the open one."""
    return closed_seconds + (int((now - running_since).total_seconds()) if running_since else 0)


LANES = ("dispatch", "in_progress", "waiting_parts", "waiting_approval", "qc", "wash", "ready")


def lane(visit_state: str, job_status: str | None, pause_reason: str | None, waiting_manufacturer: bool) -> str:
    """The board's swim lane for a car."""
    if visit_state == "authorisation" or waiting_manufacturer or (
            job_status == JobStatus.PAUSED and pause_reason == "waiting_approval"):
        return "waiting_approval"
    if job_status == JobStatus.PAUSED and pause_reason == "waiting_parts":
        return "waiting_parts"
    if visit_state == "qc":
        return "qc"
    if visit_state == "wash":
        return "wash"
    if visit_state == "ready":
        return "ready"
    if visit_state == "repair" or job_status in (JobStatus.IN_PROGRESS, JobStatus.PAUSED):
        return "in_progress"
    return "dispatch"


def risk(now: datetime, promised: datetime | None, remaining_hours: float, done: bool) -> str:
    """'overdue' past the promise, 'at_risk' when the remaining work exceeds the time left, else 'ok'."""
    if promised is None or done:
        return "ok"
    if now > promised:
        return "overdue"
    if now + timedelta(hours=remaining_hours) > promised:
        return "at_risk"
    return "ok"
