"""Advisor console: roles, CSRF, calling, recall, no-show, requeue, transfer, start reception."""
import re

import pytest

from tests.support import csrf_token, login
from webapp.models import Ticket, VisitEvent

HX = {"HX-Request": "true"}


@pytest.fixture
def shop(shop, factory):
    """The shared shop, with a second advisor at desk 2 (``shop.people["advisor2"]``)."""
    shop.people["advisor2"] = factory.user(shop.site, "advisor", username="advisor2", desk="2")
    return shop


def post(client, url, data=None, htmx=True):
    token = csrf_token(client, "/advisor")
    headers = {"X-CSRFToken": token, **(HX if htmx else {})}
    return client.post(url, data=data or {}, headers=headers)


def numbers(html):
    return re.findall(r'data-ticket="(\w+)"', html)


def test_console_needs_login(client, shop):
    resp = client.get("/advisor")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize("role", ["technician", "cashier", "parts", "qc", "csi", "dispatcher"])
def test_other_roles_are_refused(client, factory, shop, role):
    site = shop.site
    login(client, factory.user(site, role))
    assert client.get("/advisor").status_code == 403
    assert client.post("/advisor/call-next", headers=HX).status_code in (400, 403)


def test_manager_may_use_the_console(client, factory, shop):
    login(client, factory.user(shop.site, "manager"))
    assert client.get("/advisor").status_code == 200


def test_call_next_without_csrf_is_refused(client, factory, shop):
    site, a1 = shop.site, shop.advisor
    factory.walkin(site)
    login(client, a1)
    resp = client.post("/advisor/call-next", headers=HX)
    assert resp.status_code == 400
    assert Ticket.query.filter_by(status="called").count() == 0


def test_call_next_in_order_and_one_at_a_time(client, factory, shop, db):
    site, a1 = shop.site, shop.advisor
    t1 = factory.walkin(site, plate="京A11111")
    factory.walkin(site, plate="京A22222")
    login(client, a1)
    resp = post(client, "/advisor/call-next")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'class="current-ticket" data-ticket="W001"' in html and "京A11111" in html
    db.session.refresh(t1)
    assert t1.status == "called" and t1.desk == "1" and t1.visit.state == "called"
    # A second press while W001 is open is refused with a message, and calls nobody.
    resp = post(client, "/advisor/call-next")
    assert resp.status_code == 409
    assert "Finish the current ticket first" in resp.get_data(as_text=True) or "请先" in resp.get_data(as_text=True)
    assert Ticket.query.filter_by(status="called").count() == 1


def test_empty_queue_message(client, shop):
    login(client, shop.advisor)
    resp = post(client, "/advisor/call-next")
    assert resp.status_code == 409


def test_recall_skip_requeue(client, factory, shop, db):
    site, a1 = shop.site, shop.advisor
    t = factory.walkin(site)
    login(client, a1)
    post(client, "/advisor/call-next")
    assert post(client, f"/advisor/tickets/{t.id}/recall").status_code == 200
    db.session.refresh(t)
    assert t.call_count == 2
    assert post(client, f"/advisor/tickets/{t.id}/skip").status_code == 200
    db.session.refresh(t)
    assert t.status == "skipped" and t.visit.state == "no_show"
    assert post(client, f"/advisor/tickets/{t.id}/requeue").status_code == 200
    db.session.refresh(t)
    assert t.status == "waiting" and t.visit.state == "waiting"
    actions = [e.action for e in VisitEvent.query.filter_by(visit_id=t.visit_id).order_by(VisitEvent.id)]
    assert actions == ["check_in", "call", "recall", "skip", "requeue"]


def test_start_reception_moves_visit_on(client, factory, shop, db):
    site, a1 = shop.site, shop.advisor
    t = factory.walkin(site)
    login(client, a1)
    post(client, "/advisor/call-next")
    resp = post(client, f"/advisor/tickets/{t.id}/start")
    assert resp.status_code == 200
    db.session.refresh(t)
    assert t.status == "served" and t.visit.state == "reception" and t.visit.advisor_id == a1.id
    assert f"/advisor/visits/{t.visit_id}" in resp.get_data(as_text=True)


def on_duty(db, *advisors):
    """The advisors did today's start-of-day checklist (接待准备): they are at work."""
    from webapp.services import intake as intake_svc
    for a in advisors:
        for item in intake_svc.READINESS_ITEMS:
            intake_svc.save_readiness_item(a, item, True)


def test_transfer_to_colleague(client, factory, shop, db):
    site, a1, a2 = shop.site, shop.advisor, shop.people["advisor2"]
    on_duty(db, a2)
    t = factory.walkin(site)
    factory.walkin(site, plate="京A22222")
    login(client, a1)
    post(client, "/advisor/call-next")
    resp = post(client, f"/advisor/tickets/{t.id}/transfer", {"to_advisor": a2.id})
    assert resp.status_code == 200
    db.session.refresh(t)
    assert t.status == "waiting" and t.assigned_advisor_id == a2.id
    # a1 no longer sees it; a2 gets it first.
    assert "W001" not in numbers(resp.get_data(as_text=True))
    client2 = client.application.test_client()
    login(client2, a2)
    resp = post(client2, "/advisor/call-next")
    assert 'data-ticket="W001"' in resp.get_data(as_text=True).split("queue-title")[0]


def test_transfer_to_someone_invalid(client, factory, shop, db):
    site, a1, a2 = shop.site, shop.advisor, shop.people["advisor2"]
    other_site = factory.site()
    stranger = factory.user(other_site, "advisor")
    manager = factory.user(site, "manager")
    on_duty(db, stranger, manager)
    t = factory.walkin(site)
    login(client, a1)
    post(client, "/advisor/call-next")
    # a2 has not started the day: not offered, and refused if posted anyway.
    for target in (stranger.id, a1.id, 99999, manager.id, a2.id):
        assert post(client, f"/advisor/tickets/{t.id}/transfer", {"to_advisor": target}).status_code == 422


def test_transfer_offers_only_the_advisors_at_work_today(client, factory, shop, db):
    site, a1, a2 = shop.site, shop.advisor, shop.people["advisor2"]
    a3 = factory.user(site, "advisor", display_name="值班顾问")
    manager = factory.user(site, "manager", display_name="经理")
    on_duty(db, a3, manager)
    factory.walkin(site)
    login(client, a1)
    html = post(client, "/advisor/call-next").get_data(as_text=True)
    offered = html.split('id="to_advisor"')[1].split("</select>")[0]
    assert f'value="{a3.id}"' in offered
    assert f'value="{a2.id}"' not in offered and f'value="{manager.id}"' not in offered


def test_cannot_act_on_another_advisors_call(client, factory, shop):
    site, a1, a2 = shop.site, shop.advisor, shop.people["advisor2"]
    t = factory.walkin(site)
    login(client, a1)
    post(client, "/advisor/call-next")
    client2 = client.application.test_client()
    login(client2, a2)
    assert post(client2, f"/advisor/tickets/{t.id}/skip").status_code == 403


def test_tickets_of_another_site_are_invisible(client, factory, shop):
    a1 = shop.advisor
    other = factory.site()
    t = factory.walkin(other)
    login(client, a1)
    assert post(client, f"/advisor/tickets/{t.id}/recall").status_code == 404
    assert client.get(f"/advisor/visits/{t.visit_id}").status_code == 404
    assert post(client, "/advisor/call-next").status_code == 409  # nobody waiting at *this* site


def test_unknown_action_404(client, factory, shop):
    login(client, shop.advisor)
    assert post(client, "/advisor/tickets/1/explode").status_code == 404


def test_readiness_reminder_until_done(client, shop, db):
    login(client, shop.advisor)
    assert "readiness" in client.get("/advisor").get_data(as_text=True)
    post(client, "/advisor/readiness", {"item": "appearance", "checked": "1"})
    resp = post(client, "/advisor/readiness", {"item": "forms_tools", "checked": "1"})
    assert 'id="readiness"' in resp.get_data(as_text=True)          # still one to tick
    resp = post(client, "/advisor/readiness", {"item": "clean_area", "checked": "1"})
    assert 'id="readiness"' not in resp.get_data(as_text=True)
    assert post(client, "/advisor/readiness", {"item": "bogus"}).status_code == 400
    from webapp.models import ReadinessCheck
    check = ReadinessCheck.query.one()
    assert check.user_id == shop.advisor.id and check.completed_at is not None


def test_queue_shows_appointments_first(client, factory, shop):
    site, a1 = shop.site, shop.advisor
    factory.walkin(site, plate="京A11111")
    customer, car = factory.customer_vehicle(site, plate="京B99999", mobile="13900000000")
    appt = factory.appointment(site, customer, car)
    from webapp.services.checkin import check_in_appointment
    check_in_appointment(site, appt.id, "k-appt")
    login(client, a1)
    html = client.get("/advisor").get_data(as_text=True)
    assert numbers(html.split('id="queue-title"')[1])[:2] == ["A001", "W001"]


def test_console_in_english_and_chinese(client, shop):
    login(client, shop.advisor)
    assert "Call next" in client.get("/advisor?lang=en").get_data(as_text=True)
    assert "叫下一位" in client.get("/advisor?lang=zh_CN").get_data(as_text=True)
