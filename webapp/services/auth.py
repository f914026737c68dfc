"""Staff sign-in, server-side sessions, deactivation.

The session cookie only carries a random token; whether it still opens anything is decided here,
against the ``staff_session`` row (ended? idle too long? signed in too long ago? account still
active?). Failed sign-ins are counted per username in ``login_throttle`` — never per address
only, and the same way for names that do not exist, so neither the lock nor the time taken tells
whether an account exists. The rules themselves are pure functions in ``webapp.authrules``.
No domain event is published: no screen shows sessions or sign-ins."""
import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from flask_babel import format_time, gettext as _
from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.security import check_password_hash, generate_password_hash

from .. import authrules
from ..extensions import db
from ..models import LoginThrottle, StaffSession, User
from ..timeutil import utcnow
from . import ServiceError


class SignInRefused(ServiceError):
    """Wrong credentials, an inactive account, or a locked username; ``locked`` tells which
    message field it belongs to. Never says whether the account exists."""

    def __init__(self, message, locked=False):
        super().__init__(message, status=401, field="username" if locked else None)
        self.locked = locked


# ---------------------------------------------------------------- sign-in

def sign_in(username: str, password: str) -> User:
    """The user these credentials open, or SignInRefused. Counts the failure against the username."""
    now = utcnow()
    policy = authrules.LockoutPolicy.from_config(current_app.config)
    key = throttle_key(username)
    locked_until = db.session.scalar(select(LoginThrottle.locked_until).where(LoginThrottle.username == key))
    if authrules.is_locked(locked_until, now):
        raise _locked(locked_until)
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    # Always pay for one hash check, so an unknown name answers as slowly as a wrong password.
    password_ok = check_password_hash(user.password_hash if user else _dummy_hash(_hash_method()), password)
    if user is not None and user.active and password_ok:
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == key))
        db.session.commit()
        return user
    locked_until = _record_failure(key, now, policy)
    if locked_until is not None:
        raise _locked(locked_until)
    raise SignInRefused(_("Wrong username or password."))


def throttle_key(username: str) -> str:
    return username.strip().lower()[:64]


def _locked(locked_until: datetime) -> SignInRefused:
    return SignInRefused(_("Too many failed sign-ins with this username. Sign-in is locked until %(time)s.",
                           time=format_time(locked_until, "HH:mm")), locked=True)


def _hash_method() -> str | None:
    return current_app.config.get("PASSWORD_HASH_METHOD")


@lru_cache(maxsize=4)
def _dummy_hash(method: str | None) -> str:
    """A hash of a random password, made the way real ones are, to check unknown names against."""
    password = secrets.token_urlsafe(16)
    return generate_password_hash(password, method) if method else generate_password_hash(password)


def _record_failure(key: str, now: datetime, policy: authrules.LockoutPolicy) -> datetime | None:
    """Count one failure for ``key`` in single statements (concurrent attempts from many addresses
    must not lose counts); lock the name when the count reaches the limit. Returns the lock's end."""
    db.session.execute(delete(LoginThrottle).where(
        LoginThrottle.window_started_at < authrules.stale_before(now, policy),
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now)))
    _insert_unless_present(LoginThrottle, username=key, failures=0, window_started_at=now)
    old_window = LoginThrottle.window_started_at < authrules.window_start(now, policy)
    this_row = LoginThrottle.username == key
    db.session.execute(
        update(LoginThrottle).where(this_row).values(
            failures=case((old_window, 1), else_=LoginThrottle.failures + 1),
            window_started_at=case((old_window, now), else_=LoginThrottle.window_started_at))
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(LoginThrottle).where(this_row, LoginThrottle.failures >= policy.max_failures)
        .values(locked_until=now + policy.lock, failures=0, window_started_at=now)
        .execution_options(synchronize_session=False))
    locked_until = db.session.scalar(select(LoginThrottle.locked_until).where(this_row))
    db.session.commit()
    return locked_until if authrules.is_locked(locked_until, now) else None


def _insert_unless_present(model, **values):
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(model).values(**values).on_conflict_do_nothing())


# ---------------------------------------------------------------- sessions

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    """A new session for ``user``; returns the token for the cookie (the table keeps its hash)."""
    now = utcnow()
    token = secrets.token_urlsafe(32)  # 256 bits
    db.session.add(StaffSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
    _forget_old_sessions(user.id, now)
    db.session.commit()
    return token


def _forget_old_sessions(user_id: int, now: datetime) -> None:
    """Rows past any lifetime only take room; a day's margin keeps recent ones for a look afterwards."""
    limits = authrules.SessionLimits.from_config(current_app.config)
    db.session.execute(delete(StaffSession).where(StaffSession.user_id == user_id,
                                                  StaffSession.created_at < now - limits.lifetime - timedelta(days=1)))


def session_for(token: str | None, user_id) -> StaffSession | None:
    """The live session this cookie names, or None (unknown, ended, expired, another user's,
    or its account deactivated)."""
    if not token:
        return None
    # The user and their site with it, in one statement: every staff page shows both.
    row = db.session.get(StaffSession, token_hash(token),
                         options=[joinedload(StaffSession.user).joinedload(User.site)])
    if row is None or str(row.user_id) != str(user_id):
        return None
    user = row.user
    limits = authrules.SessionLimits.from_config(current_app.config)
    if user is None or not authrules.session_is_valid(row.created_at, row.last_seen_at, row.ended_at,
                                                      user.active, utcnow(), limits):
        return None
    return row


def touch_session(row: StaffSession) -> None:
    """The staff member did something: move last_seen_at, at most once per SESSION_TOUCH_SECONDS."""
    now = utcnow()
    limits = authrules.SessionLimits.from_config(current_app.config)
    if not authrules.needs_touch(row.last_seen_at, now, limits):
        return
    db.session.execute(update(StaffSession).where(StaffSession.token_hash == row.token_hash,
                                                  StaffSession.ended_at.is_(None))
                       .values(last_seen_at=now).execution_options(synchronize_session=False))
    db.session.commit()


def end_session(token: str | None) -> None:
    if not token:
        return
    db.session.execute(update(StaffSession).where(StaffSession.token_hash == token_hash(token),
                                                  StaffSession.ended_at.is_(None))
                       .values(ended_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()


def end_all_sessions(user: User) -> int:
    """Sign ``user`` out everywhere; returns how many sessions were open."""
    result = db.session.execute(update(StaffSession).where(StaffSession.user_id == user.id,
                                                           StaffSession.ended_at.is_(None))
                                .values(ended_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


def deactivate_user(user: User) -> int:
    """No more sign-ins, and every open session ends now; returns how many were ended."""
    user.active = False
    db.session.flush()
    return end_all_sessions(user)
