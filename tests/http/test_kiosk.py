"""Lobby kiosk (/kiosk) over HTTP: every route and status, the walk-in and appointment check-ins,
messages next to the field in both languages, idempotent replays, CSRF, rate limit, the launcher.

Expected texts are looked up in the app's own catalogue (``tr``), so these tests check that the
right message appears in the right language whether or not a translation has been merged yet;
where the Chinese text exists, the English one must not show."""
import re
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import func, select

from tests.support import ROOT, csrf_token, decode_qr_svg, make_app
from webapp.extensions import db as _db
from webapp.models import Appointment, Ticket, Visit
from webapp.services.checkin import ticket_pin
from webapp.timeutil import utcnow

MSG = {
    "plate": "Enter the plate number, for example 京A12345.",
    "plate_other": "This is not a Chinese plate format. Check it, then tap “The plate is correct”.",
    "mobile": "Enter an 11-digit mobile number starting with 1.",
    "reason": "Choose what you are here for.",
    "consent": "Please accept the notice on data use to continue.",
}


def tr(app, lang, msgid, **kw):
    """``msgid`` as the app renders it in ``lang`` (HTML-escaped, as it appears in a page)."""
    with app.test_request_context(f"/?lang={lang}"):
        return str(escape(gettext(msgid, **kw)))


def key():
    return str(uuid.uuid4())


def walkin_data(token, **over):
    data = {"csrf_token": token, "key": key(), "plate": "京A12345", "mobile": "13800138000",
            "reason": "repair", "description": "有异响", "consent": "1"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def number_of(html):
    m = re.search(r'id="ticket-number">([^<]+)<', html)
    return m.group(1) if m else None


def visible_text(html):
    """What a person can read: no tags, no attribute values (hidden inputs included)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def field_block(html, name):
    """The markup of one form field, from its container to the next field's."""
    start = html.index(f'id="field-{name}"')
    nxt = html.find('id="field-', start + 10)
    return html[start:nxt if nxt > 0 else None]


def confirm_fields(html, row=0):
    """What the confirm form of the ``row``-th match posts: the search's signed token, the row, a key."""
    forms = re.findall(r'<form[^>]*action="/kiosk/appointment/confirm".*?</form>', html, re.S)
    form = forms[row]
    return {name: re.search(rf'name="{name}" value="([^"]*)"', form).group(1) for name in ("match", "pick", "key")}


def ticket_count():
    return _db.session.scalar(select(func.count(Ticket.id)))


@pytest.fixture
def site(factory):
    return factory.site(code="bj01", name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")


@pytest.fixture
def token(client, site):
    return csrf_token(client, "/kiosk/walkin")


# ---------------------------------------------------------------- screens and routes


def test_start_offers_the_two_choices_in_chinese_by_default(client, app, site):
    resp = client.get("/kiosk")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert '<html lang="zh-CN">' in html
    assert 'id="choose-appointment" href="/kiosk/appointment"' in html
    assert 'id="choose-walkin" href="/kiosk/walkin"' in html
    assert tr(app, "zh_CN", "I have an appointment") in html
    assert site.name_zh in html
    assert 'data-kiosk-idle="60"' in html and 'data-kiosk-ticket="20"' in html
    assert "/static/js/kiosk.js" in html and "/static/css/kiosk.css" in html
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in resp.headers
    # No inline script or style anywhere (strict CSP).
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html and "hx-on" not in html


def test_english_by_query_or_cookie(client, app, site):
    html = client.get("/kiosk?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "I have an appointment" in html and site.name_en in html
    client.set_cookie("lang", "en")
    assert "I have an appointment" in client.get("/kiosk").get_data(as_text=True)


def test_timers_follow_the_config(client, app, site):
    app.config.update(KIOSK_IDLE_SECONDS=45, KIOSK_TICKET_SECONDS=12)
    html = client.get("/kiosk").get_data(as_text=True)
    assert 'data-kiosk-idle="45"' in html and 'data-kiosk-ticket="12"' in html


@pytest.mark.parametrize("path", ["/kiosk", "/kiosk/appointment", "/kiosk/walkin"])
def test_screens_and_their_htmx_partials(client, site, path):
    page = client.get(path)
    part = client.get(path, headers={"HX-Request": "true"})
    assert page.status_code == part.status_code == 200
    fragment = part.get_data(as_text=True).strip()
    assert fragment.startswith('<div id="kiosk"') and "<html" not in fragment
    assert '<div id="kiosk"' in page.get_data(as_text=True)
    assert "HX-Request" in part.headers.get("Vary", "")


@pytest.mark.parametrize("path", ["/kiosk/appointment/confirm", "/kiosk/walkin/prefill", "/kiosk/ticket"])
def test_post_only_routes(client, site, path):
    assert client.get(path).status_code == 405


def test_several_sites_ask_which_and_remember(client, factory):
    factory.site(code="bj01")
    factory.site(code="sh01")
    html = client.get("/kiosk").get_data(as_text=True)
    assert 'href="/kiosk?site=bj01"' in html and 'href="/kiosk?site=sh01"' in html
    assert 'id="choose-walkin"' not in html
    resp = client.get("/kiosk?site=sh01")
    assert resp.status_code == 200 and "site=sh01" in resp.headers["Set-Cookie"]
    assert 'id="choose-walkin"' in client.get("/kiosk").get_data(as_text=True)
    assert client.get("/kiosk?site=nope").status_code == 404


def test_no_site_yet(client):
    resp = client.get("/kiosk/walkin")
    assert resp.status_code == 503 and 'data-kiosk-screen="sites"' in resp.get_data(as_text=True)


def test_walkin_form_is_kiosk_friendly(client, site):
    html = client.get("/kiosk/walkin").get_data(as_text=True)
    keys = re.findall(r'name="key" value="([^"]+)"', html)
    assert len(keys) == 1 and uuid.UUID(keys[0]).version == 4
    assert keys[0] not in client.get("/kiosk/walkin").get_data(as_text=True)  # a new key per render
    assert 'name="csrf_token"' in html
    for field in ("plate", "mobile"):
        assert re.search(rf'<input id="{field}"[^>]*inputmode="none"', html)
    assert html.count('class="key key-cjk"') == 31  # every province, first panel
    alnum = re.search(r'data-osk-panel="alnum".*?</div>\s*</div>', html, re.S).group(0)
    letters = set(re.findall(r'data-key="([A-Z0-9])"', alnum))
    assert letters == set("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")  # no I, no O
    assert 'hx-disabled-elt="find .k-submit"' in html
    for reason in ("maintenance", "repair", "warranty", "bodywork", "other"):
        assert f'id="reason-{reason}" value="{reason}"' in html
    # Taking the number is agreeing: the notice sits right above the button that says so.
    assert 'type="hidden" name="consent" value="1"' in html and 'id="consent"' not in html


# ---------------------------------------------------------------- walk-in


def test_walkin_issues_w001_then_w002(client, app, site, token):
    first = client.post("/kiosk/walkin", data=walkin_data(token))
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and number_of(html) == "W001"
    ticket = _db.session.scalar(select(Ticket).where(Ticket.number == "W001"))
    assert f'data-pin="{ticket_pin(ticket.token)}"' in html
    assert "京A·***45" in html and site.name_zh in html
    assert "京A12345" not in html and "13800138000" not in html  # only masked on the ticket
    assert 'data-kiosk-screen="ticket"' in html and 'data-kiosk-timeout="ticket"' in html
    assert 'data-kiosk-print="auto"' in html
    assert tr(app, "zh_CN", "PIN for prices and approvals") in html
    assert re.search(r'id="ticket-ahead">\s*<strong>0</strong>', html)
    assert first.headers["Cache-Control"] == "no-store"

    second = client.post("/kiosk/walkin", data=walkin_data(token, plate="京BD12345", mobile="13900139000",
                                                           reason="maintenance"))
    assert number_of(second.get_data(as_text=True)) == "W002"
    assert re.search(r'id="ticket-ahead">\s*<strong>1</strong>', second.get_data(as_text=True))
    visit = _db.session.scalar(select(Visit).where(Visit.plate == "京BD12345"))
    assert visit.reason == "maintenance" and visit.description == "有异响" and visit.consent_at is not None


def test_ticket_qr_is_the_absolute_status_url(client, site, token):
    html = client.post("/kiosk/walkin", data=walkin_data(token)).get_data(as_text=True)
    ticket = _db.session.scalar(select(Ticket))
    svg = re.search(r'<svg class="qr".*?</svg>', html, re.S).group(0)
    assert " style=" not in svg
    assert decode_qr_svg(svg) == f"http://localhost/t/{ticket.token}"


def test_ticket_qr_honours_public_base_url(client, app, site, token):
    app.config["PUBLIC_BASE_URL"] = "https://service.example.com/"
    html = client.post("/kiosk/walkin", data=walkin_data(token)).get_data(as_text=True)
    ticket = _db.session.scalar(select(Ticket))
    svg = re.search(r'<svg class="qr".*?</svg>', html, re.S).group(0)
    assert decode_qr_svg(svg) == f"https://service.example.com/t/{ticket.token}"


def test_htmx_post_answers_with_the_screen_block(client, site, token):
    resp = client.post("/kiosk/walkin", data=walkin_data(token), headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True).strip()
    assert resp.status_code == 200 and body.startswith('<div id="kiosk"') and "<html" not in body
    assert number_of(body) == "W001"


CASES = [
    # field, what was typed, message
    ("plate", {"plate": ""}, MSG["plate"]),
    ("plate", {"plate": "京A12#45"}, MSG["plate"]),
    ("mobile", {"mobile": "1380013800"}, MSG["mobile"]),
    ("mobile", {"mobile": "23800138000"}, MSG["mobile"]),
    ("reason", {"reason": None}, MSG["reason"]),
    ("reason", {"reason": "tuning"}, MSG["reason"]),
    ("consent", {"consent": None}, MSG["consent"]),
]


@pytest.mark.parametrize("lang", ["zh_CN", "en-query", "en-cookie"])
@pytest.mark.parametrize("field, typed, message", CASES)
def test_bad_input_is_explained_next_to_the_field(client, app, site, token, field, typed, message, lang):
    url = "/kiosk/walkin"
    if lang == "en-query":
        url += "?lang=en"
    elif lang == "en-cookie":
        client.set_cookie("lang", "en")
    data = walkin_data(token, description="右前轮异响", **typed)
    resp = client.post(url, data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert ticket_count() == 0
    code = "zh_CN" if lang == "zh_CN" else "en"
    assert f'<html lang="{"zh-CN" if code == "zh_CN" else "en"}">' in html
    expected = tr(app, code, message)
    block = field_block(html, field)
    assert f'id="{field}-error"' in block and expected in block
    assert html.count('class="k-error') == 1  # only that field
    if code == "zh_CN" and expected != str(escape(message)):
        assert str(escape(message)) not in html
    # Everything typed is still there, and the same idempotency key.
    assert f'name="key" value="{data["key"]}"' in html
    if data.get("plate"):
        assert f'value="{escape(data["plate"])}"' in field_block(html, "plate")
    if data.get("mobile"):
        assert f'value="{data["mobile"]}"' in field_block(html, "mobile")
    if data.get("reason") == "repair":
        assert 'id="reason-repair" value="repair" checked' in html
    assert 'type="hidden" name="consent" value="1"' in html   # the button under the notice agrees
    assert "右前轮异响</textarea>" in html


def test_every_problem_at_once(client, app, site, token):
    resp = client.post("/kiosk/walkin?lang=en", data={"csrf_token": token, "key": key()})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for field in ("plate", "reason", "consent"):
        assert str(escape(MSG[field])) in field_block(html, field)
    assert 'id="mobile-error"' not in html   # optional: see test_kiosk_quick.py
    assert ticket_count() == 0


def test_foreign_plate_needs_a_confirmation(client, app, site, token):
    data = walkin_data(token, plate="ab 1234")
    resp = client.post("/kiosk/walkin?lang=en", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and ticket_count() == 0
    block = field_block(html, "plate")
    assert str(escape(MSG["plate_other"])) in block and "k-warn" in block
    assert 'name="plate_confirmed" value="AB1234"' in block

    # Changed after confirming: asked again.
    changed = client.post("/kiosk/walkin", data={**data, "plate": "AB12345", "plate_confirmed": "AB1234"})
    assert changed.status_code == 422 and ticket_count() == 0

    ok = client.post("/kiosk/walkin", data={**data, "plate_confirmed": "AB1234"})
    assert ok.status_code == 200 and number_of(ok.get_data(as_text=True)) == "W001"
    assert _db.session.scalar(select(Visit.plate)) == "AB1234"


def test_confirmation_is_kept_while_other_fields_are_fixed(client, site, token):
    data = walkin_data(token, plate="AB1234", plate_confirmed="AB1234", mobile="123")
    html = client.post("/kiosk/walkin", data=data).get_data(as_text=True)
    assert 'type="hidden" name="plate_confirmed" value="AB1234"' in html
    assert 'id="plate-error"' not in html and 'id="mobile-error"' in html


def test_new_energy_plate_needs_no_confirmation(client, site, token):
    resp = client.post("/kiosk/walkin", data=walkin_data(token, plate="粤b·d12345"))
    assert resp.status_code == 200
    assert _db.session.scalar(select(Visit.plate)) == "粤BD12345"


def test_replayed_key_returns_the_same_ticket(client, site, token):
    data = walkin_data(token)
    first = number_of(client.post("/kiosk/walkin", data=data).get_data(as_text=True))
    again = number_of(client.post("/kiosk/walkin", data=data).get_data(as_text=True))
    # A reload after the ticket resubmits the same form, even with fields since changed.
    changed = number_of(client.post("/kiosk/walkin", data={**data, "mobile": "x"}).get_data(as_text=True))
    assert first == again == changed == "W001"
    assert ticket_count() == 1


def test_missing_csrf_is_refused(client, site):
    resp = client.post("/kiosk/walkin", data=walkin_data(None))
    assert resp.status_code == 400 and ticket_count() == 0
    resp = client.post("/kiosk/walkin", data=walkin_data("forged"), headers={"HX-Request": "true"})
    assert resp.status_code == 400 and 'data-status="400"' in resp.get_data(as_text=True)


def test_rate_limited(db_url, site):
    limited = make_app(db_url, RATELIMIT_ENABLED=True, RATELIMIT_KIOSK="3 per minute")
    client = limited.test_client()
    with limited.app_context():
        token = csrf_token(client, "/kiosk/walkin")
        codes = [client.post("/kiosk/walkin", data={"csrf_token": token}).status_code for _ in range(4)]
        assert codes == [422, 422, 422, 429]
        # Screens (GET) are not limited: only the POSTs count.
        assert client.get("/kiosk/walkin").status_code == 200


# ---------------------------------------------------------------- appointment


@pytest.fixture
def booked(factory, site, shop_hours):
    customer, car = factory.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三")
    return factory.appointment(site, customer, car, scheduled_at=utcnow() + timedelta(minutes=10),
                               reason="maintenance")


@pytest.mark.parametrize("by, typed", [("plate", "京a 12345"), ("mobile", "138 0013 8000")])
def test_find_and_confirm_the_appointment(client, app, site, token, booked, by, typed):
    resp = client.post("/kiosk/appointment", data={"csrf_token": token, "by": by, f"q_{by}": typed})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'name="appointment_id"' not in html  # no id to alter: the search's signed token and a row
    assert "京A·***45" in html and tr(app, "zh_CN", "Maintenance") in html
    local = (booked.scheduled_at + timedelta(hours=8)).strftime("%H:%M")  # Asia/Shanghai
    assert f"<strong>{local}</strong>" in html
    # No name anywhere; the plate and number only masked on screen (what was typed rides along
    # in hidden inputs, for "search again" and "not mine: walk-in").
    assert "张三" not in html
    text = visible_text(html)
    assert "13800138000" not in text and "京A12345" not in text
    assert "京A·***45" in text and ("138****8000" in text or by == "plate")
    confirm = {"csrf_token": token, **confirm_fields(html)}
    ticket = client.post("/kiosk/appointment/confirm", data=confirm)
    assert ticket.status_code == 200 and number_of(ticket.get_data(as_text=True)) == "A001"
    assert tr(app, "zh_CN", "Appointment at %(time)s", time=local) in ticket.get_data(as_text=True)
    # Double tap: the ticket just printed. A second kiosk confirming the same booking: its number
    # only, never the ticket (its PIN) again. Still one ticket.
    assert number_of(client.post("/kiosk/appointment/confirm", data=confirm).get_data(as_text=True)) == "A001"
    other = client.post("/kiosk/appointment/confirm", data={**confirm, "key": key()})
    assert other.status_code == 409 and number_of(other.get_data(as_text=True)) is None
    assert tr(app, "zh_CN", "Already checked in as %(number)s — please ask at the service desk.",
              number="A001") in other.get_data(as_text=True)
    assert ticket_count() == 1
    assert _db.session.get(Appointment, booked.id).status == "arrived"


def test_other_days_and_other_sites_are_not_found(client, factory, site, token):
    customer, car = factory.customer_vehicle(site)
    factory.appointment(site, customer, car, scheduled_at=utcnow() + timedelta(days=2))
    other = factory.site(code="sh01")
    c2, v2 = factory.customer_vehicle(other)
    factory.appointment(other, c2, v2)
    html = client.post("/kiosk/appointment?site=bj01", data={"csrf_token": token, "by": "plate", "q": "京A12345"})
    assert 'id="continue-walkin"' in html.get_data(as_text=True)


@pytest.mark.parametrize("by, typed, carried", [
    ("plate", "京B 54321", ("plate", "京B54321")),
    ("mobile", "13912345678", ("mobile", "13912345678")),
])
def test_not_found_continues_as_walkin_without_retyping(client, app, site, token, by, typed, carried):
    resp = client.post("/kiosk/appointment", data={"csrf_token": token, "by": by, f"q_{by}": typed})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="continue-walkin"' in html
    assert tr(app, "zh_CN", "No appointment found") in html
    form = re.search(r'<form method="post" action="/kiosk/walkin/prefill".*?</form>', html, re.S).group(0)
    name, value = carried
    assert f'name="{name}" value="{value}"' in form

    walkin = client.post("/kiosk/walkin/prefill", data={"csrf_token": token, name: value})
    page = walkin.get_data(as_text=True)
    assert walkin.status_code == 200 and 'id="walkin-form"' in page and 'class="k-error' not in page
    assert f'value="{value}"' in field_block(page, name)


def test_search_again_keeps_the_query(client, site, token):
    resp = client.post("/kiosk/appointment", data={"csrf_token": token, "by": "mobile", "q": "13912345678", "edit": "1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="search-form"' in html
    assert 'value="13912345678"' in html and 'id="by-mobile" value="mobile" checked' in html


@pytest.mark.parametrize("by, typed, message", [
    ("plate", "", "Enter a plate number or an 11-digit mobile number."),
    ("plate", "#", MSG["plate"]),
    ("mobile", "1391234", MSG["mobile"]),
])
def test_search_bad_input(client, app, site, token, by, typed, message):
    resp = client.post("/kiosk/appointment?lang=en", data={"csrf_token": token, "by": by, f"q_{by}": typed})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="q-error"' in html and str(escape(message)) in html
    assert f'value="{escape(typed)}"' in html


def test_confirm_refusals(client, app, factory, site, token, booked):
    found = client.post("/kiosk/appointment", data={"csrf_token": token, "by": "plate", "q": "京A12345"})
    confirm = {"csrf_token": token, **confirm_fields(found.get_data(as_text=True))}
    junk = client.post("/kiosk/appointment/confirm?lang=en", data={"csrf_token": token, "appointment_id": "x"})
    assert junk.status_code == 400 and "Please search for your appointment again." in junk.get_data(as_text=True)

    _db.session.delete(booked)
    _db.session.commit()
    missing = client.post("/kiosk/appointment/confirm?lang=en", data={**confirm, "key": key()})
    assert missing.status_code == 404
    assert "We could not find this appointment." in missing.get_data(as_text=True)
    assert 'href="/kiosk/walkin"' in missing.get_data(as_text=True)
    assert ticket_count() == 0


def test_confirm_refuses_a_cancelled_appointment(client, app, factory, site, token, booked):
    found = client.post("/kiosk/appointment", data={"csrf_token": token, "by": "plate", "q": "京A12345"})
    confirm = {"csrf_token": token, **confirm_fields(found.get_data(as_text=True))}
    booked.status = "cancelled"
    _db.session.commit()
    gone = client.post("/kiosk/appointment/confirm?lang=en", data=confirm)
    assert gone.status_code == 409 and "already been checked in or cancelled" in gone.get_data(as_text=True)
    assert ticket_count() == 0


# ---------------------------------------------------------------- ticket in the other language


def test_ticket_shown_again_in_english_without_printing(client, app, site, token):
    data = walkin_data(token)
    client.post("/kiosk/walkin", data=data)
    resp = client.post("/kiosk/ticket?lang=en", data={"csrf_token": token, "key": data["key"]})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and number_of(html) == "W001" and "Your number" in html
    assert 'data-kiosk-print="auto"' not in html
    assert "lang=en" in resp.headers["Set-Cookie"]
    assert ticket_count() == 1


def test_ticket_not_shown_again_later_or_unknown(client, site, token):
    data = walkin_data(token)
    client.post("/kiosk/walkin", data=data)
    assert client.post("/kiosk/ticket", data={"csrf_token": token, "key": key()}).status_code == 404
    ticket = _db.session.scalar(select(Ticket))
    ticket.issued_at = utcnow() - timedelta(minutes=30)
    _db.session.commit()
    assert client.post("/kiosk/ticket", data={"csrf_token": token, "key": data["key"]}).status_code == 404


def test_language_buttons_keep_what_was_typed(client, site, token):
    html = client.get("/kiosk/walkin").get_data(as_text=True)
    assert 'formaction="/kiosk/walkin/prefill?lang=en"' in html and 'form="walkin-form"' in html
    data = walkin_data(token, mobile="139")
    resp = client.post("/kiosk/walkin/prefill?lang=en", data=data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and '<html lang="en">' in page and "lang=en" in resp.headers["Set-Cookie"]
    assert 'value="139"' in page and f'value="{data["key"]}"' in page and ticket_count() == 0


# ---------------------------------------------------------------- launcher


def run_launcher(*args, env_path=None, home=None):
    import os
    env = dict(os.environ)
    if env_path is not None:
        env["PATH"] = env_path
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)


def fake_browser(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_launcher_dry_run(tmp_path):
    bindir = tmp_path / "bin"
    browser = fake_browser(bindir, "chromium-browser")
    out = run_launcher("--url", "http://host:5000/kiosk?site=bj01", "--dry-run", env_path=str(bindir), home=tmp_path)
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip()
    assert line.startswith(f"{browser} --kiosk --kiosk-printing --noerrdialogs --disable-pinch "
                           f"--overscroll-history-navigation=0 --user-data-dir={tmp_path}/.config/servicelane-kiosk ")
    assert line.endswith(" 'http://host:5000/kiosk?site=bj01'")
    assert not (tmp_path / ".config").exists()  # a dry run changes nothing


def test_launcher_prefers_chromium_and_takes_options(tmp_path):
    bindir = tmp_path / "bin"
    fake_browser(bindir, "google-chrome")
    chromium = fake_browser(bindir, "chromium")
    out = run_launcher("--dry-run", env_path=str(bindir), home=tmp_path)
    assert out.stdout.startswith(f"{chromium} ") and out.stdout.strip().endswith(" http://127.0.0.1:5000/kiosk")
    chrome = run_launcher("--dry-run", "--browser", str(bindir / "google-chrome"), "--profile", str(tmp_path / "p"),
                          env_path=str(bindir))
    assert chrome.stdout.startswith(f"{bindir / 'google-chrome'} ") and f"--user-data-dir={tmp_path / 'p'}" in chrome.stdout


def test_launcher_refuses_without_browser_or_with_bad_url(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    none = run_launcher("--dry-run", env_path=str(empty))
    assert none.returncode == 2 and "chromium" in none.stderr.lower()
    bad = run_launcher("--url", "javascript:alert(1)", "--dry-run")
    assert bad.returncode == 2 and "--url" in bad.stderr


def test_an_english_kiosk_customer_gets_the_phone_page_in_english(client, site, token):
    client.set_cookie("lang", "en")
    html = client.post("/kiosk/walkin", data=walkin_data(token)).get_data(as_text=True)
    ticket = _db.session.scalar(select(Ticket))
    svg = re.search(r'<svg class="qr".*?</svg>', html, re.S).group(0)
    url = decode_qr_svg(svg)
    assert url == f"http://localhost/t/{ticket.token}?lang=en"

    phone = client.application.test_client()                      # the customer's own phone
    landed = phone.get(url.replace("http://localhost", ""), follow_redirects=True)
    assert landed.request.path == f"/t/{ticket.token}" and '<html lang="en"' in landed.get_data(as_text=True)


def test_the_phone_s_own_language_is_honoured_without_a_choice(app, site, token, client):
    client.post("/kiosk/walkin", data=walkin_data(token))
    ticket = _db.session.scalar(select(Ticket))
    phone = app.test_client()
    english = phone.get(f"/t/{ticket.token}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en"' in english.get_data(as_text=True)
    chinese = app.test_client().get(f"/t/{ticket.token}", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN"' in chinese.get_data(as_text=True)
    switched = app.test_client()
    switched.set_cookie("lang", "zh_CN")                          # the page's switch wins over the phone
    assert '<html lang="zh-CN"' in switched.get(f"/t/{ticket.token}", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
