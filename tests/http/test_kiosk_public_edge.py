"""The kiosk's public edge as a stranger meets it (issue 10: defects 1, 3, 4, and 9's status-link
expiry), from an anonymous HTTP client, on SQLite and PostgreSQL.

1. A confirm checks in only what this kiosk screen's own search found; an appointment already
   checked in never shows its ticket (PIN, QR code) again.
3. A walk-in's status page shows only what was typed at the kiosk; matching it to stored records
   is the advisor's, at the desk.
4. Someone already in the queue gets no second number, and is told so.
9. Status links of tickets that never reached a desk expire.
"""
import re
import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from tests.support import LiveServer, csrf_token, login, run_together
from webapp.extensions import db as _db
from webapp.models import Appointment, Site, Ticket, Visit
from webapp.services import calling
from webapp.services import history as history_svc
from webapp.services.checkin import AlreadyCheckedIn, check_in_appointment, check_in_walkin, ticket_pin
from webapp.timeutil import utcnow

from kiosk import matching

OWNER_PLATE, OWNER_MOBILE = "京A12345", "13800138000"
STRANGER_PLATE, STRANGER_MOBILE = "沪B67890", "13911112222"


def key():
    return str(uuid.uuid4())


def tickets():
    return list(_db.session.scalars(select(Ticket).order_by(Ticket.id)))


def confirm_fields(html, row=0):
    forms = re.findall(r'<form[^>]*action="/kiosk/appointment/confirm".*?</form>', html, re.S)
    return {name: re.search(rf'name="{name}" value="([^"]*)"', forms[row]).group(1)
            for name in ("match", "pick", "key")}


def shows_a_ticket(html, ticket=None):
    """Whether a page hands out a ticket: its number screen, a PIN or a QR code of a status link."""
    # The QR code is the kiosk's <svg class="qr">: "QR" alone also turns up in a random CSRF token.
    if 'id="ticket-number"' in html or "data-pin=" in html or '<svg class="qr' in html:
        return True
    return ticket is not None and (ticket.token in html or ticket_pin(ticket.token) in html)


@pytest.fixture
def site(factory):
    return factory.site(code="bj01")


@pytest.fixture
def owner(factory, site):
    """张先生 and his Passat, stored from earlier visits."""
    return factory.customer_vehicle(site, plate=OWNER_PLATE, mobile=OWNER_MOBILE, name="张先生",
                                    make="大众", model="帕萨特")


@pytest.fixture
def booked(factory, site, owner):
    customer, car = owner
    return factory.appointment(site, customer, car)


@pytest.fixture
def stranger(app, site):
    """A fresh anonymous browser at the kiosk, in English, with its CSRF token."""
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client, csrf_token(client, "/kiosk/appointment?site=bj01")


def search(client, token, q, by="plate"):
    return client.post("/kiosk/appointment?site=bj01", data={"csrf_token": token, "by": by, "q": q})


# ---------------------------------------------------------------- 1: the confirm is bound to the search


def test_posted_appointment_id_checks_in_nothing(stranger, booked):
    client, token = stranger
    resp = client.post("/kiosk/appointment/confirm?site=bj01",
                       data={"csrf_token": token, "appointment_id": str(booked.id), "key": key()})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and not shows_a_ticket(html)
    assert "Please search for your appointment again." in html
    assert tickets() == [] and _db.session.get(Appointment, booked.id).status == "booked"


def test_checked_in_appointment_never_shows_its_ticket_again(app, stranger, site, booked):
    owners_ticket = check_in_appointment(site, booked.id, key())
    client, token = stranger
    # The old attack: the id and a fresh key.
    forged = client.post("/kiosk/appointment/confirm?site=bj01",
                         data={"csrf_token": token, "appointment_id": str(booked.id), "key": key()})
    assert forged.status_code == 400 and not shows_a_ticket(forged.get_data(as_text=True), owners_ticket)
    # Searching the plate (or the mobile) again: the number and the way to the desk, nothing else.
    for by, q in (("plate", OWNER_PLATE), ("mobile", OWNER_MOBILE)):
        resp = search(client, token, q, by)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 409, html[:300]
        assert "Already checked in as A001 — please ask at the service desk." in html
        assert not shows_a_ticket(html, owners_ticket) and "张先生" not in html
        assert 'id="continue-walkin"' not in html        # no new walk-in number offered
    assert len(tickets()) == 1


def test_search_token_confirms_once_and_a_second_kiosk_gets_the_number_only(stranger, site, booked):
    client, token = stranger
    confirm = {"csrf_token": token, **confirm_fields(search(client, token, OWNER_PLATE).get_data(as_text=True))}
    first = client.post("/kiosk/appointment/confirm?site=bj01", data=confirm)
    assert first.status_code == 200 and 'id="ticket-number">A001<' in first.get_data(as_text=True)
    # The same tap again (same key): the ticket it just printed.
    assert 'id="ticket-number">A001<' in client.post("/kiosk/appointment/confirm?site=bj01",
                                                     data=confirm).get_data(as_text=True)
    # The same search result on another screen (another key): the number, no ticket.
    again = client.post("/kiosk/appointment/confirm?site=bj01", data={**confirm, "key": key()})
    assert again.status_code == 409 and not shows_a_ticket(again.get_data(as_text=True), tickets()[0])
    assert "Already checked in as A001" in again.get_data(as_text=True)
    assert len(tickets()) == 1


def test_search_token_of_another_site_is_refused(app, factory, stranger, site, booked):
    other = factory.site(code="sh01")
    c2, v2 = factory.customer_vehicle(other, plate=OWNER_PLATE, mobile=OWNER_MOBILE)
    factory.appointment(other, c2, v2)
    client, token = stranger
    fields = confirm_fields(search(client, token, OWNER_PLATE).get_data(as_text=True))
    resp = client.post("/kiosk/appointment/confirm?site=sh01", data={"csrf_token": token, **fields})
    assert resp.status_code == 400 and tickets() == []


def test_search_token_expires(monkeypatch, stranger, booked):
    client, token = stranger
    fields = confirm_fields(search(client, token, OWNER_PLATE).get_data(as_text=True))
    monkeypatch.setattr(matching, "MAX_AGE", -1)   # every token is older than that
    resp = client.post("/kiosk/appointment/confirm?site=bj01", data={"csrf_token": token, **fields})
    assert resp.status_code == 410 and "This search has expired." in resp.get_data(as_text=True)
    assert 'id="search-again"' in resp.get_data(as_text=True) and tickets() == []


def test_tampered_search_token_is_refused(stranger, booked):
    client, token = stranger
    fields = confirm_fields(search(client, token, OWNER_PLATE).get_data(as_text=True))
    payload, rest = fields["match"].split(".", 1)
    forged = {**fields, "match": payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest}
    assert client.post("/kiosk/appointment/confirm?site=bj01",
                       data={"csrf_token": token, **forged}).status_code == 400
    assert tickets() == []


@pytest.mark.parametrize("field, value", [
    ("pick", str(10 ** 26)), ("pick", "NaN"), ("pick", "-1"), ("pick", "\x00"), ("pick", "1" * 100_000),
    ("pick", "٣"), ("pick", None), ("match", None), ("match", "x" * 100_000), ("match", "\x00"),
    ("key", "\x00"), ("appointment_id", str(10 ** 26)),
])
def test_hostile_confirm_fields_get_a_clear_4xx(stranger, booked, field, value):
    client, token = stranger
    fields = {"csrf_token": token, **confirm_fields(search(client, token, OWNER_PLATE).get_data(as_text=True))}
    if value is None:
        fields.pop(field)
    else:
        fields[field] = value
    resp = client.post("/kiosk/appointment/confirm?site=bj01", data=fields)
    html = resp.get_data(as_text=True)
    if value is not None and "\x00" in value:
        # NUL is refused for every route before any work (webapp.parsing), kiosk included.
        assert resp.status_code == 400 and tickets() == []
        return
    if field == "key" or field == "appointment_id":
        # Not the ones that choose the appointment: a junk key is only no key.
        assert resp.status_code == 200 and 'id="ticket-number">A001<' in html
        return
    assert 400 <= resp.status_code < 500 and "Please search for your appointment again." in html
    assert tickets() == []


def test_appointment_of_another_day_cannot_be_confirmed(site, booked):
    booked.scheduled_at = utcnow() - timedelta(days=1)
    _db.session.commit()
    with pytest.raises(Exception) as refused:
        check_in_appointment(site, booked.id, key())
    assert getattr(refused.value, "message", None) == "appointment_not_found"


# ---------------------------------------------------------------- 3: a walk-in is no oracle


def walk_in(client, token, plate, mobile, **over):
    data = {"csrf_token": token, "key": key(), "plate": plate, "mobile": mobile, "reason": "repair",
            "consent": "1", **over}
    return client.post("/kiosk/walkin?site=bj01", data=data)


def test_walkin_with_someone_elses_mobile_and_plate_shows_only_what_was_typed(app, stranger, owner):
    customer, car = owner
    client, token = stranger
    resp = walk_in(client, token, OWNER_PLATE, OWNER_MOBILE)
    assert resp.status_code == 200
    ticket = tickets()[0]
    # Unlocked with the stranger's own ticket's PIN.
    page = client.get(f"/t/{ticket.token}")
    unlock = client.post(f"/t/{ticket.token}/unlock", data={
        "pin": ticket_pin(ticket.token), "csrf_token": csrf_token(client, f"/t/{ticket.token}")})
    assert page.status_code == 200 and unlock.status_code in (200, 303)
    html = client.get(f"/t/{ticket.token}").get_data(as_text=True)
    assert OWNER_PLATE in html                                  # what was typed: yes
    assert "张先生" not in html and "帕萨特" not in html and "大众" not in html
    visit = _db.session.get(Visit, ticket.visit_id)
    assert visit.customer_id is None and visit.vehicle_id is None
    # Nothing joined the stored car's or customer's history.
    assert history_svc.vehicle_history(car.site_id, car.id).visit_count == 0
    assert _db.session.scalar(select(func.count(Visit.id)).where(Visit.customer_id == customer.id)) == 0


@pytest.fixture
def advisor(factory, site):
    return factory.user(site, "advisor", username="adv1", desk="1")


def received_walkin(site, advisor, plate=OWNER_PLATE, mobile=OWNER_MOBILE):
    ticket = check_in_walkin(site, plate, mobile, "repair", None, True, key())
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    return _db.session.get(Visit, ticket.visit_id)


def test_advisor_sees_the_suggestion_and_links_it_then_history_joins(client, factory, site, owner, advisor):
    customer, car = owner
    visit = received_walkin(site, advisor)
    login(client, advisor)
    html = client.get(f"/advisor/visits/{visit.id}?lang=en").get_data(as_text=True)
    assert 'id="suggestion"' in html and "Stored records match the kiosk entry" in html
    suggestion = re.search(r'id="suggestion".*?</form>', html, re.S).group(0)
    assert "张先生" in suggestion and "大众 帕萨特" in suggestion and 'id="link-suggested"' in suggestion

    assert client.post(f"/advisor/visits/{visit.id}/suggested").status_code == 400   # no CSRF token
    assert _db.session.get(Visit, visit.id).customer_id is None
    resp = client.post(f"/advisor/visits/{visit.id}/suggested?lang=en",
                       headers={"X-CSRFToken": csrf_token(client, "/advisor"), "HX-Request": "true"})
    assert resp.status_code == 200 and 'id="suggestion"' not in resp.get_data(as_text=True)
    linked = _db.session.get(Visit, visit.id)
    assert (linked.customer_id, linked.vehicle_id) == (customer.id, car.id)
    assert [e.visit.id for e in history_svc.vehicle_history(site.id, car.id).entries] == [visit.id]


def test_only_advisors_link_suggestions(app, factory, site, owner, advisor):
    visit = received_walkin(site, advisor)
    anonymous = app.test_client()
    token = csrf_token(anonymous, "/login")
    assert anonymous.post(f"/advisor/visits/{visit.id}/suggested", headers={"X-CSRFToken": token}).status_code in (302, 401)
    tech_client = app.test_client()
    login(tech_client, factory.user(site, "technician", username="tech9"))
    resp = tech_client.post(f"/advisor/visits/{visit.id}/suggested",
                            headers={"X-CSRFToken": csrf_token(tech_client, "/login")})
    assert resp.status_code == 403
    assert _db.session.get(Visit, visit.id).customer_id is None


# ---------------------------------------------------------------- 4: one number per person and car


def test_walkin_already_in_the_queue_gets_no_second_number(stranger, site):
    client, token = stranger
    first = walk_in(client, token, STRANGER_PLATE, STRANGER_MOBILE)
    assert first.status_code == 200
    first_ticket = tickets()[0]
    for plate, mobile in ((STRANGER_PLATE, "13700001111"), ("粤C11111", STRANGER_MOBILE)):
        again = walk_in(client, token, plate, mobile)
        html = again.get_data(as_text=True)
        assert again.status_code == 409
        assert "You are already in the queue as W001." in html and "service desk" in html
        assert not shows_a_ticket(html, first_ticket) and STRANGER_MOBILE not in html
    assert [t.number for t in tickets()] == ["W001"]


def test_a_served_or_missed_ticket_does_not_block_a_new_one(stranger, site, advisor):
    client, token = stranger
    walk_in(client, token, STRANGER_PLATE, STRANGER_MOBILE)
    calling.call_next(advisor)
    calling.skip(advisor, tickets()[0].id)
    again = walk_in(client, token, STRANGER_PLATE, STRANGER_MOBILE)
    assert again.status_code == 200 and 'id="ticket-number">W002<' in again.get_data(as_text=True)


def test_appointment_search_of_a_car_in_the_queue_says_so(stranger, site):
    client, token = stranger
    walk_in(client, token, STRANGER_PLATE, STRANGER_MOBILE)
    resp = search(client, token, STRANGER_PLATE)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "You are already in the queue as W001." in html
    assert 'id="continue-walkin"' not in html


def test_already_in_the_queue_reads_in_chinese(app, site):
    client = app.test_client()
    token = csrf_token(client, "/kiosk/walkin?site=bj01")
    walk_in(client, token, STRANGER_PLATE, STRANGER_MOBILE)
    html = walk_in(client, token, STRANGER_PLATE, STRANGER_MOBILE).get_data(as_text=True)
    with app.test_request_context("/?lang=zh_CN"):
        from flask_babel import gettext
        from markupsafe import escape
        expected = str(escape(gettext("You are already in the queue as %(number)s. Please wait to be called, "
                                      "or ask at the service desk if you need help.", number="W001")))
    assert '<html lang="zh-CN">' in html and expected in html


# ---------------------------------------------------------------- 4: the race of two taps on two kiosks

N_SAME_PLATE = 8


def test_simultaneous_walkins_of_one_plate_give_one_ticket(race_app):
    def prepare(i):
        ctx = race_app.app_context()
        ctx.push()
        site = _db.session.scalar(select(Site).where(Site.code == "race"))
        _db.session.close()
        return ctx, site

    def act(i, prepared):
        ctx, site = prepared
        try:
            return check_in_walkin(site, "京A88888", f"139{i:08d}", "repair", None, True, key()).number
        except AlreadyCheckedIn as exc:
            return ("refused", exc.number)
        finally:
            _db.session.remove()
            ctx.pop()

    results = run_together(N_SAME_PLATE, prepare, act)
    assert not [r for r in results if isinstance(r, BaseException)], results
    issued = [r for r in results if isinstance(r, str)]
    assert issued == ["W001"] and results.count(("refused", "W001")) == N_SAME_PLATE - 1
    with race_app.app_context():
        assert list(_db.session.scalars(select(Ticket.number))) == ["W001"]
        assert _db.session.scalar(select(func.count(Visit.id))) == 1
        _db.session.remove()


def test_simultaneous_walkins_of_one_plate_over_http_give_one_ticket(race_app):
    server = LiveServer(race_app).start()
    try:
        def prepare(i):
            session = requests.Session()
            page = session.get(f"{server.url}/kiosk/walkin", params={"site": "race"}, timeout=30)
            return session, re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)

        def act(i, prepared):
            session, token = prepared
            with session:
                resp = session.post(f"{server.url}/kiosk/walkin", timeout=60, data={
                    "csrf_token": token, "plate": "京A88888", "mobile": f"139{i:08d}", "reason": "repair",
                    "consent": "1", "key": key()})
            return resp.status_code

        results = run_together(N_SAME_PLATE, prepare, act)
    finally:
        server.stop()
    assert sorted(results) == [200] + [409] * (N_SAME_PLATE - 1), results
    with race_app.app_context():
        assert list(_db.session.scalars(select(Ticket.number))) == ["W001"]
        _db.session.remove()


# ---------------------------------------------------------------- 9: status links of tickets never served


def age(ticket, hours):
    """Move everything that happened to the ticket ``hours`` into the past."""
    then = utcnow() - timedelta(hours=hours)
    ticket.issued_at = ticket.queued_at = then
    if ticket.called_at:
        ticket.called_at = then
    ticket.visit.updated_at = ticket.visit.created_at = then
    _db.session.commit()


def test_no_show_link_expires_after_the_configured_hours(app, site, advisor):
    ticket = check_in_walkin(site, STRANGER_PLATE, STRANGER_MOBILE, "repair", None, True, key())
    calling.call_next(advisor)
    calling.skip(advisor, ticket.id)
    client = app.test_client()
    client.set_cookie("lang", "en")
    age(ticket, 3)
    assert client.get(f"/t/{ticket.token}").status_code == 200
    age(ticket, 5)
    resp = client.get(f"/t/{ticket.token}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 410 and "This ticket was not served" in html
    assert ticket.number not in html and client.get(f"/t/{ticket.token}/fragment").status_code == 410
    app.config["NO_SHOW_LINK_HOURS"] = 6
    assert client.get(f"/t/{ticket.token}").status_code == 200


def test_never_called_link_expires_once_its_day_is_over(app, site):
    ticket = check_in_walkin(site, STRANGER_PLATE, STRANGER_MOBILE, "repair", None, True, key())
    client = app.test_client()
    age(ticket, 5)            # a long queue today: the link still works
    assert client.get(f"/t/{ticket.token}").status_code == 200
    ticket.day = ticket.day - timedelta(days=1)
    _db.session.commit()
    resp = client.get(f"/t/{ticket.token}")
    assert resp.status_code == 410 and '<html lang="zh-CN">' in resp.get_data(as_text=True)


def test_ticket_that_became_a_visit_keeps_its_link(app, site, advisor):
    visit = received_walkin(site, advisor, plate=STRANGER_PLATE, mobile=STRANGER_MOBILE)
    ticket = visit.ticket
    age(ticket, 30)
    ticket.day = ticket.day - timedelta(days=2)
    _db.session.commit()
    assert app.test_client().get(f"/t/{ticket.token}").status_code == 200
