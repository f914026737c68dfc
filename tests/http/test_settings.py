"""Site settings and the technicians' roster: roles, CSRF, each validation rule with its message
next to the field and the typed values kept, the tax rate stored as a fraction, and a shift that
moves an open estimate's promise time."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import visit_at_estimate
from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import LabourOperation, LabourRate, Site, TechnicianShift
from webapp.services import estimates
from webapp.services import settings as settings_svc
from webapp.timeutil import local_day
from webapp.validation import Invalid
from webapp.commands.settings import parse_site_settings
from webapp.commands.estimates import parse_line

# The roster counts technician-hours: the shop's two technicians have names to tell them apart.
pytestmark = pytest.mark.shop(staff={"technician": {"display_name": "王师傅"}})

GOOD = {"name_zh": "星驰汽车4S店", "name_en": "Xingchi Motors", "tax_rate": "13", "diagnosis_fee": "200",
        "opening": "08:30", "closing": "17:30", "break_start": "12:00", "break_end": "13:00",
        "reception_minutes": "10", "appointment_early_minutes": "30", "appointment_late_minutes": "15",
        "prefix_appointment": "A", "prefix_walkin": "W"}


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(shop, factory):
    """The shared shop, its technician 王师傅 and a second one (刘师傅); a technician of another site."""
    shop.people["tech2"] = factory.user(shop.site, "technician", display_name="刘师傅")
    shop.people["other_tech"] = factory.user(factory.site(code="sh01"), "technician")
    return shop


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/login")})


def today(site):
    return local_day(site.timezone)


def field_error(html, field_id):
    match = re.search(rf'id="{field_id}-error"[^>]*>([^<]*)<', html)
    return match.group(1) if match else None


def field_value(html, field_id):
    match = re.search(rf'<input id="{field_id}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


# ---------------------------------------------------------------- roles and CSRF

def test_needs_login(client, shop):
    for url in ("/admin/site", "/admin/shifts"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_advisor_is_refused_both(client, shop):
    login(client, shop.advisor)
    assert client.get("/admin/site").status_code == 403
    assert client.get("/admin/shifts").status_code == 403
    assert post(client, "/admin/site", GOOD).status_code == 403
    assert post(client, "/admin/shifts", {"user_id": shop.technician.id, "start": "08:00", "end": "12:00"}).status_code == 403
    assert db.session.scalar(select(TechnicianShift)) is None


def test_dispatcher_keeps_the_roster_but_not_the_site(client, shop):
    login(client, shop.dispatcher)
    assert client.get("/admin/site").status_code == 403
    assert post(client, "/admin/site", dict(GOOD, tax_rate="6")).status_code == 403
    resp = client.get("/admin/shifts")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "王师傅" in html and "刘师傅" in html
    assert 'href="/admin/site"' not in html            # no tab for what they may not open


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_open_both(client, shop, role):
    login(client, shop.people[role])
    assert client.get("/admin/site").status_code == 200
    assert client.get("/admin/shifts").status_code == 200


def test_csrf_required(client, shop):
    login(client, shop.manager)
    assert client.post("/admin/site", data=GOOD).status_code == 400
    assert client.post("/admin/shifts", data={"user_id": shop.technician.id, "start": "08:00",
                                              "end": "12:00"}).status_code == 400
    assert db.session.get(Site, shop.site.id).name_en != "Xingchi Motors"
    assert db.session.scalar(select(TechnicianShift)) is None


# ---------------------------------------------------------------- the site

def test_tax_13_is_stored_as_0_1300(client, shop):
    login(client, shop.manager)
    resp = post(client, "/admin/site", dict(GOOD, tax_rate="13", diagnosis_fee="150.50", prefix_walkin="WK"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/site")
    site = db.session.get(Site, shop.site.id)
    assert site.tax_rate == Decimal("0.1300")
    assert site.diagnosis_fee == Decimal("150.50")
    assert (site.name_en, site.prefix_walkin, site.break_start) == ("Xingchi Motors", "WK", "12:00")
    html = client.get("/admin/site").get_data(as_text=True)
    assert field_value(html, "f-tax_rate") == "13"
    assert "Site settings saved." in html


def test_fractional_tax_and_no_break(client, shop):
    login(client, shop.manager)
    assert post(client, "/admin/site", dict(GOOD, tax_rate="6.5", break_start="", break_end="")).status_code == 302
    site = db.session.get(Site, shop.site.id)
    assert site.tax_rate == Decimal("0.0650")
    assert site.break_start is None and site.break_end is None


@pytest.mark.parametrize("changes, field, message", [
    ({"tax_rate": "31"}, "tax_rate", "0 to 30 per cent"),
    ({"tax_rate": "-1"}, "tax_rate", "0 to 30 per cent"),
    ({"tax_rate": "abc"}, "tax_rate", "0 to 30 per cent"),
    ({"tax_rate": ""}, "tax_rate", "Required."),
    ({"diagnosis_fee": "100000.01"}, "diagnosis_fee", "0 to 100,000"),
    ({"diagnosis_fee": "-5"}, "diagnosis_fee", "0 to 100,000"),
    ({"opening": "25:00"}, "opening", "HH:MM"),
    ({"closing": "soon"}, "closing", "HH:MM"),
    ({"opening": "18:00"}, "closing", "later than opening"),
    ({"closing": "08:30"}, "closing", "later than opening"),
    ({"break_start": "12:00", "break_end": ""}, "break_end", "or neither"),
    ({"break_start": "", "break_end": "13:00"}, "break_start", "or neither"),
    ({"break_start": "13:00", "break_end": "12:00"}, "break_end", "end after it starts"),
    ({"break_start": "07:00", "break_end": "08:00"}, "break_start", "within the opening hours"),
    ({"break_start": "17:00", "break_end": "18:00"}, "break_start", "within the opening hours"),
    ({"reception_minutes": "0"}, "reception_minutes", "1 to 120"),
    ({"reception_minutes": "121"}, "reception_minutes", "1 to 120"),
    ({"appointment_early_minutes": "241"}, "appointment_early_minutes", "0 to 240"),
    ({"appointment_late_minutes": "-1"}, "appointment_late_minutes", "0 to 240"),
    ({"prefix_appointment": "a"}, "prefix_appointment", "capital letters"),
    ({"prefix_appointment": "ABC"}, "prefix_appointment", "capital letters"),
    ({"prefix_walkin": "W1"}, "prefix_walkin", "capital letters"),
    ({"prefix_walkin": "A"}, "prefix_walkin", "different prefix"),
    ({"name_zh": " "}, "name_zh", "Required."),
    ({"name_en": ""}, "name_en", "Required."),
])
def test_site_validation(client, shop, changes, field, message):
    login(client, shop.manager)
    before = db.session.get(Site, shop.site.id)
    before_values = (before.tax_rate, before.name_zh, before.opening)
    form = {**GOOD, "name_en": "Typed name", **changes}
    resp = post(client, "/admin/site", form)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in (field_error(html, f"f-{field}") or ""), html[:3000]
    assert f'id="f-{field}"' in html and 'aria-invalid="true"' in html
    for name, value in form.items():                # everything typed is kept
        assert field_value(html, f"f-{name}") == value.strip() or field_value(html, f"f-{name}") == value
    site = db.session.get(Site, shop.site.id)
    assert (site.tax_rate, site.name_zh, site.opening) == before_values     # nothing stored


def test_parser_reports_every_field(app, shop):
    with pytest.raises(Invalid) as exc:
        parse_site_settings({"tax_rate": "50", "opening": "9", "prefix_walkin": "x"})
    errors = exc.value.errors
    assert errors["tax_rate"] == "tax_range" and errors["opening"] == "time_invalid"
    assert errors["prefix_walkin"] == "prefix_invalid" and errors["name_zh"] == "required"


# ---------------------------------------------------------------- the roster

def test_roster_add_update_remove_with_total(client, shop):
    login(client, shop.dispatcher)
    site, tech = shop.site, shop.technician
    day = today(site) + timedelta(days=1)
    url = f"/admin/shifts?day={day.isoformat()}"
    resp = post(client, url, {"user_id": tech.id, "start": "08:30", "end": "17:30"})
    assert resp.status_code == 302 and day.isoformat() in resp.headers["Location"]
    shift = db.session.scalar(select(TechnicianShift))
    assert (shift.user_id, shift.day, shift.start, shift.end) == (tech.id, day, "08:30", "17:30")
    html = client.get(url).get_data(as_text=True)
    assert "8.0 technician-hours" in html        # 9 h less the hour of break
    assert field_value(html, f"s{tech.id}-start") == "08:30"

    assert post(client, url, {"user_id": tech.id, "start": "13:00", "end": "15:30"}).status_code == 302
    db.session.expire_all()
    shifts = db.session.scalars(select(TechnicianShift)).all()
    assert len(shifts) == 1 and (shifts[0].start, shifts[0].end) == ("13:00", "15:30")
    assert "2.5 technician-hours" in client.get(url).get_data(as_text=True)

    assert post(client, url, {"user_id": tech.id, "action": "delete"}).status_code == 302
    assert db.session.scalar(select(TechnicianShift)) is None
    # No roster: both technicians count for the opening hours.
    html = client.get(url).get_data(as_text=True)
    assert "16.0 technician-hours" in html and "No roster entered" in html


def test_day_picker_links(client, shop):
    login(client, shop.dispatcher)
    html = client.get("/admin/shifts?day=2026-11-29").get_data(as_text=True)
    assert 'href="/admin/shifts?day=2026-11-28"' in html and 'href="/admin/shifts?day=2026-11-30"' in html
    assert 'value="2026-11-29"' in html
    assert client.get("/admin/shifts?day=garbage").status_code == 200      # falls back to today


@pytest.mark.parametrize("start, end, field, message", [
    ("", "12:00", "start", "Required."),
    ("8", "12:00", "start", "HH:MM"),
    ("08:00", "24:00", "end", "HH:MM"),
    ("12:00", "08:00", "end", "end after it starts"),
    ("12:00", "12:00", "end", "end after it starts"),
])
def test_shift_validation(client, shop, start, end, field, message):
    login(client, shop.dispatcher)
    tech = shop.technician
    resp = post(client, "/admin/shifts?day=2026-11-29", {"user_id": tech.id, "start": start, "end": end})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in (field_error(html, f"s{tech.id}-{field}") or ""), html[:3000]
    assert field_value(html, f"s{tech.id}-start") == start
    assert field_value(html, f"s{tech.id}-end") == end
    assert db.session.scalar(select(TechnicianShift)) is None


@pytest.mark.parametrize("who", ["advisor", "dispatcher", "other_tech"])
def test_non_technician_cannot_be_rostered(client, shop, who):
    login(client, shop.manager)
    resp = post(client, "/admin/shifts", {"user_id": shop.people[who].id, "start": "08:00", "end": "12:00"})
    assert resp.status_code == 422
    assert "Only technicians of this site" in resp.get_data(as_text=True)
    assert db.session.scalar(select(TechnicianShift)) is None
    with pytest.raises(Invalid):
        settings_svc.save_shift(shop.site, shop.people[who].id, date(2026, 11, 29), "08:00", "12:00")


# ---------------------------------------------------------------- the promise time follows the roster

@pytest.fixture
def open_estimate(shop, factory):
    site = shop.site
    advisor = shop.advisor
    db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("180.00")))
    op = LabourOperation(site_id=site.id, code="OIL", name_zh="更换机油机滤", name_en="Oil change",
                         hours=Decimal("2"))
    db.session.add(op)
    db.session.commit()
    visit = visit_at_estimate(factory, site, advisor, plate="京A20001", mobile="13900000001")
    estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(op.id)}), advisor)
    assert visit.state == "estimate"
    return visit


def test_a_shift_moves_the_promise_time(client, shop, open_estimate):
    visit = open_estimate
    before = estimates.estimate_for(visit).promised_at
    assert before is not None     # two technicians on the opening hours (no roster yet)
    login(client, shop.dispatcher)
    day = today(shop.site)
    # Only one technician, and for just an hour a day: 2 h of work now takes much longer.
    resp = post(client, f"/admin/shifts?day={day.isoformat()}", {"user_id": shop.technician.id,
                                                                 "start": "08:30", "end": "09:30"})
    assert resp.status_code == 302
    db.session.expire_all()
    after = estimates.estimate_for(db.session.get(type(visit), visit.id)).promised_at
    assert after > before


def test_opening_hours_move_the_promise_time(client, shop, open_estimate):
    visit = open_estimate
    before = estimates.estimate_for(visit).promised_at
    login(client, shop.manager)
    assert post(client, "/admin/site", dict(GOOD, opening="09:00", closing="10:00", break_start="",
                                            break_end="")).status_code == 302
    db.session.expire_all()
    after = estimates.estimate_for(db.session.get(type(visit), visit.id)).promised_at
    assert after != before
