"""The customer's signature on the intake form over HTTP: an empty box, a stored signature whose
file and hashes prove what was signed, a signature going stale when the form changes, the
shown-hash check, append-only storage, roles, sites and CSRF."""
import base64
import hashlib
import io
import re

import pytest
from PIL import Image, ImageDraw
from werkzeug.datastructures import MultiDict

from tests.factories import confirm_suggestion
from tests.support import csrf_token, login
from webapp.commands.intake import parse_inspection
from webapp import intake as rules
from webapp.models import Signature, Visit
from webapp.services import calling
from webapp.services import intake as svc
from webapp.storage import open_path

pytestmark = pytest.mark.shop(roles=("advisor",), staff={"advisor": {"username": "a1", "display_name": "王晓明"}})

HX = {"HX-Request": "true"}


def png_data_url(stroke=((20, 70), (80, 20), (140, 75), (260, 30)), size=(300, 100)) -> str:
    """A signature as the browser's canvas sends it: a transparent PNG with a dark stroke."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).line(list(stroke), fill=(16, 36, 63, 255), width=3)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def jpeg_data_url() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (255, 255, 255)).save(buf, "JPEG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()   # claims PNG, is JPEG


@pytest.fixture
def advisor(shop):
    return shop.advisor


@pytest.fixture
def visit(factory, advisor):
    """A visit in the walk-around inspection with covers, mileage and fuel filled in."""
    site = advisor.site
    factory.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三",
                             vin="LSVAM4187C2184847", make="大众", model="帕萨特", last_mileage=45000)
    ticket = factory.walkin(site, plate="京A12345", mobile="13800138000")
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    confirm_suggestion(ticket.visit, advisor)  # the advisor links the stored car at the desk
    v = ticket.visit
    svc.start_inspection(v, advisor)
    svc.save_inspection(v, parse_inspection(MultiDict({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                      "mileage": "46000", "fuel_level": "1/2", "valuables_left": "no"})), advisor)
    return v


@pytest.fixture
def desk(client, advisor):
    login(client, advisor)
    client.set_cookie("lang", "en")
    return client


def post(client, url, data=None, csrf=True):
    headers = dict(HX)
    if csrf:
        headers["X-CSRFToken"] = csrf_token(client, "/advisor")
    return client.post(url, data=data or {}, headers=headers)


def sign(client, visit, data_url=None, name="张三", content_hash=None):
    if content_hash is None:
        content_hash = rules.content_hash(svc.snapshot(visit))
    return post(client, f"/advisor/visits/{visit.id}/signature",
                {"signature": png_data_url() if data_url is None else data_url, "signer_name": name,
                 "content_hash": content_hash})


def section(client, visit):
    return client.get(f"/advisor/visits/{visit.id}/section/signature").get_data(as_text=True)


# ---------------------------------------------------------------- the section

def test_section_shows_what_is_signed(desk, visit, db):
    svc.add_mark(visit, "front_bumper", "scratch", "2 cm", visit.advisor)
    html = section(desk, visit)
    full = rules.content_hash(svc.snapshot(visit))
    assert f'data-content-hash="{full}"' in html and f">{full[:12]}</code>" in html
    assert 'data-sum="mileage">46,000 km' in html and 'data-sum="fuel">1/2' in html
    assert 'data-sum="covers">all 3 fitted' in html and 'data-sum="marks">1' in html
    assert "data-signature-pad" in html and 'name="signature"' in html and "data-signature-clear" in html
    assert f'name="content_hash" value="{full}"' in html
    assert 'value="张三"' in html                           # the customer's name is offered as signer
    assert "Customer signs" in html and "Not signed yet" in html
    assert " style=" not in html and "hx-on" not in html and "<script" not in html


def test_visit_page_loads_the_pad_scripts(desk, visit):
    html = desk.get(f"/advisor/visits/{visit.id}").get_data(as_text=True)
    assert re.search(r'<script src="/static/vendor/signature_pad-5\.\d+\.\d+\.umd\.min\.js"></script>', html)
    assert '<script src="/static/js/signature.js"></script>' in html
    assert html.index("signature_pad-5") < html.index("js/signature.js")


# ---------------------------------------------------------------- signing

@pytest.mark.parametrize("data_url", ["", "data:image/png;base64,", "data:image/png;base64,@@@",
                                      "data:image/png;base64,aGVsbG8=", "not a data url"])
def test_empty_or_broken_signature_is_422_next_to_the_box(desk, visit, db, data_url):
    resp = sign(desk, visit, data_url=data_url)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="signature-error"' in html and "Ask the customer to sign in the box." in html
    assert 'class="sign-box has-error"' in html
    assert 'value="张三"' in html                           # what was typed is kept
    assert Signature.query.count() == 0


def test_a_jpeg_posing_as_png_is_refused(desk, visit):
    assert sign(desk, visit, data_url=jpeg_data_url()).status_code == 422
    assert Signature.query.count() == 0


def test_signature_is_stored_with_proof_of_what_was_signed(desk, visit, advisor, db):
    data_url = png_data_url()
    raw = base64.b64decode(data_url.split(",", 1)[1])
    resp = sign(desk, visit, data_url=data_url, name="  张三  ")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    sig = Signature.query.one()
    stored = open_path(sig.image_path).read_bytes()
    assert stored == raw
    assert sig.image_sha256 == hashlib.sha256(stored).hexdigest()
    assert sig.content_hash == rules.content_hash(svc.snapshot(db.session.get(Visit, visit.id)))
    assert sig.document == "intake" and sig.signer_name == "张三" and sig.witnessed_by_id == advisor.id
    assert sig.ip == "127.0.0.1"
    # The section shows the image, who signed, and that it covers the form as it stands.
    assert f'src="/advisor/signatures/{sig.id}.png"' in html
    assert 'data-signature-state="current"' in html and "Signed by 张三" in html
    assert "data-signature-pad" not in html                 # nothing left to sign
    # The other sections (the inspection's to-do list) come in the same answer, out of band.
    assert '<section hx-swap-oob="morph" id="sec-inspection"' in html
    image = desk.get(f"/advisor/signatures/{sig.id}.png")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == raw
    assert "no-store" in image.headers["Cache-Control"]
    assert svc.signature_current(db.session.get(Visit, visit.id))


def test_changing_the_form_makes_the_signature_stale(desk, visit, db):
    assert sign(desk, visit).status_code == 200
    first = Signature.query.one()
    # The advisor corrects the mileage after the customer signed.
    resp = post(desk, f"/advisor/visits/{visit.id}/inspection",
                {"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1", "mileage": "46100", "fuel_level": "1/2"})
    assert resp.status_code == 200
    v = db.session.get(Visit, visit.id)
    assert not svc.signature_current(v)
    html = section(desk, v)
    assert 'data-signature-state="stale"' in html and "The form changed after signing: sign again." in html
    assert "data-signature-pad" in html and "Sign again" in html
    # Completion needs a new signature.
    resp = post(desk, f"/advisor/visits/{visit.id}/inspection/complete")
    assert resp.status_code == 422 and "The customer has not signed the current form." in resp.get_data(as_text=True)
    assert db.session.get(Visit, visit.id).state == "inspection"
    assert sign(desk, v).status_code == 200
    assert post(desk, f"/advisor/visits/{visit.id}/inspection/complete").status_code == 200
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).state == "interview"
    assert db.session.get(Signature, first.id).content_hash == first.content_hash   # the old one is kept


def test_a_new_damage_mark_also_makes_it_stale(desk, visit, db):
    assert sign(desk, visit).status_code == 200
    post(desk, f"/advisor/visits/{visit.id}/marks", {"zone": "bonnet", "kind": "dent"})
    assert not svc.signature_current(db.session.get(Visit, visit.id))


def test_shown_hash_that_no_longer_matches_is_409(desk, visit, db):
    shown = rules.content_hash(svc.snapshot(visit))
    svc.save_inspection(visit, parse_inspection(MultiDict({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                          "mileage": "46000", "fuel_level": "F", "valuables_left": "no"})), visit.advisor)
    resp = sign(desk, visit, content_hash=shown)
    assert resp.status_code == 409
    assert "The form changed while the customer was signing" in resp.get_data(as_text=True)
    assert Signature.query.count() == 0


def test_signatures_are_append_only(desk, visit, db):
    assert sign(desk, visit, name="张三").status_code == 200
    assert sign(desk, visit, data_url=png_data_url(stroke=((10, 10), (290, 90))), name="李四").status_code == 200
    rows = Signature.query.order_by(Signature.id).all()
    assert [r.signer_name for r in rows] == ["张三", "李四"]
    assert rows[0].image_sha256 != rows[1].image_sha256
    assert open_path(rows[0].image_path).exists() and open_path(rows[1].image_path).exists()
    assert svc.latest_signature(db.session.get(Visit, visit.id)).id == rows[1].id


def test_no_signing_once_the_inspection_is_closed(desk, visit, db):
    assert sign(desk, visit).status_code == 200
    svc.complete_inspection(db.session.get(Visit, visit.id), visit.advisor)
    resp = sign(desk, visit)
    assert resp.status_code == 409 and Signature.query.count() == 1
    html = section(desk, visit)
    assert "data-signature-pad" not in html and 'data-signature-state="current"' in html


# ---------------------------------------------------------------- who may

def test_technician_is_refused(client, factory, desk, visit):
    sign(desk, visit)
    sig = Signature.query.one()
    other = client.application.test_client()
    login(other, factory.user(visit.site, "technician"))
    assert sign(other, visit).status_code in (400, 403)
    token = csrf_token(other, "/login")
    resp = other.post(f"/advisor/visits/{visit.id}/signature", headers={**HX, "X-CSRFToken": token},
                      data={"signature": png_data_url()})
    assert resp.status_code == 403
    assert other.get(f"/advisor/signatures/{sig.id}.png").status_code == 403
    assert Signature.query.count() == 1


def test_other_site_gets_404(client, factory, desk, visit):
    sign(desk, visit)
    sig = Signature.query.one()
    other = client.application.test_client()
    login(other, factory.user(factory.site(), "advisor"))
    assert sign(other, visit).status_code == 404
    assert other.get(f"/advisor/signatures/{sig.id}.png").status_code == 404
    assert Signature.query.count() == 1


def test_missing_csrf_is_400(desk, visit):
    resp = desk.post(f"/advisor/visits/{visit.id}/signature", headers=HX,
                     data={"signature": png_data_url(), "content_hash": rules.content_hash(svc.snapshot(visit))})
    assert resp.status_code == 400
    assert Signature.query.count() == 0
