"""The damage map in real Chromium on the advisor's console (1366×768): tap zones of the car,
add two marks (one with a photo), see them numbered on the map and in the list, the last
visit's marks faded, and screenshots of the section in both languages."""
import base64
import io
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.helpers import SCREENSHOTS, screenshot, set_lang
from tests.factories import PASSWORD, Factory, confirm_suggestion
from webapp.commands.intake import parse_inspection
from webapp.extensions import db
from webapp.services import calling
from webapp.services import intake as svc

pytestmark = pytest.mark.browser


def photo_jpeg() -> bytes:
    """A 'photo' of a scratched door: grey panel with a dark diagonal line."""
    img = Image.new("RGB", (1200, 900), (176, 184, 194))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 600, 1200, 900), fill=(120, 128, 138))
    draw.line((200, 250, 900, 520), fill=(40, 40, 40), width=14)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def signature_url() -> str:
    img = Image.new("RGBA", (400, 150), (255, 255, 255, 0))
    ImageDraw.Draw(img).line((40, 100, 160, 40, 260, 110, 360, 50), fill=(0, 0, 0, 255), width=4)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def setup_visit(live_app, previous_marks=False):
    """A walk-in called, received and in the walk-around inspection; returns the visit id.
    With previous_marks, the same car's last visit left two marks (completed inspection)."""
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="bj01", name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username="advisor1", desk="3", display_name="王晓明")
        f.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三", make="大众", model="帕萨特")
        if previous_marks:
            first = f.walkin(site, plate="京A12345")
            calling.call_next(advisor)
            calling.start_reception(advisor, first.id)
            confirm_suggestion(first.visit, advisor)   # the stored car, checked at the desk
            svc.start_inspection(first.visit, advisor)
            db.session.expire(first.visit)   # expire_on_commit=False: reload visit.intake
            svc.add_mark(first.visit, "right_rear_door", "dent", "停车场剐蹭", advisor)
            svc.add_mark(first.visit, "roof", "dent", "冰雹", advisor)
            svc.save_inspection(first.visit, parse_inspection({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                              "mileage": "45000", "fuel_level": "1/2", "valuables_left": "no"}), advisor)
            svc.sign_intake(first.visit, signature_url(), "张三", "127.0.0.1", "pytest", advisor)
            svc.complete_inspection(first.visit, advisor)
        ticket = f.walkin(site, plate="京A12345")
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        confirm_suggestion(ticket.visit, advisor)   # the stored car, checked at the desk
        svc.start_inspection(ticket.visit, advisor)
        visit_id = ticket.visit_id
        db.session.remove()
        return visit_id


def sign_in(page, base, lang):
    set_lang(page, base, "en" if lang == "en" else "zh_CN", then="/login")
    page.fill("#username", "advisor1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/advisor$"))


def only_refusals(errors):
    """Console errors allowed: Chromium logs each refused (422) save; anything else (a CSP
    violation, a script error) fails the test."""
    return all("status of 422" in e for e in errors)


def add_mark(page, zone, kind, note, photo=None):
    section = page.locator("#sec-damage")
    section.locator(f'svg [data-zone="{zone}"]').click()
    expect(section.locator('input[name="zone"]')).to_have_value(zone)
    section.locator(f".kinds label:has(input[value='{kind}'])").click()
    section.locator("#dm-note").fill(note)
    if photo:
        section.locator("#dm-photo").set_input_files(
            files=[{"name": "door.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        expect(section.locator("[data-file-name]")).to_have_text("door.jpg")
    with page.expect_response(re.compile(r"/marks$")) as answer:
        section.locator("#damage-form button[type=submit]").click()
    assert answer.value.status == 200


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_advisor_marks_damage_on_the_map(live_app, live_server, new_page, lang):
    visit_id = setup_visit(live_app, previous_marks=True)
    base = live_server.url
    page = new_page("console", lang="en" if lang == "en" else None)
    sign_in(page, base, lang)
    page.goto(f"{base}/advisor/visits/{visit_id}")
    section = page.locator("#sec-damage")
    svg = section.locator("svg.carmap-svg")
    expect(svg).to_be_visible()

    # Tapping a zone selects it and names it in the form; Enter on a focused zone does the same.
    section.locator('svg [data-zone="left_front_door"]').click()
    expect(section.locator('svg [data-zone="left_front_door"]')).to_have_attribute("aria-pressed", "true")
    expect(section.locator("[data-zone-name]")).to_have_class(re.compile("has-zone"))
    if lang == "en":
        expect(section.locator("[data-zone-name]")).to_have_text("Left front door")
    section.locator('svg [data-zone="bonnet"]').focus()
    page.keyboard.press("Enter")
    expect(section.locator('input[name="zone"]')).to_have_value("bonnet")
    expect(section.locator('svg [data-zone="left_front_door"]')).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(section.locator('input[name="zone"]')).not_to_have_value("bonnet")

    # Adding without a kind: refused next to the field, the zone and the note stay.
    section.locator('svg [data-zone="left_front_door"]').click()
    section.locator("#dm-note").fill("车门把手下方划痕")
    section.locator("#damage-form button[type=submit]").click()
    expect(section.locator("#kind-error")).to_be_visible()
    expect(section.locator("#dm-note")).to_have_value("车门把手下方划痕")
    expect(section.locator('input[name="zone"]')).to_have_value("left_front_door")

    # Two marks, the second with a photo from the camera.
    add_mark(page, "left_front_door", "scratch", "车门把手下方划痕")
    add_mark(page, "bonnet", "dent", "引擎盖中部凹陷", photo=photo_jpeg())

    badges = section.locator("svg .cm-mark:not(.cm-prev)")
    expect(badges).to_have_count(2)
    expect(section.locator('svg .cm-mark[data-mark="1"][data-zone-ref="left_front_door"]')).to_be_visible()
    expect(section.locator('svg .cm-mark[data-mark="2"][data-zone-ref="bonnet"]')).to_be_visible()
    items = section.locator(".mark-list.current > li")
    expect(items).to_have_count(2)
    expect(items.nth(0).locator(".num")).to_have_text("1")
    expect(items.nth(0)).to_contain_text("车门把手下方划痕")
    expect(items.nth(1).locator(".num")).to_have_text("2")
    expect(items.nth(1)).to_contain_text("引擎盖中部凹陷")
    thumb = items.nth(1).locator(".thumbs img")
    expect(thumb).to_have_count(1)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert thumb.evaluate("img => img.naturalWidth") == 320
    assert re.search(r"/advisor/photos/\d+$", items.nth(1).locator(".thumbs a").get_attribute("href"))

    # The last visit's marks: lettered, grey and dashed on the map, listed apart.
    expect(section.locator("svg .cm-mark.cm-prev")).to_have_count(2)
    expect(section.locator(".mark-list.previous > li")).to_have_count(2)
    expect(section.locator(".mark-list.previous")).to_contain_text("冰雹")

    # Every zone is hit at the middle of its box (where a click lands), even with badges on it.
    svg.evaluate("el => el.scrollIntoView({block: 'start'})")
    missed = page.evaluate("""() => [...document.querySelectorAll('#sec-damage svg [data-zone]')].filter(el => {
        const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return !hit || hit.closest('[data-zone]') !== el; }).map(el => el.dataset.zone)""")
    assert missed == []

    # Screenshots with a zone and a kind chosen for the next mark.
    section.locator('svg [data-zone="right_rear_wing"]').click()
    section.locator(".kinds label:has(input[value='chip'])").click()
    page.evaluate("document.getElementById('sec-damage').scrollIntoView({block: 'start'})")
    page.mouse.move(5, 5)
    tag = "zh" if lang == "zh-CN" else "en"
    screenshot(page, f"damage-console-{tag}")
    section.screenshot(path=str(SCREENSHOTS / f"damage-section-{tag}.png"))

    # A photo added later to mark 1, then mark 1 deleted: mark 2 becomes 1.
    section.locator(f"#mark-photo-{items.nth(0).get_attribute('id').split('-')[1]}").set_input_files(
        files=[{"name": "more.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}])
    expect(items.nth(0).locator(".thumbs img")).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    items.nth(0).locator("button.danger").click()
    expect(items).to_have_count(1)
    expect(section.locator('svg .cm-mark[data-mark="1"][data-zone-ref="bonnet"]')).to_be_visible()
    assert only_refusals(page.console_errors)


def test_refused_photo_shows_next_to_the_field(live_app, live_server, new_page):
    visit_id = setup_visit(live_app)
    base = live_server.url
    page = new_page("console", lang="en")
    sign_in(page, base, "en")
    page.goto(f"{base}/advisor/visits/{visit_id}")
    section = page.locator("#sec-damage")
    section.locator('svg [data-zone="rear_bumper"]').click()
    section.locator(".kinds label:has(input[value='crack'])").click()
    section.locator("#dm-photo").set_input_files(
        files=[{"name": "scan.jpg", "mimeType": "image/jpeg", "buffer": b"just some text, not a photo"}])
    section.locator("#damage-form button[type=submit]").click()
    expect(section.locator("#photo-error")).to_have_text("This file is not a photo.")
    expect(section.locator("#dm-photo")).to_be_focused()
    page.evaluate("document.getElementById('sec-damage').scrollIntoView({block: 'start'})")
    screenshot(page, "damage-photo-refused-en")
    assert only_refusals(page.console_errors)
