"""The advisor's console shows today's bookings still to come, and a booking a colleague makes
appears there live, without a reload (the console follows the advisors' room)."""
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import Factory
from webapp.commands.appointments import parse_booking
from webapp.extensions import db

# Bookings later today: the shop's clock reads 10:00 whatever hour the suite runs at.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("shop_hours")]
SHOTS = Path("/tmp/shots-arrivals")   # looked at by people, never committed


def test_a_colleagues_booking_appears_on_the_console(live_server, live_app, new_page):
    from webapp.services import appointments
    from webapp.services import booking_capacity as cap_db
    from webapp.timeutil import utcnow
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        me = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk="1", display_name="王晓明")
        colleague = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk="2", display_name="李娜")
        f.user(site, "technician", display_name="张师傅")
        customer, car = f.customer_vehicle(site, plate="京N8K2M1", mobile="13800138000", name="王先生")
        now = cap_db.local_dt(site, utcnow())
        later = [s.start for s in cap_db.day_of(site, now.date()).slots if s.start > now.time()]
        username, colleague_id, car_id = me.username, colleague.id, car.id
        db.session.remove()
    if not later:
        pytest.skip("the shop is closed for the rest of today: no slot left to book")

    page = new_page("console")
    sign_in(page, live_server.url, username, "zh_CN", live=True)
    arrivals = page.locator("[data-arrivals]")
    expect(arrivals).to_contain_text("今天没有待到店的预约了。")

    with live_app.app_context():
        from webapp.models import User
        appointments.book(db.session.get(User, colleague_id), parse_booking({
            "vehicle_id": str(car_id), "reason": "maintenance", "day": now.date().isoformat(),
            "slot": later[0].strftime("%H:%M")}), None)
        db.session.remove()

    row = arrivals.locator("li", has_text="京N8K2M1")
    expect(row).to_be_visible()                       # live: no reload
    expect(row).to_contain_text(later[0].strftime("%H:%M"))
    expect(row).to_contain_text("王先生")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "console-arrivals-zh-CN.png"))
    assert page.console_errors == []
