"""Customer status page /t/<token>: what a token alone shows, the PIN unlock and its limits,
expired and unknown links, the private headers, and the stages as services move the visit."""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import confirm_suggestion
from tests.support import csrf_token, make_app
from webapp.commands.intake import parse_inspection
from webapp.extensions import db
from webapp.models import Ticket, VisitEvent
from webapp.services import calling
from webapp.services.checkin import ticket_pin
from webapp.timeutil import utcnow

PLATE, MOBILE, NAME, VIN = "京A12345", "13800138000", "张三", "LSVAM4187C2184847"


@pytest.fixture
def site(factory):
    return factory.site()


@pytest.fixture
def ticket(factory, site):
    """A walk-in whose plate and mobile match a known customer and car, linked to them by the
    advisor (so there is a name)."""
    factory.customer_vehicle(site, plate=PLATE, mobile=MOBILE, name=NAME, vin=VIN, make="大众", model="帕萨特")
    ticket = factory.walkin(site, plate=PLATE, mobile=MOBILE)
    confirm_suggestion(ticket.visit, None)
    return ticket


@pytest.fixture
def en(client):
    """Assertions on wording are made in English: the Chinese catalogue is filled separately."""
    client.set_cookie("lang", "en")
    return client


def page(client, ticket):
    resp = client.get(f"/t/{ticket.token}")
    return resp, resp.get_data(as_text=True)


def post_pin(client, ticket, pin, token=None):
    token = token or csrf_token(client, f"/t/{ticket.token}")
    return client.post(f"/t/{ticket.token}/unlock", data={"pin": pin, "csrf_token": token})


def wrong_pin(ticket):
    right = ticket_pin(ticket.token)
    return f"{(int(right) + 1) % 1_000_000:06d}"


# ---------------------------------------------------------------- what the token alone shows

def test_page_shows_number_and_masked_plate_only(en, ticket):
    resp, html = page(en, ticket)
    assert resp.status_code == 200
    assert ticket.number in html
    assert "京A·***45" in html
    for secret in (PLATE, MOBILE, NAME, VIN, "帕萨特", ticket_pin(ticket.token)):
        assert secret not in html, secret
    assert 'data-live-channel="status"' in html and f'data-live-token="{ticket.token}"' in html
    assert "You're in the queue" in html and "Ahead of you" in html
    assert 'inputmode="numeric"' in html and 'name="pin"' in html


def test_default_language_is_chinese_and_switch_is_there(client, ticket):
    _resp, html = page(client, ticket)
    assert '<html lang="zh-CN">' in html
    assert f"/lang/en?next=/t/{ticket.token}" in html


def test_lang_query_sets_cookie_and_lands_on_clean_url(client, ticket):
    resp = client.get(f"/t/{ticket.token}?lang=en")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/t/{ticket.token}")
    assert "lang=en" in resp.headers["Set-Cookie"]
    assert '<html lang="en">' in client.get(f"/t/{ticket.token}").get_data(as_text=True)


def test_people_ahead_and_wait(en, factory, site, ticket):
    behind = factory.walkin(site, plate="京B22222", mobile="13900139000")
    _resp, html = page(en, behind)
    assert re.search(r'data-ahead>\s*1\s*<', html)
    assert "Estimated wait" in html and "min" in html
    # The numbers ahead, so a "queue moved" message refetches only the pages behind it (status.js).
    assert f'data-queue="waiting" data-ahead-numbers="{ticket.number}"' in html
    _resp, html = page(en, ticket)
    assert 'data-ahead-numbers=""' in html


def test_fragment_is_the_live_block(en, ticket):
    resp = en.get(f"/t/{ticket.token}/fragment")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert html.lstrip().startswith('<div id="status-live"') and "<html" not in html
    assert f'hx-get="/t/{ticket.token}/fragment"' in html
    assert 'hx-trigger="live:hint from:body, live:refresh from:body, live:position from:body delay:50ms, every 30s"' in html
    assert 'hx-swap="morph:outerHTML"' in html   # merged: the customer's taps stay
    assert ticket.number in html and "京A·***45" in html and PLATE not in html
    # The page embeds the same block (not a copy): same opening element and same stages.
    _r, full = page(en, ticket)
    assert html.split(">", 1)[0] in full
    assert re.findall(r'data-stage="(\w+)"', html) == re.findall(r'data-stage="(\w+)"', full)


def test_times_are_shown_in_shanghai_time(en, ticket):
    check_in = db.session.scalar(select(VisitEvent).where(VisitEvent.visit_id == ticket.visit_id))
    check_in.at = datetime(2026, 1, 5, 1, 5)   # 09:05 in Shanghai
    db.session.commit()
    _resp, html = page(en, ticket)
    assert re.search(r'data-stage="checked_in".*?<time[^>]*>Jan 5,? 9:05\sAM<', html, re.S)
    en.set_cookie("lang", "zh_CN")
    _resp, html = page(en, ticket)
    assert re.search(r'data-stage="checked_in".*?<time[^>]*>1月5日 09:05<', html, re.S)
    # Today's stages show the time alone.
    check_in.at = utcnow()
    db.session.commit()
    _resp, html = page(en, ticket)
    assert re.search(r'data-stage="checked_in".*?<time[^>]*>\d\d:\d\d<', html, re.S)


# ---------------------------------------------------------------- unknown and expired links

def test_unknown_token_is_a_friendly_404(en, site):
    resp = en.get("/t/no-such-token")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "We can't find this ticket" in html and "scan the QR code" in html
    assert "lang-switch" in html and 'href="/static/css/status.css"' in html
    assert resp.headers["Cache-Control"] == "no-store"
    frag = en.get("/t/no-such-token/fragment")
    assert frag.status_code == 404 and 'data-phase="gone"' in frag.get_data(as_text=True)


def test_delivered_long_ago_is_410(en, ticket):
    visit = ticket.visit
    visit.state = "delivered"
    visit.delivered_at = utcnow() - timedelta(days=15)
    db.session.commit()
    resp, html = page(en, ticket)
    assert resp.status_code == 410
    assert "This link has expired" in html and "14 days" in html
    assert ticket.number not in html and "京A·***45" not in html
    assert en.get(f"/t/{ticket.token}/fragment").status_code == 410
    resp = post_pin(en, ticket, ticket_pin(ticket.token), token=csrf_token(en, "/login"))
    assert resp.status_code == 410


def test_delivered_recently_still_works(en, ticket):
    visit = ticket.visit
    visit.state = "delivered"
    visit.delivered_at = utcnow() - timedelta(days=13)
    db.session.commit()
    resp, html = page(en, ticket)
    assert resp.status_code == 200
    assert "Delivered — thank you!" in html
    assert 'data-stage="delivered" data-step="done"' in html


def test_cancelled_expires_after_last_change(en, ticket):
    visit = ticket.visit
    visit.state = "cancelled"
    visit.updated_at = utcnow() - timedelta(days=1)
    db.session.commit()
    resp, html = page(en, ticket)
    assert resp.status_code == 200 and "Visit cancelled" in html
    visit.updated_at = utcnow() - timedelta(days=15)
    db.session.commit()
    assert page(en, ticket)[0].status_code == 410


# ---------------------------------------------------------------- headers and CSP

def test_private_headers_on_every_status_response(en, ticket):
    responses = [
        en.get(f"/t/{ticket.token}"),
        en.get(f"/t/{ticket.token}/fragment"),
        en.get("/t/unknown-token"),
        post_pin(en, ticket, wrong_pin(ticket)),
    ]
    for resp in responses:
        assert resp.headers["Cache-Control"] == "no-store", resp.request.path
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert resp.headers["X-Robots-Tag"] == "noindex"
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "unsafe-inline" not in csp


def test_no_inline_script_style_or_third_party(en, ticket):
    _resp, html = page(en, ticket)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html and "hx-on" not in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith("/"), url
    assert '<meta name="referrer" content="no-referrer">' in html


# ---------------------------------------------------------------- PIN unlock

def test_wrong_pin_is_422_with_message(en, ticket):
    resp = post_pin(en, ticket, wrong_pin(ticket))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="pin-error"' in html and "That PIN is not right" in html and "Attempts left: 4" in html
    assert PLATE not in html and NAME not in html
    assert ticket.number in html and 'id="status-live"' in html     # the page stays usable
    db.session.refresh(ticket)
    assert ticket.pin_failures == 1


def test_malformed_pin_is_not_counted(en, ticket):
    resp = post_pin(en, ticket, "12a")
    assert resp.status_code == 422
    assert "6 digits" in resp.get_data(as_text=True)
    db.session.refresh(ticket)
    assert ticket.pin_failures == 0


def test_wrong_pin_message_follows_language(client, ticket):
    client.set_cookie("lang", "zh_CN")
    resp = post_pin(client, ticket, wrong_pin(ticket))
    assert resp.status_code == 422 and '<html lang="zh-CN">' in resp.get_data(as_text=True)


def test_right_pin_unlocks_this_browser_only(en, app, ticket):
    post_pin(en, ticket, wrong_pin(ticket))
    resp = post_pin(en, ticket, ticket_pin(ticket.token))
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/t/{ticket.token}#details")
    _resp, html = page(en, ticket)
    for shown in (PLATE, NAME, MOBILE, "大众 帕萨特"):
        assert shown in html, shown
    assert VIN not in html
    assert "Hide my details" in html and 'name="pin"' not in html
    db.session.refresh(ticket)
    assert ticket.pin_failures == 0
    # The fragment follows the session too.
    assert NAME in en.get(f"/t/{ticket.token}/fragment").get_data(as_text=True)
    # Another browser holding the same link sees the masked page.
    other = app.test_client()
    html = other.get(f"/t/{ticket.token}").get_data(as_text=True)
    assert PLATE not in html and NAME not in html


def test_hide_forgets_the_unlock(en, ticket):
    post_pin(en, ticket, ticket_pin(ticket.token))
    token = csrf_token(en, f"/t/{ticket.token}")
    resp = en.post(f"/t/{ticket.token}/hide", data={"csrf_token": token})
    assert resp.status_code == 303
    _resp, html = page(en, ticket)
    assert PLATE not in html and NAME not in html and 'name="pin"' in html


def test_five_wrong_pins_lock_the_ticket(en, app, ticket):
    for i in range(4):
        assert post_pin(en, ticket, wrong_pin(ticket)).status_code == 422
    resp = post_pin(en, ticket, wrong_pin(ticket))
    assert resp.status_code == 429 and "Too many wrong PINs" in resp.get_data(as_text=True)
    assert 0 < int(resp.headers["Retry-After"]) <= 15 * 60
    # Locked even with the right PIN, from any browser.
    other = app.test_client()
    other.set_cookie("lang", "en")
    resp = post_pin(other, ticket, ticket_pin(ticket.token))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 429 and "try again after" in html and PLATE not in html
    _resp, html = page(other, ticket)
    assert "data-pin-locked" in html and 'name="pin"' not in html
    # After the lock runs out the right PIN works and the count starts again.
    db.session.refresh(ticket)
    ticket.pin_locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert post_pin(other, ticket, ticket_pin(ticket.token)).status_code == 303
    db.session.refresh(ticket)
    assert ticket.pin_failures == 0 and ticket.pin_locked_until is None


def test_unlock_without_csrf_is_400(en, ticket):
    page(en, ticket)
    resp = en.post(f"/t/{ticket.token}/unlock", data={"pin": ticket_pin(ticket.token)})
    assert resp.status_code == 400
    assert resp.headers["Cache-Control"] == "no-store"
    assert PLATE not in page(en, ticket)[1]


def test_unlock_get_goes_back_to_the_page(en, ticket):
    resp = en.get(f"/t/{ticket.token}/unlock")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/t/{ticket.token}")


def test_per_ip_rate_limits(db_url, app, ticket):
    token = ticket.token
    limited = make_app(db_url, RATELIMIT_ENABLED=True, RATELIMIT_PIN="3 per minute",
                       RATELIMIT_STATUS="5 per minute")
    with limited.app_context():
        client = limited.test_client()
        client.set_cookie("lang", "en")
        csrf = csrf_token(client, "/login")
        codes = [client.post(f"/t/{token}/unlock", data={"pin": "000000", "csrf_token": csrf}).status_code
                 for _ in range(4)]
        assert codes == [422, 422, 422, 429]
        # The per-ticket count saw only the three requests that got through.
        db.session.expire_all()
        assert db.session.scalar(select(Ticket.pin_failures).where(Ticket.token == token)) == 3
        codes = [client.get(f"/t/{token}").status_code for _ in range(6)]
        assert codes[:5] == [200] * 5 and codes[5] == 429
        resp = client.get(f"/t/{token}")
        assert resp.headers["Cache-Control"] == "no-store" and "Too many requests" in resp.get_data(as_text=True)
        frag = [client.get(f"/t/{token}/fragment") for _ in range(6)][-1]
        assert frag.status_code == 429 and frag.headers["HX-Reswap"] == "none"


# ---------------------------------------------------------------- stages as the visit moves

def test_stages_follow_the_services(en, factory, site, ticket):
    advisor = factory.user(site, "advisor", desk="3", display_name="王晓明")
    calling.call_next(advisor)
    resp, html = page(en, ticket)
    assert 'data-phase="called"' in html
    assert "Your number is being called" in html and "Please go to Desk 3" in html
    assert "王晓明" not in html     # the advisor's name is behind the PIN too

    calling.start_reception(advisor, ticket.id)
    html = en.get(f"/t/{ticket.token}/fragment").get_data(as_text=True)
    assert 'data-phase="with_advisor"' in html and "With your service advisor" in html
    assert 'data-stage="checked_in" data-step="done"' in html
    assert 'data-stage="with_advisor" data-step="current"' in html
    assert 'data-stage="inspection" data-step="pending"' in html
    assert "being called" not in html

    post_pin(en, ticket, ticket_pin(ticket.token))
    assert "王晓明" in page(en, ticket)[1]


def test_later_stages_and_skipped_wash(en, factory, site, ticket):
    from webapp.services.visits import advance
    advisor = factory.user(site, "advisor", desk="2")
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    for target in ("inspection", "interview", "estimate", "authorisation", "dispatch", "repair", "qc", "ready"):
        advance(ticket.visit, target, advisor)
    _resp, html = page(en, ticket)
    assert 'data-phase="ready"' in html and "Your car is ready" in html
    assert 'data-stage="wash"' not in html          # no wash: not promised on the page
    assert 'data-stage="qc" data-step="done"' in html and 'data-stage="ready" data-step="current"' in html


def test_no_show_is_explained(en, factory, site, ticket):
    advisor = factory.user(site, "advisor", desk="1")
    calling.call_next(advisor)
    calling.skip(advisor, ticket.id)
    _resp, html = page(en, ticket)
    assert 'data-phase="no_show"' in html and "We missed you" in html


# ---------------------------------------------------------------- the walk-around inspection, as the customer sees it

def _png_data_url():
    import base64
    import io

    from PIL import Image, ImageDraw
    image = Image.new("RGBA", (200, 80), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 60), (100, 10), (190, 60)], fill=(0, 0, 0, 255), width=3)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _inspect(factory, site, ticket):
    """Reception → inspection with covers, mileage, fuel and a mark; returns the advisor."""
    from werkzeug.datastructures import MultiDict

    from webapp.services import intake
    advisor = factory.user(site, "advisor", desk="2", display_name="王晓明")
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    intake.start_inspection(ticket.visit, advisor)
    intake.save_inspection(ticket.visit, parse_inspection(MultiDict({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                                    "mileage": "30500", "fuel_level": "1/2", "valuables_left": "no"})), advisor)
    intake.add_mark(ticket.visit, "bonnet", "chip", "石子崩点", advisor)
    return advisor


def _complete(ticket, advisor):
    from webapp.services import intake
    intake.sign_intake(ticket.visit, _png_data_url(), "张三", None, None, advisor)
    intake.complete_inspection(ticket.visit, advisor)


def test_inspection_in_progress_then_done(en, factory, site, ticket):
    advisor = _inspect(factory, site, ticket)
    html = en.get(f"/t/{ticket.token}/fragment").get_data(as_text=True)
    assert 'data-inspection="in_progress"' in html and "Inspection in progress" in html
    assert "data-carmap" not in html and "data-intake-link" not in html
    post_pin(en, ticket, ticket_pin(ticket.token))
    html = en.get(f"/t/{ticket.token}/fragment").get_data(as_text=True)
    assert "data-carmap" not in html                       # no map until the form is completed

    _complete(ticket, advisor)
    html = en.get(f"/t/{ticket.token}/fragment").get_data(as_text=True)
    assert 'data-inspection="done"' in html and "Inspection done" in html and "Inspection in progress" not in html
    assert 'id="st-headline">Inspection done<' in html
    # Unlocked: the customer's own damage map (this visit's marks only) and their copy of the form.
    assert "data-carmap" in html and 'data-mark="bonnet"' in html and "石子崩点" in html
    assert f'href="/t/{ticket.token}/intake"' in html
    full = page(en, ticket)[1]
    assert " style=" not in full and "hx-on" not in full and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", full)


def test_damage_map_stays_behind_the_pin(en, app, factory, site, ticket):
    advisor = _inspect(factory, site, ticket)
    _complete(ticket, advisor)
    other = app.test_client()
    other.set_cookie("lang", "en")
    html = other.get(f"/t/{ticket.token}").get_data(as_text=True)
    assert 'data-inspection="done"' in html and "Inspection done" in html
    assert "data-carmap" not in html and "石子崩点" not in html and "data-intake-link" not in html
    assert "Enter the PIN from your ticket to see the damage map" in html


def test_previous_visits_marks_are_not_on_the_customers_map(en, factory, site, ticket):
    from webapp.services import intake
    advisor = _inspect(factory, site, ticket)
    _complete(ticket, advisor)
    # The same car comes back: its new map starts empty (the last visit's marks are the shop's reference).
    from webapp.services.visits import advance
    for target in ("estimate", "ready", "delivered"):
        advance(ticket.visit, target, advisor)
    again = factory.walkin(site, plate=PLATE, mobile=MOBILE)
    calling.call_next(advisor)
    calling.start_reception(advisor, again.id)
    confirm_suggestion(again.visit, advisor)  # the advisor links the stored car at the desk
    intake.start_inspection(again.visit, advisor)
    intake.save_inspection(again.visit, parse_inspection({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                         "mileage": "31000", "fuel_level": "F", "valuables_left": "no"}), advisor)
    _complete(again, advisor)
    post_pin(en, again, ticket_pin(again.token))
    html = page(en, again)[1]
    assert "data-carmap" in html and 'data-mark="bonnet"' not in html and "No damage to the body was recorded." in html


def test_waiting_for_the_manufacturer_is_public_without_details(en, app, factory, site, ticket):
    from webapp.services import intake
    advisor = _inspect(factory, site, ticket)
    _complete(ticket, advisor)
    concern = intake.add_concern(ticket.visit, "发动机故障灯亮", advisor)
    request = intake.request_manufacturer(ticket.visit, concern.id, "MFR-2026-0042", "ECU 故障码 P0301", advisor)
    html = page(en, ticket)[1]
    assert 'data-manufacturer="pending"' in html and "Waiting for the manufacturer's decision" in html
    for detail in ("MFR-2026-0042", "P0301", "发动机故障灯亮"):
        assert detail not in html, detail
    intake.decide_manufacturer(ticket.visit, request.id, "approved", None, advisor)
    assert 'data-manufacturer' not in page(en, ticket)[1]


def test_status_page_has_intake_only_once_it_begins(en, ticket):
    html = page(en, ticket)[1]
    assert 'data-inspection=""' in html and 'id="intake"' not in html and "data-manufacturer" not in html
