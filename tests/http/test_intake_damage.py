"""Damage map over HTTP: marks on zones of the car, photos checked and stored by hash, who may see
them, when marks are refused, and the last visit's marks shown faded on the next visit."""
import base64
import hashlib
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.factories import confirm_suggestion
from tests.support import csrf_token, login
from webapp.commands.intake import parse_inspection
from webapp.extensions import db
from webapp.intake import DAMAGE_ZONES
from webapp.models import DamageMark, Photo, Visit
from webapp.services import calling
from webapp.services import intake as svc

HX = {"HX-Request": "true"}


# ---------------------------------------------------------------- helpers

def jpeg(size=(800, 600), colour=(200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def image_bytes(fmt, size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, fmt)
    return buf.getvalue()


def signature_url() -> str:
    img = Image.new("RGBA", (400, 150), (255, 255, 255, 0))
    for x in range(40, 360):
        img.putpixel((x, 75 + (x % 20) - 10), (0, 0, 0, 255))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def start_visit(factory, site, advisor, plate="京A12345", inspect=True) -> Visit:
    """A walk-in called, received and (by default) in the walk-around inspection."""
    ticket = factory.walkin(site, plate=plate)
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    confirm_suggestion(ticket.visit, advisor)  # the advisor links the stored car at the desk
    if inspect:
        svc.start_inspection(ticket.visit, advisor)
        # The session keeps objects after commit (expire_on_commit=False) and intake_for() sets
        # only intake_form.visit_id, so visit.intake would stay the None read before the start.
        db.session.expire(ticket.visit)
    return ticket.visit


def complete(visit, advisor, mileage=45_000):
    svc.save_inspection(visit, parse_inspection({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                "mileage": str(mileage), "fuel_level": "1/2", "valuables_left": "no"}), advisor)
    svc.sign_intake(visit, signature_url(), "张三", "127.0.0.1", "pytest", advisor)
    svc.complete_inspection(visit, advisor)


def post(client, url, data=None):
    token = csrf_token(client, "/advisor")
    fresh_session()
    return client.post(url, data=data or {}, headers={"X-CSRFToken": token, **HX},
                       content_type="multipart/form-data")


def fresh_session():
    """Test requests share the test's session, which keeps objects after commit; a real request
    starts from a fresh one, so forget what earlier requests loaded (visit.intake, mark lists)."""
    db.session.expire_all()


def get(client, url):
    fresh_session()
    return client.get(url)


def alerts(resp):
    return re.findall(r'role="alert">([^<]+)<', resp.get_data(as_text=True))


def upload_root(app) -> Path:
    return Path(app.config["UPLOAD_DIR"])


@pytest.fixture
def shop(shop, factory):
    """The shared shop, with 张三's car on file (京A12345, 40 000 km last time)."""
    factory.customer_vehicle(shop.site, plate="京A12345", mobile="13800138000", name="张三", last_mileage=40_000)
    return shop


@pytest.fixture
def visit(factory, shop):
    return start_visit(factory, shop.site, shop.advisor)


@pytest.fixture
def advisor_client(client, shop, visit):
    login(client, shop.advisor)
    return client


def marks_url(visit):
    return f"/advisor/visits/{visit.id}/marks?lang=en"


# ---------------------------------------------------------------- the map

def test_every_zone_is_a_tappable_shape(advisor_client, visit):
    html = get(advisor_client, f"/advisor/visits/{visit.id}?lang=en").get_data(as_text=True)
    section = html[html.index('id="sec-damage"'):html.index('id="sec-signature"')]
    for zone in DAMAGE_ZONES:
        tag = re.search(rf'<path[^>]*data-zone="{zone}"[^>]*>', section)
        assert tag, zone
        assert 'role="button"' in tag.group(0) and 'tabindex="0"' in tag.group(0)
    assert section.count("data-zone=") == len(DAMAGE_ZONES)
    assert "<title>Left front door</title>" in section
    assert 'name="zone"' in section and 'capture="environment"' in section and 'accept="image/*"' in section
    # Strict CSP: nothing inline.
    assert "style=" not in section and "<script" not in section and "hx-on" not in section
    assert "css/carmap.css" in html and "js/damage.js" in html


def test_map_is_not_interactive_before_the_inspection(factory, client, shop):
    site, advisor = shop.site, shop.advisor
    visit = start_visit(factory, site, advisor, inspect=False)
    login(client, advisor)
    html = get(client, f"/advisor/visits/{visit.id}/section/damage?lang=en").get_data(as_text=True)
    assert 'data-zone="bonnet"' in html and 'role="button"' not in html
    assert 'id="damage-form"' not in html
    assert "Start the walk-around inspection to mark damage on the car." in html


# ---------------------------------------------------------------- marks

def test_add_mark(advisor_client, visit, db):
    resp = post(advisor_client, marks_url(visit), {"zone": "left_front_door", "kind": "scratch", "note": "10 cm 划痕"})
    assert resp.status_code == 200, alerts(resp)
    assert '<section hx-swap-oob="morph" id="sec-signature"' in resp.get_data(as_text=True)   # in the same answer
    mark = DamageMark.query.one()
    assert (mark.zone, mark.kind, mark.note) == ("left_front_door", "scratch", "10 cm 划痕")
    html = resp.get_data(as_text=True)
    # Numbered on the map (badge on its zone) and in the list, with the typed note.
    assert re.search(r'class="cm-mark cm-k-scratch" data-mark="1" data-zone-ref="left_front_door"', html)
    assert f'id="mark-{mark.id}"' in html and "10 cm 划痕" in html
    assert 'class="cm-zone cm-panel is-marked"' in html
    # The form is empty again for the next mark.
    assert 'name="zone" value=""' in html


def test_second_mark_on_the_same_zone_gets_number_two(advisor_client, visit):
    post(advisor_client, marks_url(visit), {"zone": "bonnet", "kind": "chip"})
    html = post(advisor_client, marks_url(visit), {"zone": "bonnet", "kind": "dent"}).get_data(as_text=True)
    badges = re.findall(r'data-mark="(\d)" data-zone-ref="bonnet" transform="translate\(([\d.]+) ([\d.]+)\)', html)
    assert [b[0] for b in badges] == ["1", "2"]
    assert badges[0][1:] != badges[1][1:], "two badges on one zone must not overlap"


def test_zone_not_chosen_is_refused_and_the_note_kept(advisor_client, visit):
    resp = post(advisor_client, marks_url(visit), {"zone": "", "kind": "dent", "note": "后门凹陷"})
    assert resp.status_code == 422
    assert alerts(resp) == ["Tap a part of the car first."]
    html = resp.get_data(as_text=True)
    assert 'value="后门凹陷"' in html
    assert re.search(r'value="dent" checked', html)
    assert DamageMark.query.count() == 0


def test_unknown_zone_is_refused(advisor_client, visit):
    resp = post(advisor_client, marks_url(visit), {"zone": "sunroof", "kind": "dent"})
    assert resp.status_code == 422
    assert "Tap a part of the car first." in alerts(resp)
    assert DamageMark.query.count() == 0


@pytest.mark.parametrize("kind", ["", "rust"])
def test_bad_kind_is_refused_and_the_zone_kept(advisor_client, visit, kind):
    resp = post(advisor_client, marks_url(visit), {"zone": "roof", "kind": kind, "note": "冰雹"})
    assert resp.status_code == 422
    assert alerts(resp) == ["Choose the kind of damage."]
    html = resp.get_data(as_text=True)
    assert 'name="zone" value="roof"' in html and 'value="冰雹"' in html
    assert re.search(r'class="cm-zone cm-panel is-selected" data-zone="roof"', html)
    assert DamageMark.query.count() == 0


def test_delete_mark_keeps_its_photos_on_the_visit(advisor_client, visit, db):
    post(advisor_client, marks_url(visit), {"zone": "boot", "kind": "dent", "photo": (io.BytesIO(jpeg()), "a.jpg")})
    mark = DamageMark.query.one()
    photo = Photo.query.one()
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/marks/{mark.id}/delete")
    assert resp.status_code == 200
    db.session.expire_all()
    assert DamageMark.query.count() == 0
    assert db.session.get(Photo, photo.id).mark_id is None
    assert f'id="mark-{mark.id}"' not in resp.get_data(as_text=True)


def test_delete_mark_of_another_visit_is_not_found(advisor_client, factory, shop, visit):
    post(advisor_client, marks_url(visit), {"zone": "boot", "kind": "dent"})
    mark = DamageMark.query.one()
    other = start_visit(factory, shop.site, shop.advisor, plate="京B22222")
    resp = post(advisor_client, f"/advisor/visits/{other.id}/marks/{mark.id}/delete")
    assert resp.status_code == 404
    assert DamageMark.query.count() == 1


# ---------------------------------------------------------------- photos

def test_mark_with_photo_is_stored_by_hash_with_a_thumbnail(advisor_client, app, visit):
    data = jpeg((1600, 1200))
    resp = post(advisor_client, marks_url(visit), {"zone": "right_front_wing", "kind": "dent", "note": "",
                                                   "photo": (io.BytesIO(data), "IMG_0001.jpg")})
    assert resp.status_code == 200, alerts(resp)
    photo = Photo.query.one()
    assert photo.mark_id == DamageMark.query.one().id
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert (photo.content_type, photo.size, photo.width, photo.height) == ("image/jpeg", len(data), 1600, 1200)
    stored = upload_root(app) / photo.path
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == photo.sha256
    assert photo.sha256 in stored.name
    thumb = upload_root(app) / photo.thumb_path
    assert thumb.exists() and thumb != stored
    with Image.open(thumb) as t:
        assert max(t.size) == 320 and t.format == "JPEG"
    html = resp.get_data(as_text=True)
    assert f'src="/advisor/photos/{photo.id}/thumb"' in html and f'href="/advisor/photos/{photo.id}"' in html
    # Both variants are served to the advisor, never cached by shared caches.
    full = advisor_client.get(f"/advisor/photos/{photo.id}")
    assert full.status_code == 200 and full.mimetype == "image/jpeg" and full.data == data
    assert "no-store" in full.headers["Cache-Control"]
    small = advisor_client.get(f"/advisor/photos/{photo.id}/thumb")
    assert small.status_code == 200 and small.mimetype == "image/jpeg" and small.data == thumb.read_bytes()
    assert advisor_client.get(f"/advisor/photos/{photo.id}/original").status_code == 404


@pytest.mark.parametrize("fmt, mimetype", [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_photos_are_accepted(advisor_client, visit, fmt, mimetype):
    post(advisor_client, marks_url(visit), {"zone": "roof", "kind": "dent"})
    mark = DamageMark.query.one()
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/photos?lang=en",
                {"mark_id": str(mark.id), "photo": (io.BytesIO(image_bytes(fmt)), "x." + fmt.lower())})
    assert resp.status_code == 200, alerts(resp)
    assert Photo.query.one().content_type == mimetype


def test_add_photo_to_an_existing_mark(advisor_client, visit):
    post(advisor_client, marks_url(visit), {"zone": "rear_bumper", "kind": "crack"})
    mark = DamageMark.query.one()
    for colour in ((1, 2, 3), (4, 5, 6)):
        resp = post(advisor_client, f"/advisor/visits/{visit.id}/photos?lang=en",
                    {"mark_id": str(mark.id), "photo": (io.BytesIO(jpeg(colour=colour)), "p.jpg")})
        assert resp.status_code == 200
    assert [p.mark_id for p in Photo.query.all()] == [mark.id, mark.id]
    html = resp.get_data(as_text=True)
    assert html.count("/thumb\"") == 2
    assert "Add a photo to mark 1" in html


BAD_PHOTOS = [
    pytest.param(lambda: b"\xff\xd8\xff\xe0" + b"\0" * (10 * 1024 * 1024), "big.jpg",
                 "The photo is too large (at most 10 MB).", id="too-large"),
    pytest.param(lambda: "这不是照片，只是改了扩展名的文本。\n".encode() * 50, "notes.jpg",
                 "This file is not a photo.", id="text-renamed-jpg"),
    pytest.param(lambda: image_bytes("GIF"), "anim.gif", "Use a JPEG, PNG or WebP photo.", id="gif"),
]


@pytest.mark.parametrize("make, name, message", BAD_PHOTOS)
def test_bad_photo_for_a_mark_is_refused_next_to_it(advisor_client, app, visit, make, name, message):
    post(advisor_client, marks_url(visit), {"zone": "left_rear_door", "kind": "scratch"})
    mark = DamageMark.query.one()
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/photos?lang=en",
                {"mark_id": str(mark.id), "photo": (io.BytesIO(make()), name)})
    assert resp.status_code == 422
    assert alerts(resp) == [message]
    html = resp.get_data(as_text=True)
    item = html[html.index(f'id="mark-{mark.id}"'):html.index("</li>", html.index(f'id="mark-{mark.id}"'))]
    assert message in item, "the message sits next to the mark the photo was for"
    assert 'aria-invalid="true"' not in html[:html.index(f'id="mark-{mark.id}"')]
    assert Photo.query.count() == 0
    assert not any(p.is_file() for p in upload_root(app).rglob("*"))


@pytest.mark.parametrize("make, name, message", BAD_PHOTOS)
def test_bad_photo_with_a_new_mark_keeps_what_was_typed(advisor_client, visit, make, name, message):
    resp = post(advisor_client, marks_url(visit), {"zone": "left_rear_door", "kind": "scratch", "note": "门把手下方",
                                                   "photo": (io.BytesIO(make()), name)})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in alerts(resp)
    assert re.search(r'<input id="dm-photo"[^>]*aria-invalid="true"', html), "the message sits at the form's photo field"
    assert 'value="门把手下方"' in html and re.search(r'value="scratch" checked', html)
    assert 'name="zone" value="left_rear_door"' in html
    assert Photo.query.count() == 0


def test_refused_photo_does_not_leave_a_half_added_mark(advisor_client, visit):
    resp = post(advisor_client, marks_url(visit), {"zone": "bonnet", "kind": "chip",
                                                   "photo": (io.BytesIO(b"GIF89a not really"), "x.jpg")})
    assert resp.status_code == 422
    assert DamageMark.query.count() == 0, "re-sending the kept form would add the mark twice"


def test_photo_without_file_is_refused(advisor_client, visit):
    resp = post(advisor_client, f"/advisor/visits/{visit.id}/photos?lang=en", {})
    assert resp.status_code == 422
    assert alerts(resp) == ["This file is not a photo."]


def test_photo_for_a_mark_of_another_visit_is_not_found(advisor_client, factory, shop, visit):
    post(advisor_client, marks_url(visit), {"zone": "roof", "kind": "dent"})
    mark = DamageMark.query.one()
    other = start_visit(factory, shop.site, shop.advisor, plate="京B22222")
    resp = post(advisor_client, f"/advisor/visits/{other.id}/photos",
                {"mark_id": str(mark.id), "photo": (io.BytesIO(jpeg()), "p.jpg")})
    assert resp.status_code == 404
    assert Photo.query.count() == 0


# ---------------------------------------------------------------- who may see photos

@pytest.fixture
def stored_photo(advisor_client, visit):
    post(advisor_client, marks_url(visit), {"zone": "roof", "kind": "dent", "photo": (io.BytesIO(jpeg()), "p.jpg")})
    return Photo.query.one()


@pytest.mark.parametrize("variant", ["", "/thumb"])
def test_anonymous_is_sent_to_login(app, stored_photo, variant):
    fresh = app.test_client()
    resp = fresh.get(f"/advisor/photos/{stored_photo.id}{variant}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize("variant", ["", "/thumb"])
def test_technician_is_refused(app, factory, shop, stored_photo, variant):
    fresh = app.test_client()
    login(fresh, factory.user(shop.site, "technician"))
    assert fresh.get(f"/advisor/photos/{stored_photo.id}{variant}").status_code == 403


@pytest.mark.parametrize("variant", ["", "/thumb"])
def test_advisor_of_another_site_gets_not_found(app, factory, stored_photo, variant):
    other_site = factory.site(code="sh01")
    fresh = app.test_client()
    login(fresh, factory.user(other_site, "advisor"))
    assert fresh.get(f"/advisor/photos/{stored_photo.id}{variant}").status_code == 404


def test_manager_of_the_site_may_see_photos(app, factory, shop, stored_photo):
    fresh = app.test_client()
    login(fresh, factory.user(shop.site, "manager"))
    assert fresh.get(f"/advisor/photos/{stored_photo.id}").status_code == 200


def test_marks_of_another_site_cannot_be_added(app, factory, visit):
    other_site = factory.site(code="sh01")
    fresh = app.test_client()
    login(fresh, factory.user(other_site, "advisor"))
    resp = post(fresh, marks_url(visit), {"zone": "roof", "kind": "dent"})
    assert resp.status_code == 404
    assert DamageMark.query.count() == 0


# ---------------------------------------------------------------- only while the inspection is open

def test_marks_refused_before_the_inspection(factory, client, shop):
    site, advisor = shop.site, shop.advisor
    visit = start_visit(factory, site, advisor, inspect=False)
    login(client, advisor)
    resp = post(client, marks_url(visit), {"zone": "roof", "kind": "dent", "note": "冰雹"})
    assert resp.status_code == 409
    assert alerts(resp) == ["The inspection is closed for this visit."]
    assert DamageMark.query.count() == 0


def test_marks_and_photos_refused_after_the_inspection(advisor_client, shop, visit, db):
    post(advisor_client, marks_url(visit), {"zone": "roof", "kind": "dent"})
    mark = DamageMark.query.one()
    complete(visit, shop.advisor)
    assert visit.state == "interview"
    for url, data in ((marks_url(visit), {"zone": "boot", "kind": "chip"}),
                      (f"/advisor/visits/{visit.id}/marks/{mark.id}/delete?lang=en", {}),
                      (f"/advisor/visits/{visit.id}/photos?lang=en",
                       {"mark_id": str(mark.id), "photo": (io.BytesIO(jpeg()), "p.jpg")})):
        resp = post(advisor_client, url, data)
        assert resp.status_code == 409, url
        assert alerts(resp) == ["The inspection is closed for this visit."]
    db.session.expire_all()
    assert DamageMark.query.count() == 1 and Photo.query.count() == 0
    html = get(advisor_client, f"/advisor/visits/{visit.id}/section/damage?lang=en").get_data(as_text=True)
    assert 'role="button"' not in html and "/delete" not in html and 'type="file"' not in html
    assert 'data-mark="1"' in html


# ---------------------------------------------------------------- the last visit's marks

def test_previous_visit_marks_appear_faded_on_the_next_visit(factory, client, shop, db):
    site, advisor = shop.site, shop.advisor
    first = start_visit(factory, site, advisor)
    login(client, advisor)
    post(client, marks_url(first), {"zone": "right_rear_door", "kind": "dent", "note": "上次的凹陷",
                                    "photo": (io.BytesIO(jpeg()), "old.jpg")})
    post(client, marks_url(first), {"zone": "front_bumper", "kind": "scratch"})
    complete(first, advisor, mileage=45_000)
    old_photo = Photo.query.one()

    second = start_visit(factory, site, advisor)
    assert second.vehicle_id == first.vehicle_id
    post(client, marks_url(second), {"zone": "front_bumper", "kind": "crack", "note": "新裂纹"})
    html = get(client, f"/advisor/visits/{second.id}?lang=en").get_data(as_text=True)
    section = html[html.index('id="sec-damage"'):html.index('id="sec-signature"')]

    # On the map: last time's marks lettered, grey and dashed; this visit's numbered from 1.
    prev = re.findall(r'class="cm-mark cm-prev" data-mark="([A-Z])" data-zone-ref="(\w+)"', section)
    assert prev == [("A", "right_rear_door"), ("B", "front_bumper")]
    assert 'stroke-dasharray' in section
    assert re.findall(r'class="cm-mark cm-k-\w+" data-mark="(\d+)" data-zone-ref="(\w+)"', section) == \
        [("1", "front_bumper")]
    # Listed separately, with the old photo; no buttons on them.
    previous_list = section[section.index("From the last visit"):]
    current_list = section[section.index("Marks on this visit"):section.index("From the last visit")]
    assert "上次的凹陷" in previous_list and "新裂纹" in current_list and "上次的凹陷" not in current_list
    assert f"/advisor/photos/{old_photo.id}/thumb" in previous_list
    assert "45,000 km" in previous_list
    assert "/delete" not in previous_list and "Add a photo" not in previous_list
    # The old marks are not copied into this visit.
    assert [m.zone for m in second.intake.marks] == ["front_bumper"]


def test_no_previous_marks_for_another_car(factory, client, shop):
    site, advisor = shop.site, shop.advisor
    first = start_visit(factory, site, advisor)
    login(client, advisor)
    post(client, marks_url(first), {"zone": "roof", "kind": "dent"})
    complete(first, advisor)
    other = start_visit(factory, site, advisor, plate="京B22222")
    html = get(client, f"/advisor/visits/{other.id}/section/damage?lang=en").get_data(as_text=True)
    assert "cm-prev" not in html and "From the last visit" not in html


# ---------------------------------------------------------------- the macro on its own (print, status page)

def test_car_map_macro_is_self_contained(app):
    """Other pages import the macro with plain data: dicts are enough, nothing staff-only inside."""
    from flask import render_template_string
    marks = [{"zone": "bonnet", "kind": k} for k in ("scratch", "dent", "crack", "chip", "other", "dent")]
    marks.append({"zone": "left_mirror", "kind": "crack", "note": "镜片裂了"})
    previous = [{"zone": "roof", "kind": "dent", "note": None}, {"zone": "bonnet", "kind": "chip"}]
    with app.test_request_context("/?lang=en"):
        html = render_template_string(
            '{% from "intake/car_map.html" import car_map %}{{ car_map(marks, previous, size="small") }}',
            marks=marks, previous=previous)
    assert 'class="carmap carmap--small"' in html and 'role="img"' in html
    assert 'role="button"' not in html and "tabindex" not in html and "is-selected" not in html
    assert html.count("data-zone=") == len(DAMAGE_ZONES)
    assert "<title>7 · Left mirror · Crack — 镜片裂了</title>" in html
    assert re.findall(r'data-mark="([A-Z])"', html) == ["A", "B"]
    # Seven badges on the bonnet (one old, six new) sit in a grid: no two in the same place.
    spots = re.findall(r'data-zone-ref="bonnet" transform="translate\(([\d.]+) ([\d.]+)\)"', html)
    assert len(spots) == 7 and len(set(spots)) == 7
    assert "Last visit" in html                         # legend entry for the faded marks
    assert "style=" not in html and "<script" not in html and "href=" not in html


def test_car_map_marks_nothing_without_marks(app):
    from flask import render_template_string
    with app.test_request_context("/?lang=en"):
        html = render_template_string('{% from "intake/car_map.html" import car_map %}'
                                      '{{ car_map([], interactive=True, selected="roof") }}')
    assert 'class="cm-mark ' not in html and "Last visit" not in html
    assert re.search(r'class="cm-zone cm-panel is-selected" data-zone="roof"[^>]*aria-pressed="true"', html)
    assert html.count('role="button"') == len(DAMAGE_ZONES)
