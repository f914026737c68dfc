"""Customer notices: backend selection, the ready message, addresses, at most one notice per visit
(written pending with the use case, sent by its task: run_tasks)."""
import logging
import smtplib

import pytest

from tests.factories import visit_ready
from tests.support import run_tasks
from webapp import notify
from webapp.extensions import db
from webapp.models import Notification
from webapp.notify.address import parse_email
from webapp.notify.backends import (LogBackend, Message, Notifier, SendResult, SmtpBackend, backend_from_config,
                                    register_backend, BACKENDS)
from webapp.notify.messages import ready_message
from webapp.commands.estimates import parse_line, parse_repair_order

pytestmark = pytest.mark.shop(roles=("advisor",))


# ---------------------------------------------------------------- backend selection

@pytest.mark.parametrize("config, kind", [
    ({}, LogBackend),
    ({"NOTIFY_BACKEND": "log"}, LogBackend),
    ({"NOTIFY_BACKEND": " SMTP "}, SmtpBackend),
    ({"NOTIFY_BACKEND": "webapp.notify.backends:LogBackend"}, LogBackend),
])
def test_backend_from_config(config, kind):
    assert type(backend_from_config(config)) is kind


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError):
        backend_from_config({"NOTIFY_BACKEND": "pigeon"})


@pytest.mark.parametrize("config, port, starttls, ssl", [
    ({}, 25, False, False),
    ({"SMTP_STARTTLS": True}, 587, True, False),
    ({"SMTP_SSL": True}, 465, False, True),
    ({"SMTP_SSL": True, "SMTP_STARTTLS": True}, 465, False, True),   # implicit TLS wins
    ({"SMTP_PORT": 2525, "SMTP_STARTTLS": True}, 2525, True, False),
])
def test_smtp_settings(config, port, starttls, ssl):
    b = backend_from_config({"NOTIFY_BACKEND": "smtp", "SMTP_HOST": "mail.example.com", **config})
    assert (b.host, b.port, b.starttls, b.use_ssl) == ("mail.example.com", port, starttls, ssl)


def test_smtp_from_address_and_mail():
    b = SmtpBackend(host="mail.example.com", user="service@example.com", password="x")
    assert b.sender == "service@example.com"
    mail = b.email(Message("kunde@example.com", "车已可取 Ready", "你好\nhttp://x/t/abc"))
    assert mail["To"] == "kunde@example.com" and mail["From"] == "service@example.com"
    assert "http://x/t/abc" in mail.get_content() and "你好" in mail.get_content()
    assert SmtpBackend(host="h", sender="S <s@shop.cn>").sender == "S <s@shop.cn>"


def test_smtp_unreachable_is_a_failed_result_not_an_exception(monkeypatch):
    def refuse(*a, **k):
        raise ConnectionRefusedError(111, "Connection refused")
    monkeypatch.setattr(smtplib, "SMTP", refuse)
    result = SmtpBackend(host="127.0.0.1", port=1).send(Message("a@b.cn", "s", "b"))
    assert not result.ok and "ConnectionRefusedError" in result.error


def test_a_gateway_plugs_in():
    class Sms(Notifier):
        channel = "sms"
        sent = []

        def recipient_for(self, customer):
            return customer.mobile

        def send(self, message):
            self.sent.append(message)
            return SendResult(True)
    register_backend("sms", Sms)
    try:
        assert isinstance(backend_from_config({"NOTIFY_BACKEND": "sms"}), Sms)
    finally:
        BACKENDS.pop("sms")


def test_env_settings_are_typed(monkeypatch, tmp_path):
    from webapp import create_app
    monkeypatch.setenv("SERVICELANE_NOTIFY_BACKEND", "smtp")
    monkeypatch.setenv("SERVICELANE_SMTP_PORT", "2525")
    monkeypatch.setenv("SERVICELANE_SMTP_STARTTLS", "yes")
    monkeypatch.setenv("SERVICELANE_SMTP_SSL", "off")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "k"})
    assert app.config["NOTIFY_BACKEND"] == "smtp"
    assert app.config["SMTP_PORT"] == 2525 and app.config["SMTP_STARTTLS"] is True and app.config["SMTP_SSL"] is False
    monkeypatch.setenv("SERVICELANE_SMTP_PORT", "twenty-five")
    with pytest.raises(ValueError, match="SMTP_PORT"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "k"})
    monkeypatch.setenv("SERVICELANE_SMTP_PORT", "25")
    monkeypatch.setenv("SERVICELANE_SMTP_SSL", "maybe")
    with pytest.raises(ValueError, match="SMTP_SSL"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "k"})


# ---------------------------------------------------------------- addresses

@pytest.mark.parametrize("raw, value", [
    ("zhang.san@example.com", "zhang.san@example.com"),
    ("  Li+car@Mail.QQ.COM ", "Li+car@mail.qq.com"),
    ("a@b.cn", "a@b.cn"),
    ("", None), ("zhang", None), ("a@b", None), ("a@@b.cn", None), ("a b@c.cn", None),
    ("a@b..cn", None), (".a@b.cn", None), ("a..b@c.cn", None), ("a@-b.cn", None), ("a@b.c", None),
    ("x" * 65 + "@b.cn", None), ("a@" + "b" * 250 + ".cn", None),
])
def test_parse_email(raw, value):
    assert parse_email(raw) == value


# ---------------------------------------------------------------- the message

def test_ready_message_names_shop_ticket_and_link_but_no_price(app):
    msg = ready_message("a@b.cn", {"zh_CN": "北京一店", "en": "Beijing One"}, "W012", "https://s.example/t/abc")
    assert msg.recipient == "a@b.cn"
    assert "W012" in msg.subject and "北京一店" in msg.subject      # the default language comes first
    assert "https://s.example/t/abc" in msg.body and "W012" in msg.body
    assert "Beijing One" in msg.body                                  # and the other language below
    assert "¥" not in msg.body and "price" not in msg.body.lower()


def test_ready_message_in_one_language_when_only_one(app):
    app.config["LANGUAGES"] = ("zh_CN",)
    msg = ready_message("a@b.cn", {"zh_CN": "北京一店", "en": "Beijing One"}, "W012", "https://s/t/x")
    assert "Beijing One" not in msg.body


# ---------------------------------------------------------------- at most once, logged

@pytest.fixture
def ready_shop(shop, app):
    app.config["PUBLIC_BASE_URL"] = "https://service.example.com"
    return shop.site, shop.advisor


def ready_with_email(factory, site, advisor, email):
    """job_at_dispatch, the customer's e-mail on file, then the workshop up to READY (no wash)."""
    from tests.factories import job_at_dispatch
    from webapp.jobs import QC_CHECKLIST
    from webapp.services import workshop
    visit = job_at_dispatch(factory, site, advisor, car_wash="no")
    visit.customer.email = email
    db.session.commit()
    tech, inspector = factory.user(site, role="technician"), factory.user(site, role="qc")
    workshop.assign(factory.user(site, role="dispatcher"), visit.job.id, tech.id, None)
    workshop.start(tech, visit.job.id)
    workshop.finish(tech, visit.job.id)
    workshop.qc(inspector, visit.job.id, {item: True for item in QC_CHECKLIST}, True, None)
    db.session.refresh(visit)
    assert visit.state == "ready"
    return visit


def _notices(visit_id):
    db.session.expire_all()
    return db.session.query(Notification).filter_by(visit_id=visit_id).order_by(Notification.id).all()


def test_ready_without_email_is_logged_as_skipped(ready_shop, factory):
    site, advisor = ready_shop
    visit = visit_ready(factory, site, advisor)
    rows = _notices(visit.id)
    assert [(r.kind, r.status, r.channel, r.error) for r in rows] == [("ready", "skipped", "log", "no_address")]


def test_ready_with_email_sends_once_even_when_replayed(ready_shop, factory, caplog):
    site, advisor = ready_shop
    caplog.set_level(logging.INFO, logger="servicelane.notify")
    visit = ready_with_email(factory, site, advisor, "wang@example.com")
    assert [r.status for r in _notices(visit.id)] == ["pending"]
    assert run_tasks() == 1
    rows = _notices(visit.id)
    assert [(r.status, r.channel, r.recipient) for r in rows] == [("sent", "log", "wang@example.com")]
    assert f"https://service.example.com/t/{visit.ticket.token}" in rows[0].body
    assert visit.ticket.number in rows[0].subject
    assert "wang@example.com" in caplog.text
    # the send again (a replay, a second process) and the notice asked for again: nothing more
    assert notify.deliver(rows[0].id) is None
    assert notify.add_ready_notice(visit) is None
    assert len(_notices(visit.id)) == 1


def test_a_failing_backend_is_logged_failed_and_the_service_still_succeeds(ready_shop, factory, app):
    class Broken(Notifier):
        channel = "sms"

        def recipient_for(self, customer):
            return customer.mobile

        def send(self, message):
            raise RuntimeError("gateway down")
    register_backend("broken", Broken)
    app.config["NOTIFY_BACKEND"] = "broken"
    try:
        site, advisor = ready_shop
        visit = visit_ready(factory, site, advisor)     # asserts the visit is READY
        assert [r.status for r in _notices(visit.id)] == ["pending"]
        run_tasks()        # a backend that raises: the outcome is unknown, failed at once, never resent
    finally:
        BACKENDS.pop("broken")
    rows = _notices(visit.id)
    assert [(r.status, r.channel, r.recipient) for r in rows] == [("failed", "sms", "13800138000")]
    assert "gateway down" in rows[0].error


def test_not_ready_sends_nothing(ready_shop, factory):
    from tests.factories import job_at_dispatch
    site, advisor = ready_shop
    visit = job_at_dispatch(factory, site, advisor)
    assert run_tasks() == 0
    assert _notices(visit.id) == []


def test_everything_declined_is_ready_and_notifies(ready_shop, factory):
    from tests.factories import RO_TERMS, visit_at_estimate
    from webapp.services import estimates
    site, advisor = ready_shop
    visit = visit_at_estimate(factory, site, advisor)
    estimates.add_line(visit, parse_line({"kind": "labour", "description": "检查", "quantity": "1", "unit_price": "100"}), advisor)
    estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), advisor)
    est = estimates.present(visit, advisor)
    estimates.decide(visit, est.version, {line.id: ("declined", None) for line in est.lines}, "remote")
    db.session.refresh(visit)
    assert visit.state == "ready"
    assert [r.status for r in _notices(visit.id)] == ["skipped"]
