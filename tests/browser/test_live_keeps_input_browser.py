"""Screens that never lose what a person entered, in real Chromium against the real server.

Sections of the advisor's visit page are drawn anew when something they show changes (out of band
in the answer to a save elsewhere on the page, a refetch on a hint from another screen); that merges the server's answer into the page
(idiomorph morph swap), so a half-entered damage mark, a typed concern or estimate line and a
signature being drawn stay where they are. The console's panel orders its requests (hx-sync), so
a refresh that was on its way when "Call next" was clicked never lands over the call."""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import RO_TERMS, Factory, job_at_dispatch, png_data_url
from webapp.commands.intake import parse_inspection
from webapp.extensions import db
from webapp.services import calling, estimates, workshop
from webapp.services import intake as intake_svc
from webapp.commands.estimates import parse_line

pytestmark = pytest.mark.browser


def visit_in_walk_around(live_app, complete=False):
    """A walk-in received and in the walk-around inspection. ``complete``: everything the
    inspection needs is entered and signed, only "Complete inspection" is left."""
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="keep")
        advisor = f.user(site, "advisor", username="keeper", desk="3")
        f.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三", make="大众", model="帕萨特")
        ticket = f.walkin(site, plate="京A12345")
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        visit = ticket.visit
        intake_svc.start_inspection(visit, advisor)
        db.session.expire(visit)
        if complete:
            intake_svc.save_inspection(visit, parse_inspection({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                               "mileage": "45000", "fuel_level": "1/2", "valuables_left": "no"}), advisor)
            intake_svc.sign_intake(visit, png_data_url(), "张三", "127.0.0.1", "pytest", advisor)
        visit_id = visit.id
        db.session.remove()
        return visit_id


def open_visit(new_page, base, visit_id, username="keeper"):
    page = new_page("console")
    sign_in(page, base, username, path=f"/advisor/visits/{visit_id}", live=True)
    count_settles(page)
    return page


def count_settles(page):
    """window.__settled[id]: how many answers have settled into the element with that id."""
    page.evaluate("""() => { window.__settled = {};
        document.body.addEventListener('htmx:afterSettle', e => {
            const id = e.detail.target && e.detail.target.id;
            window.__settled[id] = (window.__settled[id] || 0) + 1; }); }""")


def settled(page, element_id):
    return page.evaluate("id => window.__settled[id] || 0", element_id)


def wait_settled(page, element_id, before):
    page.wait_for_function("([id, n]) => (window.__settled[id] || 0) > n", arg=[element_id, before])


def test_half_entered_damage_mark_survives_a_walk_around_tick(live_app, live_server, new_page):
    visit_id = visit_in_walk_around(live_app)
    page = open_visit(new_page, live_server.url, visit_id)
    damage = page.locator("#sec-damage")

    # A scratch found on the left front door: zone, kind and note entered, not added yet.
    damage.locator('svg [data-zone="left_front_door"]').click()
    damage.locator(".kinds label:has(input[value='scratch'])").click()
    damage.locator("#dm-note").fill("车门把手下方划痕")

    # Then the seat cover is fitted: the walk-around saves, and its answer leaves the damage
    # section alone (nothing there changed) …
    with page.expect_response(re.compile(r"/inspection$")) as saved:
        page.locator("#inspection-form input[name=cover_seat]").check()
    assert saved.value.status == 200 and "sec-damage" not in saved.value.text()
    # … and when the section is merged anew (a save that changed it, a live hint), what was
    # entered stays.
    before = settled(page, "sec-damage")
    with page.expect_response(re.compile(r"/section/damage$")) as refreshed:
        page.evaluate("id => htmx.ajax('GET', `/advisor/visits/${id}/section/damage`, "
                      "{target: '#sec-damage', swap: 'morph:outerHTML'})", visit_id)
    assert refreshed.value.status == 200
    wait_settled(page, "sec-damage", before)

    expect(damage.locator('input[name="zone"]')).to_have_value("left_front_door")
    expect(damage.locator('svg [data-zone="left_front_door"]')).to_have_attribute("aria-pressed", "true")
    expect(damage.locator("input[name=kind][value=scratch]")).to_be_checked()
    expect(damage.locator("#dm-note")).to_have_value("车门把手下方划痕")

    # "Add mark" goes through: no "tap a part of the car first".
    with page.expect_response(re.compile(r"/marks$")) as answer:
        damage.locator("#damage-form button[type=submit]").click()
    assert answer.value.status == 200
    expect(damage.locator(".mark-list.current > li")).to_have_count(1)
    expect(damage.locator('svg .cm-mark[data-mark="1"][data-zone-ref="left_front_door"]')).to_be_visible()
    assert page.console_errors == []


def test_typed_concern_survives_completing_the_walk_around(live_app, live_server, new_page):
    visit_id = visit_in_walk_around(live_app, complete=True)
    page = open_visit(new_page, live_server.url, visit_id)
    concern = page.locator("#new-concern")
    concern.fill("低速刹车时有异响")

    # Completing the walk-around answers with the interview section too (out of band), merged in
    # the same swap as the progress block.
    with page.expect_response(re.compile(r"/inspection/complete$")) as completed:
        page.locator("#inspection-status button[hx-post$='/inspection/complete']").click()
    assert completed.value.status == 200 and 'id="sec-interview"' in completed.value.text()
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "interview")

    expect(concern).to_have_value("低速刹车时有异响")
    page.locator("#sec-interview form.add-concern button[type=submit]").click()
    expect(page.locator("#sec-interview article.concern")).to_have_count(1)
    expect(page.locator("#sec-interview article.concern input[name=text]")).to_have_value("低速刹车时有异响")
    assert page.console_errors == []


def car_in_repair_with_extra_work_presented(live_app):
    """A car in repair; the advisor priced extra work and showed it to the customer."""
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="keep")
        advisor = f.user(site, "advisor", username="keeper", desk="3")
        dispatcher = f.user(site, "dispatcher", username="disp")
        tech = f.user(site, "technician", username="tech")
        visit = job_at_dispatch(f, site, advisor, plate="京A66666")
        workshop.assign(dispatcher, visit.job.id, tech.id, None)
        workshop.start(tech, visit.job.id)
        estimates.add_line(visit, parse_line({"kind": "labour", "description": "更换雨刮片", "quantity": "0.2"}), advisor)
        est = estimates.present(visit, advisor)
        ids = {"visit": visit.id, "version": est.version, "pending": [l.id for l in est.lines if l.decision == "pending"]}
        db.session.remove()
        return ids


def test_typed_estimate_line_survives_the_customer_approving_on_the_phone(live_app, live_server, new_page):
    shop = car_in_repair_with_extra_work_presented(live_app)
    page = open_visit(new_page, live_server.url, shop["visit"])
    section = page.locator("#sec-estimate")
    expect(section).to_have_attribute("data-estimate-status", "presented")
    section.locator("#al-desc").fill("更换空调滤芯")
    section.locator("#al-qty").fill("0.3")

    # The customer decides on the phone (the service the phone's request runs).
    before = settled(page, "sec-estimate")
    with page.expect_response(re.compile(r"/estimate$")) as refreshed:
        with live_app.app_context():
            from webapp.models import Visit
            visit = db.session.get(Visit, shop["visit"])
            estimates.decide(visit, shop["version"], {i: ("approved", None) for i in shop["pending"]}, "remote")
            db.session.remove()
    assert refreshed.value.status == 200
    wait_settled(page, "sec-estimate", before)
    expect(section).to_have_attribute("data-estimate-status", "decided")

    expect(section.locator("#al-desc")).to_have_value("更换空调滤芯")
    expect(section.locator("#al-qty")).to_have_value("0.3")
    section.locator("form[data-add-line] button[type=submit]").click()
    expect(section.locator("tr[data-line]", has_text="更换空调滤芯")).to_have_count(1)
    assert page.console_errors == []


def test_half_drawn_signature_survives_a_refresh_of_its_section(live_app, live_server, new_page):
    visit_id = visit_in_walk_around(live_app)
    page = open_visit(new_page, live_server.url, visit_id)
    canvas = page.locator("#sec-signature canvas[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]

    # The customer is half-way through their signature when the section is merged anew (as when
    # a save elsewhere on the page brings it out of band; here its own HTML, fetched and morphed).
    page.mouse.move(x + 0.1 * w, y + 0.6 * h)
    page.mouse.down()
    for px, py in ((0.2, 0.3), (0.3, 0.7), (0.4, 0.35)):
        page.mouse.move(x + px * w, y + py * h, steps=6)
    before = settled(page, "sec-signature")
    with page.expect_response(re.compile(r"/section/signature$")):
        page.evaluate("id => htmx.ajax('GET', `/advisor/visits/${id}/section/signature`, "
                      "{target: '#sec-signature', swap: 'morph:outerHTML'})", visit_id)
    wait_settled(page, "sec-signature", before)
    for px, py in ((0.6, 0.7), (0.75, 0.3), (0.9, 0.6)):
        page.mouse.move(x + px * w, y + py * h, steps=6)
    page.mouse.up()

    # The whole stroke is on the pad on the page, beginning and end, and goes with the form.
    drawn = page.evaluate("""() => {
        const c = document.querySelector('#sec-signature canvas[data-signature-pad]');
        const xs = c.signaturePad.toData().flatMap(s => s.points.map(p => p.x));
        return {strokes: c.signaturePad.toData().length, min: Math.min(...xs), max: Math.max(...xs), width: c.offsetWidth,
                field: c.closest('form').querySelector('[data-signature-input]').value.slice(0, 22)};
    }""")
    assert drawn["strokes"] == 1
    assert drawn["min"] < 0.2 * drawn["width"] and 0.85 * drawn["width"] < drawn["max"] <= drawn["width"]
    assert drawn["field"] == "data:image/png;base64,"
    assert page.console_errors == []


def test_call_next_is_never_undone_by_a_refresh_already_on_its_way(live_app, live_server, new_page):
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="keep")
        f.user(site, "advisor", username="keeper", desk="3")
        ticket = f.walkin(site, plate="京A12345")
        number = ticket.number
        db.session.remove()
    page = new_page("console")
    sign_in(page, live_server.url, "keeper", live=True)
    expect(page.locator("button.call-next")).to_be_enabled()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")   # the connect's resync is done

    # A refresh of the panel (a hint, the minute's poll, a reconnect) was answered by the server
    # with the queue as it was; its answer is still travelling when "Call next" is clicked, and
    # arrives before the call's answer.
    held = {"panel": [], "call": []}

    def hold(kind, first_only):
        def handler(route):
            if first_only and held[kind]:
                route.continue_()
            else:
                held[kind].append((route, route.fetch()))
        return handler

    def wait_held(kind, at_most_ms=10_000):
        for _ in range(at_most_ms // 20):
            if held[kind]:
                return True
            # The sync API runs route handlers only while it is called, and no Playwright wait ends on
            # a Python-side condition (a handler having held the request): poll in 20 ms steps.
            page.wait_for_timeout(20)
        return False

    def release(kind):
        route, answer = held[kind][0]
        route.fulfill(response=answer)

    page.evaluate("document.body.addEventListener('live:message', () => { window.__hints = (window.__hints || 0) + 1; })")
    page.route(re.compile(r"/advisor/panel$"), hold("panel", first_only=True))
    page.route(re.compile(r"/advisor/call-next$"), hold("call", first_only=False))
    page.evaluate("htmx.trigger(document.body, 'live:refresh')")
    wait_held("panel")
    page.locator("button.call-next").click()
    # The call reaches the server at once (unordered) or waits for the refresh (ordered): give it
    # a moment either way; and any hint the call causes arrives while the refresh is travelling.
    if wait_held("call", at_most_ms=2000):
        try:
            page.wait_for_function("() => (window.__hints || 0) > 0", timeout=2000)
        except PlaywrightTimeoutError:
            pass   # no hint came: the refresh travels alone
    release("panel")
    wait_held("call")
    release("call")

    expect(page.locator(".current-ticket")).to_have_attribute("data-ticket", number)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")   # the held answer has landed too
    expect(page.locator(".current-ticket")).to_have_attribute("data-ticket", number)
    expect(page.locator(".now .empty")).to_have_count(0)
    assert page.console_errors == []
