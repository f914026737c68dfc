"""The advisor's visit page as the advisor needs it, in real Chromium at 1366×768: a stage strip
says where the visit stands and jumps to the section at hand; the sections of the current stage
are open, the others folded to a one-line summary; a section the advisor opens stays open through
a live refresh and a reload. The walk-around refuses to complete without an explicit valuables
answer (message next to the field, the choice kept), and the handover asks to confirm exactly
what intake recorded. Page heights and screenshots (zh and en) go to /tmp/shots-visitfold/."""
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import draw_signature, sign_in
from tests.factories import Factory, png_data_url, visit_at_estimate, visit_ready
from webapp.commands.intake import parse_inspection
from webapp.extensions import db
from webapp.services import calling
from webapp.services import intake as intake_svc

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-visitfold")


def seed(live_app):
    """Three visits of one advisor: at reception, at the estimate, ready for pickup (its intake
    recorded two valuables)."""
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="fold", name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        sfx = uuid.uuid4().hex[:5]
        advisor = f.user(site, "advisor", username=f"fold{sfx}", desk="2", display_name="王晓明")
        ready = visit_ready(f, site, advisor, plate="京A12345")
        ready.intake.valuables_left, ready.intake.valuables = True, "行车记录仪、雨伞"
        # as though the customer had signed the form with this answer (the helper answers "none")
        intake_svc.latest_signature(ready).content_hash = intake_svc.rules.content_hash(intake_svc.snapshot(ready))
        db.session.commit()
        estimate = visit_at_estimate(f, site, advisor, plate="京B23456", mobile="13900139000")
        f.customer_vehicle(site, plate="京C34567", mobile="13700137000", name="李女士", make="丰田", model="凯美瑞")
        ticket = f.walkin(site, plate="京C34567", mobile="13700137000")
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        ids = {"reception": ticket.visit_id, "estimate": estimate.id, "ready": ready.id, "advisor": advisor.username}
        db.session.remove()
        return ids


def height(page):
    return page.evaluate("() => document.documentElement.scrollHeight")


def quiet(page):
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")


def test_stage_strip_folds_and_jumps(live_server, live_app, new_page):
    ids = seed(live_app)
    base = live_server.url
    heights = {}
    for lang in ("zh-CN", "en"):
        page = new_page("console", lang="en" if lang == "en" else None)
        sign_in(page, base, ids["advisor"], lang=lang, live=True)
        for stage in ("reception", "estimate", "ready"):
            page.goto(f"{base}/advisor/visits/{ids[stage]}")
            expect(page.locator("#visit-stages li[data-stage-state=now]")).to_have_count(1)
            quiet(page)
            heights[(lang, stage)] = height(page)
            page.screenshot(path=str(SHOTS / f"visit-{stage}-{lang}.png"), full_page=False)
            page.screenshot(path=str(SHOTS / f"visit-{stage}-{lang}-full.png"), full_page=True)
        assert not page.console_errors, page.console_errors
    print("visit page heights at 1366x768:", heights)
    assert all(h < 5650 / 2 for h in heights.values()), heights   # less than half the 5,650 px of before

    page = new_page("console", lang="en")
    sign_in(page, base, ids["advisor"], lang="en", path=f"/advisor/visits/{ids['ready']}", live=True)
    strip = page.locator("#visit-stages")
    expect(strip.locator("li[data-stage=delivery]")).to_have_attribute("data-stage-state", "now")
    expect(strip.locator("li[data-stage=estimate]")).to_have_attribute("data-stage-state", "done")
    expect(strip.locator("li[data-stage=delivery]")).to_contain_text("now")

    # The stage at hand is open, the others folded with their one-line summary.
    delivery = page.locator("#sec-delivery details.fold")
    expect(delivery).to_have_attribute("open", "")
    inspection = page.locator("#sec-inspection details.fold")
    expect(inspection).not_to_have_attribute("open", re.compile(".*"))
    expect(inspection.locator("summary")).to_contain_text("4/4 checked")
    expect(inspection.locator("summary")).to_contain_text("valuables: 行车记录仪、雨伞")
    expect(page.locator("#sec-inspection #i-mileage")).not_to_be_visible()
    expect(page.locator("#sec-estimate summary [data-fold-summary]")).to_contain_text(re.compile(r"v1 · approved .*¥"))
    expect(page.locator("#sec-documents summary")).to_contain_text("Nothing received yet")

    # The handover asks to confirm exactly what intake recorded.
    expect(page.locator("#sec-delivery [data-valuables=listed]")).to_contain_text("行车记录仪、雨伞")

    # Jump from the strip: the estimate opens and comes into view.
    strip.locator("li[data-stage=estimate] a").click()
    estimate = page.locator("#sec-estimate details.fold")
    expect(estimate).to_have_attribute("open", "")
    expect(page.locator("#sec-estimate table").first).to_be_in_viewport()

    # The advisor opens a folded section by its summary; a live refresh (the page's socket
    # reconnects: every live section refetches and merges) keeps both open.
    inspection.locator("summary").click()
    expect(page.locator("#sec-inspection #i-mileage")).to_be_visible()
    with page.expect_response(re.compile(r"/estimate(\?.*)?$")):
        page.evaluate("() => { window.serviceLaneSocket.disconnect(); window.serviceLaneSocket.connect(); }")
    quiet(page)
    expect(estimate).to_have_attribute("open", "")
    expect(inspection).to_have_attribute("open", "")
    # ... and a folded default stays folded when the advisor closes the open one: their choice.
    delivery.locator("summary").click()
    expect(delivery).not_to_have_attribute("open", re.compile(".*"))
    page.evaluate("() => htmx.trigger(document.body, 'live:refresh')")
    quiet(page)
    expect(delivery).not_to_have_attribute("open", re.compile(".*"))
    # Typed text in a section stays through folding it and a live refresh of it.
    delivery.locator("summary").click()
    page.locator("#ho-notes").fill("客户要求保留旧机油滤芯")
    delivery.locator("summary").click()
    expect(page.locator("#ho-notes")).not_to_be_visible()
    page.evaluate("() => htmx.trigger(document.body, 'live:refresh')")
    quiet(page)
    delivery.locator("summary").click()
    expect(page.locator("#ho-notes")).to_have_value("客户要求保留旧机油滤芯")
    delivery.locator("summary").click()
    # A reload keeps the choices of this visit at this stage.
    page.reload()
    expect(page.locator("#sec-inspection details.fold")).to_have_attribute("open", "")
    expect(page.locator("#sec-delivery details.fold")).not_to_have_attribute("open", re.compile(".*"))
    assert not page.console_errors, page.console_errors


def test_walk_around_needs_the_valuables_answer(live_server, live_app, new_page):
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="valu")
        advisor = f.user(site, "advisor", username="valu", desk="4")
        ticket = f.walkin(site, plate="京D45678", mobile="13600136000")
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        intake_svc.start_inspection(ticket.visit, advisor)
        intake_svc.save_inspection(ticket.visit, parse_inspection({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                                  "mileage": "45000", "fuel_level": "1/2"}), advisor)
        intake_svc.sign_intake(ticket.visit, png_data_url(), "赵先生", None, None, advisor)
        visit_id = ticket.visit_id
        db.session.remove()
    base = live_server.url
    page = new_page("console", lang="en")
    sign_in(page, base, "valu", lang="en", path=f"/advisor/visits/{visit_id}", live=True)
    insp = page.locator("#sec-inspection")
    expect(page.locator("#visit-stages li[data-stage=inspection]")).to_have_attribute("data-stage-state", "now")
    expect(page.locator("#inspection-status .todo-list")).to_contain_text("Ask the customer about valuables")

    # "Yes" without the items is no answer: refused, with the message next to the field, the choice kept.
    with page.expect_response(re.compile(r"/inspection$")):      # the autosave
        insp.locator(".valuables label:has(input[value='yes'])").click()
    expect(page.locator("#i-valuables")).to_be_visible()
    quiet(page)
    # The button says it is not ready yet (aria-disabled) but still answers a click with the reasons.
    insp.get_by_role("button", name="Complete inspection").click(force=True)
    error = page.locator("#sec-inspection .valuables #valuables-error")
    expect(error).to_have_text("Ask the customer about valuables: list what stays in the car, or choose None.")
    expect(page.locator("#sec-inspection .valuables input[value='yes']")).to_be_checked()
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "inspection")
    page.screenshot(path=str(SHOTS / "valuables-refused-en.png"), full_page=False)

    # The items typed are kept and saved; the form changed, so the customer signs again.
    page.locator("#i-valuables").fill("行车记录仪、雨伞")
    with page.expect_response(re.compile(r"/inspection$")):
        page.locator("#i-valuables").press("Tab")
    expect(page.locator("#inspection-status .todo-list")).not_to_contain_text("valuables")
    expect(page.locator("#sec-signature [data-signature-state=stale]")).to_be_visible()
    quiet(page)
    sig = page.locator("#sec-signature")
    sig.scroll_into_view_if_needed()
    expect(sig.locator("[data-sum=valuables]")).to_have_text("行车记录仪、雨伞")   # what the customer signs
    draw_signature(page, sig.locator("canvas[data-signature-pad]"))
    with page.expect_response(re.compile(r"/signature$")):
        sig.get_by_role("button", name=re.compile("Customer signs|Sign again")).click()
    expect(page.locator("#inspection-status .todo-list")).to_have_count(0)
    insp.get_by_role("button", name="Complete inspection").click()
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "interview")
    # The strip moved on by itself; the interview opened, the walk-around folded to its summary.
    expect(page.locator("#visit-stages li[data-stage=interview]")).to_have_attribute("data-stage-state", "now")
    expect(page.locator("#sec-interview details.fold")).to_have_attribute("open", "")
    expect(page.locator("#sec-inspection summary")).to_contain_text("valuables: 行车记录仪、雨伞")
    with live_app.app_context():
        from webapp.models import Visit
        intake = db.session.get(Visit, visit_id).intake
        assert (intake.valuables_left, intake.valuables) == (True, "行车记录仪、雨伞")
        db.session.remove()
    # The refused completion is a 422 the browser logs; nothing else may go wrong.
    assert [e for e in page.console_errors if "422" not in e] == [], page.console_errors
