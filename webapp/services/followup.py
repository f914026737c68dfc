"""Follow-up (回访): the customer's one-tap rating and short survey on the status page, and the
follow-up calls of the CSI staff. Rules in webapp/followup.py.

- rate(): one rating per visit (SurveyResponse channel "pickup"), once the car is ready. The
  first tap records; the same tap again is a replay (answered like the first), another value is
  refused (``already_rated``). A rating at or below the site's threshold opens a complaint in
  the same transaction.
- survey(): once per visit after delivery (channel "survey").
- record_call(): one outcome per attempt. The form carries the attempt number it was opened at;
  one conditional UPDATE moves the follow-up on, so a double submit records one call.
  Reached: the survey answers (channel "call"), DELIVERED → FOLLOWED_UP, optionally a complaint.
"""
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import followup as rules
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Complaint, EstimateLine, FollowUp, FollowUpCall, SurveyResponse, Visit
from ..timeutil import utcnow
from ..workflow import VisitState
from . import ServiceError
from . import complaints
from .complaints import touched
from .visits import record_transition
from ..commands.followup import CallReport, SurveyAnswers
from ..validation import Invalid
from ..statuses import FollowUpStatus, LineDecision

RATING_STATES = (VisitState.READY.value, VisitState.DELIVERED.value, VisitState.FOLLOWED_UP.value)
SURVEY_STATES = (VisitState.DELIVERED.value, VisitState.FOLLOWED_UP.value)
UPCOMING_DAYS = 7


def _publish(visit: Visit, name: str, **data):
    publish(DomainEvent(name, visit.site_id, visit.id, visit.ticket.id if visit.ticket else None, data))


def response(visit_id: int, channel: str) -> SurveyResponse | None:
    return db.session.scalar(select(SurveyResponse).where(SurveyResponse.visit_id == visit_id,
                                                          SurveyResponse.channel == channel))


def answers_of(resp: SurveyResponse | None) -> dict:
    if resp is None or not resp.answers:
        return {}
    try:
        value = json.loads(resp.answers)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def rating_complaint(visit: Visit) -> Complaint | None:
    return db.session.scalar(select(Complaint).where(Complaint.visit_id == visit.id, Complaint.source == "rating")
                             .order_by(Complaint.id).limit(1))


# ---------------------------------------------------------------- the status page

@dataclass
class Rated:
    response: SurveyResponse
    complaint: Complaint | None
    replay: bool = False


class ConfirmLowRating(ServiceError):
    """A rating that would open a complaint needs a second, deliberate tap."""

    def __init__(self, rating: int):
        super().__init__("confirm_low_rating", 200, "rating")
        self.rating = rating


def rate(visit: Visit, raw_rating, confirmed: bool = False) -> Rated:
    """The one-tap pickup rating. A low rating (one that opens a complaint) is recorded only when
    confirmed; a rating may be changed within a few minutes unless it already opened a complaint."""
    rating = rules.parse_rating(raw_rating)
    if rating is None:
        raise ServiceError("rating_invalid", 422, "rating")
    if visit.state not in RATING_STATES:
        raise ServiceError("rating_not_open", 409)
    low = rules.opens_complaint(rating, visit.site.complaint_rating)
    existing = response(visit.id, "pickup")
    if existing is not None and existing.rating == rating:
        return Rated(existing, rating_complaint(visit), replay=True)
    if existing is not None and not rules.may_change_rating(existing.at, utcnow(),
                                                            rating_complaint(visit) is not None):
        raise ServiceError("already_rated", 409)
    if low and not confirmed:
        raise ConfirmLowRating(rating)
    now = utcnow()
    if existing is not None:
        existing.rating = rating            # changed within minutes, before anyone acted on it
        resp = existing
    else:
        resp = SurveyResponse(site_id=visit.site_id, visit_id=visit.id, channel="pickup", rating=rating, at=now)
        db.session.add(resp)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()   # a second tap at the same moment recorded it first
        existing = response(visit.id, "pickup")
        if existing is not None and existing.rating == rating:
            return Rated(existing, rating_complaint(visit), replay=True)
        raise ServiceError("already_rated", 409) from None
    case = None
    if low:
        case = complaints.new_case(visit, "rating", f"{rules.stars(rating)} {rating}/5", now)
    db.session.commit()
    _publish(visit, "survey.rated", rating=rating)
    if case is not None:
        complaints.published_new(case)
    return Rated(resp, case)


def survey(visit: Visit, answers: SurveyAnswers) -> SurveyResponse:
    if visit.state not in SURVEY_STATES:
        raise ServiceError("survey_not_open", 409)
    if response(visit.id, "survey") is not None:
        raise ServiceError("survey_done", 409)
    if answers.problems:
        raise Invalid(answers.problems)
    resp = SurveyResponse(site_id=visit.site_id, visit_id=visit.id, channel="survey",
                          answers=json.dumps(answers.answers), comment=answers.comment or None)
    db.session.add(resp)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("survey_done", 409) from None
    _publish(visit, "survey.answered")
    return resp


# ---------------------------------------------------------------- the call queue

def due_calls(site_id: int, now: datetime | None = None) -> list[FollowUp]:
    now = now or utcnow()
    return list(db.session.scalars(select(FollowUp).where(FollowUp.site_id == site_id,
                                                          FollowUp.status == FollowUpStatus.DUE,
                                                          FollowUp.due_at <= now)
                                   .order_by(FollowUp.due_at, FollowUp.id)))


def upcoming_calls(site_id: int, now: datetime | None = None, days: int = UPCOMING_DAYS) -> list[FollowUp]:
    now = now or utcnow()
    return list(db.session.scalars(select(FollowUp).where(FollowUp.site_id == site_id,
                                                          FollowUp.status == FollowUpStatus.DUE,
                                                          FollowUp.due_at > now,
                                                          FollowUp.due_at <= now + timedelta(days=days))
                                   .order_by(FollowUp.due_at, FollowUp.id)))


def announce_due(now: datetime | None = None) -> int:
    """Tell the follow-up screens of each site about calls that became due (a first call, or a
    retry whose time came) since they were last announced — the periodic task. One conditional
    UPDATE per site, so two runners announce a call once. Returns how many calls."""
    now = now or utcnow()
    fresh = ((FollowUp.status == FollowUpStatus.DUE) & (FollowUp.due_at <= now)
             & (FollowUp.reminded_at.is_(None) | (FollowUp.reminded_at < FollowUp.due_at)))
    sites = list(db.session.scalars(select(FollowUp.site_id).where(fresh).distinct()))
    counts = {}
    for site_id in sites:
        counts[site_id] = db.session.execute(update(FollowUp).where(FollowUp.site_id == site_id, fresh)
                                             .values(reminded_at=now)
                                             .execution_options(synchronize_session=False)).rowcount
        if counts[site_id]:
            touched(site_id)
    db.session.commit()
    for site_id, count in counts.items():
        if count:
            publish(DomainEvent("followup.due", site_id, None, None, {"count": count}))
    return sum(counts.values())


def get(site_id: int, follow_up_id: int) -> FollowUp:
    fu = db.session.get(FollowUp, follow_up_id)
    if fu is None or fu.site_id != site_id:
        raise ServiceError("followup_not_found", 404)
    return fu


def work_done(visit: Visit) -> list[EstimateLine]:
    est = visit.estimate
    if est is None:
        return []
    return [line for line in est.lines if line.decision == LineDecision.APPROVED]


def record_call(actor, follow_up_id: int, report: CallReport) -> FollowUpCall:
    fu = get(actor.site_id, follow_up_id)
    visit, site = fu.visit, fu.visit.site
    attempt, outcome = report.attempt, report.outcome
    if attempt is None:
        raise ServiceError("call_stale", 409)
    if fu.status != FollowUpStatus.DUE or attempt != fu.attempts:
        raise ServiceError("call_already_recorded", 409)
    now = utcnow()
    try:
        result = rules.record_outcome(fu.status, fu.attempts, fu.due_at, outcome, now, site.followup_retry_hours,
                                      site.followup_max_attempts, site.opening, site.closing, site.timezone)
    except rules.CallRefused as exc:
        raise ServiceError("outcome_invalid" if exc.code == "bad_outcome" else "call_already_recorded",
                           422 if exc.code == "bad_outcome" else 409, "outcome") from None
    if report.problems:
        raise Invalid(report.problems)
    comment, answers, rating, summary = report.comment, report.answers, report.rating, report.summary

    moved = db.session.execute(update(FollowUp).where(
        FollowUp.id == fu.id, FollowUp.status == FollowUpStatus.DUE, FollowUp.attempts == attempt).values(
        status=result.status, attempts=result.attempts, due_at=result.due_at,
        closed_at=now if result.closed else None).execution_options(synchronize_session=False)).rowcount
    if not moved:
        db.session.rollback()
        raise ServiceError("call_already_recorded", 409)
    touched(fu.site_id)
    call = FollowUpCall(site_id=fu.site_id, follow_up_id=fu.id, outcome=outcome, comment=comment or None,
                        staff_id=actor.id, at=now)
    db.session.add(call)
    case = None
    if outcome == "reached":
        db.session.add(SurveyResponse(site_id=fu.site_id, visit_id=visit.id, channel="call", rating=rating,
                                      answers=json.dumps(answers), comment=comment or None, at=now))
        if visit.state == VisitState.DELIVERED.value:
            record_transition(visit, VisitState.FOLLOWED_UP, "follow_up_call", actor)
        if summary:
            case = complaints.new_case(visit, "call", summary, now)
        elif rules.opens_complaint(rating, site.complaint_rating):
            case = complaints.new_case(visit, "call", f"{rules.stars(rating)} {rating}/5", now)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("call_already_recorded", 409) from None
    db.session.expire(fu)
    _publish(visit, "followup.called", outcome=outcome, status=result.status)
    if case is not None:
        complaints.published_new(case)
    return call
