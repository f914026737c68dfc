"""When follow-up calls are due, and what a rating means. Pure: no Flask, no database.

Times are naive UTC like everywhere else; a site's opening hours are local "HH:MM" in its time
zone, so the helpers that keep a call within opening hours take the zone's name."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo
from .statuses import ComplaintStatus, FollowUpStatus

RATINGS = (1, 2, 3, 4, 5)
# The short survey: the same questions on the status page after delivery and on the call.
QUESTIONS = ("explained", "on_time", "clean", "recommend")
ANSWERS = ("yes", "no")
OUTCOMES = ("reached", "no_answer", "wrong_number")
CLOSED = (FollowUpStatus.REACHED, FollowUpStatus.UNREACHABLE, FollowUpStatus.WRONG_NUMBER)


def first_due(delivered_at: datetime, days: int) -> datetime:
    """The first call is due ``days`` after delivery (the seeds: typically within 3 days)."""
    return delivered_at + timedelta(days=max(0, int(days)))


def _hm(value: str) -> time:
    hour, minute = str(value).split(":")
    return time(int(hour), int(minute))


def within_opening(at_utc: datetime, opening: str, closing: str, tz_name: str) -> datetime:
    """``at_utc`` if the shop is open then (local opening ≤ t < closing), else the next opening
    time — later the same day before opening, the next day after closing. Naive UTC in and out."""
    zone = ZoneInfo(tz_name)
    local = at_utc.replace(tzinfo=timezone.utc).astimezone(zone)
    open_t, close_t = _hm(opening), _hm(closing)
    day = local.date()
    if local.time() >= close_t:
        day = day + timedelta(days=1)
    elif local.time() >= open_t:
        return at_utc
    start = datetime.combine(day, open_t, tzinfo=zone)
    return start.astimezone(timezone.utc).replace(tzinfo=None)


def next_attempt(now: datetime, retry_hours: int, opening: str, closing: str, tz_name: str) -> datetime:
    """After "no answer": ``retry_hours`` later, moved to the next opening time when the shop is
    closed then."""
    return within_opening(now + timedelta(hours=max(1, int(retry_hours))), opening, closing, tz_name)


@dataclass(frozen=True)
class CallResult:
    status: str            # due, reached, unreachable, wrong_number
    attempts: int
    due_at: datetime       # unchanged unless retried
    closed: bool


class CallRefused(Exception):
    """The outcome cannot be recorded: ``code`` is bad_outcome or closed."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def record_outcome(status: str, attempts: int, due_at: datetime, outcome: str, now: datetime,
                   retry_hours: int, max_attempts: int, opening: str, closing: str,
                   tz_name: str) -> CallResult:
    """What one call does to a follow-up: reached and wrong number close it; no answer retries
    later (within opening hours) until ``max_attempts`` calls went unanswered → unreachable."""
    if outcome not in OUTCOMES:
        raise CallRefused("bad_outcome")
    if status != FollowUpStatus.DUE:
        raise CallRefused("closed")
    attempts += 1
    if outcome == "reached":
        return CallResult(FollowUpStatus.REACHED, attempts, due_at, True)
    if outcome == "wrong_number":
        return CallResult(FollowUpStatus.WRONG_NUMBER, attempts, due_at, True)
    if attempts >= max(1, int(max_attempts)):
        return CallResult(FollowUpStatus.UNREACHABLE, attempts, due_at, True)
    return CallResult(FollowUpStatus.DUE, attempts, next_attempt(now, retry_hours, opening, closing, tz_name), False)


def opens_complaint(rating: int | None, threshold: int) -> bool:
    """A rating at or below the site's threshold opens a complaint case."""
    return rating is not None and rating in RATINGS and rating <= int(threshold)


RATING_CHANGE_MINUTES = 10     # a mis-tapped star can be changed this long after the tap


def may_change_rating(rated_at: datetime, now: datetime, complaint_opened: bool) -> bool:
    """A rating stands once a complaint was opened for it (someone will call); otherwise the
    customer may change it shortly after the tap."""
    return not complaint_opened and now - rated_at <= timedelta(minutes=RATING_CHANGE_MINUTES)


def complaint_due(now: datetime, days: int) -> datetime:
    return now + timedelta(days=max(0, int(days)))


def is_overdue(status: str, due_at: datetime, now: datetime) -> bool:
    return status == ComplaintStatus.OPEN and due_at < now


def needs_escalation(status: str, due_at: datetime, escalated_at: datetime | None, now: datetime) -> bool:
    """An open case past its due date is escalated to the manager, once."""
    return escalated_at is None and is_overdue(status, due_at, now)


def stars(rating: int) -> str:
    """★★☆☆☆ — a rating written without words (a complaint's summary reads in every language)."""
    rating = max(0, min(5, int(rating)))
    return "★" * rating + "☆" * (5 - rating)


def parse_answers(form, questions=QUESTIONS) -> tuple[dict, dict]:
    """({question: "yes"|"no"}, {question: "required"}) from a form."""
    answers, errors = {}, {}
    for q in questions:
        value = str(form.get(q) or "").strip()
        if value in ANSWERS:
            answers[q] = value
        else:
            errors[q] = "required"
    return answers, errors


def parse_rating(raw) -> int | None:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if value in RATINGS else None
