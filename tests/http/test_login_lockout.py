"""Sign-in guessing (issue 10, defect 9, the sign-in part): failed sign-ins lock the username for a
while whatever address they come from, the lock reads the same for names that do not exist, and
an unknown name takes as long to refuse as a known one with a wrong password."""
import statistics
import time
from datetime import timedelta

from sqlalchemy import select

from tests.factories import PASSWORD
from tests.support import csrf_token, run_together
from webapp.extensions import db as _db
from webapp.models import LoginThrottle
from webapp.timeutil import utcnow

LOCKED_ZH = "该用户名登录失败次数过多"
LOCKED_EN = "Too many failed sign-ins with this username"


def attempt(client, username, password, address="203.0.113.1", lang=None):
    token = csrf_token(client, "/login" + (f"?lang={lang}" if lang else ""))
    return client.post("/login" + (f"?lang={lang}" if lang else ""), environ_base={"REMOTE_ADDR": address},
                       data={"username": username, "password": password, "csrf_token": token})


def fail_from_many_addresses(client, username, times):
    return [attempt(client, username, "wrong-guess", address=f"198.51.100.{i + 1}").status_code
            for i in range(times)]


def test_failed_sign_ins_from_many_addresses_lock_the_account(app, client, factory):
    user = factory.user(factory.site(), "advisor")
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert fail_from_many_addresses(client, user.username, limit - 1) == [401] * (limit - 1)
    last = attempt(client, user.username, "wrong-guess", address="192.0.2.99")
    assert last.status_code == 401 and LOCKED_ZH in last.get_data(as_text=True)

    # now even the right password, from a fresh address, is refused, in the user's language
    right = attempt(client, user.username, PASSWORD, address="192.0.2.200", lang="en")
    html = right.get_data(as_text=True)
    assert right.status_code == 401 and LOCKED_EN in html
    assert f'value="{user.username}"' in html                      # the name typed is kept
    assert 'id="username-error"' in html and 'aria-invalid="true"' in html   # next to the field
    assert "/advisor" not in right.headers.get("Location", "")


def test_lock_reads_the_same_for_a_name_that_does_not_exist(app, client, factory):
    user = factory.user(factory.site(), "advisor")
    limit = app.config["LOGIN_MAX_FAILURES"]
    fail_from_many_addresses(client, user.username, limit)
    fail_from_many_addresses(client, "no-such-person", limit)
    real = attempt(client, user.username, "x", lang="en")
    ghost = attempt(client, "no-such-person", "x", lang="en")
    assert real.status_code == ghost.status_code == 401
    message = lambda resp: resp.get_data(as_text=True).split('id="username-error"')[1].split("</p>")[0]  # noqa: E731
    assert LOCKED_EN in message(real) and message(real) == message(ghost)


def test_lock_ends_after_the_lock_minutes(app, client, db, factory):
    user = factory.user(factory.site(), "advisor")
    fail_from_many_addresses(client, user.username, app.config["LOGIN_MAX_FAILURES"])
    row = db.session.get(LoginThrottle, user.username)
    assert row.locked_until - utcnow() > timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"] - 1)
    row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert attempt(client, user.username, PASSWORD).status_code == 302
    db.session.expire_all()
    assert db.session.get(LoginThrottle, user.username) is None  # a success forgets the failures


def test_failures_outside_the_window_start_a_new_count(app, client, db, factory):
    user = factory.user(factory.site(), "advisor")
    limit = app.config["LOGIN_MAX_FAILURES"]
    fail_from_many_addresses(client, user.username, limit - 1)
    row = db.session.get(LoginThrottle, user.username)
    row.window_started_at = utcnow() - timedelta(minutes=app.config["LOGIN_FAILURE_WINDOW_MINUTES"] + 1)
    db.session.commit()
    assert attempt(client, user.username, "wrong").status_code == 401
    db.session.expire_all()
    assert db.session.get(LoginThrottle, user.username).failures == 1
    assert attempt(client, user.username, PASSWORD).status_code == 302


def test_parallel_guesses_all_count(race_app):
    """Ten guesses at once from ten addresses: none is lost, so the account is locked."""
    with race_app.app_context():
        from tests.factories import Factory
        from webapp.models import Site
        site = _db.session.scalar(select(Site))
        Factory(_db).user(site, "advisor", username="target")
        _db.session.remove()
    limit = race_app.config["LOGIN_MAX_FAILURES"]

    def prepare(i):
        client = race_app.test_client()
        return client, csrf_token(client)

    def act(i, prepared):
        client, token = prepared
        return client.post("/login", environ_base={"REMOTE_ADDR": f"198.51.100.{i + 1}"},
                           data={"username": "target", "password": "guess", "csrf_token": token}).status_code

    assert run_together(limit, prepare, act) == [401] * limit
    with race_app.app_context():
        row = _db.session.get(LoginThrottle, "target")
        assert row.locked_until is not None and row.locked_until > utcnow()
        _db.session.remove()
    client = race_app.test_client()
    assert LOCKED_ZH in attempt(client, "target", PASSWORD).get_data(as_text=True)


def refusal_seconds(client, username):
    token = csrf_token(client)
    started = time.perf_counter()
    resp = client.post("/login", data={"username": username, "password": "wrong-guess", "csrf_token": token})
    elapsed = time.perf_counter() - started
    assert resp.status_code == 401
    return elapsed


def test_unknown_name_takes_as_long_as_a_wrong_password(app, client, factory):
    """With the production hash (Werkzeug's scrypt), an unknown name used to be refused at once and
    a known one after a hash check (~100x longer). Both now pay for one hash check: the medians are
    of the same order of magnitude. Measured alternately, so a busy machine slows both alike."""
    app.config.update(PASSWORD_HASH_METHOD=None, LOGIN_MAX_FAILURES=1000)  # real hash; no lock in the way
    user = factory.user(factory.site(), "advisor")
    assert user.password_hash.startswith("scrypt:")
    refusal_seconds(client, "warm-up")  # the dummy hash is made once per process
    known, unknown = [], []
    for i in range(11):
        known.append(refusal_seconds(client, user.username))
        unknown.append(refusal_seconds(client, f"nobody{i}"))
    known, unknown = statistics.median(known), statistics.median(unknown)
    print(f"\nmedian refusal: known name + wrong password {known * 1000:.1f} ms, "
          f"unknown name {unknown * 1000:.1f} ms, ratio {known / unknown:.2f}")
    assert 1 / 3 < known / unknown < 3
