"""The customer signs the intake form on the desk screen, in real Chromium: an empty box is
refused next to it, a signature drawn with the mouse is stored and shown as current, the
customer's phone follows the inspection live (in progress → done, with their damage map), and
the printed form looks like A4 paper. Screenshots in both languages."""
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from werkzeug.datastructures import MultiDict

from tests.browser.helpers import draw_signature, screenshot, set_lang
from tests.factories import PASSWORD, Factory, confirm_suggestion
from webapp.commands.intake import parse_inspection
from webapp.extensions import db
from webapp.commands.intake import parse_concern_edit

pytestmark = pytest.mark.browser

PLATE, VIN = "京A12345", "LSVAM4187C2184847"
A4 = {"width": 794, "height": 1123}      # 210 × 297 mm at 96 dpi


def _jpeg(colour):
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buf, "JPEG")
    return buf.getvalue()


def setup_visit(live_app):
    """A visit in the walk-around inspection through the real services: covers, mileage, fuel,
    two damage marks (one with a photo), a concern. Returns what the test needs."""
    from webapp.services import calling
    from webapp.services import intake as svc
    from webapp.services.checkin import ticket_pin
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="bj01", name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username="advisor1", desk="3", display_name="王晓明")
        f.customer_vehicle(site, plate=PLATE, mobile="13800138000", name="张三", vin=VIN, make="大众",
                           model="帕萨特", year=2019, colour="白色", last_mileage=45000)
        ticket = f.walkin(site, plate=PLATE, mobile="13800138000")
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        confirm_suggestion(ticket.visit, advisor)   # the stored car, checked at the desk
        visit = ticket.visit
        svc.set_document(visit, "licence", True, advisor)
        svc.set_document(visit, "booklet", True, advisor)
        svc.start_inspection(visit, advisor)
        svc.save_inspection(visit, parse_inspection(MultiDict([
            ("cover_seat", "1"), ("cover_wheel", "1"), ("cover_floor", "1"), ("mileage", "46120"),
            ("fuel_level", "3/4"), ("warning_lights", "tpms"), ("accessories", "spare_tyre"),
            ("accessories", "warning_triangle"), ("accessories", "jack_tools"), ("valuables", "行车记录仪、雨伞")])), advisor)
        mark = svc.add_mark(visit, "left_front_door", "scratch", "约5厘米划痕", advisor)
        svc.add_photo(visit, _jpeg((180, 40, 40)), mark.id, advisor)
        svc.add_mark(visit, "rear_bumper", "dent", None, advisor)
        svc.add_mark(visit, "bonnet", "chip", "石子崩点", advisor)
        concern = svc.add_concern(visit, "低速刹车有异响", advisor)
        svc.update_concern(visit, concern.id, parse_concern_edit({"text": "低速刹车有异响", "note_internal": "客户赶时间，优先安排",
                                               "note_customer": "先检查刹车片厚度", "diagnosis": "clear",
                                               "warranty": "not_covered", "proposed_repair": "更换前刹车片"}), advisor)
        data = {"visit": visit.id, "token": ticket.token, "pin": ticket_pin(ticket.token),
                "number": ticket.number, "advisor": advisor.username}
        db.session.remove()
        return data


def signature_image(live_app):
    from webapp.models import Signature
    from webapp.storage import open_path
    with live_app.app_context():
        sig = Signature.query.order_by(Signature.id.desc()).first()
        data = open_path(sig.image_path).read_bytes() if sig else None
        db.session.remove()
        return data


def sign_in(page, base, username, lang):
    set_lang(page, base, lang, then="/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/advisor$"))


def wait_js(page, expression, timeout=10.0):
    """Wait until ``expression`` is true on the page (Playwright runs the predicate through the
    browser's debugging protocol, which the page's CSP does not govern)."""
    page.wait_for_function(f"() => {expression}", timeout=timeout * 1000)


def open_status(new_page, base, token, lang):
    phone = new_page("phone", lang="en" if lang == "en" else None)
    set_lang(phone, base, lang, then=f"/t/{token}")
    expect(phone.locator("body")).to_have_attribute("data-live-state", "online")
    return phone


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_sign_complete_and_follow_on_the_phone(live_app, live_server, new_page, lang):
    en = lang == "en"
    base = live_server.url
    shop = setup_visit(live_app)

    # The customer's phone: PIN entered at the desk, then the page follows along by itself.
    phone = open_status(new_page, base, shop["token"], lang)
    phone.locator("#pin").fill(shop["pin"])
    phone.locator(".st-pin button[type=submit]").click()
    expect(phone.locator("[data-plate]")).to_have_text(PLATE)
    expect(phone.locator("body")).to_have_attribute("data-live-state", "online")
    live = phone.locator("#status-live")
    expect(live).to_have_attribute("data-inspection", "in_progress")
    expect(phone.locator("#st-headline")).to_have_text("Inspection in progress" if en else re.compile(r".+"))
    expect(phone.locator("[data-inspection-badge]")).to_be_visible()
    expect(phone.locator("[data-damage-map]")).to_have_count(0)
    phone.evaluate("window.__noReload = 'still here'")
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, f"status-inspection-progress-{lang}")

    # The desk: the signature section of the visit page.
    desk = new_page("console")
    sign_in(desk, base, shop["advisor"], lang)
    desk.goto(f"{base}/advisor/visits/{shop['visit']}")
    sec = desk.locator("#sec-signature")
    sec.scroll_into_view_if_needed()
    expect(sec.locator("[data-sum=mileage]")).to_have_text("46,120 km")
    expect(sec.locator("[data-sum=marks]")).to_have_text("3")
    canvas = sec.locator("canvas[data-signature-pad]")
    expect(canvas).to_be_visible()
    assert canvas.bounding_box()["width"] > 400                    # the pad fills its column
    desk.evaluate("document.getElementById('sec-signature').scrollIntoView({block: 'start'})")
    screenshot(desk, f"intake-signature-empty-{lang}")

    # An empty box is refused next to it; the re-rendered section gets a working pad again.
    sec.get_by_role("button", name=re.compile("Customer signs|客户签字|顾客签字")).click()
    expect(desk.locator("#signature-error")).to_be_visible()
    expect(desk.locator("#sec-signature .sign-box")).to_have_class(re.compile("has-error"))
    canvas = desk.locator("#sec-signature canvas[data-signature-pad]")
    draw_signature(desk, canvas)
    expect(canvas).to_have_attribute("data-empty", "false")
    # Clear works, then the customer signs again.
    desk.locator("#sec-signature [data-signature-clear]").click()
    expect(canvas).to_have_attribute("data-empty", "true")
    draw_signature(desk, canvas)
    # Another section saved meanwhile (a concern noted, not part of the signed form): the drawing
    # in progress is untouched.
    desk.locator("#new-concern").fill("空调异味")
    desk.locator("#sec-interview form.add-concern button[type=submit]").click()
    expect(desk.locator("#sec-interview .concern")).to_have_count(2)
    expect(desk.locator("#sec-signature canvas[data-signature-pad]")).to_have_attribute("data-empty", "false")
    desk.locator("#sig-name").fill("张三")
    desk.locator("#sec-signature button[type=submit]").click()

    latest = desk.locator("#sec-signature .sign-latest")
    expect(latest).to_be_visible()
    expect(latest).to_have_attribute("data-current", "true")
    expect(desk.locator("[data-signature-state=current]")).to_be_visible()
    expect(latest).to_contain_text("张三")
    wait_js(desk, "document.querySelector('#sec-signature .sign-latest img').naturalWidth > 0")
    desk.evaluate("document.getElementById('sec-signature').scrollIntoView({block: 'start'})")
    screenshot(desk, f"intake-signature-signed-{lang}")

    # What was stored is the drawing: a PNG with ink in it.
    png = signature_image(live_app)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.getchannel("A").getbbox() is not None

    # The advisor completes the inspection with the button; the phone follows without a reload.
    insp = desk.locator("#sec-inspection")
    expect(insp.locator(".todo-list")).to_have_count(0)
    insp.get_by_role("button", name=re.compile("Complete inspection|完成")).click()
    expect(desk.locator("#visit-state")).to_have_attribute("data-state", "interview")

    expect(live).to_have_attribute("data-inspection", "done")
    if en:
        expect(phone.locator("#st-headline")).to_have_text("Inspection done")
        expect(phone.locator("[data-inspection-badge]")).to_have_text("Inspection done")
    damage = phone.locator("[data-damage-map]")
    expect(damage.locator("[data-carmap]")).to_be_visible()
    expect(damage.locator(".st-marks li")).to_have_count(3)
    assert phone.evaluate("window.__noReload") == "still here"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, f"status-inspection-done-{lang}")
    phone.evaluate("document.getElementById('intake').scrollIntoView({block: 'start'})")
    screenshot(phone, f"status-inspection-done-map-{lang}")

    # The customer's own copy of the form, from the link on the page.
    phone.locator("[data-intake-link]").click()
    phone.wait_for_url(re.compile(r".*/t/[^/]+/intake$"))
    expect(phone.locator(".sheet")).to_have_attribute("data-copy", "customer")
    expect(phone.locator("[data-plate]")).to_have_text(PLATE)
    wait_js(phone, "document.querySelector('.sig-img').naturalWidth > 0")
    wait_js(phone, "[...document.querySelectorAll('.mark-photos img')].every(i => i.naturalWidth > 0)")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, f"intake-customer-copy-{lang}")

    # The printed form: A4 paper, the Print button hidden, everything on it.
    paper = new_page("console", viewport=A4)
    sign_in(paper, base, shop["advisor"], lang)
    paper.goto(f"{base}/advisor/visits/{shop['visit']}/intake/print")
    expect(paper.locator("[data-print]")).to_be_visible()
    wait_js(paper, "document.querySelector('.sig-img').naturalWidth > 0")
    screenshot(paper, f"intake-print-screen-{lang}")
    paper.emulate_media(media="print")
    expect(paper.locator(".toolbar")).to_be_hidden()
    expect(paper.locator("[data-vin]")).to_have_text(VIN)
    expect(paper.locator("[data-marks-table] tbody tr")).to_have_count(3)
    expect(paper.locator("[data-carmap] .cm-mark")).to_have_count(3)
    expect(paper.locator(".sheet")).to_contain_text("里程")
    expect(paper.locator(".sheet")).to_contain_text("Mileage")
    screenshot(paper, f"intake-print-{lang}")
    # One A4 page for a usual form.
    pdf = paper.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1

    for p in (phone, desk, paper):
        assert [e for e in p.console_errors if "status of 422" not in e] == [], p.url


def test_print_button_opens_the_print_dialog(live_app, live_server, new_page):
    shop = setup_visit(live_app)
    page = new_page("console", viewport=A4)
    sign_in(page, live_server.url, shop["advisor"], "en")
    page.goto(f"{live_server.url}/advisor/visits/{shop['visit']}/intake/print")
    # Replace window.print (a native dialog) to see that the button calls it.
    # (The expression ends in a number: an expression whose value is a function gets called by evaluate.)
    page.evaluate("window.print = function () { window.__printed += 1; }; window.__printed = 0")
    page.locator("[data-print]").click()
    assert page.evaluate("window.__printed") == 1
    assert page.console_errors == []
