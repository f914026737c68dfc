"""From an online booking to the desk in real Chromium: a customer books on the phone in English
for the day after tomorrow and the appointment board shows it live; the day before, the reminder
with the manage link is logged; on the morning the customer checks in at the kiosk by plate, and
when the advisor starts the walk-around the interview already holds what the customer wrote when
booking. The clock is moved the way the demo moves it (timeutil.clock_at), for the server too."""
import re
import uuid
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import Factory
from webapp.extensions import db

pytestmark = pytest.mark.browser
SHOTS = "/tmp/shots-book"
WORDS = "Brakes squeak when stopping"


def seed(live_app):
    from webapp.timeutil import local_day, local_to_utc
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk="1", display_name="王晓明")
        f.user(site, "technician", display_name="张师傅")
        day = local_day(site.timezone) + timedelta(days=2)
        data = {"advisor": advisor.username, "day": day.isoformat(),
                "day_before": local_to_utc(site.timezone, datetime.combine(day - timedelta(days=1), time(10, 0))),
                "morning": local_to_utc(site.timezone, datetime.combine(day, time(8, 0)))}
        db.session.remove()
        return data


def test_booked_online_checked_in_at_the_kiosk_received_prefilled(live_server, live_app, new_page):
    from webapp.timeutil import clock_at
    data = seed(live_app)
    base = live_server.url
    from webapp.models import Notification
    from webapp.services.appointment_day_before import send_reminders
    with clock_at() as move:
        board = new_page("console", lang="en")      # the appointment board of the booked day, open
        sign_in(board, base, data["advisor"], lang="en", path=f"/appointments/board?day={data['day']}", live=True)
        phone = new_page("phone", lang="en")
        phone.goto(f"{base}/lang/en?next=/book")
        phone.locator(".bk-kind", has=phone.locator("input[value=repair]")).click()
        phone.fill("#bk-day", data["day"])
        phone.locator("#bk-slots [data-slot='09:00']").click()
        phone.fill("#bk-plate", "京B54321")
        phone.fill("#bk-mobile", "13912345678")
        phone.fill("#bk-name", "Li Lei")
        phone.fill("#bk-email", "li@example.com")
        phone.fill("#bk-description", WORDS)
        phone.click("button.bk-submit")
        expect(phone.locator("[data-status]")).to_have_attribute("data-status", "booked")
        manage = phone.url
        card = board.locator(".ap-card", has_text="京B54321")    # the board shows it without a reload
        expect(card).to_have_attribute("data-state", "booked")

        move(data["day_before"])   # the day before, 10:00: the periodic task's run
        with live_app.app_context():
            assert send_reminders() == 1
            reminder = db.session.scalar(db.select(Notification).where(Notification.kind == "appointment_reminder"))
            assert manage.split("/book/")[1] in reminder.body
            db.session.remove()

        move(data["morning"])      # the day of the booking, 08:00: the server reads the same clock

        kiosk = new_page("kiosk", lang="en")
        kiosk.goto(f"{base}/lang/en?next=/kiosk")
        kiosk.click("#choose-appointment")
        kiosk.click("#search-instead")    # typing the plate, as a customer not spotting it in the list would
        kiosk.fill("#q-plate", "京B54321")
        kiosk.click("#search-submit")
        match = kiosk.locator(".appt")
        expect(match).to_have_count(1)
        match.locator(".appt-confirm").click()
        expect(kiosk.locator("#ticket-number")).to_be_visible()

        page = new_page("console", lang="en")
        sign_in(page, base, data["advisor"], "en")
        expect(page.locator("body")).to_have_attribute("data-live-state", "online")
        for i in range(3):
            with page.expect_response(re.compile(r".*/advisor/readiness$")):
                page.locator("#readiness input[type=checkbox]").nth(i).click()
        page.click("button.call-next")
        page.get_by_role("button", name=re.compile("start reception", re.I)).click()
        page.locator(".visits a").first.click()
        page.wait_for_url(re.compile(r".*/advisor/visits/\d+$"))
        page.locator("#sec-inspection").get_by_role("button", name=re.compile("Start walk-around")).click()
        concern = page.locator("#new-concern")
        expect(concern).to_have_value(WORDS)
        concern.scroll_into_view_if_needed()
        page.screenshot(path=f"{SHOTS}/arrival-prefilled-en.png")
