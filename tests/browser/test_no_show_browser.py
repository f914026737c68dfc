"""A no-show in real Chromium, as the advisor lives it: the day view is open when the periodic
task marks a booking that did not come; without a reload the booking reads "missed" and shows in
the list to call; the advisor notes "no answer" (it stays), then "rebooked" (it goes). Both
languages; screenshots at 1366×768 in /tmp/shots-book/."""
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import Factory
from webapp.extensions import db

# Bookings of today: the shop's clock reads 10:00 whatever hour the suite runs at.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("shop_hours")]
SHOTS = "/tmp/shots-book"


def seed(live_app):
    from webapp.models import Appointment
    from webapp.timeutil import utcnow
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk="1", display_name="王晓明")
        customer, car = f.customer_vehicle(site, plate="京A12345", mobile="13800138001", name="张先生")
        # Booked for an hour ago (the services refuse a past time; the demo loader writes such rows too).
        db.session.add(Appointment(site_id=site.id, customer_id=customer.id, vehicle_id=car.id, advisor_id=advisor.id,
                                   scheduled_at=utcnow() - timedelta(hours=1), reason="maintenance", status="booked",
                                   number="YY-TEST-001", source="online", manage_token=uuid.uuid4().hex))
        db.session.commit()
        data = {"advisor": advisor.username}
        db.session.remove()
        return data


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_no_show_is_released_and_listed_to_call(live_server, live_app, new_page, lang):
    from webapp.services.appointment_day_before import mark_no_shows
    data = seed(live_app)
    page = new_page("console", lang=lang)
    sign_in(page, live_server.url, data["advisor"], lang=lang, path="/appointments", live=True)
    row = page.locator("[data-appointment='YY-TEST-001']")
    expect(row.locator("[data-status]")).to_have_text("Booked" if lang == "en" else "已预约")
    expect(page.locator("[data-to-call]")).to_have_count(0)
    slots_before = page.locator("[data-slots-taken]").inner_text()

    with live_app.app_context():        # the periodic task's run
        assert mark_no_shows() == 1
        db.session.remove()

    expect(row.locator("[data-status]")).to_have_text("Missed" if lang == "en" else "已失约")
    item = page.locator("[data-to-call] [data-no-show='YY-TEST-001']")
    expect(item).to_contain_text("京A12345")
    expect(page.locator("[data-slots-taken]")).not_to_have_text(slots_before)     # released
    item.scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/to-call-{lang}.png")

    item.get_by_role("button", name="No answer" if lang == "en" else "未接听").click()
    expect(page.locator("[data-to-call] [data-no-show='YY-TEST-001']")).to_contain_text(
        "No answer yet" if lang == "en" else "尚未接通")
    page.locator("[data-to-call] [data-no-show='YY-TEST-001']").get_by_role(
        "button", name="Rebooked" if lang == "en" else "已重新预约").click()
    expect(page.locator("[data-to-call]")).to_have_count(0)
    assert page.console_errors == []
