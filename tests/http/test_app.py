"""Application-wide behaviour: settings order, security headers, login, language, errors, CLI."""
import re

import pytest

from tests.factories import PASSWORD
from tests.support import csrf_token, login, make_app
from webapp.extensions import db


def test_settings_order(tmp_path, monkeypatch):
    """Defaults, then instance/config.py, then SERVICELANE_* variables, then create_app's dict."""
    from webapp import create_app
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("STATUS_LINK_DAYS = 7\nKIOSK_IDLE_SECONDS = 30\n")
    monkeypatch.setenv("SERVICELANE_STATUS_LINK_DAYS", "9")
    monkeypatch.setenv("SERVICELANE_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    import flask
    monkeypatch.setattr(flask.Flask, "auto_find_instance_path", lambda self: str(instance))
    app = create_app({"KIOSK_TICKET_SECONDS": 5})
    assert app.config["KIOSK_IDLE_SECONDS"] == 30          # instance file
    assert app.config["STATUS_LINK_DAYS"] == 9             # environment beats the file
    assert app.config["KIOSK_TICKET_SECONDS"] == 5         # explicit dict beats all
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/x.db"
    assert len(app.config["SECRET_KEY"]) >= 32             # generated into the instance folder
    assert (instance / "secret_key").exists()


def test_sqlite_pragmas(app):
    with db.engine.connect() as conn:
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_security_headers(client, factory):
    factory.site()
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_no_inline_scripts_or_styles(client, factory):
    factory.site()
    for path in ("/login", "/start", "/lobby"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " style=" not in html and "hx-on" not in html, path


def test_session_cookie_flags(client, factory):
    site = factory.site()
    user = factory.user(site, "advisor")
    resp = login(client, user)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_wrong_password(client, factory):
    site = factory.site()
    user = factory.user(site, "advisor")
    token = csrf_token(client)
    resp = client.post("/login", data={"username": user.username, "password": "nope", "csrf_token": token})
    assert resp.status_code == 401
    html = resp.get_data(as_text=True)
    assert "用户名或密码错误" in html or "Wrong username or password" in html
    assert f'value="{user.username}"' in html  # what was typed is kept


def test_login_requires_csrf(client, factory):
    site = factory.site()
    user = factory.user(site, "advisor")
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 400


def test_login_redirect_is_local_only(client, factory):
    site = factory.site()
    user = factory.user(site, "advisor")
    token = csrf_token(client)
    resp = client.post("/login?next=https://evil.example/x",
                       data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    assert resp.headers["Location"] == "/"


def test_inactive_user_cannot_log_in(client, factory):
    site = factory.site()
    user = factory.user(site, "advisor", active=False)
    token = csrf_token(client)
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 401


def test_logout_is_a_post(client, factory):
    site = factory.site()
    login(client, factory.user(site, "advisor"))
    assert client.get("/logout").status_code == 405
    token = csrf_token(client, "/advisor")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/advisor").status_code == 302


def test_language_switch(client):
    resp = client.get("/lang/en?next=/start")
    assert resp.status_code == 302 and resp.headers["Location"] == "/start"
    assert "lang=en" in resp.headers["Set-Cookie"]
    assert 'lang="en"' in client.get("/start").get_data(as_text=True)
    assert client.get("/lang/en?next=//evil.example").headers["Location"] == "/"
    client.get("/lang/zh_CN")
    assert 'lang="zh-CN"' in client.get("/start").get_data(as_text=True)


def test_default_language_is_chinese(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "登录" in html


def test_friendly_404_in_both_languages(client):
    assert "This page does not exist" in client.get("/nope?lang=en").get_data(as_text=True)
    resp = client.get("/nope")
    assert resp.status_code == 404 and "页面不存在" in resp.get_data(as_text=True)


def test_demo_data_cli(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-data"])
    assert "demo1234" in result.output
    assert runner.invoke(args=["is-empty"]).exit_code == 1
    again = runner.invoke(args=["demo-data"])
    assert "exists already" in again.output
    from webapp.models import Appointment, User
    assert {u.role for u in User.query} >= {"advisor", "dispatcher", "technician", "qc", "parts",
                                             "cashier", "csi", "manager", "admin"}
    assert Appointment.query.count() >= 3


def test_demo_data_tells_a_past_visit_and_a_car_waiting_for_pickup(app):
    """The aftercare screens have something true to show: a visit of four days ago delivered and
    paid, its follow-up call due now; a car ready today with its bill at the cashier."""
    from datetime import timedelta

    from webapp.models import Bill, FollowUp, Site, Ticket, Visit
    from webapp.services.estimates import verify_chain
    from webapp.timeutil import local_day, utcnow
    assert "demo1234" in app.test_cli_runner().invoke(args=["demo-data"]).output
    site = Site.query.one()
    past, today = Visit.query.order_by(Visit.id).all()
    assert past.state == "delivered" and today.state == "ready"
    assert local_day(site.timezone, past.delivered_at) == local_day(site.timezone) - timedelta(days=4)
    assert past.ticket.day == local_day(site.timezone, past.ticket.issued_at) and past.ticket.number == "W001"
    assert [b.status for b in Bill.query.order_by(Bill.id)] == ["paid", "issued"]
    assert Bill.query.first().number.endswith(f"{past.ticket.day:%Y%m%d}-0001")
    due = FollowUp.query.one()
    assert due.visit_id == past.id and due.status == "due" and due.due_at <= utcnow()
    assert any(line.decision == "declined" for line in past.estimate.lines)
    assert verify_chain(site.id)
    # the kiosk's first walk-in today follows the demo's own
    assert Ticket.query.filter_by(day=local_day(site.timezone)).count() == 1


def test_rate_limit_on_login(db_url, factory):
    app = make_app(db_url, RATELIMIT_ENABLED=True)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    token = csrf_token(client)
    codes = [client.post("/login", data={"username": "x", "password": "y", "csrf_token": token}).status_code
             for _ in range(22)]
    assert codes[:20] == [401] * 20 and codes[-1] == 429
