"""Rules of staff sessions and sign-in lockout, as pure functions of times and settings (no
database, no request), so each edge is tested on its own. Times are naive UTC."""
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta        # without activity
    lifetime: timedelta    # since sign-in, whatever the activity
    touch: timedelta       # last_seen_at is not rewritten more often than this

    @classmethod
    def from_config(cls, config) -> "SessionLimits":
        return cls(idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                   lifetime=timedelta(hours=config["SESSION_MAX_HOURS"]),
                   touch=timedelta(seconds=config["SESSION_TOUCH_SECONDS"]))


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int
    window: timedelta      # failures older than this (from the first one) start a new count
    lock: timedelta

    @classmethod
    def from_config(cls, config) -> "LockoutPolicy":
        return cls(max_failures=config["LOGIN_MAX_FAILURES"],
                   window=timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"]),
                   lock=timedelta(minutes=config["LOGIN_LOCK_MINUTES"]))


def session_expired(created_at: datetime, last_seen_at: datetime, now: datetime, limits: SessionLimits) -> bool:
    """Idle too long, or signed in too long ago. Exactly at a limit the session still lives."""
    return now - last_seen_at > limits.idle or now - created_at > limits.lifetime


def session_is_valid(created_at: datetime, last_seen_at: datetime, ended_at: datetime | None,
                     user_active: bool, now: datetime, limits: SessionLimits) -> bool:
    return ended_at is None and user_active and not session_expired(created_at, last_seen_at, now, limits)


def needs_touch(last_seen_at: datetime, now: datetime, limits: SessionLimits) -> bool:
    return now - last_seen_at >= limits.touch


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def window_start(now: datetime, policy: LockoutPolicy) -> datetime:
    """Failures counted since before this belong to an old window: the count starts again."""
    return now - policy.window


def stale_before(now: datetime, policy: LockoutPolicy) -> datetime:
    """Throttle rows whose window started before this, and not locked now, tell nothing any more."""
    return now - max(policy.window, policy.lock)
