"""An online booking by a known car, matched by the advisor in real Chromium: the customer books on
the phone with the plate and mobile on file (the confirmation shows nothing stored), the advisor's
day view shows the booking arrive live with the stored car and customer it matches, and one click
on "Link to this record" puts the booking on the stored records (the provisional ones go), so the
car's record carries it. Screenshots at 1366×768 in both languages in /tmp/shots-onlinematch/."""
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.helpers import sign_in
from tests.factories import Factory
from webapp.extensions import db

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-onlinematch")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def seed(live_app):
    from webapp.timeutil import local_day
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk="1", display_name="王晓明")
        f.user(site, "technician", display_name="张师傅")
        _known, car = f.customer_vehicle(site, plate="京A12345", mobile="13800138001", name="张先生")
        car.make, car.model = "Toyota", "Camry"
        db.session.commit()
        data = {"advisor": advisor.username, "car_id": car.id,
                "day": (local_day(site.timezone) + timedelta(days=1)).isoformat()}
        db.session.remove()
        return data


def test_an_online_booking_by_a_known_car_is_linked_by_the_advisor(live_server, live_app, new_page):
    from webapp.models import Appointment, Vehicle
    data = seed(live_app)
    base = live_server.url
    staff = new_page("console", lang="en")
    sign_in(staff, base, data["advisor"], lang="en", path=f"/appointments?day={data['day']}", live=True)

    phone = new_page("phone", lang="en")
    phone.goto(f"{base}/lang/en?next=/book")
    phone.locator(".bk-kind", has=phone.locator("input[value=maintenance]")).click()
    phone.fill("#bk-day", data["day"])
    phone.locator("#bk-slots [data-slot='10:00']").click()
    phone.fill("#bk-plate", "京A12345")
    phone.fill("#bk-mobile", "13800138001")
    phone.fill("#bk-name", "Zhang")
    phone.click("button.bk-submit")
    expect(phone.locator("[data-status]")).to_have_attribute("data-status", "booked")
    expect(phone.locator("main")).not_to_contain_text("张先生")           # nothing stored shown back
    expect(phone.locator("main")).not_to_contain_text("Camry")

    # The booking arrives on the advisor's day without a reload, with the stored match to check.
    number = phone.locator("[data-appointment]").get_attribute("data-appointment")
    row = staff.locator(f"[data-appointment='{number}']")
    expect(row.locator("[data-match]")).to_contain_text("Toyota Camry")
    expect(row.locator("[data-match]")).to_contain_text("张先生")
    shot(staff, "day-match-en")
    colleague = new_page("console", lang="zh-CN")     # a colleague's screen in Chinese
    sign_in(colleague, base, data["advisor"], lang="zh-CN", path=f"/appointments?day={data['day']}", live=True)
    theirs = colleague.locator(f"[data-appointment='{number}']")
    expect(theirs.locator("[data-link-records]")).to_have_text("关联此档案")
    shot(colleague, "day-match-zh-CN")

    row.locator("[data-link-records]").click()
    expect(staff.locator("body")).to_contain_text(f"{number} is linked to the stored records.")
    expect(row.locator("[data-match]")).to_have_count(0)
    expect(row).to_contain_text("张先生")
    shot(staff, "day-linked-en")
    expect(theirs.locator("[data-match]")).to_have_count(0)             # live on the colleague's screen
    with live_app.app_context():
        appointment = db.session.scalar(select(Appointment).where(Appointment.number == number))
        assert appointment.vehicle_id == data["car_id"]                    # the car's record carries it
        assert db.session.scalar(select(func.count(Vehicle.id)).where(Vehicle.plate == "京A12345")) == 1
        db.session.remove()
    assert phone.console_errors == [] and staff.console_errors == []
