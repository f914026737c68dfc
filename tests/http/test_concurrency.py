"""Races that the queue must win: on SQLite (a file, as deployed small) and on PostgreSQL.

- 50 check-ins at the same instant get W001..W050 exactly: no number twice, none skipped;
- one idempotency key sent 10 times at once makes one ticket;
- advisors pressing "Call next" together get different tickets; one advisor's double click
  calls one customer only.

Every race starts its threads behind a ``threading.Barrier`` so the critical sections overlap.
The check-in races run twice: straight into the service (one app context per thread) and
through real HTTP against a threaded server, the way kiosks reach it.
"""
import re
import uuid

import pytest
import requests
from sqlalchemy import func, select

from tests.factories import Factory
from tests.support import LiveServer, run_together
from webapp.extensions import db
from webapp.models import Site, Ticket, TicketCounter, User, Visit, VisitEvent
from webapp.services import ServiceError
from webapp.services.calling import call_next
from webapp.services.checkin import check_in_walkin

N_CHECKINS = 50
N_SAME_KEY = 10


def plate(i):
    return f"京A{10000 + i}"


def mobile(i):
    return f"139{i:08d}"


def detached(model, **where):
    """Load one row and detach it, so the thread holds no connection while it waits."""
    obj = db.session.scalar(select(model).filter_by(**where))
    db.session.close()
    return obj


def assert_gapless(numbers, count, prefix="W"):
    assert len(numbers) == count
    assert sorted(numbers) == [f"{prefix}{n:03d}" for n in range(1, count + 1)], (
        f"duplicates: {sorted(n for n in set(numbers) if numbers.count(n) > 1)}; "
        f"missing: {sorted(set(f'{prefix}{n:03d}' for n in range(1, count + 1)) - set(numbers))}")


def stored_numbers(app):
    with app.app_context():
        numbers = list(db.session.scalars(select(Ticket.number)))
        counter = db.session.scalar(select(TicketCounter.value))
        visits = db.session.scalar(select(func.count(Visit.id)))
        check_in_events = db.session.scalar(
            select(func.count(VisitEvent.id)).where(VisitEvent.action == "check_in"))
        db.session.remove()
    return numbers, counter, visits, check_in_events


# ---------------------------------------------------------------- check-in, service level

def service_checkin(app, key_of):
    def prepare(i):
        ctx = app.app_context()
        ctx.push()
        return ctx, detached(Site, code="race")

    def act(i, prepared):
        ctx, site = prepared
        try:
            ticket = check_in_walkin(site, plate(i), mobile(i), "repair", "异响", True, key_of(i))
            return ticket.number
        finally:
            db.session.remove()
            ctx.pop()

    return prepare, act


def test_parallel_checkins_get_gapless_unique_numbers(race_app):
    results = run_together(N_CHECKINS, *service_checkin(race_app, lambda i: uuid.uuid4().hex))
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert_gapless(results, N_CHECKINS)

    numbers, counter, visits, events = stored_numbers(race_app)
    assert_gapless(numbers, N_CHECKINS)
    assert counter == N_CHECKINS
    assert visits == N_CHECKINS and events == N_CHECKINS


def test_same_idempotency_key_in_parallel_makes_one_ticket(race_app):
    key = uuid.uuid4().hex
    results = run_together(N_SAME_KEY, *service_checkin(race_app, lambda i: key))
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert set(results) == {"W001"}

    numbers, counter, visits, events = stored_numbers(race_app)
    assert numbers == ["W001"]
    assert counter == 1, "a losing retry must not burn a number"
    assert visits == 1 and events == 1


# ---------------------------------------------------------------- check-in over HTTP

KIOSK_FORM = "/kiosk/walkin"       # GET: the walk-in form (carries the CSRF meta tag)
KIOSK_POST = "/kiosk/walkin"       # POST: plate, mobile, reason, description, consent, key (a uuid4)
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
SHOWN_NUMBER = re.compile(r'data-ticket-number="([^"]+)"')


@pytest.fixture
def live(race_app):
    server = LiveServer(race_app).start()
    yield server
    server.stop()


def http_checkin(server, key_of):
    def prepare(i):
        session = requests.Session()
        page = session.get(f"{server.url}{KIOSK_FORM}", params={"site": "race"}, timeout=30)
        assert page.status_code == 200, page.status_code
        token = CSRF_META.search(page.text).group(1)
        return session, token

    def act(i, prepared):
        session, token = prepared
        with session:
            resp = session.post(f"{server.url}{KIOSK_POST}", timeout=60, headers={"X-CSRFToken": token}, data={
                "csrf_token": token, "plate": plate(i), "mobile": mobile(i), "reason": "repair",
                "description": "异响", "consent": "1", "key": key_of(i),
            })
        assert resp.status_code == 200, (resp.status_code, resp.text[:300])
        return SHOWN_NUMBER.search(resp.text).group(1)  # the number the kiosk printed

    return prepare, act


def test_parallel_http_checkins_get_gapless_unique_numbers(race_app, live):
    results = run_together(N_CHECKINS, *http_checkin(live, lambda i: str(uuid.uuid4())))
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert_gapless(results, N_CHECKINS)

    numbers, counter, visits, events = stored_numbers(race_app)
    assert_gapless(numbers, N_CHECKINS)
    assert counter == N_CHECKINS
    assert visits == N_CHECKINS and events == N_CHECKINS


def test_same_idempotency_key_over_http_makes_one_ticket(race_app, live):
    key = str(uuid.uuid4())
    results = run_together(N_SAME_KEY, *http_checkin(live, lambda i: key))
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert set(results) == {"W001"}

    numbers, counter, visits, events = stored_numbers(race_app)
    assert numbers == ["W001"]
    assert counter == 1
    assert visits == 1 and events == 1


# ---------------------------------------------------------------- calling

def seed_queue(app, waiting, advisors):
    """``waiting`` walk-ins in the queue and ``advisors`` advisors at their desks."""
    with app.app_context():
        factory = Factory(db)
        site = db.session.scalar(select(Site).where(Site.code == "race"))
        users = [factory.user(site, "advisor", username=f"adv{i}", desk=str(i + 1)).id for i in range(advisors)]
        for i in range(waiting):
            factory.walkin(site, plate=plate(i), mobile=mobile(i))
        db.session.remove()
    return users


def parallel_calls(app, advisor_ids):
    def prepare(i):
        ctx = app.app_context()
        ctx.push()
        return ctx, detached(User, id=advisor_ids[i])

    def act(i, prepared):
        ctx, advisor = prepared
        try:
            try:
                return call_next(advisor).number
            except ServiceError as exc:
                return exc.message
        finally:
            db.session.remove()
            ctx.pop()

    return run_together(len(advisor_ids), prepare, act)


def called_rows(app):
    with app.app_context():
        rows = db.session.execute(
            select(Ticket.number, Ticket.called_by_id, Ticket.call_count).where(Ticket.status == "called")).all()
        calls = db.session.scalar(select(func.count(VisitEvent.id)).where(VisitEvent.action == "call"))
        db.session.remove()
    return rows, calls


@pytest.mark.parametrize("advisors", [2, 5])
def test_advisors_calling_together_get_different_tickets(race_app, advisors):
    ids = seed_queue(race_app, waiting=advisors + 3, advisors=advisors)
    results = parallel_calls(race_app, ids)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert len(set(results)) == advisors, results
    # Queue order is arrival order for walk-ins: the first ``advisors`` tickets are the ones called.
    assert sorted(results) == [f"W{n:03d}" for n in range(1, advisors + 1)]

    rows, calls = called_rows(race_app)
    assert sorted(r.number for r in rows) == sorted(results)
    assert sorted(r.called_by_id for r in rows) == sorted(ids)
    assert all(r.call_count == 1 for r in rows)
    assert calls == advisors


def test_more_advisors_than_customers(race_app):
    ids = seed_queue(race_app, waiting=2, advisors=5)
    results = parallel_calls(race_app, ids)
    assert sorted(results) == ["W001", "W002"] + ["queue_empty"] * 3

    rows, calls = called_rows(race_app)
    assert len(rows) == 2 and calls == 2


@pytest.mark.parametrize("clicks", [2, 5])
def test_one_advisor_double_click_calls_once(race_app, clicks):
    (advisor,) = seed_queue(race_app, waiting=4, advisors=1)
    results = parallel_calls(race_app, [advisor] * clicks)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert sorted(results) == ["W001"] + ["finish_current_call"] * (clicks - 1)

    rows, calls = called_rows(race_app)
    assert [(r.number, r.called_by_id, r.call_count) for r in rows] == [("W001", advisor, 1)]
    assert calls == 1
