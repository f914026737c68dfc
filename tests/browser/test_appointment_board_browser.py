"""The appointment board live in real Chromium: an advisor watches today's board; the customer
checks in at the kiosk and the card turns to arrived without a reload; a booking another
advisor makes appears on its own. Screenshots on the console (1366×768) and the TV (1920×1080)
in both languages, in /tmp/shots-appointments/."""
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import Factory
from webapp.commands.appointments import parse_booking
from webapp.extensions import db

# Bookings later today: the shop's clock reads 10:00 whatever hour the suite runs at.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("shop_hours")]
SHOTS = Path("/tmp/shots-appointments")


def seed(live_app):
    from webapp.models import Appointment
    from webapp.services import appointments
    from webapp.services import booking_capacity as cap_db
    from webapp.timeutil import utcnow
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisors = [f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:5]}", desk=str(i + 1), display_name=name)
                    for i, name in enumerate(("王晓明", "李娜", "赵强"))]
        for name in ("张师傅", "陈师傅", "刘师傅"):
            f.user(site, "technician", display_name=name)
        people = [("张先生", "京A12345"), ("李女士", "京BD12345"), ("王先生", "京N8K2M1"), ("刘女士", "京Q6P7R8"),
                  ("陈先生", "津C55667")]
        cars = [f.customer_vehicle(site, plate=plate, mobile=f"1380013800{i}", name=name)
                for i, (name, plate) in enumerate(people)]
        # Today: one due now (the kiosk check-in), one an hour late, and two later by the service.
        due = f.appointment(site, *cars[0], scheduled_at=utcnow() + timedelta(minutes=5), advisor=advisors[0])
        f.appointment(site, *cars[1], scheduled_at=utcnow() - timedelta(hours=1), advisor=advisors[1], reason="repair")
        now = cap_db.local_dt(site, utcnow())
        later = [s.start for s in cap_db.day_of(site, now.date()).slots if s.start > now.time()][:3]
        for i, start in enumerate(later[:2]):
            appointments.book(advisors[i], parse_booking({"vehicle_id": str(cars[2 + i][1].id), "reason": "maintenance",
                                                          "day": now.date().isoformat(),
                                                          "slot": start.strftime("%H:%M")}), None)
        data = {"site": site.id, "advisor": advisors[0].username, "other": advisors[2].id, "due": due.id,
                "late_car": cars[4][1].id, "next_slot": later[2].strftime("%H:%M") if len(later) > 2 else None,
                "today": now.date().isoformat()}
        assert db.session.get(Appointment, due.id).status == "booked"
        db.session.remove()
        return data


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_kiosk_check_in_turns_the_card_to_arrived(live_server, live_app, new_page, lang):
    from webapp.models import Site, User
    from webapp.services import appointments
    from webapp.services.checkin import check_in_appointment
    data = seed(live_app)
    if data["next_slot"] is None:
        pytest.skip("too late in the shop's day for three more bookings")
    base = live_server.url
    for kind in ("console", "tv"):
        page = new_page(kind, lang=lang, bypass_csp=True)   # axe is injected below
        sign_in(page, base, data["advisor"], lang=lang, path="/appointments/board", live=True)
        card = page.locator(f"[data-card='{data['due']}']")
        if kind == "console":
            expect(card).to_have_attribute("data-state", "booked")
            # The customer checks in at the kiosk: the card turns without a reload.
            with live_app.app_context():
                check_in_appointment(db.session.get(Site, data["site"]), data["due"], uuid.uuid4().hex)
                db.session.remove()
            expect(card).to_have_attribute("data-state", "arrived")
            # Another advisor books the next free time: it appears on its own.
            with live_app.app_context():
                appointments.book(db.session.get(User, data["other"]),
                                  parse_booking({"vehicle_id": str(data["late_car"]), "reason": "warranty",
                                                 "day": data["today"], "slot": data["next_slot"]}), None)
                db.session.remove()
            expect(page.locator(".ap-card", has_text="津C55667")).to_be_visible()
            expect(page.locator("[data-count=late]")).to_be_visible()
        if kind == "console":
            from tests.browser.test_accessibility import BLOCKING, axe_findings
            blocking = [f"{v['impact']} {v['id']} {v['nodes']}" for v in axe_findings(page) if v["impact"] in BLOCKING]
            assert blocking == [], blocking
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"board-{kind}-{lang}.png"))
        assert not page.console_errors, page.console_errors
