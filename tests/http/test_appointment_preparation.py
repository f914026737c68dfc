"""Preparing a booking's parts (issue 13, 接待准备): a booking for tomorrow reserves the parts its
operations need (StockMovement rows with the booking number), once however often it runs, two
bookings for the last unit cannot both get it, a cancel or a no-show lets go, an arrival hands the hold to the estimate; the
advisor sees what is short, the parts clerk the day's pick list."""
from datetime import datetime, time, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from tests.factories import RO_TERMS, visit_at_estimate
from tests.support import login
from webapp.commands.appointments import parse_booking, parse_cancel, parse_move
from webapp.extensions import db
from webapp.commands.estimates import parse_line, parse_repair_order
from webapp.models import LabourOperation, MaintenanceItem, Notification, Part, StockMovement, Ticket, Visit
from webapp.services import appointment_preparation as prep
from webapp.services import appointments, estimates
from webapp.services.appointment_day_before import mark_no_shows
from webapp.services.checkin import check_in_appointment
from webapp.timeutil import clock_at, local_day, local_to_utc, utcnow


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(factory):
    site = factory.site(code="bj01")
    advisor = factory.user(site, "advisor", desk="1")
    factory.user(site, "technician")
    op = LabourOperation(site_id=site.id, code="M001", name_zh="更换机油机滤", name_en="Oil and filter change",
                         hours=D("1"), kind="mechanical")
    oil = Part(site_id=site.id, number="08880-83717", name_zh="机油 5W-30", name_en="Engine oil 5W-30",
               unit_price=D("80"), on_hand=D("10"), reserved=D("0"), lead_days=1)
    filt = Part(site_id=site.id, number="04152-YZZA1", name_zh="机油滤清器", name_en="Oil filter",
                unit_price=D("60"), on_hand=D("1"), reserved=D("0"), lead_days=3)
    db.session.add_all([op, oil, filt])
    db.session.flush()
    db.session.add_all([MaintenanceItem(site_id=site.id, make="Toyota", operation_id=op.id, part_id=oil.id,
                                        part_quantity=D("4")),
                        MaintenanceItem(site_id=site.id, operation_id=op.id, part_id=filt.id, part_quantity=D("1"))])
    db.session.commit()
    return {"site": site, "advisor": advisor, "op": op, "oil": oil, "filter": filt, "factory": factory}


def book(shop, plate, ahead=1, slot="09:00", key=None):
    _c, car = shop["factory"].customer_vehicle(shop["site"], plate=plate, mobile=f"1380013{plate[-4:]}", make="Toyota")
    day = local_day(shop["site"].timezone) + timedelta(days=ahead)
    return appointments.book(shop["advisor"], parse_booking({
        "vehicle_id": str(car.id), "reason": "maintenance", "day": day.isoformat(), "slot": slot,
        "operation_ids": [str(shop["op"].id)]}), key or plate)


def held(appointment):
    return prep.held_by(appointment.site_id, [appointment.number]).get(appointment.number, {})


def reserved(part):
    db.session.refresh(part)
    return part.reserved


def test_a_booking_for_tomorrow_reserves_its_parts_once(shop):
    a = book(shop, "京A10001")
    assert held(a) == {shop["oil"].id: D("4"), shop["filter"].id: D("1")}
    assert reserved(shop["oil"]) == 4 and reserved(shop["filter"]) == 1
    prep.prepare_due()
    prep.prepare_due()                       # the periodic run, twice: nothing more
    assert reserved(shop["oil"]) == 4
    rows = db.session.scalars(select(StockMovement).where(StockMovement.reference == a.number)).all()
    assert sorted((r.kind, r.quantity) for r in rows) == [("reserve", D("1")), ("reserve", D("4"))]


def test_a_booking_next_week_waits_for_the_day_before(shop):
    a = book(shop, "京A10002", ahead=5)
    assert held(a) == {} and reserved(shop["oil"]) == 0
    with clock_at() as move:
        move(local_to_utc(shop["site"].timezone,
                          datetime.combine(local_day(shop["site"].timezone) + timedelta(days=4), time(10, 0))))
        prep.prepare_due()
    assert held(a) == {shop["oil"].id: D("4"), shop["filter"].id: D("1")}


def test_the_last_filter_goes_to_one_booking_and_the_other_is_short(shop, client):
    first = book(shop, "京A10003")
    second = book(shop, "京A10004", slot="10:00")
    assert held(second) == {shop["oil"].id: D("4")} and reserved(shop["filter"]) == 1
    [short] = prep.prepared(shop["site"], [second])[second.id].short
    assert short.part.id == shop["filter"].id and short.short == 1
    notice = db.session.scalar(select(Notification).where(Notification.appointment_id == second.id,
                                                          Notification.kind == "parts_short"))
    assert notice is not None and "04152-YZZA1" in notice.body and first.id not in prep.prepared(
        shop["site"], [first])[first.id].short
    login(client, shop["advisor"])
    page = client.get(f"/appointments?day={(local_day(shop['site'].timezone) + timedelta(days=1)).isoformat()}")
    html = page.get_data(as_text=True)
    assert "Parts short: Oil filter ×1 (about 3 days)" in html and html.count("data-parts-short") == 1
    # stock comes in: the next run tops the short booking up
    shop["filter"].on_hand = D("2")
    db.session.commit()
    prep.prepare_due()
    assert held(second)[shop["filter"].id] == 1 and not prep.prepared(shop["site"], [second])[second.id].short


def test_cancel_and_moving_away_release_the_parts(shop):
    a = book(shop, "京A10005")
    b = book(shop, "京A10006", slot="10:00")
    appointments.cancel(shop["advisor"], a, parse_cancel({"cancel_reason": "客户出差"}))
    assert held(a) == {} and reserved(shop["filter"]) == 0 and reserved(shop["oil"]) == 4
    prep.prepare_due()                       # the short booking gets the filter that came free
    assert held(b) == {shop["oil"].id: D("4"), shop["filter"].id: D("1")}
    day = local_day(shop["site"].timezone) + timedelta(days=6)
    appointments.move(shop["advisor"], b, parse_move({"day": day.isoformat(), "slot": "09:00"}))
    assert held(b) == {} and reserved(shop["oil"]) == 0 and reserved(shop["filter"]) == 0


def test_a_no_show_gives_its_parts_back(shop):
    a = book(shop, "京A10007")
    with clock_at() as move:
        move(a.scheduled_at + timedelta(hours=3))
        assert mark_no_shows() == 1
    assert held(a) == {} and reserved(shop["oil"]) == 0 and reserved(shop["filter"]) == 0


def test_on_arrival_the_hold_waits_for_the_estimate_then_becomes_the_estimates(shop):
    """Between arrival and the customer's decision the parts stay held for the booking; the
    decision reserves the approved lines and lets go of the booking's hold at once."""
    a = book(shop, "京A10008")
    with clock_at() as move:
        move(a.scheduled_at - timedelta(minutes=10))
        ticket = check_in_appointment(shop["site"], a.id, "kiosk-1")
        prep.prepare_due()                                       # the periodic run leaves it alone
    assert held(a) == {shop["oil"].id: D("4"), shop["filter"].id: D("1")} and reserved(shop["oil"]) == 4
    visit = visit_at_estimate(shop["factory"], shop["site"], shop["advisor"], ticket=db.session.get(Ticket, ticket.id))
    for part in (shop["oil"], shop["filter"]):
        estimates.add_line(visit, parse_line({"kind": "part", "part_id": str(part.id),
                                              "quantity": "4" if part is shop["oil"] else "1"}), shop["advisor"])
    estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), shop["advisor"])
    est = estimates.present(visit, shop["advisor"])
    assert reserved(shop["oil"]) == 4                             # presented: still the booking's
    # The last filter is held for this very booking: in stock for its estimate (备件满足率).
    assert shop["filter"].on_hand - reserved(shop["filter"]) == 0
    assert [(line.part_id, line.in_stock) for line in est.lines] == [(shop["oil"].id, True), (shop["filter"].id, True)]
    estimates.decide(visit, est.version, {line.id: ("approved", None) for line in est.lines}, "remote")
    assert held(a) == {}
    assert reserved(shop["oil"]) == 4 and reserved(shop["filter"]) == 1      # now the estimate's, once
    releases = db.session.scalars(select(StockMovement).where(StockMovement.reference == a.number,
                                                              StockMovement.kind == "release")).all()
    assert {r.visit_id for r in releases} == {visit.id}


def test_a_part_held_for_another_booking_is_not_in_stock_for_a_walk_in(shop):
    """Stock another booking holds is not this visit's: the walk-in's filter line is out of stock,
    its oil line (six of ten left) in; a second line of the same part takes what the first left."""
    book(shop, "京A10012")                                    # holds 4 oil and the last filter
    visit = visit_at_estimate(shop["factory"], shop["site"], shop["advisor"], plate="京B20001")
    for part, quantity in ((shop["filter"], "1"), (shop["oil"], "4"), (shop["oil"], "4")):
        estimates.add_line(visit, parse_line({"kind": "part", "part_id": str(part.id), "quantity": quantity}),
                           shop["advisor"])
    estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), shop["advisor"])
    est = estimates.present(visit, shop["advisor"])
    assert [line.in_stock for line in est.lines] == [False, True, False]


def test_a_visit_cancelled_before_the_decision_gives_the_hold_back(shop):
    a = book(shop, "京A10011")
    with clock_at() as move:
        move(a.scheduled_at - timedelta(minutes=10))
        ticket = check_in_appointment(shop["site"], a.id, "kiosk-2")
    visit = db.session.get(Visit, ticket.visit_id)
    visit.state = "cancelled"
    db.session.commit()
    prep.prepare_due()
    assert held(a) == {} and reserved(shop["oil"]) == 0


@pytest.mark.parametrize("role, status", [("parts", 200), ("manager", 200), ("advisor", 403), ("technician", 403)])
def test_the_pick_list_is_for_the_parts_clerk(shop, client, role, status):
    book(shop, "京A10009")
    book(shop, "京A10010", slot="10:00")
    login(client, shop["factory"].user(shop["site"], role))
    resp = client.get("/parts/picklist")
    assert resp.status_code == status
    if status == 200:
        html = resp.get_data(as_text=True)
        assert html.count("data-pick=") == 2 and html.count("data-short>") == 1
        assert "京A10009" in html and "04152-YZZA1" in html and 'data-short-count>1<' in html


def test_the_console_warns_of_a_short_booking_expected_today(shop, client):
    from webapp.models import AppointmentOperation
    shop["filter"].on_hand = D("0")
    customer, car = shop["factory"].customer_vehicle(shop["site"], plate="京A10011", mobile="13800131011")
    a = shop["factory"].appointment(shop["site"], customer, car, scheduled_at=utcnow(),
                                    advisor=shop["advisor"])
    a.number = "YY-TODAY-1"
    a.operations.append(AppointmentOperation(operation_id=shop["op"].id, hours=D("1")))
    db.session.commit()
    prep.prepare(a)
    login(client, shop["advisor"])
    html = client.get("/advisor").get_data(as_text=True)
    assert html.count("data-parts-short") == 1 and "Parts short: Oil filter ×1 (about 3 days)" in html


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "tomorrow", ""])
def test_the_pick_list_falls_back_to_tomorrow_on_a_day_it_cannot_show(shop, client, day):
    login(client, shop["factory"].user(shop["site"], "parts"))
    resp = client.get(f"/parts/picklist?day={day}")
    tomorrow = local_day(shop["site"].timezone) + timedelta(days=1)
    assert resp.status_code == 200 and f"data-day>{tomorrow.isoformat()}<" in resp.get_data(as_text=True)
