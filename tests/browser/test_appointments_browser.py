"""Booking a phone call in real Chromium, as an advisor does it: finds the known car by its plate,
notes the reason and the customer's words, ticks an operation, picks tomorrow and a free time,
books, and sees the booking on the day with the capacity figures up; moves it to the afternoon,
then cancels it with a reason and the figures go back down. Both languages; screenshots at
1366×768 in /tmp/shots-appointments/."""
import re
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import Factory
from webapp.commands.appointments import parse_booking
from webapp.extensions import db

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-appointments")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def seed(live_app):
    from webapp.models import LabourOperation
    from webapp.timeutil import local_day
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk="1", display_name="王晓明")
        f.user(site, "advisor", desk="2", display_name="李娜")
        for name in ("张师傅", "陈师傅"):
            f.user(site, "technician", display_name=name)
        customer, car = f.customer_vehicle(site, plate="京A12345", mobile="13800138001", name="张先生",
                                           make="大众", model="帕萨特")
        customer.email = "zhang@example.com"
        for code, zh, en, hours, kind in (("M001", "更换机油机滤", "Oil and filter change", "1.5", "mechanical"),
                                          ("M018", "更换雨刮片", "Wiper blades", "0.3", "mechanical"),
                                          ("D001", "故障诊断", "Fault diagnosis", "1.0", "diagnosis")):
            db.session.add(LabourOperation(site_id=site.id, code=code, name_zh=zh, name_en=en,
                                           hours=Decimal(hours), kind=kind))
        db.session.commit()
        day = (local_day(site.timezone) + timedelta(days=1)).isoformat()
        data = {"advisor": advisor.username, "day": day}
        db.session.remove()
        return data


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_advisor_books_moves_and_cancels_a_phone_booking(live_server, live_app, new_page, lang):
    data = seed(live_app)
    base = live_server.url
    page = new_page("console", lang=lang)
    sign_in(page, base, data["advisor"], lang=lang, path="/appointments", live=True)

    # The customer calls: the advisor opens a new booking and finds the car by its plate.
    page.click("a.btn[href*='/appointments/new']")
    page.fill("#q", "京A12345")
    page.press("#q", "Enter")
    page.click("[data-results=vehicles] a[data-vehicle]")
    expect(page.locator("[data-chosen-vehicle]")).to_contain_text("京A12345")
    expect(page.locator("#f-email")).to_have_value("zhang@example.com")

    page.select_option("#f-reason", "maintenance")
    page.fill("#f-description", "到保养里程了，雨刮有点刮不干净")
    page.click(".ap-ops summary")
    page.locator(".ap-op-grid label", has_text="更换机油机滤" if lang == "zh-CN" else "Oil and filter change").click()
    # Tomorrow: the free times of that day come in when the day changes.
    page.fill("#f-day", data["day"])
    slot = page.locator("#slots [data-slot='10:00']")
    expect(slot.locator(".free")).to_contain_text("2")
    slot.click()
    expect(slot.locator("input")).to_be_checked()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, f"book-{lang}")
    slot.scroll_into_view_if_needed()
    shot(page, f"book-slots-{lang}")
    page.click(".ap-form .form-actions button[type=submit]")

    # On the day: the booking, and the day's figures have moved.
    page.wait_for_url(f"**/appointments?day={data['day']}")
    row = page.locator("tr[data-appointment^='YY-']", has_text="京A12345")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("京A12345")
    expect(row.locator(".ap-time")).to_have_text("10:00")
    expect(page.locator("[data-hours-booked]")).to_have_text("1.5")
    expect(page.locator("[data-slots-taken]")).to_have_text("1")
    expect(page.locator(".cat-flash")).to_contain_text(row.get_attribute("data-appointment"))
    shot(page, f"day-{lang}")
    # Meanwhile two colleagues book 09:00 for other callers: the day follows without a reload.
    fill_nine_oclock(live_app, data["day"])
    expect(page.locator("tr[data-appointment^='YY-']")).to_have_count(3)
    expect(page.locator("[data-slots-taken]")).to_have_text("3")

    # The customer calls back: the afternoon suits better.
    row.locator("a[href$='/move']").click()
    page.fill("#f-day", data["day"])
    later = page.locator("#slots [data-slot='14:00']")
    expect(later).to_be_visible()
    later.click()
    shot(page, f"move-{lang}")
    page.click(".ap-move .form-actions button[type=submit]")
    page.wait_for_url(f"**/appointments?day={data['day']}")
    expect(row.locator(".ap-time")).to_have_text("14:00")

    # And then cannot come at all: cancelled with the reason, the capacity is free again.
    row.locator(".ap-cancel summary").click()
    row.locator("input[name=cancel_reason]").fill("出差，下周再约")
    shot(page, f"cancel-{lang}")
    row.locator(".ap-cancel form button[type=submit]").click()
    expect(row.locator("[data-status]")).to_have_class("tag st cancelled")
    expect(row).to_contain_text("出差，下周再约")
    expect(page.locator("[data-hours-booked]")).to_have_text("0.0")
    expect(page.locator("[data-slots-taken]")).to_have_text("2")
    assert not page.console_errors, page.console_errors


def fill_nine_oclock(live_app, day):
    """Two other callers take 09:00 tomorrow (one per advisor) while the advisor is on the phone."""
    from webapp.models import Customer, User, Vehicle
    from webapp.services import appointments
    from webapp.timeutil import utcnow
    with live_app.app_context():
        advisor = db.session.scalar(db.select(User).where(User.role == "advisor").order_by(User.id))
        for i in range(2):
            customer = Customer(site_id=advisor.site_id, name=f"客户{i}", mobile=f"1390013900{i}", created_at=utcnow())
            db.session.add(customer)
            db.session.flush()
            car = Vehicle(site_id=advisor.site_id, customer_id=customer.id, plate=f"京C0000{i}")
            db.session.add(car)
            db.session.commit()
            appointments.book(advisor, parse_booking({"vehicle_id": str(car.id), "reason": "maintenance",
                                                      "day": day, "slot": "09:00"}), None)
        db.session.remove()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_booking_pages_pass_axe(live_server, live_app, new_page, lang):
    """No critical or serious WCAG finding on the day, the booking form with its times, a
    refused booking and the move form."""
    from tests.browser.test_accessibility import BLOCKING, axe_findings
    data = seed(live_app)
    base = live_server.url
    page = new_page("console", lang=lang, bypass_csp=True)
    sign_in(page, base, data["advisor"], lang=lang, path="/appointments")
    findings = []
    page.goto(f"{base}/appointments/new?q=京A12345&day={data['day']}")
    page.click("[data-results=vehicles] a[data-vehicle]")
    findings += axe_findings(page)
    page.locator("#slots [data-slot='09:00']").click()
    page.click(".ap-form .form-actions button[type=submit]")     # no reason chosen: refused, kept
    expect(page.locator("#f-reason-error")).to_be_visible()
    findings += axe_findings(page)
    fill_nine_oclock(live_app, data["day"])
    page.select_option("#f-reason", "repair")
    page.click(".ap-form .form-actions button[type=submit]")
    # 09:00 went to two other callers meanwhile: refused, with the next free times to pick from.
    refused = page.locator("[data-refused]")
    expect(refused).to_be_visible()
    expect(refused.locator("button[name=next_free]").first).to_have_text(re.compile(r"09:30$"))
    findings += axe_findings(page)
    page.screenshot(path=str(SHOTS / f"refused-{lang}.png"))
    refused.locator("button[name=next_free]").first.click()
    page.wait_for_url(f"**/appointments?day={data['day']}")
    expect(page.locator("tr[data-appointment] .ap-time", has_text="09:30")).to_be_visible()
    findings += axe_findings(page)
    page.locator("tr[data-appointment]").first.locator("a[href$='/move']").click()
    findings += axe_findings(page)
    blocking = [f"{v['impact']} {v['id']} {v['help']} {v['nodes']}" for v in findings if v["impact"] in BLOCKING]
    assert blocking == [], "\n".join(blocking)


def test_a_manager_overbooks_a_full_time_with_a_reason(live_server, live_app, new_page):
    from webapp.models import User
    data = seed(live_app)
    with live_app.app_context():
        f = Factory(db)
        advisor = db.session.scalar(db.select(User).where(User.username == data["advisor"]))
        f.user(advisor.site, "manager", username="mgr26", display_name="钱经理")
        db.session.remove()
    fill_nine_oclock(live_app, data["day"])
    base = live_server.url
    page = new_page("console", lang="en")
    sign_in(page, base, "mgr26", lang="en", path="/appointments")
    page.goto(f"{base}/appointments/new?q=京A12345&day={data['day']}")
    page.click("[data-results=vehicles] a[data-vehicle]")
    page.select_option("#f-reason", "maintenance")
    full = page.locator("#slots [data-slot='09:00']")
    expect(full).to_have_class(re.compile(r"\bfull\b"))
    full.click()                                     # a manager may pick a full time
    page.click(".ap-form .form-actions button[type=submit]")
    expect(page.locator("[data-refused]")).to_contain_text("To overbook it, give a reason.")
    page.fill("#f-overbook_reason", "Fleet customer, agreed with the workshop")
    page.locator("#slots [data-slot='09:00']").click()
    page.click(".ap-form .form-actions button[type=submit]")
    page.wait_for_url(f"**/appointments?day={data['day']}")
    expect(page.locator("tr[data-appointment]", has_text="京A12345")).to_contain_text(
        "Overbooked: Fleet customer, agreed with the workshop")
    expect(page.locator("[data-slots-taken]")).to_have_text("3")
    shot(page, "overbooked-en")
