"""The ready-for-pickup e-mail against a real SMTP server (aiosmtpd on a free localhost port):
a car taken to READY through the real services is queued as a pending notice, and once the
task runs it arrives in the mailbox with the status link and the Notification log says sent;
with the server down the request that made the car ready succeeds, and the refused attempt
leaves the notice pending (with the error) for the periodic retry."""
import email
import re
from email.policy import default as default_policy

import pytest

from tests.factories import job_at_dispatch
from tests.support import csrf_token, free_port, login, run_tasks
from webapp.extensions import db
from webapp.jobs import QC_CHECKLIST
from webapp.models import Notification, Visit
from webapp.services import workshop

# The notice's subject names the shop: a site name of its own, so the assertion reads it.
pytestmark = pytest.mark.shop(name_zh="北京望京店", name_en="Beijing Wangjing")

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, box
    controller.stop()


def configure(app, port):
    app.config.update(NOTIFY_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                      SMTP_FROM="service@wangjing.example.cn", SMTP_TIMEOUT=5,
                      PUBLIC_BASE_URL="https://service.example.cn")


def in_qc_with_email(factory, site, p, address="li.si@example.com"):
    visit = job_at_dispatch(factory, site, p["advisor"], car_wash="no")
    visit.customer.email = address
    db.session.commit()
    workshop.assign(p["dispatcher"], visit.job.id, p["technician"].id, None)
    workshop.start(p["technician"], visit.job.id)
    workshop.finish(p["technician"], visit.job.id)
    return visit


def notices(visit_id):
    db.session.expire_all()
    return db.session.query(Notification).filter_by(visit_id=visit_id).all()


def test_ready_email_arrives(app, factory, shop, smtp_server):
    controller, box = smtp_server
    configure(app, controller.port)
    site, p = shop.site, shop.people
    visit = in_qc_with_email(factory, site, p)
    workshop.qc(p["qc"], visit.job.id, {i: True for i in QC_CHECKLIST}, True, None)   # no wash: READY
    assert db.session.get(Visit, visit.id).state == "ready"
    assert [r.status for r in notices(visit.id)] == ["pending"] and box.messages == []

    assert run_tasks() == 1
    assert len(box.messages) == 1
    mail_from, rcpt, msg = box.messages[0]
    assert mail_from == "service@wangjing.example.cn" and rcpt == ["li.si@example.com"]
    assert msg["To"] == "li.si@example.com"
    assert visit.ticket.number in msg["Subject"] and "北京望京店" in msg["Subject"]
    body = msg.get_content()
    url = f"https://service.example.cn/t/{visit.ticket.token}"
    assert url in body and visit.ticket.number in body
    assert "¥" not in body and visit.plate not in body
    rows = notices(visit.id)
    assert [(r.kind, r.channel, r.recipient, r.status, r.error) for r in rows] == \
        [("ready", "email", "li.si@example.com", "sent", None)]
    assert url in rows[0].body


def test_ready_email_through_http_with_the_server_down_stays_pending(app, client, factory, shop):
    configure(app, free_port())                   # nothing listens there
    site, p = shop.site, shop.people
    visit = in_qc_with_email(factory, site, p)
    client.set_cookie("lang", "en")
    login(client, p["qc"])
    token = csrf_token(client, "/workshop/qc")
    form = {"result": "pass", **{i: "1" for i in QC_CHECKLIST}}
    r = client.post(f"/workshop/qc/jobs/{visit.job.id}", data=form, headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert db.session.get(Visit, visit.id).state == "ready"
    assert run_tasks() == 1
    rows = notices(visit.id)
    assert [(r.channel, r.recipient, r.status, r.attempts, r.claimed_at) for r in rows] == \
        [("email", "li.si@example.com", "pending", 1, None)]
    assert re.search(r"Connection ?Refused|refused", rows[0].error, re.I)
    advisor = app.test_client()
    advisor.set_cookie("lang", "en")
    login(advisor, p["advisor"])
    html = advisor.get(f"/advisor/visits/{visit.id}").get_data(as_text=True)
    assert 'data-notice="pending"' in html and "could not be sent yet" in html
