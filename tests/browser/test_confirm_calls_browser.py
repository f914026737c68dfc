"""The day-before confirmation calls in real Chromium: the advisor calls tomorrow's bookings from
the list on /appointments; "no answer" keeps the booking listed with the attempt counted,
"reached" confirms it, and a colleague's appointment board (another context, tomorrow's day)
turns the card to "confirmed" without a reload. Screenshots at 1366×768 in /tmp/shots-book/."""
import uuid
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import Factory
from webapp.extensions import db

pytestmark = pytest.mark.browser
SHOTS = "/tmp/shots-book"


def seed(live_app):
    from webapp.models import Appointment
    from webapp.timeutil import local_day, local_to_utc
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk="1", display_name="王晓明")
        colleague = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk="2", display_name="李娜")
        customer, car = f.customer_vehicle(site, plate="京A12345", mobile="13800138001", name="张先生")
        tomorrow = local_day(site.timezone) + timedelta(days=1)
        db.session.add(Appointment(site_id=site.id, customer_id=customer.id, vehicle_id=car.id, advisor_id=advisor.id,
                                   scheduled_at=local_to_utc(site.timezone, datetime.combine(tomorrow, time(10, 0))),
                                   reason="maintenance", status="booked", number="YY-CALL-001"))
        db.session.commit()
        data = {"advisor": advisor.username, "colleague": colleague.username, "tomorrow": tomorrow.isoformat()}
        db.session.remove()
        return data


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_day_before_call_confirms_the_booking_on_a_colleagues_board(live_server, live_app, new_page, lang):
    data = seed(live_app)
    board = new_page("console", lang=lang)
    sign_in(board, live_server.url, data["colleague"], lang=lang,
            path=f"/appointments/board?day={data['tomorrow']}", live=True)
    card = board.locator("[data-card='YY-CALL-001']")
    expect(card).to_have_attribute("data-state", "booked")

    page = new_page("console", lang=lang)
    sign_in(page, live_server.url, data["advisor"], lang=lang, path="/appointments", live=True)
    item = page.locator("[data-to-confirm] [data-confirm='YY-CALL-001']")
    expect(item).to_contain_text("13800138001")
    item.scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/to-confirm-{lang}.png")

    item.get_by_role("button", name="No answer" if lang == "en" else "未接听").click()
    expect(page.locator("[data-to-confirm] [data-confirm='YY-CALL-001'] [data-attempts]")).to_contain_text(
        "1 call, no answer" if lang == "en" else "已打 1 次，无人接听")
    page.locator("[data-to-confirm] [data-confirm='YY-CALL-001']").get_by_role(
        "button", name="Reached: confirmed" if lang == "en" else "已联系：确认到店").click()
    expect(page.locator("[data-to-confirm]")).to_have_count(0)

    expect(card).to_have_attribute("data-state", "confirmed")          # live, no reload
    expect(card).to_contain_text("Confirmed" if lang == "en" else "已确认")
    board.screenshot(path=f"{SHOTS}/board-confirmed-{lang}.png")
    assert page.console_errors == [] and board.console_errors == []
