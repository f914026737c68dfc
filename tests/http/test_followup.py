"""The follow-up call queue (/followup) over HTTP: roles, what a due call shows (full mobile on the
staff screen, work done, pickup rating), upcoming calls, the three outcomes and their rules (retry
within opening hours, unreachable after the last attempt, wrong number closes, reached moves the
visit to FOLLOWED_UP with the answers), a complaint opened from the call, double submit, bad
input next to the field, site scoping, CSRF, and the periodic task that escalates complaints."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import visit_delivered
from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import Complaint, FollowUp, FollowUpCall, SurveyResponse, Visit, VisitEvent
from webapp.timeutil import utcnow

# A call not reached is tried again after a day, twice at most.
pytestmark = pytest.mark.shop(followup_retry_hours=24, followup_max_attempts=2)

ANSWERS = {"explained": "yes", "on_time": "yes", "clean": "no", "recommend": "yes"}


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(shop, factory):
    """The shared shop, with a CSI of another site among its people."""
    other = factory.site(code="fu2")
    shop.people["other_csi"] = factory.user(other, "csi", username="csi_other")
    return shop


def due_now(visit):
    """Make the visit's follow-up due (it was scheduled followup_days after delivery)."""
    fu = db.session.get(FollowUp, visit.follow_up.id)
    fu.due_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    return fu


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/login")})


def count(model, **where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


# ---------------------------------------------------------------- roles

@pytest.mark.parametrize("role, code", [("csi", 200), ("manager", 200), ("advisor", 403), ("cashier", 403)])
def test_roles(client, shop, role, code):
    p = shop.people
    login(client, p[role])
    assert client.get("/followup").status_code == code
    assert client.get("/followup/panel").status_code == code


def test_needs_login(client, shop):
    assert client.get("/followup").status_code == 302


def test_csi_lands_on_the_queue(client, shop):
    p = shop.people
    resp = login(client, p["csi"])
    assert resp.headers["Location"].endswith("/followup")


# ---------------------------------------------------------------- the queue

def test_queue_lists_due_and_upcoming(client, factory, shop):
    site, p = shop.site, shop.people
    v1 = visit_delivered(factory, site, p["advisor"], plate="京A11111")
    v2 = visit_delivered(factory, site, p["advisor"], plate="京B22222")
    due_now(v1)
    db.session.add(SurveyResponse(site_id=site.id, visit_id=v1.id, channel="pickup", rating=4))
    db.session.commit()
    login(client, p["csi"])
    html = client.get("/followup").get_data(as_text=True)
    due = html.split('id="upcoming"')[0]
    upcoming = html.split('id="upcoming"')[1]
    assert f'data-follow-up="{v1.follow_up.id}"' in due and "京A11111" in due
    assert "13800138000" in due and "张三" in due                          # staff screen: full mobile
    assert "更换前刹车片" in due and 'data-rating="4"' in due
    assert p["advisor"].display_name in due
    assert f'data-follow-up="{v2.follow_up.id}"' in upcoming and "京B22222" not in due
    assert 'data-live-channel="followup"' in html and 'hx-get="/followup/panel"' in html
    assert 'style="' not in html and "<script>" not in html
    # The panel alone (live refetch) is the same block.
    panel = client.get("/followup/panel").get_data(as_text=True)
    assert panel.strip().startswith('<div id="panel"') and "京A11111" in panel


def test_queue_oldest_first_and_site_scoped(client, factory, shop):
    site, p = shop.site, shop.people
    v1 = visit_delivered(factory, site, p["advisor"], plate="京A11111")
    v2 = visit_delivered(factory, site, p["advisor"], plate="京B22222")
    due_now(v2)
    fu1 = due_now(v1)
    fu1.due_at = utcnow() - timedelta(days=1)
    db.session.commit()
    login(client, p["csi"])
    html = client.get("/followup").get_data(as_text=True)
    assert html.index("京A11111") < html.index("京B22222")
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(client, p["other_csi"])
    html = client.get("/followup").get_data(as_text=True)
    assert "京A11111" not in html
    assert client.get(f"/followup/{v1.follow_up.id}").status_code == 404
    resp = post(client, f"/followup/{v1.follow_up.id}/call", {"attempt": "0", "outcome": "wrong_number"})
    assert resp.status_code == 404
    assert count(FollowUpCall) == 0


# ---------------------------------------------------------------- outcomes

def test_reached_records_answers_and_follows_up_the_visit(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    fu = due_now(visit)
    login(client, p["csi"])
    page = client.get(f"/followup/{fu.id}").get_data(as_text=True)
    assert 'name="attempt" value="0"' in page and "Did we explain the work well?" in page
    assert 'href="tel:13800138000"' in page
    resp = post(client, f"/followup/{fu.id}/call", {"attempt": "0", "outcome": "reached", "rating": "4",
                                                     "comment": "很满意", **ANSWERS})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/followup")
    fu = fresh(FollowUp, fu.id)
    assert (fu.status, fu.attempts) == ("reached", 1) and fu.closed_at is not None
    assert fresh(Visit, visit.id).state == "followed_up"
    ev = db.session.scalar(select(VisitEvent).where(VisitEvent.visit_id == visit.id).order_by(VisitEvent.id.desc()))
    assert (ev.from_state, ev.to_state, ev.action, ev.actor_id) == ("delivered", "followed_up", "follow_up_call",
                                                                    p["csi"].id)
    call = db.session.scalar(select(FollowUpCall))
    assert (call.outcome, call.staff_id, call.comment) == ("reached", p["csi"].id, "很满意")
    sr = db.session.scalar(select(SurveyResponse).where(SurveyResponse.channel == "call"))
    assert sr.rating == 4 and json.loads(sr.answers) == ANSWERS
    assert count(Complaint) == 0
    html = client.get("/followup").get_data(as_text=True)
    assert "Call recorded: customer reached." in html and f'data-follow-up="{fu.id}"' not in html
    # The call page now says it is closed, and another outcome is refused.
    assert "This follow-up is closed" in client.get(f"/followup/{fu.id}").get_data(as_text=True)
    assert post(client, f"/followup/{fu.id}/call", {"attempt": "1", "outcome": "no_answer"}).status_code == 409


def test_double_submit_records_one_call(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    fu = due_now(visit)
    login(client, p["csi"])
    form = {"attempt": "0", "outcome": "reached", **ANSWERS}
    assert post(client, f"/followup/{fu.id}/call", form).status_code == 303
    again = post(client, f"/followup/{fu.id}/call", form)
    assert again.status_code == 409 and "already recorded" in again.get_data(as_text=True)
    assert count(FollowUpCall) == 1 and count(SurveyResponse, channel="call") == 1
    # "No answer" twice from the same opened page: one attempt.
    v2 = visit_delivered(factory, site, p["advisor"], plate="京B22222")
    fu2 = due_now(v2)
    assert post(client, f"/followup/{fu2.id}/call", {"attempt": "0", "outcome": "no_answer"}).status_code == 303
    assert post(client, f"/followup/{fu2.id}/call", {"attempt": "0", "outcome": "no_answer"}).status_code == 409
    assert fresh(FollowUp, fu2.id).attempts == 1


def test_no_answer_retries_then_unreachable(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    fu = due_now(visit)
    login(client, p["csi"])
    before = utcnow()
    assert post(client, f"/followup/{fu.id}/call", {"attempt": "0", "outcome": "no_answer",
                                                     "comment": "无人接听"}).status_code == 303
    fu = fresh(FollowUp, fu.id)
    assert (fu.status, fu.attempts) == ("due", 1)
    # 24 h later, moved into opening hours (08:30–17:30 Shanghai = 00:30–09:30 UTC).
    assert fu.due_at >= before + timedelta(hours=24)
    assert fu.due_at <= before + timedelta(hours=24 + 16)
    local_minutes = ((fu.due_at.hour + 8) % 24) * 60 + fu.due_at.minute
    assert 8 * 60 + 30 <= local_minutes < 17 * 60 + 30
    html = client.get("/followup").get_data(as_text=True)
    assert "no answer" in html and f'data-follow-up="{fu.id}"' in html.split('id="upcoming"')[1]
    # The second unanswered call of two: unreachable, closed; the visit stays delivered.
    fu.due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert post(client, f"/followup/{fu.id}/call", {"attempt": "1", "outcome": "no_answer"}).status_code == 303
    fu = fresh(FollowUp, fu.id)
    assert (fu.status, fu.attempts) == ("unreachable", 2) and fu.closed_at is not None
    assert fresh(Visit, visit.id).state == "delivered"
    assert count(FollowUpCall, outcome="no_answer") == 2


def test_wrong_number_closes(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    fu = due_now(visit)
    login(client, p["csi"])
    assert post(client, f"/followup/{fu.id}/call", {"attempt": "0", "outcome": "wrong_number"}).status_code == 303
    fu = fresh(FollowUp, fu.id)
    assert fu.status == "wrong_number" and fu.closed_at is not None
    assert fresh(Visit, visit.id).state == "delivered"


@pytest.mark.parametrize("form, field_id, message", [
    ({"outcome": "reached", "explained": "yes"}, "q-on_time-error", "Required."),
    ({"outcome": "reached", **ANSWERS, "rating": "9"}, "f-rating-error", "Choose 1 to 5 stars."),
    ({"outcome": "reached", **ANSWERS, "complaint": "1", "summary": " "}, "f-summary-error", "Required."),
    ({"outcome": "reached", **ANSWERS, "comment": "x" * 2001}, "f-comment-error", "Too long."),
])
def test_bad_input_next_to_the_field(client, factory, shop, form, field_id, message):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    fu = due_now(visit)
    login(client, p["csi"])
    resp = post(client, f"/followup/{fu.id}/call", {"attempt": "0", "comment": "typed", **form})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    match = re.search(rf'id="{field_id}"[^>]*>([^<]*)<', html)
    assert match and message in match.group(1)
    if form.get("explained") == "yes":
        assert 'name="explained" value="yes" checked' in html      # what was chosen is kept
    assert fresh(FollowUp, fu.id).attempts == 0 and count(FollowUpCall) == 0


def test_bad_outcome(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    fu = due_now(visit)
    login(client, p["csi"])
    resp = post(client, f"/followup/{fu.id}/call", {"attempt": "0", "outcome": "maybe"})
    assert resp.status_code == 422 and "Choose the outcome of the call." in resp.get_data(as_text=True)


def test_csrf_required(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    fu = due_now(visit)
    login(client, p["csi"])
    resp = client.post(f"/followup/{fu.id}/call", data={"attempt": "0", "outcome": "wrong_number"})
    assert resp.status_code == 400 and count(FollowUpCall) == 0


def test_complaint_from_the_call(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    fu = due_now(visit)
    login(client, p["csi"])
    resp = post(client, f"/followup/{fu.id}/call", {"attempt": "0", "outcome": "reached", **ANSWERS,
                                                     "complaint": "1", "summary": "刹车还有异响"})
    assert resp.status_code == 303
    case = db.session.scalar(select(Complaint))
    assert (case.source, case.summary, case.visit_id, case.owner_id) == ("call", "刹车还有异响", visit.id, p["csi"].id)
    html = client.get("/followup").get_data(as_text=True)
    assert 'data-count="complaints">1<' in html


def test_low_rating_on_the_call_opens_a_case(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    fu = due_now(visit)
    login(client, p["csi"])
    post(client, f"/followup/{fu.id}/call", {"attempt": "0", "outcome": "reached", **ANSWERS, "rating": "1"})
    assert count(Complaint, source="call") == 1


def test_periodic_task_escalates_once(app, factory, shop):
    from webapp.tasks.periodic import escalate_complaints
    site = shop.site
    db.session.add(Complaint(site_id=site.id, source="staff", summary="late", due_at=utcnow() - timedelta(hours=1)))
    db.session.add(Complaint(site_id=site.id, source="staff", summary="not yet", due_at=utcnow() + timedelta(hours=1)))
    db.session.commit()
    assert escalate_complaints.call_local() == 1
    assert escalate_complaints.call_local() == 0          # a second run (another consumer) escalates nothing
    db.session.expire_all()
    late = db.session.scalar(select(Complaint).where(Complaint.summary == "late"))
    assert late.escalated_at is not None
    assert db.session.scalar(select(Complaint).where(Complaint.summary == "not yet")).escalated_at is None


# ---------------------------------------------------------------- site settings for follow-up

SITE_FORM = {"name_zh": "星驰汽车4S店", "name_en": "Xingchi Motors", "tax_rate": "13", "diagnosis_fee": "200",
             "opening": "08:30", "closing": "17:30", "break_start": "12:00", "break_end": "13:00",
             "reception_minutes": "10", "appointment_early_minutes": "30", "appointment_late_minutes": "15",
             "prefix_appointment": "A", "prefix_walkin": "W"}
FOLLOWUP_FORM = {"followup_days": "5", "followup_retry_hours": "4", "followup_max_attempts": "4",
                 "complaint_rating": "3", "complaint_due_days": "1"}


def test_settings_store_the_followup_figures(client, shop):
    site, p = shop.site, shop.people
    login(client, p["manager"])
    html = client.get("/admin/site").get_data(as_text=True)
    assert 'id="f-followup_days"' in html and 'value="2"' in html     # followup_max_attempts of the fixture
    resp = post(client, "/admin/site", {**SITE_FORM, **FOLLOWUP_FORM})
    assert resp.status_code == 302
    db.session.expire_all()
    s = db.session.get(type(site), site.id)
    assert (s.followup_days, s.followup_retry_hours, s.followup_max_attempts, s.complaint_rating,
            s.complaint_due_days) == (5, 4, 4, 3, 1)
    # A form without the fields (an older page) keeps them.
    assert post(client, "/admin/site", SITE_FORM).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(site), site.id).followup_days == 5


@pytest.mark.parametrize("field, value, message", [
    ("followup_days", "61", "0 to 60 days"),
    ("followup_days", "-1", "0 to 60 days"),
    ("followup_retry_hours", "0", "1 to 168 hours"),
    ("followup_max_attempts", "11", "1 to 10 attempts"),
    ("complaint_rating", "5", "0 (never) to 4 stars"),
    ("complaint_due_days", "0", "1 to 30 days"),
    ("complaint_due_days", "abc", "1 to 30 days"),
    ("followup_days", "", "Required."),
])
def test_settings_validation(client, shop, field, value, message):
    site, p = shop.site, shop.people
    login(client, p["manager"])
    resp = post(client, "/admin/site", {**SITE_FORM, **FOLLOWUP_FORM, field: value})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    match = re.search(rf'id="f-{field}-error"[^>]*>([^<]*)<', html)
    assert match and message in match.group(1)
    assert re.search(rf'<input id="f-{field}"[^>]*value="{re.escape(value)}"', html)   # what was typed is kept
    db.session.expire_all()
    assert db.session.get(type(site), site.id).followup_days == 3
