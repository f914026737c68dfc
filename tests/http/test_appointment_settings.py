"""The booking capacity settings on /admin/site: stored with defaults, each bad value named next
to its field with what was typed kept, and a form without the card keeps what is stored."""
from datetime import date
from decimal import Decimal

import pytest

from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import Site
from webapp.services import booking_capacity as cap_db

GOOD = {"name_zh": "星驰汽车4S店", "name_en": "Xingchi Motors", "tax_rate": "13", "diagnosis_fee": "200",
        "opening": "08:30", "closing": "17:30", "break_start": "12:00", "break_end": "13:00",
        "reception_minutes": "10", "appointment_early_minutes": "30", "appointment_late_minutes": "15",
        "prefix_appointment": "A", "prefix_walkin": "W"}
BOOKING = {"booking": "1", "slot_minutes": "45", "slot_customers": "2", "utilisation_percent": "90",
           "reserve_percent": "25", "cap_maintenance_hours": "12.5", "cap_diagnosis_hours": "",
           "closed_weekdays": ["6"], "holidays": "2027-01-01\n2027-02-10, 2027-01-01"}


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(factory):
    site = factory.site(code="bj01")
    return {"site": site, "manager": factory.user(site, "manager")}


def post(client, data):
    return client.post("/admin/site", data={**data, "csrf_token": csrf_token(client, "/login")})


def test_defaults(shop):
    site = shop["site"]
    assert (site.slot_minutes, site.slot_customers, site.utilisation_percent, site.reserve_percent) == (30, 1, 85, 20)
    assert site.cap_maintenance_hours is None and site.holidays == "" and site.closed_weekdays == ""


def test_booking_settings_are_stored_and_feed_the_rules(client, shop):
    login(client, shop["manager"])
    assert post(client, {**GOOD, **BOOKING}).status_code == 302
    site = db.session.get(Site, shop["site"].id)
    assert (site.slot_minutes, site.slot_customers, site.utilisation_percent, site.reserve_percent) == (45, 2, 90, 25)
    assert site.cap_maintenance_hours == Decimal("12.5") and site.cap_diagnosis_hours is None
    assert site.closed_weekdays == "6" and site.holidays == "2027-01-01\n2027-02-10"
    rules = cap_db.rules_of(site)
    assert rules.closed(date(2027, 1, 1)) and rules.closed(date(2027, 1, 3))      # a holiday; a Sunday
    assert not rules.closed(date(2027, 1, 4))
    assert rules.cap("maintenance") == Decimal("12.5") and rules.cap("diagnosis") is None
    html = client.get("/admin/site").get_data(as_text=True)
    assert 'value="12.5"' in html and 'value="6" checked' in html


def test_a_form_without_the_booking_card_keeps_it(client, shop):
    login(client, shop["manager"])
    post(client, {**GOOD, **BOOKING})
    assert post(client, GOOD).status_code == 302
    site = db.session.get(Site, shop["site"].id)
    assert site.slot_minutes == 45 and site.holidays == "2027-01-01\n2027-02-10"


@pytest.mark.parametrize("changes, field, message", [
    ({"slot_minutes": "5"}, "slot_minutes", "10 to 240 minutes"),
    ({"slot_customers": "0"}, "slot_customers", "1 to 10 customers"),
    ({"utilisation_percent": "120"}, "utilisation_percent", "10 to 100 per cent"),
    ({"reserve_percent": "95"}, "reserve_percent", "0 to 90 per cent"),
    ({"cap_maintenance_hours": "1.25"}, "cap_maintenance_hours", "one decimal"),
    ({"cap_diagnosis_hours": "lots"}, "cap_diagnosis_hours", "one decimal"),
    ({"holidays": "2027-01-01\nnew year"}, "holidays", "YYYY-MM-DD"),
    ({"online_hours_bodywork": "0.2"}, "online_hours_bodywork", "0.25 to 8 hours"),
    ({"online_hours_other": "9"}, "online_hours_other", "0.25 to 8 hours"),
    ({"online_hours_maintenance": "1.333"}, "online_hours_maintenance", "0.25 to 8 hours"),
])
def test_bad_values_are_named_and_kept(client, shop, changes, field, message):
    login(client, shop["manager"])
    resp = post(client, {**GOOD, **BOOKING, **changes})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html
    assert f'id="f-{field}"' in html and 'aria-invalid="true"' in html
    typed = changes[field]
    assert (typed.split("\n")[-1] in html)
    assert db.session.get(Site, shop["site"].id).slot_minutes == 30


def test_the_hours_an_online_booking_holds_are_settings(client, shop):
    """Defaults 1 h maintenance (and repairs), 2 h bodywork, 0.5 h anything else; the online
    booking holds what the card says."""
    from webapp.services import online_booking
    site = shop["site"]
    assert [online_booking.typical_hours(site, r) for r in ("maintenance", "repair", "bodywork", "other")] == \
        [Decimal("1"), Decimal("1"), Decimal("2"), Decimal("0.5")]
    login(client, shop["manager"])
    page = client.get("/admin/site").get_data(as_text=True)
    assert 'id="f-online_hours_other" name="online_hours_other" type="text" value="0.5"' in page
    hours = {"online_hours_maintenance": "1.5", "online_hours_bodywork": "3", "online_hours_other": "0.25"}
    assert post(client, {**GOOD, **BOOKING, **hours}).status_code == 302
    site = db.session.get(Site, site.id)
    assert online_booking.typical_hours(site, "warranty") == Decimal("1.5")
    assert online_booking.typical_hours(site, "bodywork") == Decimal("3")
    assert online_booking.least_hours(site) == Decimal("0.25")
    assert post(client, {**GOOD, **BOOKING}).status_code == 302           # a form without them keeps them
    assert db.session.get(Site, site.id).online_hours_bodywork == Decimal("3")
