"""The appointment board on the reception TV in real Chromium (1920×1080, the site's board token, no
sign-in): a kiosk check-in turns the card to "arrived" and a new booking appears, without a reload;
plates are masked. The staff's week view (1366×768) shows the week with the booking on its day.
Screenshots in /tmp/shots-book/."""
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import set_lang, sign_in
from tests.factories import Factory
from webapp.extensions import db

# Bookings of today: the shop's clock reads 10:00 whatever hour the suite runs at.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("shop_hours")]
SHOTS = "/tmp/shots-book"


def today_at(site, hh, mm):
    """A time of the site's today (bookings earlier than now are late, which the TV shows too: the
    test does not depend on the hour it runs at)."""
    from datetime import datetime, time
    from webapp.timeutil import local_day, local_to_utc
    return local_to_utc(site.timezone, datetime.combine(local_day(site.timezone), time(hh, mm)))


def seed(live_app):
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        site.board_token = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        advisor = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk="1", display_name="王晓明")
        f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk="2", display_name="李娜")
        customer, car = f.customer_vehicle(site, plate="京A12345", mobile="13800138001", name="张先生")
        other, car2 = f.customer_vehicle(site, plate="京B67890", mobile="13800138002", name="李女士")
        booking = f.appointment(site, customer, car, scheduled_at=today_at(site, 0, 30), advisor=advisor)
        data = {"site_id": site.id, "token": site.board_token, "advisor": advisor.username, "advisor_id": advisor.id,
                "booking": booking.id, "late_customer": other.id, "late_car": car2.id}
        db.session.remove()
        return data


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_reception_tv_follows_check_ins_and_bookings_live(live_server, live_app, new_page, lang):
    from webapp.models import Site
    from webapp.services.checkin import check_in_appointment
    data = seed(live_app)
    tv = new_page("tv", lang=lang)
    set_lang(tv, live_server.url, lang, then=f"/appointments/board?token={data['token']}")
    expect(tv.locator("body")).to_have_attribute("data-live-state", "online")
    card = tv.locator(f"[data-card='{data['booking']}']")
    expect(card).to_have_attribute("data-state", "late")
    expect(card).to_contain_text("京A·***45")
    expect(tv.locator("body")).not_to_contain_text("张先生")
    with live_app.app_context():        # the customer checks in at the kiosk
        check_in_appointment(db.session.get(Site, data["site_id"]), data["booking"], f"k-{uuid.uuid4().hex}")
        db.session.remove()
    expect(card).to_have_attribute("data-state", "arrived")
    with live_app.app_context():        # a colleague books another car for later today
        from webapp.events import DomainEvent, publish
        f = Factory(db)
        site = db.session.get(Site, data["site_id"])
        from webapp.models import Customer, Vehicle, User
        new = f.appointment(site, db.session.get(Customer, data["late_customer"]), db.session.get(Vehicle, data["late_car"]),
                            scheduled_at=today_at(site, 0, 45), advisor=db.session.get(User, data["advisor_id"]))
        publish(DomainEvent("appointment.booked", site.id, None, None, {"appointment_id": new.id}))
        new_id = new.id
        db.session.remove()
    expect(tv.locator(f"[data-card='{new_id}']")).to_contain_text("京B·***90")
    tv.screenshot(path=f"{SHOTS}/tv-{lang}.png")
    assert tv.console_errors == []

    staff = new_page("console", lang=lang)
    sign_in(staff, live_server.url, data["advisor"], lang=lang, path="/appointments/board?view=week", live=True)
    expect(staff.locator("[data-week-day]")).to_have_count(7)
    expect(staff.locator(".ap-week-day.today")).to_contain_text("京A12345")
    staff.screenshot(path=f"{SHOTS}/week-{lang}.png")
    assert staff.console_errors == []
