"""The walk-around compares today's odometer with the *previous* visit's reading.

The car's last reading used to be overwritten when the walk-around was completed, so the page
then said "Last visit: 1,000 km" about this very visit (and a first visit showed one at all).
It becomes this visit's reading when the car leaves (delivered)."""
from tests.factories import job_at_dispatch, visit_delivered
from tests.support import login
from webapp.extensions import db
from webapp.models import Vehicle, Visit


def test_a_first_visit_shows_no_previous_reading_and_the_car_keeps_it_after_delivery(client, factory):
    site = factory.site(code="km1")
    advisor = factory.user(site, "advisor", username="adv")
    visit = job_at_dispatch(factory, site, advisor, plate="京A10001")   # walk-around done at 1,000 km
    assert db.session.get(Visit, visit.id).vehicle.last_mileage is None

    client.set_cookie("lang", "en")
    login(client, advisor)
    html = client.get(f"/advisor/visits/{visit.id}/section/inspection").get_data(as_text=True)
    assert "1000" in html.replace(",", "")          # today's reading is on the form
    assert "Last visit" not in html                  # ... and not presented as a previous one

    delivered = visit_delivered(factory, site, advisor, plate="京A10002")
    assert db.session.get(Vehicle, delivered.vehicle_id).last_mileage == 1000


def test_a_returning_car_shows_the_previous_reading_during_the_visit(client, factory):
    site = factory.site(code="km2")
    advisor = factory.user(site, "advisor", username="adv")
    factory.customer_vehicle(site, plate="京A10003", mobile="13800138000", last_mileage=800)
    from tests.factories import visit_at_estimate
    visit = visit_at_estimate(factory, site, advisor, plate="京A10003")
    client.set_cookie("lang", "en")
    login(client, advisor)
    html = client.get(f"/advisor/visits/{visit.id}/section/inspection").get_data(as_text=True)
    assert "Last visit: 800 km" in html
