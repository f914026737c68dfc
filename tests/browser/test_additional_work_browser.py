"""Additional work (增项) across three people without a reload: the technician reports it on the
tablet, the advisor prices it, the customer approves it on the phone, the tablet shows the answer
and the technician goes on."""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, set_lang
from tests.factories import Factory, job_at_dispatch, jpeg_bytes
from webapp.extensions import db
from webapp.commands.estimates import parse_line

pytestmark = pytest.mark.browser


def seed(live_app):
    from webapp.models import Part
    from webapp.services import workshop
    from webapp.services.checkin import ticket_pin
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="aw1", name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username="adv", desk="3")
        dispatcher = f.user(site, "dispatcher", username="disp")
        tech = f.user(site, "technician", username="tech", display_name="李师傅")
        part = Part(site_id=site.id, number="WB-01", name_zh="雨刮片", name_en="Wiper blade",
                    unit_price=Decimal("88.00"), on_hand=Decimal("10"))
        db.session.add(part)
        db.session.commit()
        visit = job_at_dispatch(f, site, advisor, plate="京A66666")
        workshop.assign(dispatcher, visit.job.id, tech.id, None)
        workshop.start(tech, visit.job.id)
        data = {"visit": visit.id, "job": visit.job.id, "token": visit.ticket.token,
                "pin": ticket_pin(visit.ticket.token), "part": part.id, "advisor": advisor.id}
        db.session.remove()
        return data


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_additional_work_reported_approved_and_seen(live_app, live_server, new_page, lang):
    base = live_server.url
    shop = seed(live_app)

    tablet = new_page("console", lang="en" if lang == "en" else None, viewport={"width": 1024, "height": 768})
    set_lang(tablet, base, lang, then="/login?next=/tech")
    tablet.fill("#username", "tech")
    tablet.fill("#password", "test-pass-123")
    tablet.click("button[type=submit]")
    tablet.wait_for_url(re.compile(r".*/tech$"))
    expect(tablet.locator("body")).to_have_attribute("data-live-state", "online")
    card = tablet.locator(f'.job-card[data-job="{shop["job"]}"]')
    expect(card).to_have_attribute("data-status", "in_progress")
    tablet.evaluate("window.__noReload = 'still here'")

    # The technician finds worn wiper blades and reports them; the job pauses for the answer.
    card.locator("details.additional summary").click()
    card.locator("textarea[name=description]").fill("雨刮片老化，刮不干净")
    card.locator("input[name=photos]").set_input_files(
        files=[{"name": "wiper.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}])
    card.locator("[data-action=additional]").click()
    expect(card).to_have_attribute("data-status", "paused")
    expect(card.locator("[data-work-status]")).to_have_attribute("data-work-status", "reported")

    # The advisor prices it and shows the new version to the customer.
    with live_app.app_context():
        from webapp.models import User, Visit
        from webapp.services import estimates
        visit = db.session.get(Visit, shop["visit"])
        advisor = db.session.get(User, shop["advisor"])
        estimates.add_line(visit, parse_line({"kind": "part", "part_id": str(shop["part"]), "quantity": "2"}), advisor)
        estimates.present(visit, advisor)
        db.session.remove()
    expect(card.locator("[data-work-status]")).to_have_attribute("data-work-status", "priced")
    expect(card.locator("[data-waiting-customer]")).to_be_visible()

    # The customer approves everything on the phone, after the PIN.
    phone = new_page("phone", lang="en" if lang == "en" else None)
    set_lang(phone, base, lang, then=f"/t/{shop['token']}")
    expect(phone.locator("body")).to_have_attribute("data-live-state", "online")
    phone.locator("[data-approval-pin]").tap()
    phone.locator("#pin").press_sequentially(shop["pin"])
    phone.locator(".st-pin button[type=submit]").tap()
    expect(phone.locator("#approval")).to_have_attribute("data-approval", "presented")
    finding = phone.locator(".st-finding img").first
    expect(finding).to_be_visible()                               # the technician's photo, after the PIN
    # Visible is not loaded: wait for the picture itself, then check it decoded.
    width = finding.evaluate("i => i.complete ? i.naturalWidth : new Promise(done => "
                             "i.addEventListener('load', () => done(i.naturalWidth), {once: true}))")
    assert width > 0
    screenshot(phone, f"phone-additional-work-{lang}")
    phone.locator("[data-approve-all]").tap()
    phone.locator("[data-approve-confirm]").tap()
    expect(phone.locator("#approval")).to_have_attribute("data-approval", "decided")

    # The tablet shows the answer by itself; the technician resumes.
    expect(card.locator("[data-work-status]")).to_have_attribute("data-work-status", "approved")
    expect(card.locator("[data-waiting-customer]")).to_have_count(0)
    screenshot(tablet, f"tech-additional-approved-{lang}")
    card.locator("[data-action=resume]").click()
    expect(card).to_have_attribute("data-status", "in_progress")
    assert tablet.evaluate("window.__noReload") == "still here"
