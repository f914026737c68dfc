"""Complaint cases (投诉): opened by a low rating on the status page or on a follow-up call, owned
by a CSI staff member (or a manager), noted (append-only), resolved with a written resolution,
and escalated to the manager once when past due.

Owner of a new case: the site's active CSI staff member with the fewest open cases (ties: the
longest-serving account, lowest id); none when the site has no CSI staff — the manager assigns.
Escalation is a periodic task (webapp/tasks/periodic.py, every five minutes); one conditional
UPDATE, so two runners escalate a case once."""
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from .. import changes
from .. import followup as rules
from ..events import DomainEvent, publish
from ..extensions import db
from ..models import Complaint, ComplaintNote, Site, User, Visit
from ..roles import CSI, MANAGER
from ..timeutil import utcnow
from . import ServiceError
from ..parsing import parse_id
from ..statuses import ComplaintStatus

OWNER_ROLES = (CSI, MANAGER)
MAX_TEXT = 4000
REPLAY_WINDOW = timedelta(seconds=60)   # the same note twice in a minute is a double click


def touched(site_id: int) -> None:
    """A bulk UPDATE is not seen by webapp/changes.py: count the site as changed by hand."""
    db.session.info.setdefault(changes.KEY, set()).add(site_id)


def _publish(case: Complaint, name: str, **data):
    visit = case.visit
    publish(DomainEvent(name, case.site_id, case.visit_id,
                        visit.ticket.id if visit is not None and visit.ticket else None,
                        {"complaint": case.id, **data}))


def owner_candidates(site_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.site_id == site_id, User.role.in_(OWNER_ROLES),
                                                      User.active.is_(True))
                                   .order_by(User.role, User.display_name, User.id)))


def pick_owner(site_id: int) -> User | None:
    """The site's active CSI staff member with the fewest open cases."""
    open_count = (select(func.count(Complaint.id)).where(Complaint.owner_id == User.id,
                                                         Complaint.status == ComplaintStatus.OPEN)
                  .correlate(User).scalar_subquery())
    return db.session.scalar(select(User).where(User.site_id == site_id, User.role == CSI,
                                                User.active.is_(True))
                             .order_by(open_count, User.id).limit(1))


def new_case(visit: Visit, source: str, summary: str, now: datetime | None = None) -> Complaint:
    """Add a case for ``visit`` inside the caller's transaction (no commit, no event)."""
    now = now or utcnow()
    owner = pick_owner(visit.site_id)
    case = Complaint(site_id=visit.site_id, visit_id=visit.id, source=source, summary=summary[:MAX_TEXT],
                     owner_id=owner.id if owner else None,
                     due_at=rules.complaint_due(now, visit.site.complaint_due_days), created_at=now)
    db.session.add(case)
    db.session.flush()
    return case


def published_new(case: Complaint) -> None:
    _publish(case, "complaint.opened", source=case.source)


def get(site_id: int, complaint_id: int) -> Complaint:
    case = db.session.get(Complaint, complaint_id)
    if case is None or case.site_id != site_id:
        raise ServiceError("complaint_not_found", 404)
    return case


def open_cases(site_id: int, now: datetime | None = None) -> list[Complaint]:
    """Open cases: escalated first, then the other overdue ones, then by due date."""
    now = now or utcnow()
    cases = db.session.scalars(select(Complaint).where(Complaint.site_id == site_id,
                                                       Complaint.status == ComplaintStatus.OPEN)
                               .order_by(Complaint.due_at, Complaint.id)).all()
    return sorted(cases, key=lambda c: (c.escalated_at is None, not rules.is_overdue(c.status, c.due_at, now)))


def recently_resolved(site_id: int, limit: int = 10) -> list[Complaint]:
    return list(db.session.scalars(select(Complaint).where(Complaint.site_id == site_id,
                                                           Complaint.status == ComplaintStatus.RESOLVED)
                                   .order_by(Complaint.resolved_at.desc(), Complaint.id.desc()).limit(limit)))


def escalate_overdue(site_id: int, now: datetime | None = None) -> int:
    """Mark the site's open cases past due as escalated (once). Returns how many."""
    now = now or utcnow()
    ids = list(db.session.scalars(select(Complaint.id).where(
        Complaint.site_id == site_id, Complaint.status == ComplaintStatus.OPEN, Complaint.escalated_at.is_(None),
        Complaint.due_at < now)))
    if not ids:
        return 0
    done = db.session.execute(update(Complaint).where(
        Complaint.id.in_(ids), Complaint.status == ComplaintStatus.OPEN, Complaint.escalated_at.is_(None),
        Complaint.due_at < now).values(escalated_at=now).execution_options(synchronize_session=False)).rowcount
    touched(site_id)
    db.session.commit()
    if done:
        publish(DomainEvent("complaint.escalated", site_id, None, None, {"count": done}))
    return done


def escalate_all(now: datetime | None = None) -> int:
    """Escalate the overdue cases of every site (the periodic task). Returns how many."""
    now = now or utcnow()
    return sum(escalate_overdue(site_id, now) for site_id in db.session.scalars(select(Site.id).order_by(Site.id)).all())


def _open_case(actor, complaint_id: int) -> Complaint:
    case = get(actor.site_id, complaint_id)
    if case.status != ComplaintStatus.OPEN:
        raise ServiceError("complaint_closed", 409)
    return case


def assign(actor, complaint_id: int, owner_id) -> Complaint:
    case = _open_case(actor, complaint_id)
    owner_id = parse_id(owner_id)
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or owner.site_id != case.site_id or owner.role not in OWNER_ROLES or not owner.active:
        raise ServiceError("owner_invalid", 422, "owner_id")
    if case.owner_id != owner.id:
        case.owner_id = owner.id
        db.session.commit()
        _publish(case, "complaint.assigned", owner=owner.id)
    return case


def add_note(actor, complaint_id: int, text: str) -> ComplaintNote:
    case = get(actor.site_id, complaint_id)
    text = (text or "").strip()
    if not text:
        raise ServiceError("complaint_note_required", 422, "text")
    if len(text) > MAX_TEXT:
        raise ServiceError("text_too_long", 422, "text")
    last = db.session.scalar(select(ComplaintNote).where(ComplaintNote.complaint_id == case.id)
                             .order_by(ComplaintNote.id.desc()).limit(1))
    if (last is not None and last.author_id == actor.id and last.text == text
            and utcnow() - last.at < REPLAY_WINDOW):
        return last   # a double submit: the note is there once
    note = ComplaintNote(site_id=case.site_id, complaint_id=case.id, text=text, author_id=actor.id)
    db.session.add(note)
    db.session.commit()
    _publish(case, "complaint.noted")
    return note


def resolve(actor, complaint_id: int, resolution: str) -> Complaint:
    case = get(actor.site_id, complaint_id)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ServiceError("resolution_required", 422, "resolution")
    if len(resolution) > MAX_TEXT:
        raise ServiceError("text_too_long", 422, "resolution")
    now = utcnow()
    done = db.session.execute(update(Complaint).where(Complaint.id == case.id, Complaint.status == ComplaintStatus.OPEN)
                              .values(status=ComplaintStatus.RESOLVED, resolution=resolution, resolved_at=now,
                                      resolved_by_id=actor.id)
                              .execution_options(synchronize_session=False)).rowcount
    if not done:
        db.session.rollback()
        raise ServiceError("complaint_closed", 409)
    touched(case.site_id)
    db.session.commit()
    db.session.refresh(case)
    _publish(case, "complaint.resolved")
    return case
