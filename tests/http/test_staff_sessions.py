"""Staff sessions end on the server (issue 10, defect 6): a copy of the cookie taken before logout,
deactivation, too long idle or too long since sign-in opens nothing; sign-in renews the session
and the CSRF token; htmx requests of an ended session are told to navigate to the login page."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support import csrf_token, login

from webapp.models import StaffSession
from webapp.timeutil import utcnow

pytestmark = pytest.mark.shop(roles=("advisor",))

COOKIE = "servicelane_session"
HTMX_PANEL = {"HX-Request": "true", "HX-Trigger": "panel", "HX-Target": "panel",
              "HX-Current-URL": "http://localhost/advisor"}


@pytest.fixture
def advisor(shop):
    return shop.advisor


def copy_of(app, client):
    """A second client holding the very same session cookie, as a thief's browser would."""
    other = app.test_client()
    other.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return other


def sessions_of(db, user):
    db.session.expire_all()
    return db.session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)).all()


def only_session(db, user):
    (row,) = sessions_of(db, user)
    return row


def sent_to_login(resp):
    return resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def logout(client):
    return client.post("/logout", data={"csrf_token": csrf_token(client, "/advisor")})


def test_cookie_copied_before_logout_is_refused_after_it(app, client, advisor):
    login(client, advisor)
    thief = copy_of(app, client)
    assert thief.get("/advisor").status_code == 200  # the copy works while the session lives

    assert logout(client).status_code == 302
    replay = thief.get("/advisor")
    assert sent_to_login(replay)
    assert "ended=1" in replay.headers["Location"] and "next=/advisor" in replay.headers["Location"]
    assert client.get("/advisor").status_code == 302


def test_htmx_request_of_an_ended_session_gets_401_with_hx_redirect(app, client, advisor):
    login(client, advisor)
    token = csrf_token(client, "/advisor")
    thief = copy_of(app, client)
    logout(client)
    resp = thief.get("/advisor/panel", headers=HTMX_PANEL)
    assert resp.status_code == 401
    assert resp.headers["HX-Redirect"] == "/login?next=/advisor&ended=1"
    assert resp.get_data() == b""  # nothing to swap into the console
    # a button press (state change) with the copy's own valid CSRF token: the same answer
    post = thief.post("/advisor/call-next", headers={**HTMX_PANEL, "X-CSRFToken": token})
    assert post.status_code == 401 and post.headers["HX-Redirect"].startswith("/login?next=/advisor")


def test_login_page_says_the_session_has_ended(client):
    assert "Your session has ended" in client.get("/login?ended=1&lang=en").get_data(as_text=True)
    assert "登录已失效" in client.get("/login?ended=1").get_data(as_text=True)
    assert "登录已失效" not in client.get("/login").get_data(as_text=True)


def test_idle_session_ends_after_the_idle_timeout(app, client, db, advisor):
    login(client, advisor)
    row = only_session(db, advisor)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])

    row.last_seen_at = utcnow() - idle + timedelta(minutes=1)
    db.session.commit()
    assert client.get("/advisor").status_code == 200
    assert only_session(db, advisor).last_seen_at > utcnow() - timedelta(minutes=1)  # the visit counted

    row = only_session(db, advisor)
    row.last_seen_at = utcnow() - idle - timedelta(minutes=1)
    db.session.commit()
    assert sent_to_login(client.get("/advisor"))


def test_session_ends_after_its_absolute_lifetime_however_busy(app, client, db, advisor):
    login(client, advisor)
    row = only_session(db, advisor)
    row.created_at = utcnow() - timedelta(hours=app.config["SESSION_MAX_HOURS"], minutes=1)
    db.session.commit()
    assert only_session(db, advisor).last_seen_at > utcnow() - timedelta(minutes=1)  # active just now
    assert sent_to_login(client.get("/advisor"))


def test_live_refreshes_do_not_keep_an_idle_session_alive(app, client, db, advisor):
    login(client, advisor)
    row = only_session(db, advisor)
    half_hour_ago = utcnow() - timedelta(minutes=30)
    row.last_seen_at = half_hour_ago
    db.session.commit()

    assert client.get("/advisor/panel", headers=HTMX_PANEL).status_code == 200
    assert only_session(db, advisor).last_seen_at == half_hour_ago      # a refetch is not the user

    client.get("/advisor")
    assert only_session(db, advisor).last_seen_at > half_hour_ago       # a page the user opened is


def test_an_htmx_button_press_counts_as_activity(app, client, db, advisor):
    login(client, advisor)
    token = csrf_token(client, "/advisor")
    row = only_session(db, advisor)
    half_hour_ago = utcnow() - timedelta(minutes=30)
    row.last_seen_at = half_hour_ago
    db.session.commit()
    tick = client.post("/advisor/readiness", data={"item": "appearance", "checked": "1"},
                       headers={"HX-Request": "true", "HX-Target": "panel", "X-CSRFToken": token})
    assert tick.status_code == 200
    assert only_session(db, advisor).last_seen_at > half_hour_ago


def test_last_seen_is_written_at_most_once_a_minute(app, client, db, advisor):
    login(client, advisor)
    first = only_session(db, advisor).last_seen_at
    for _ in range(3):
        client.get("/advisor")
    assert only_session(db, advisor).last_seen_at == first


def test_deactivation_ends_every_session_of_the_account(app, client, db, advisor):
    login(client, advisor)
    tablet = app.test_client()
    login(tablet, advisor)
    assert client.get("/advisor").status_code == 200 and tablet.get("/advisor").status_code == 200

    result = app.test_cli_runner().invoke(args=["deactivate-user", advisor.username])
    assert result.exit_code == 0 and "2 open session(s) ended" in result.output
    assert sent_to_login(client.get("/advisor")) and sent_to_login(tablet.get("/advisor"))
    assert all(row.ended_at is not None for row in sessions_of(db, advisor))


def test_deactivate_user_command_names_an_unknown_user(app):
    result = app.test_cli_runner().invoke(args=["deactivate-user", "nobody"])
    assert result.exit_code != 0 and "no user nobody" in result.output


def test_a_deactivated_account_is_refused_even_without_the_command(app, client, db, advisor):
    """Whatever sets active=False (a future admin page, SQL by hand), the session stops working."""
    login(client, advisor)
    advisor.active = False
    db.session.commit()
    assert sent_to_login(client.get("/advisor"))


def session_token(client):
    with client.session_transaction() as sess:
        return sess.get("staff_session")


def test_sign_in_renews_the_session_and_the_csrf_token(app, client, db, advisor):
    before_csrf = csrf_token(client)
    login(client, advisor)
    first_token = session_token(client)
    after_csrf = csrf_token(client, "/advisor")
    assert first_token and before_csrf != after_csrf
    # the token of before sign-in no longer passes
    assert client.post("/logout", data={"csrf_token": before_csrf}).status_code == 400

    planted = copy_of(app, client)  # e.g. a cookie someone saw before the next sign-in
    login(client, advisor)
    assert session_token(client) != first_token
    assert sent_to_login(planted.get("/advisor"))  # the earlier session ended with the new sign-in
    ended = [row for row in sessions_of(db, advisor) if row.ended_at is not None]
    assert len(ended) == 1


def test_the_database_keeps_only_a_hash_of_the_session_token(client, db, advisor):
    login(client, advisor)
    token = session_token(client)
    row = only_session(db, advisor)
    assert len(token) >= 43                          # 256 random bits, URL-safe
    assert token not in row.token_hash and re.fullmatch(r"[0-9a-f]{64}", row.token_hash)
