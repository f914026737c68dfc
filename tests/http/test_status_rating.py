"""The rating and the short survey on the customer's status page (/t/<token>): offered once the car
is ready (rating) or delivered (survey), no PIN and nothing personal shown, one rating per visit
(the same tap again is a replay, another star is refused politely), a low rating opens a complaint
case for the CSI staff member with the fewest open cases, CSRF, rate limits, the cached page follows."""
from datetime import timedelta
import json

import pytest
from sqlalchemy import func, select

from tests.factories import visit_delivered, visit_ready
from tests.support import csrf_token, make_app
from webapp.extensions import db
from webapp.models import Complaint, SurveyResponse
from webapp.timeutil import utcnow

SURVEY = {"explained": "yes", "on_time": "no", "clean": "yes", "recommend": "yes", "comment": "等了一会儿"}

# A rating of 2 or less opens a complaint, due in 2 days; the shop's only CSI staff are the two below
# (a complaint goes to the least busy one).
pytestmark = pytest.mark.shop(roles=("advisor",), staff={"advisor": {"display_name": "王晓明"}},
                              complaint_rating=2, complaint_due_days=2)


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(shop, factory):
    """The shared shop's advisor and two CSI staff, the busy one first (so the pick is by workload, not id)."""
    shop.people["csi_busy"] = factory.user(shop.site, "csi", username="csi_busy", display_name="忙回访")
    shop.people["csi_free"] = factory.user(shop.site, "csi", username="csi_free", display_name="闲回访")
    return shop


def post(client, token, path, data):
    csrf = csrf_token(client, f"/t/{token}")
    return client.post(f"/t/{token}/{path}", data={**data, "csrf_token": csrf})


def count(model, **where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def test_no_rating_before_the_car_is_ready(client, factory, shop):
    site = shop.site
    ticket = factory.walkin(site)
    html = client.get(f"/t/{ticket.token}").get_data(as_text=True)
    assert "How was your visit?" not in html and 'id="feedback"' not in html
    resp = post(client, ticket.token, "rate", {"rating": "5"})
    assert resp.status_code == 409 and "once your car is ready" in resp.get_data(as_text=True)
    assert count(SurveyResponse) == 0


def test_rating_at_pickup_without_pin_and_nothing_personal(client, factory, shop):
    site, advisor = shop.site, shop.advisor
    visit = visit_ready(factory, site, advisor)
    token = visit.ticket.token
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert "How was your visit?" in html and html.count('name="rating"') == 5
    assert 'style="' not in html and "<script>" not in html
    assert "京A12345" not in html and "13800138000" not in html and "王晓明" not in html
    # No survey before delivery.
    assert 'id="survey"' not in html

    resp = post(client, token, "rate", {"rating": "4"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("#feedback")
    html = client.get(f"/t/{token}").get_data(as_text=True)   # the cached page follows the change
    assert "Thank you for your rating" in html and 'data-rating="4"' in html
    assert "will call you" not in html
    assert "data-rate-change" in html          # a mis-tap may be changed for a few minutes
    assert count(SurveyResponse, channel="pickup", rating=4) == 1 and count(Complaint) == 0
    # The fragment (live) shows the same.
    assert "Thank you for your rating" in client.get(f"/t/{token}/fragment").get_data(as_text=True)


def test_second_tap_replays_or_is_refused(client, factory, shop):
    site, advisor = shop.site, shop.advisor
    visit = visit_ready(factory, site, advisor)
    token = visit.ticket.token
    assert post(client, token, "rate", {"rating": "5"}).status_code == 303
    # The same star again (a double tap): answered like the first, nothing twice.
    assert post(client, token, "rate", {"rating": "5"}).status_code == 303
    # Another star soon after: a mis-tap may be corrected (one response, now 4 stars) ...
    assert post(client, token, "rate", {"rating": "4"}).status_code == 303
    assert count(SurveyResponse, channel="pickup") == 1 and count(SurveyResponse, rating=4) == 1
    # ... but not once the change window has passed: refused politely, the rating stands.
    row = db.session.scalar(select(SurveyResponse).where(SurveyResponse.visit_id == visit.id))
    row.at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    resp = post(client, token, "rate", {"rating": "1", "confirm": "1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "Your first rating is the one we keep" in html
    assert count(SurveyResponse, channel="pickup") == 1 and count(SurveyResponse, rating=4) == 1
    assert count(Complaint) == 0


def test_a_low_rating_asks_for_a_second_tap_before_opening_a_complaint(client, factory, shop):
    site, advisor = shop.site, shop.advisor
    visit = visit_ready(factory, site, advisor)
    token = visit.ticket.token
    client.set_cookie("lang", "en")
    assert post(client, token, "rate", {"rating": "2"}).status_code == 303
    for url in (f"/t/{token}", f"/t/{token}/fragment"):          # a live refresh keeps asking
        html = client.get(url).get_data(as_text=True)
        assert "You chose 2 of 5 stars" in html and "data-rate-confirm" in html
    assert count(SurveyResponse, channel="pickup") == 0 and count(Complaint) == 0   # nothing recorded yet
    # "Choose again", then five stars: no complaint ever opened.
    assert post(client, token, "rate", {"cancel": "1"}).status_code == 303
    assert "How was your visit?" in client.get(f"/t/{token}").get_data(as_text=True)
    assert post(client, token, "rate", {"rating": "5"}).status_code == 303
    assert count(Complaint) == 0 and count(SurveyResponse, rating=5) == 1


def test_a_rating_that_opened_a_complaint_cannot_be_changed(client, factory, shop):
    site, advisor = shop.site, shop.advisor
    visit = visit_ready(factory, site, advisor)
    token = visit.ticket.token
    assert post(client, token, "rate", {"rating": "1", "confirm": "1"}).status_code == 303
    assert count(Complaint, visit_id=visit.id) == 1
    assert post(client, token, "rate", {"rating": "5"}).status_code == 409
    assert count(SurveyResponse, rating=1) == 1


@pytest.mark.parametrize("raw", ["0", "6", "abc", ""])
def test_bad_rating(client, factory, shop, raw):
    site, advisor = shop.site, shop.advisor
    visit = visit_ready(factory, site, advisor)
    resp = post(client, visit.ticket.token, "rate", {"rating": raw})
    assert resp.status_code == 422 and "tap one of the five stars" in resp.get_data(as_text=True)
    assert count(SurveyResponse) == 0


def test_csrf_required(client, factory, shop):
    site, advisor = shop.site, shop.advisor
    visit = visit_ready(factory, site, advisor)
    client.get(f"/t/{visit.ticket.token}")
    assert client.post(f"/t/{visit.ticket.token}/rate", data={"rating": "2"}).status_code == 400
    assert client.post(f"/t/{visit.ticket.token}/survey", data=SURVEY).status_code == 400
    assert count(SurveyResponse) == 0 and count(Complaint) == 0


def test_low_rating_opens_a_complaint_for_the_least_busy_csi(client, factory, shop):
    site, advisor, csi_busy, csi_free = shop.site, shop.advisor, shop.people["csi_busy"], shop.people["csi_free"]
    db.session.add(Complaint(site_id=site.id, source="staff", summary="earlier", owner_id=csi_busy.id,
                             due_at=utcnow()))
    db.session.commit()
    visit = visit_ready(factory, site, advisor)
    token = visit.ticket.token
    assert post(client, token, "rate", {"rating": "2", "confirm": "1"}).status_code == 303
    db.session.expire_all()
    case = db.session.scalar(select(Complaint).where(Complaint.visit_id == visit.id))
    assert case.source == "rating" and case.status == "open" and case.owner_id == csi_free.id
    assert "2/5" in case.summary and "★★☆☆☆" in case.summary
    hours = (case.due_at - case.created_at).total_seconds() / 3600
    assert 47.9 < hours < 48.1
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert "will call you soon" in html
    # Replaying the tap opens nothing twice.
    assert post(client, token, "rate", {"rating": "2", "confirm": "1"}).status_code == 303
    assert count(Complaint, visit_id=visit.id) == 1


def test_threshold_is_the_sites(client, factory, shop):
    site, advisor = shop.site, shop.advisor
    site.complaint_rating = 3
    db.session.commit()
    visit = visit_ready(factory, site, advisor)
    assert post(client, visit.ticket.token, "rate", {"rating": "3", "confirm": "1"}).status_code == 303
    assert count(Complaint, visit_id=visit.id) == 1


def test_no_csi_staff_means_no_owner(client, factory):
    site = factory.site(code="fb2")
    advisor = factory.user(site, "advisor")
    visit = visit_ready(factory, site, advisor)
    assert post(client, visit.ticket.token, "rate", {"rating": "1", "confirm": "1"}).status_code == 303
    db.session.expire_all()
    case = db.session.scalar(select(Complaint).where(Complaint.visit_id == visit.id))
    assert case is not None and case.owner_id is None


def test_survey_after_delivery_once(client, factory, shop):
    site, advisor = shop.site, shop.advisor
    visit = visit_delivered(factory, site, advisor)
    token = visit.ticket.token
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert 'data-survey="open"' in html and "Would you recommend us to a friend?" in html
    assert "How was your visit?" in html     # the rating is still offered after delivery

    # Bad input: the message next to each missing answer, what was chosen kept.
    resp = post(client, token, "survey", {"explained": "yes", "comment": "ok"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Please answer every question." in html
    assert 'id="sq-on_time-error"' in html and 'id="sq-explained-error"' not in html
    assert 'name="explained" value="yes" checked' in html and ">ok</textarea>" in html
    assert count(SurveyResponse, channel="survey") == 0

    assert post(client, token, "survey", SURVEY).status_code == 303
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert 'data-survey="done"' in html and "Thank you for your answers" in html
    db.session.expire_all()
    resp_row = db.session.scalar(select(SurveyResponse).where(SurveyResponse.channel == "survey"))
    assert json.loads(resp_row.answers) == {"explained": "yes", "on_time": "no", "clean": "yes", "recommend": "yes"}
    assert resp_row.comment == "等了一会儿"

    again = post(client, token, "survey", SURVEY)
    assert again.status_code == 409 and "already recorded" in again.get_data(as_text=True)
    assert count(SurveyResponse, channel="survey") == 1


def test_no_survey_before_delivery(client, factory, shop):
    site, advisor = shop.site, shop.advisor
    visit = visit_ready(factory, site, advisor)
    resp = post(client, visit.ticket.token, "survey", SURVEY)
    assert resp.status_code == 409 and "after your car is delivered" in resp.get_data(as_text=True)


def test_rate_limited(db_url, app, factory, shop):
    site, advisor = shop.site, shop.advisor
    visit = visit_ready(factory, site, advisor)
    token = visit.ticket.token
    limited = make_app(db_url, RATELIMIT_ENABLED=True, RATELIMIT_PIN="3 per minute")
    with limited.app_context():
        client = limited.test_client()
        client.set_cookie("lang", "en")
        csrf = csrf_token(client, "/login")
        codes = [client.post(f"/t/{token}/rate", data={"rating": "5", "csrf_token": csrf}).status_code
                 for _ in range(4)]
        assert codes == [303, 303, 303, 429]
