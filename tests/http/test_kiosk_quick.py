"""Issue 12, kiosk: the short ways in, and the public-edge rules they must keep (HTTP, real
database). Today's appointments are listed with masked plates only; a listed booking prints a
ticket only after a proof (the whole plate or the mobile's last 4 digits); a wrong proof says
nothing about the booking and is limited per booking; one tap, one ticket; one ticket per plate
or mobile. A walk-in's mobile is optional and nothing stored is shown back."""
import re
import uuid
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from tests.support import csrf_token, make_app
from webapp.extensions import db as _db
from webapp.models import Appointment, Site, Ticket, Visit
from webapp.services.checkin import usual_plate_prefix
from webapp.timeutil import utcnow

MISMATCH = "This does not match the appointment. Check it and try again, or ask at the service desk."


def key():
    return str(uuid.uuid4())


def ticket_count():
    return _db.session.scalar(select(func.count(Ticket.id)))


def visible_text(html):
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def site(factory):
    return factory.site(code="bj01")


@pytest.fixture
def bookings(factory, site, shop_hours):
    """Two of today's bookings (张三's 京A54321 in 15 min, 李四's 沪B67890 in an hour), one of
    another site and one of yesterday."""
    zhang = factory.customer_vehicle(site, plate="京A54321", mobile="13800138000", name="张三")
    li = factory.customer_vehicle(site, plate="沪B67890", mobile="13911112222", name="李四")
    first = factory.appointment(site, *zhang, scheduled_at=utcnow() + timedelta(minutes=15))
    second = factory.appointment(site, *li, scheduled_at=utcnow() + timedelta(hours=1))
    other = factory.site(code="sh01")
    factory.appointment(other, *factory.customer_vehicle(other, plate="沪C11111", mobile="13700001111"))
    factory.appointment(site, *factory.customer_vehicle(site, plate="京B22222", mobile="13600002222"),
                        scheduled_at=utcnow() - timedelta(days=1))
    return first, second


@pytest.fixture
def kiosk(client, site):
    client.set_cookie("lang", "en")
    return client, csrf_token(client, "/kiosk/walkin?site=bj01")


def listed(client):
    html = client.get("/kiosk/appointment?site=bj01").get_data(as_text=True)
    rows = re.findall(r'<form method="post" action="/kiosk/appointment/pick".*?</form>', html, re.S)
    return html, [dict(re.findall(r'name="(match|pick)" value="([^"]*)"', row)) for row in rows]


def pick(client, token, row):
    return client.post("/kiosk/appointment/pick?site=bj01", data={"csrf_token": token, **row})


def proof_fields(html):
    form = re.search(r'<form id="proof-form".*?</form>', html, re.S).group(0)
    return dict(re.findall(r'type="hidden" name="(match|pick|key)" value="([^"]*)"', form))


def confirm(client, token, fields, **proof):
    return client.post("/kiosk/appointment/confirm?site=bj01", data={"csrf_token": token, **fields, **proof})


# ---------------------------------------------------------------- the list


def test_list_shows_masked_plates_and_times_only(kiosk, bookings):
    client, _token = kiosk
    html, rows = listed(client)
    assert len(rows) == 2                      # today's, this site's, soonest first
    text = visible_text(html)
    assert "京A·***21" in text and "沪B·***90" in text
    for secret in ("京A54321", "沪B67890", "54321", "67890", "13800138000", "13911112222", "8000", "2222",
                   "张三", "李四", "沪C", "京B"):
        assert secret not in html
    # The confirm needs a proof: the rows post to the proof screen, never straight to a ticket.
    assert "/kiosk/appointment/confirm" not in html


def test_list_leaves_out_checked_in_cancelled_and_long_past(kiosk, factory, site, bookings):
    client, _token = kiosk
    first, second = bookings
    second.status = "cancelled"
    _db.session.commit()
    late = factory.appointment(site, *factory.customer_vehicle(site, plate="京A99999", mobile="13500009999"),
                               scheduled_at=utcnow() - timedelta(hours=3))
    _html, rows = listed(client)
    assert len(rows) == 1
    assert late.status == "booked"             # still found by the search (?search=1)
    assert 'id="search-form"' in client.get("/kiosk/appointment?site=bj01&search=1").get_data(as_text=True)


def test_no_bookings_opens_the_search(kiosk):
    client, _token = kiosk
    assert 'id="search-form"' in client.get("/kiosk/appointment?site=bj01").get_data(as_text=True)


# ---------------------------------------------------------------- the proof


def test_picked_row_asks_for_a_proof_and_the_plate_checks_in(kiosk, bookings):
    client, token = kiosk
    _html, rows = listed(client)
    screen = pick(client, token, rows[0]).get_data(as_text=True)
    assert 'id="proof-plate"' in screen and 'value="京A"' in screen     # the two shown characters
    assert "54321" not in screen and "张三" not in screen and "13800138000" not in screen
    resp = confirm(client, token, proof_fields(screen), proof_by="plate", proof_plate="京a 54321")
    assert resp.status_code == 200 and 'id="ticket-number">A001<' in resp.get_data(as_text=True)
    assert _db.session.get(Appointment, bookings[0].id).status == "arrived"


def test_the_mobile_s_last_four_digits_check_in_too(kiosk, bookings):
    client, token = kiosk
    _html, rows = listed(client)
    fields = proof_fields(pick(client, token, rows[1]).get_data(as_text=True))
    resp = confirm(client, token, fields, proof_by="mobile", proof_mobile="2222")
    assert resp.status_code == 200 and 'id="ticket-number">A001<' in resp.get_data(as_text=True)
    assert _db.session.get(Appointment, bookings[1].id).status == "arrived"


@pytest.mark.parametrize("proof", [
    {},                                                        # no proof at all
    {"proof_by": "plate", "proof_plate": ""},
    {"proof_by": "plate", "proof_plate": "京A54322"},           # one character off
    {"proof_by": "plate", "proof_plate": "沪B67890"},           # the other booking's plate
    {"proof_by": "mobile", "proof_mobile": "8001"},
    {"proof_by": "mobile", "proof_mobile": "2222"},             # the other booking's digits
    {"proof_by": "mobile", "proof_mobile": "80"},
])
def test_a_wrong_proof_prints_nothing_and_reveals_nothing(kiosk, bookings, proof):
    client, token = kiosk
    _html, rows = listed(client)
    fields = proof_fields(pick(client, token, rows[0]).get_data(as_text=True))
    resp = confirm(client, token, fields, **proof)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and ticket_count() == 0
    assert 'id="proof-error"' in html and 'id="ticket-number"' not in html and "data-pin=" not in html
    for secret in ("54321", "13800138000", "8000", "张三", "李四"):
        assert secret not in html.replace(proof.get("proof_plate", "-"), "").replace(proof.get("proof_mobile", "-"), "")
    assert f'name="key" value="{fields["key"]}"' in html        # the same tap, still one ticket


def test_every_wrong_answer_reads_the_same(kiosk, bookings):
    """A near miss and a wild guess, by plate or by mobile: one message, so no answer hints at
    the booking."""
    client, token = kiosk
    _html, rows = listed(client)
    fields = proof_fields(pick(client, token, rows[0]).get_data(as_text=True))
    messages = set()
    for proof in ({"proof_by": "plate", "proof_plate": "京A54322"}, {"proof_by": "plate", "proof_plate": "粤Z00000"},
                  {"proof_by": "mobile", "proof_mobile": "8001"}, {"proof_by": "mobile", "proof_mobile": "0000"}):
        html = confirm(client, token, fields, **proof).get_data(as_text=True)
        messages.add(re.search(r'id="proof-error"[^>]*>.*?<span>(.*?)</span>', html, re.S).group(1))
    assert messages == {str(escape(MISMATCH))}


def test_the_list_token_without_its_proof_step_checks_in_nothing(kiosk, bookings):
    client, token = kiosk
    _html, rows = listed(client)
    resp = confirm(client, token, {**rows[0], "key": key()})
    assert resp.status_code == 422 and ticket_count() == 0


def test_tampered_pick_token_is_refused(kiosk, bookings):
    client, token = kiosk
    _html, rows = listed(client)
    resp = pick(client, token, {**rows[0], "match": rows[0]["match"][:-3] + "abc"})
    assert resp.status_code == 400 and 'id="proof-form"' not in resp.get_data(as_text=True)


def test_double_tap_prints_one_ticket_and_another_screen_only_the_number(kiosk, bookings):
    client, token = kiosk
    _html, rows = listed(client)
    fields = proof_fields(pick(client, token, rows[0]).get_data(as_text=True))
    first = confirm(client, token, fields, proof_by="plate", proof_plate="京A54321")
    again = confirm(client, token, fields, proof_by="plate", proof_plate="京A54321")
    assert 'id="ticket-number">A001<' in first.get_data(as_text=True)
    assert 'id="ticket-number">A001<' in again.get_data(as_text=True)   # the same ticket
    other = confirm(client, token, {**fields, "key": key()}, proof_by="plate", proof_plate="京A54321")
    html = other.get_data(as_text=True)
    assert other.status_code == 409 and "Already checked in as A001" in html and "data-pin=" not in html
    assert ticket_count() == 1


def test_a_car_already_queued_as_a_walkin_gets_no_second_number(kiosk, factory, site, bookings):
    factory.walkin(site, plate="京A54321", mobile="13700007777")
    client, token = kiosk
    _html, rows = listed(client)
    fields = proof_fields(pick(client, token, rows[0]).get_data(as_text=True))
    resp = confirm(client, token, fields, proof_by="plate", proof_plate="京A54321")
    assert resp.status_code == 409 and "W001" in resp.get_data(as_text=True)
    assert ticket_count() == 1 and _db.session.get(Appointment, bookings[0].id).status == "booked"


def test_wrong_proofs_are_limited_per_booking(db_url, bookings):
    app = make_app(db_url, RATELIMIT_ENABLED=True, RATELIMIT_KIOSK_PROOF="3 per 15 minutes")
    with app.app_context():
        client = app.test_client()
        client.set_cookie("lang", "en")
        token = csrf_token(client, "/kiosk/walkin?site=bj01")
        _html, rows = listed(client)
        fields = proof_fields(pick(client, token, rows[0]).get_data(as_text=True))
        codes = [confirm(client, token, fields, proof_by="mobile", proof_mobile=f"{n:04d}").status_code
                 for n in range(3)]
        assert codes == [422, 422, 422]
        # Locked for this booking, even with the right answer; told to go to the desk, nothing more.
        locked = confirm(client, token, fields, proof_by="plate", proof_plate="京A54321")
        html = locked.get_data(as_text=True)
        assert locked.status_code == 429 and 'id="kiosk"' in html and "front desk" in html
        assert "张三" not in html and "54321" not in html
        # Another booking is not locked by it.
        other = proof_fields(pick(client, token, rows[1]).get_data(as_text=True))
        ok = confirm(client, token, other, proof_by="mobile", proof_mobile="2222")
        assert ok.status_code == 200
        assert _db.session.scalar(select(func.count(Ticket.id))) == 1
        _db.session.remove()


def test_switching_language_on_the_proof_screen_keeps_what_was_typed(kiosk, bookings):
    client, token = kiosk
    _html, rows = listed(client)
    fields = proof_fields(pick(client, token, rows[0]).get_data(as_text=True))
    resp = client.post("/kiosk/appointment/pick?site=bj01&lang=zh_CN",
                       data={"csrf_token": token, **fields, "proof_by": "mobile", "proof_mobile": "80"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and '<html lang="zh-CN">' in html
    assert 'id="by-mobile" value="mobile" checked' in html and 'value="80"' in html
    assert f'name="key" value="{fields["key"]}"' in html and ticket_count() == 0


def test_a_kiosk_flood_keeps_the_short_answer_over_the_screen(db_url, site):
    """Only a booking's used-up proofs turn into the "ask at the desk" screen; the kiosk's own
    flood limit answers as before (a banner over what was typed, kiosk.js)."""
    app = make_app(db_url, RATELIMIT_ENABLED=True, RATELIMIT_KIOSK="2 per minute")
    with app.app_context():
        client = app.test_client()
        token = csrf_token(client, "/kiosk/walkin?site=bj01")
        codes = [client.post("/kiosk/walkin?site=bj01", data={"csrf_token": token},
                             headers={"HX-Request": "true"}) for _ in range(3)]
        assert [r.status_code for r in codes] == [422, 422, 429]
        assert 'id="kiosk"' not in codes[-1].get_data(as_text=True)
        _db.session.remove()


def test_the_proof_screen_reads_in_chinese(client, app, site, bookings):
    token = csrf_token(client, "/kiosk/walkin?site=bj01")
    _html, rows = listed(client)
    fields = proof_fields(pick(client, token, rows[0]).get_data(as_text=True))
    html = confirm(client, token, fields, proof_by="plate", proof_plate="京A54322").get_data(as_text=True)
    with app.test_request_context("/?lang=zh_CN"):
        from flask_babel import gettext
        expected = str(escape(gettext(MISMATCH)))
    assert '<html lang="zh-CN">' in html and expected in html


# ---------------------------------------------------------------- walk-in: prefix, optional mobile


def walkin(client, token, **over):
    data = {"csrf_token": token, "key": key(), "plate": "京A12345", "mobile": "", "reason": "repair", "consent": "1"}
    data.update(over)
    return client.post("/kiosk/walkin?site=bj01", data=data)


def test_walkin_without_a_mobile_of_a_car_on_file_shows_nothing_stored(kiosk, factory, site):
    factory.customer_vehicle(site, plate="京A12345", mobile="13912345678", name="王女士")
    client, token = kiosk
    resp = walkin(client, token)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="ticket-number">W001<' in html
    assert "13912345678" not in html and "王女士" not in html and "5678" not in html
    visit = _db.session.scalar(select(Visit))
    assert (visit.plate, visit.mobile, visit.customer_id) == ("京A12345", None, None)   # only what was typed


def test_walkin_without_a_mobile_of_a_new_car_is_treated_the_same(kiosk):
    """Refusing here but not for a car on file would tell anyone whether a plate is a customer."""
    client, token = kiosk
    resp = walkin(client, token, plate="粤B88888")
    assert resp.status_code == 200 and 'id="ticket-number">W001<' in resp.get_data(as_text=True)


def test_a_typed_mobile_must_still_be_one(kiosk):
    client, token = kiosk
    resp = walkin(client, token, mobile="12345")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'id="mobile-error"' in html and 'value="12345"' in html
    assert ticket_count() == 0


def test_walkin_double_tap_without_mobile_prints_one_ticket(kiosk):
    client, token = kiosk
    same = key()
    first, again = walkin(client, token, key=same), walkin(client, token, key=same)
    assert 'id="ticket-number">W001<' in first.get_data(as_text=True)
    assert 'id="ticket-number">W001<' in again.get_data(as_text=True)
    other = walkin(client, token)                       # the same plate from a new screen
    assert other.status_code == 409 and ticket_count() == 1


def test_the_site_s_usual_prefix_is_filled_in(kiosk, factory, site):
    client, _token = kiosk
    assert 'id="plate" name="plate" class="k-input k-input-plate" type="text" value=""' in \
        client.get("/kiosk/walkin?site=bj01").get_data(as_text=True)          # nothing to learn from yet
    fresh = factory.site(code="bj02")
    for plate in ("京A11111", "京A22222", "京B33333"):
        factory.walkin(fresh, plate=plate)
    html = client.get("/kiosk/walkin?site=bj02").get_data(as_text=True)
    assert 'type="text" value="京A"' in html and 'data-osk-prefill="京A"' in html
    assert usual_plate_prefix(_db.session.get(Site, fresh.id)) == "京A"


def test_a_walkin_without_mobile_reaches_the_stored_customer_at_the_desk(client, factory, site):
    """Notices go to the visit's customer (webapp.notify); the advisor links the stored one from
    the plate alone, face to face, as for any walk-in: its stored contact then serves."""
    from tests.support import login
    from webapp.services import calling
    from webapp.services.checkin import check_in_walkin
    from webapp.services.intake import link_suggested, suggested_records
    customer, car = factory.customer_vehicle(site, plate="京A12345", mobile="13912345678", name="王女士")
    advisor = factory.user(site, "advisor", username="adv1", desk="1")
    ticket = check_in_walkin(site, "京A12345", "", "repair", None, True, key())
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    visit = _db.session.get(Visit, ticket.visit_id)
    suggestion = suggested_records(visit)
    assert suggestion.vehicle.id == car.id and suggestion.customer is None     # no mobile typed
    link_suggested(visit, advisor)
    linked = _db.session.get(Visit, visit.id)
    assert linked.vehicle_id == car.id and linked.customer_id == customer.id
    assert linked.customer.mobile == "13912345678" and linked.mobile is None
    login(client, advisor)
    assert client.get(f"/advisor/visits/{visit.id}").status_code == 200
