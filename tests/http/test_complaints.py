"""Complaint cases (/complaints) over HTTP: roles, the open list (escalated and overdue first, the
count badge), escalation by the periodic task (never by a page load), the case page (visit facts, owner,
append-only notes, resolution required), site scoping, CSRF, double submits, and the rating on the
status page that opens a case the manager then sees."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import visit_delivered
from tests.support import csrf_token, login, run_tasks
from webapp.extensions import db
from webapp.models import Complaint, ComplaintNote
from webapp.tasks.periodic import escalate_complaints
from webapp.timeutil import utcnow

# The pages name the complaint's owner: display names the assertions can read.
pytestmark = pytest.mark.shop(staff={r: {"display_name": f"{r}-name"}
                                     for r in ("advisor", "csi", "manager", "cashier", "technician")})


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(shop, factory):
    """The shared shop, with a manager and a CSI of another site among its people."""
    other = factory.site(code="cp2")
    shop.people["other_manager"] = factory.user(other, "manager", username="mgr_other")
    shop.people["other_csi"] = factory.user(other, "csi", username="csi_other")
    return shop


def case(site, summary="刹车异响", due=None, owner=None, visit=None, **kw):
    c = Complaint(site_id=site.id, visit_id=visit.id if visit else None, source=kw.pop("source", "staff"),
                  summary=summary, owner_id=owner.id if owner else None,
                  due_at=due or utcnow() + timedelta(days=2), **kw)
    db.session.add(c)
    db.session.commit()
    return c


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/login")})


def fresh(ident):
    db.session.expire_all()
    return db.session.get(Complaint, ident)


@pytest.mark.parametrize("role, code", [("csi", 200), ("manager", 200), ("advisor", 403), ("cashier", 403),
                                        ("technician", 403)])
def test_roles(client, shop, role, code):
    site, p = shop.site, shop.people
    c = case(site)
    login(client, p[role])
    assert client.get("/complaints").status_code == code
    assert client.get("/complaints/panel").status_code == code
    assert client.get(f"/complaints/{c.id}").status_code == code
    assert post(client, f"/complaints/{c.id}/notes", {"text": "x"}).status_code in ((303,) if code == 200 else (403,))


def test_list_orders_escalated_and_overdue_first_after_the_periodic_escalation(client, shop):
    site, p = shop.site, shop.people
    later = case(site, "later", due=utcnow() + timedelta(days=1))
    overdue = case(site, "overdue", due=utcnow() - timedelta(hours=2))
    already = case(site, "already", due=utcnow() - timedelta(hours=1), escalated_at=utcnow() - timedelta(minutes=5))
    case(site, "done", status="resolved", resolution="ok", resolved_at=utcnow())
    login(client, p["manager"])
    client.get("/complaints")
    assert fresh(overdue.id).escalated_at is None          # a page load changes nothing
    escalate_complaints()                                  # the five-minute periodic task, queued
    assert run_tasks() == 1
    html = client.get("/complaints").get_data(as_text=True)
    assert fresh(overdue.id).escalated_at is not None
    assert fresh(later.id).escalated_at is None
    open_part = html.split('id="resolved-cases"')[0]
    assert open_part.index('data-complaint="%d"' % already.id) < open_part.index('data-complaint="%d"' % later.id)
    assert open_part.index('data-complaint="%d"' % overdue.id) < open_part.index('data-complaint="%d"' % later.id)
    assert 'data-count="open">3<' in html and "2 escalated" in html
    assert f'data-complaint="{overdue.id}" class="is-escalated" data-escalated' in html
    assert "done" in html.split('id="resolved-cases"')[1]
    assert 'data-live-channel="followup"' in html and 'style="' not in html


def test_site_scoped(client, shop):
    site, p = shop.site, shop.people
    c = case(site, "ours")
    login(client, p["other_manager"])
    assert "ours" not in client.get("/complaints").get_data(as_text=True)
    assert client.get(f"/complaints/{c.id}").status_code == 404
    assert post(client, f"/complaints/{c.id}/notes", {"text": "x"}).status_code == 404
    assert post(client, f"/complaints/{c.id}/resolve", {"resolution": "x"}).status_code == 404
    assert fresh(c.id).status == "open"


def test_case_page_notes_owner_resolution(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    c = case(site, visit=visit, owner=p["csi"])
    login(client, p["csi"])
    html = client.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "京A12345" in html and "张三" in html and "更换前刹车片" in html and "csi-name" in html
    assert 'data-visit-link' not in html                       # the visit page is the advisor's
    # Notes are appended; a double submit adds one.
    assert post(client, f"/complaints/{c.id}/notes", {"text": "已致电客户"}).status_code == 303
    assert post(client, f"/complaints/{c.id}/notes", {"text": "已致电客户"}).status_code == 303
    assert post(client, f"/complaints/{c.id}/notes", {"text": "约好周五复查"}).status_code == 303
    db.session.expire_all()
    assert [n.text for n in db.session.scalars(select(ComplaintNote).order_by(ComplaintNote.id))] == \
        ["已致电客户", "约好周五复查"]
    # Empty note: message next to the field.
    resp = post(client, f"/complaints/{c.id}/notes", {"text": "  "})
    assert resp.status_code == 422 and re.search(r'id="f-text-error"[^>]*>Write the note first', resp.get_data(as_text=True))
    # Owner: a manager of the site; a technician or another site's user is refused.
    assert post(client, f"/complaints/{c.id}/assign", {"owner_id": p["manager"].id}).status_code == 303
    assert fresh(c.id).owner_id == p["manager"].id
    for bad in (p["technician"].id, p["other_csi"].id, "x"):
        resp = post(client, f"/complaints/{c.id}/assign", {"owner_id": bad})
        assert resp.status_code == 422
        assert re.search(r'id="f-owner_id-error"[^>]*>Choose a CSI staff member', resp.get_data(as_text=True))
    assert fresh(c.id).owner_id == p["manager"].id
    # Resolution is required; then resolved once.
    resp = post(client, f"/complaints/{c.id}/resolve", {"resolution": ""})
    assert resp.status_code == 422 and 'id="f-resolution-error"' in resp.get_data(as_text=True)
    assert fresh(c.id).status == "open"
    assert post(client, f"/complaints/{c.id}/resolve", {"resolution": "免费复查，客户满意"}).status_code == 303
    c2 = fresh(c.id)
    assert (c2.status, c2.resolution, c2.resolved_by_id) == ("resolved", "免费复查，客户满意", p["csi"].id)
    again = post(client, f"/complaints/{c.id}/resolve", {"resolution": "again"})
    assert again.status_code == 409 and fresh(c.id).resolution == "免费复查，客户满意"
    html = client.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert 'data-status="resolved"' in html and "免费复查，客户满意" in html


def test_manager_sees_the_visit_link(client, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    c = case(site, visit=visit)
    login(client, p["manager"])
    html = client.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert f'href="/advisor/visits/{visit.id}" data-visit-link' in html


def test_case_page_shows_the_escalation_of_the_periodic_task(client, shop):
    site, p = shop.site, shop.people
    c = case(site, due=utcnow() - timedelta(minutes=1))
    login(client, p["csi"])
    html = client.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert fresh(c.id).escalated_at is None and "Escalated to the manager" not in html
    escalate_complaints()
    run_tasks()
    html = client.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert fresh(c.id).escalated_at is not None and "Escalated to the manager" in html


def test_csrf(client, shop):
    site, p = shop.site, shop.people
    c = case(site)
    login(client, p["csi"])
    assert client.post(f"/complaints/{c.id}/resolve", data={"resolution": "x"}).status_code == 400
    assert client.post(f"/complaints/{c.id}/notes", data={"text": "x"}).status_code == 400
    assert fresh(c.id).status == "open"
    assert db.session.scalar(select(func.count(ComplaintNote.id))) == 0


def test_two_stars_on_the_phone_reach_the_managers_list(client, app, factory, shop):
    site, p = shop.site, shop.people
    visit = visit_delivered(factory, site, p["advisor"])
    phone = app.test_client()
    token = visit.ticket.token
    csrf = csrf_token(phone, f"/t/{token}")
    assert phone.post(f"/t/{token}/rate", data={"rating": "2", "confirm": "1", "csrf_token": csrf}).status_code == 303
    login(client, p["manager"])
    html = client.get("/complaints/panel").get_data(as_text=True)
    assert "★★☆☆☆ 2/5" in html and "Rating on the status page" in html and "csi-name" in html
