"""An advisor books a phone call for a known vehicle in real Chromium: the form suggests the
wiper blades the customer declined last time (with why) and the oil change due by mileage; the
advisor ticks the declined item and books it. Both languages; screenshots at 1366×768 in
/tmp/shots-book/."""
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import Factory, visit_delivered_with_history
from webapp.extensions import db

pytestmark = pytest.mark.browser
SHOTS = "/tmp/shots-book"


def seed(live_app):
    from webapp.models import LabourOperation, MaintenanceItem, Vehicle
    from webapp.timeutil import local_day
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk="1", display_name="王晓明")
        f.user(site, "technician", display_name="张师傅")
        visit_delivered_with_history(f, site, advisor)
        car = db.session.scalar(db.select(Vehicle).where(Vehicle.plate == "京A12345"))
        car.last_mileage = 12000
        oil = LabourOperation(site_id=site.id, code="OIL", name_zh="更换机油机滤", name_en="Oil and filter change",
                              hours=Decimal("1.0"), kind="mechanical")
        db.session.add(oil)
        db.session.flush()
        db.session.add(MaintenanceItem(site_id=site.id, operation_id=oil.id, every_km=10000))
        db.session.commit()
        data = {"advisor": advisor.username, "day": (local_day(site.timezone) + timedelta(days=1)).isoformat()}
        db.session.remove()
        return data


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_declined_item_is_suggested_and_booked(live_server, live_app, new_page, lang):
    data = seed(live_app)
    page = new_page("console", lang=lang)
    sign_in(page, live_server.url, data["advisor"], lang=lang, path="/appointments/new")
    page.fill("#q", "京A12345")
    page.press("#q", "Enter")
    page.click("[data-results=vehicles] a[data-vehicle]")
    suggestions = page.locator("[data-suggestions]")
    declined = suggestions.locator("[data-why=declined_before]")
    expect(declined).to_contain_text("Replace wiper blades" if lang == "en" else "更换雨刮片")
    expect(declined).to_contain_text("下次再换")
    expect(suggestions.locator("[data-why=maintenance_due]")).to_contain_text(
        "Oil and filter change" if lang == "en" else "更换机油机滤")
    declined.locator("input[type=checkbox]").check()
    page.select_option("#f-reason", "maintenance")
    page.fill("#f-day", data["day"])
    slot = page.locator("#slots [data-slot='10:00']")
    expect(slot.locator("input")).to_be_enabled()
    slot.click()
    suggestions.scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/suggestions-{lang}.png")
    page.click(".ap-form .form-actions button[type=submit]")
    page.wait_for_url(f"**/appointments?day={data['day']}")
    row = page.locator("tr[data-appointment^='YY-']", has_text="京A12345")
    expect(row.locator(".ap-time")).to_have_text("10:00")
    expect(page.locator("[data-hours-booked]")).to_have_text("0.3")       # the wiper blades' hours
    assert not page.console_errors, page.console_errors
