"""Preparing tomorrow's bookings (issue 13, 接待准备): the advisor has tomorrow open on
/appointments when a colleague books a car whose oil filter is already held for another booking;
its row shows "parts short" with the part and its lead time, without a reload. The parts clerk
opens tomorrow's pick list from the parts desk: both bookings, the short filter marked."""
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from webapp.commands.appointments import parse_booking
from webapp.extensions import db

pytestmark = [pytest.mark.browser,
              pytest.mark.shop(roles=("advisor", "technician", "parts"),
                               staff={"advisor": {"display_name": "王晓明"}})]
SHOTS = Path("/tmp/shots-prep")    # looked at by people, never committed


def seed(live_app, live_shop):
    from webapp.models import LabourOperation, MaintenanceItem, Part, Site, User
    from webapp.services import appointments
    from webapp.timeutil import local_day
    with live_app.app_context():
        site = db.session.get(Site, live_shop.site.id)
        op = LabourOperation(site_id=site.id, code="M001", name_zh="更换机油机滤", name_en="Oil and filter change",
                             hours=D("0.5"))
        oil = Part(site_id=site.id, number="OIL-5W30-4L", name_zh="机油 5W-30 4L", name_en="Engine oil 5W-30 4 L",
                   unit_price=D("368"), on_hand=D("10"), reserved=D("0"), lead_days=2)
        filt = Part(site_id=site.id, number="FLT-OIL-01", name_zh="机油滤清器", name_en="Oil filter",
                    unit_price=D("58"), on_hand=D("1"), reserved=D("0"), lead_days=3)
        db.session.add_all([op, oil, filt])
        db.session.flush()
        for part in (oil, filt):
            db.session.add(MaintenanceItem(site_id=site.id, operation_id=op.id, part_id=part.id,
                                           part_quantity=D("1"), every_km=5000, every_months=6))
        db.session.commit()
        cars = [live_shop.factory.customer_vehicle(site, plate=p, mobile=m, name=n)[1].id
                for p, m, n in (("京N8K2M1", "13800138001", "王先生"), ("京Q6P7R8", "13800138002", "刘女士"))]
        tomorrow = local_day(site.timezone) + timedelta(days=1)
        op_id = op.id

    def book(i, slot):
        with live_app.app_context():
            appointments.book(db.session.get(User, live_shop.advisor.id), parse_booking({"vehicle_id": str(cars[i]), "reason": "maintenance",
                                                      "day": tomorrow.isoformat(), "slot": slot,
                                                      "operation_ids": [str(op_id)]}), f"b{i}")
            db.session.remove()
    book(0, "09:00")
    return tomorrow, lambda: book(1, "10:00")


def test_a_short_booking_warns_the_advisor_and_the_clerk_picks_from_the_list(live_server, live_app, live_shop, new_page):
    tomorrow, book_second = seed(live_app, live_shop)
    page = new_page("console")
    sign_in(page, live_server.url, live_shop.advisor.username, "zh_CN",
            path=f"/appointments?day={tomorrow.isoformat()}", live=True)
    expect(page.locator("tr[data-appointment]")).to_have_count(1)
    expect(page.locator("[data-parts-short]")).to_have_count(0)

    book_second()                                    # a colleague books on the phone
    row = page.locator("tr[data-appointment]", has_text="京Q6P7R8")
    expect(row.locator("[data-parts-short]")).to_have_text("缺件：机油滤清器 ×1（约3天到货）")   # live
    expect(page.locator("[data-parts-short]")).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "day-short-zh-CN.png"))

    clerk = new_page("console")
    sign_in(clerk, live_server.url, live_shop.people["parts"].username, "en", path="/parts/")
    clerk.get_by_role("link", name="Pick list for tomorrow's bookings").click()
    expect(clerk.locator("[data-day]")).to_have_text(tomorrow.isoformat())
    expect(clerk.locator("section[data-pick]")).to_have_count(2)
    short = clerk.locator("section[data-pick]", has_text="京Q6P7R8").locator("tr[data-part='FLT-OIL-01']")
    expect(short.locator("[data-short]")).to_contain_text("SHORT ×1")
    expect(clerk.locator("section[data-pick]", has_text="京N8K2M1").locator("[data-short]")).to_have_count(0)
    clerk.screenshot(path=str(SHOTS / "picklist-en.png"), full_page=True)
    assert page.console_errors == [] and clerk.console_errors == []
