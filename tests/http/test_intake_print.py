"""The printed intake form (接车登记表): the shop copy for the advisor, the customer's copy under
/t/<token>/intake behind the ticket's PIN without internal notes, and the signature and photos
of that copy, served only to the PIN holder and only for their own visit."""
import base64
import io
import re

import pytest
from PIL import Image, ImageDraw
from werkzeug.datastructures import MultiDict

from tests.factories import confirm_suggestion
from tests.support import csrf_token, login
from webapp.commands.intake import parse_inspection
from webapp.models import Photo, Signature
from webapp.services import calling
from webapp.services import intake as svc
from webapp.services.checkin import ticket_pin
from webapp.commands.intake import parse_concern_edit

PLATE, VIN = "京A12345", "LSVAM4187C2184847"
INTERNAL, FOR_CUSTOMER = "客户情绪急，优先安排", "刹车片需更换，约两小时"


def png_data_url():
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 70), (90, 20), (160, 80), (270, 30)], fill=(16, 36, 63, 255), width=3)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def jpeg(colour):
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buf, "JPEG")
    return buf.getvalue()


def inspected(factory, site, advisor, plate=PLATE, mobile="13800138000", complete=True):
    """A visit taken through the real services: inspection filled, a mark with a photo, a
    concern with both kinds of notes, signed and (optionally) completed. Returns the ticket."""
    ticket = factory.walkin(site, plate=plate, mobile=mobile)
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    confirm_suggestion(ticket.visit, advisor)  # the advisor links the stored car at the desk
    visit = ticket.visit
    svc.set_document(visit, "licence", True, advisor)
    svc.start_inspection(visit, advisor)
    svc.save_inspection(visit, parse_inspection(MultiDict([
        ("cover_seat", "1"), ("cover_wheel", "1"), ("cover_floor", "1"), ("mileage", "46120"),
        ("fuel_level", "3/4"), ("warning_lights", "tpms"), ("accessories", "spare_tyre"),
        ("accessories", "warning_triangle"), ("valuables", "行车记录仪")])), advisor)
    mark = svc.add_mark(visit, "left_front_door", "scratch", "约5厘米", advisor)
    svc.add_photo(visit, jpeg((200, 30, 30)), mark.id, advisor)
    svc.add_mark(visit, "rear_bumper", "dent", None, advisor)
    concern = svc.add_concern(visit, "低速刹车有异响", advisor)
    svc.update_concern(visit, concern.id, parse_concern_edit({"text": "低速刹车有异响", "note_internal": INTERNAL,
                                           "note_customer": FOR_CUSTOMER, "diagnosis": "clear",
                                           "warranty": "not_covered", "proposed_repair": "更换前刹车片"}), advisor)
    svc.sign_intake(visit, png_data_url(), "张三", "127.0.0.1", "pytest", advisor)
    if complete:
        svc.complete_inspection(visit, advisor)
    return ticket


@pytest.fixture
def site(factory):
    return factory.site(code="bj01", name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")


@pytest.fixture
def advisor(factory, site):
    return factory.user(site, "advisor", username="a1", desk="3", display_name="王晓明")


@pytest.fixture
def ticket(factory, site, advisor):
    factory.customer_vehicle(site, plate=PLATE, mobile="13800138000", name="张三", vin=VIN,
                             make="大众", model="帕萨特", year=2019)
    return inspected(factory, site, advisor)


def unlock(client, ticket, next_=None):
    data = {"pin": ticket_pin(ticket.token), "csrf_token": csrf_token(client, f"/t/{ticket.token}")}
    if next_:
        data["next"] = next_
    return client.post(f"/t/{ticket.token}/unlock", data=data)


# ---------------------------------------------------------------- the shop copy

@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_shop_copy_shows_the_whole_form_in_both_languages(client, advisor, ticket, lang):
    login(client, advisor)
    client.set_cookie("lang", lang)
    visit = ticket.visit
    resp = client.get(f"/advisor/visits/{visit.id}/intake/print")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    # Whatever the UI language, every label is printed in Chinese and English.
    for zh, en in (("接车登记表", "Vehicle intake form"), ("里程", "Mileage"), ("车架号", "VIN"),
                   ("油量", "Fuel level"), ("三件套", "Protective covers"), ("顾客签字", "Customer signature"),
                   ("左前门", "Left front door"), ("划痕", "Scratch"), ("后保险杠", "Rear bumper"),
                   ("胎压", "Tyre pressure"), ("备胎", "Spare tyre"), ("行驶证", "Vehicle licence"),
                   ("门店联", "Shop copy")):
        assert re.search(rf'<span class="zh" lang="zh-CN">{zh}</span> <span class="en" lang="en">{en}</span>', html), zh
    assert "星驰汽车4S店（朝阳店）" in html and "Xingchi Motors (Chaoyang)" in html
    assert f"data-ticket>{ticket.number}<" in html
    assert f"data-plate>{PLATE}<" in html and f"data-vin>{VIN}<" in html and "大众 帕萨特 2019" in html
    assert "<strong>46,120</strong> km" in html
    assert "行车记录仪" in html and "约5厘米" in html
    # The damage map and the marks table, numbered alike.
    assert "data-carmap" in html and html.count('data-mark="') >= 2
    assert re.search(r'<tr data-mark="left_front_door">\s*<td class="num"><span class="mark-no k-scratch">1</span>', html)
    photo = Photo.query.one()
    assert f'src="/advisor/photos/{photo.id}/thumb"' in html
    # The signature with its time and the content hash it covers; the advisor.
    sig = Signature.query.one()
    assert f'src="/advisor/signatures/{sig.id}.png"' in html
    assert f"data-hash>{sig.content_hash}<" in html and 'data-signature="current"' in html
    assert "data-advisor>王晓明<" in html
    # The shop copy carries the internal note; the customer note too.
    assert INTERNAL in html and FOR_CUSTOMER in html and "更换前刹车片" in html
    # Print button by script, A4 from the stylesheet, nothing inline (CSP).
    assert "data-print" in html and '<script src="/static/js/print.js"></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html and "onclick" not in html and "hx-on" not in html
    assert '/static/css/print.css' in html


def test_print_css_is_a4():
    from pathlib import Path
    css = (Path(__file__).resolve().parents[2] / "static/css/print.css").read_text()
    assert re.search(r"@page\s*{[^}]*size:\s*A4", css)
    assert re.search(r"@media print\s*{[^@]*\.toolbar\s*{\s*display:\s*none", css)


def test_stale_signature_is_flagged_on_paper(client, factory, site, advisor):
    ticket = inspected(factory, site, advisor, plate="京B54321", mobile="13900139000", complete=False)
    svc.add_mark(ticket.visit, "roof", "dent", None, advisor)
    login(client, advisor)
    html = client.get(f"/advisor/visits/{ticket.visit.id}/intake/print").get_data(as_text=True)
    assert 'data-signature="stale"' in html and "The form changed after signing" in html


def test_print_needs_an_advisor_of_the_site(client, factory, site, ticket):
    url = f"/advisor/visits/{ticket.visit.id}/intake/print"
    assert client.get(url).status_code == 302                      # to the login page
    login(client, factory.user(site, "technician"))
    assert client.get(url).status_code == 403
    other = client.application.test_client()
    login(other, factory.user(factory.site(), "advisor"))
    assert other.get(url).status_code == 404


# ---------------------------------------------------------------- the customer's copy

def test_customer_copy_needs_the_pin(client, ticket):
    client.set_cookie("lang", "en")
    url = f"/t/{ticket.token}/intake"
    resp = client.get(url)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 403
    assert 'name="pin"' in html and 'name="next" value="intake"' in html and 'data-locked="intake"' in html
    for secret in (PLATE, VIN, "张三", INTERNAL, FOR_CUSTOMER):
        assert secret not in html, secret
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Referrer-Policy"] == "no-referrer"
    # The PIN brings the customer back to the form.
    resp = unlock(client, ticket, next_="intake")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(url)
    resp = client.get(url)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["X-Robots-Tag"] == "noindex"
    assert "客户联" in html and "Customer copy" in html and "门店联" not in html
    assert PLATE in html and VIN in html and "<strong>46,120</strong> km" in html
    assert FOR_CUSTOMER in html and INTERNAL not in html and 'data-note="internal"' not in html
    photo = Photo.query.one()
    assert f'src="/t/{ticket.token}/signature.png"' in html
    assert f'src="/t/{ticket.token}/photos/{photo.id}/thumb"' in html
    assert "/advisor/" not in html                                 # no staff links on the customer's copy
    assert f'href="/t/{ticket.token}"' in html
    assert '<meta name="referrer" content="no-referrer">' in html
    assert " style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_wrong_pin_on_the_way_to_the_copy_keeps_the_way(client, ticket):
    client.set_cookie("lang", "en")
    token = csrf_token(client, f"/t/{ticket.token}")
    wrong = f"{(int(ticket_pin(ticket.token)) + 1) % 1_000_000:06d}"
    resp = client.post(f"/t/{ticket.token}/unlock", data={"pin": wrong, "csrf_token": token, "next": "intake"})
    assert resp.status_code == 422 and 'name="next" value="intake"' in resp.get_data(as_text=True)


def test_customer_copy_waits_for_completion(client, factory, site, advisor):
    ticket = inspected(factory, site, advisor, plate="京B54321", mobile="13900139000", complete=False)
    client.set_cookie("lang", "en")
    unlock(client, ticket)
    resp = client.get(f"/t/{ticket.token}/intake")
    assert resp.status_code == 404 and "The intake form is not ready yet" in resp.get_data(as_text=True)


def test_unknown_token_is_404(client, ticket):
    assert client.get("/t/nope/intake").status_code == 404
    assert client.get("/t/nope/signature.png").status_code == 404
    assert client.get(f"/t/nope/photos/{Photo.query.one().id}/thumb").status_code == 404


def test_signature_and_photo_need_the_pin_and_ownership(client, factory, site, advisor, ticket, db):
    mine = Photo.query.one()
    sig = Signature.query.one()
    other_ticket = inspected(factory, site, advisor, plate="京C99999", mobile="13700137000")
    theirs = Photo.query.filter(Photo.visit_id == other_ticket.visit_id).one()

    base = f"/t/{ticket.token}"
    assert client.get(f"{base}/signature.png").status_code == 403
    assert client.get(f"{base}/photos/{mine.id}/thumb").status_code == 403
    unlock(client, ticket)

    resp = client.get(f"{base}/signature.png")
    from webapp.storage import open_path
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.data == open_path(sig.image_path).read_bytes()
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Referrer-Policy"] == "no-referrer"

    resp = client.get(f"{base}/photos/{mine.id}/thumb")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert resp.data == open_path(mine.thumb_path).read_bytes()
    assert resp.headers["Cache-Control"] == "no-store"

    # Another visit's photo, even of the same shop, is not reachable with this ticket.
    assert client.get(f"{base}/photos/{theirs.id}/thumb").status_code == 404
    assert client.get(f"{base}/photos/999999/thumb").status_code == 404
    # Hiding the details locks the pictures again.
    client.post(f"{base}/hide", data={"csrf_token": csrf_token(client, base)})
    assert client.get(f"{base}/signature.png").status_code == 403


def test_no_signature_yet_is_404(client, factory, site, advisor):
    ticket = factory.walkin(site, plate="京D11111", mobile="13600136000")
    unlock(client, ticket)
    assert client.get(f"/t/{ticket.token}/signature.png").status_code == 404
