"""The pure rules behind staff sessions and sign-in lockout, edge by edge."""
from datetime import datetime, timedelta

from webapp.authrules import (LockoutPolicy, SessionLimits, is_locked, needs_touch,
                              session_expired, session_is_valid, stale_before, window_start)

NOW = datetime(2026, 12, 6, 8, 0)
LIMITS = SessionLimits(idle=timedelta(minutes=120), lifetime=timedelta(hours=12), touch=timedelta(seconds=60))
POLICY = LockoutPolicy(max_failures=10, window=timedelta(minutes=15), lock=timedelta(minutes=20))


def test_session_lives_up_to_the_idle_limit_and_not_a_minute_more():
    signed_in = NOW - timedelta(hours=3)
    assert not session_expired(signed_in, NOW - timedelta(minutes=120), NOW, LIMITS)
    assert session_expired(signed_in, NOW - timedelta(minutes=121), NOW, LIMITS)


def test_session_ends_at_its_lifetime_even_when_just_used():
    assert not session_expired(NOW - timedelta(hours=12), NOW, NOW, LIMITS)
    assert session_expired(NOW - timedelta(hours=12, seconds=1), NOW, NOW, LIMITS)


def test_an_ended_session_or_an_inactive_account_is_never_valid():
    fresh = (NOW - timedelta(minutes=5), NOW - timedelta(minutes=1))
    assert session_is_valid(*fresh, None, True, NOW, LIMITS)
    assert not session_is_valid(*fresh, NOW - timedelta(seconds=1), True, NOW, LIMITS)
    assert not session_is_valid(*fresh, None, False, NOW, LIMITS)


def test_last_seen_is_rewritten_only_after_the_touch_interval():
    assert not needs_touch(NOW - timedelta(seconds=59), NOW, LIMITS)
    assert needs_touch(NOW - timedelta(seconds=60), NOW, LIMITS)


def test_lock_holds_until_its_end():
    assert not is_locked(None, NOW)
    assert is_locked(NOW + timedelta(seconds=1), NOW)
    assert not is_locked(NOW, NOW)


def test_failure_window_and_pruning_horizon():
    assert window_start(NOW, POLICY) == NOW - timedelta(minutes=15)
    # a row may be pruned only when neither its window nor a lock from it can still matter
    assert stale_before(NOW, POLICY) == NOW - timedelta(minutes=20)


def test_settings_are_read_from_config():
    config = {"SESSION_IDLE_MINUTES": 30, "SESSION_MAX_HOURS": 8, "SESSION_TOUCH_SECONDS": 10,
              "LOGIN_MAX_FAILURES": 5, "LOGIN_FAILURE_WINDOW_MINUTES": 10, "LOGIN_LOCK_MINUTES": 30}
    assert SessionLimits.from_config(config) == SessionLimits(timedelta(minutes=30), timedelta(hours=8),
                                                              timedelta(seconds=10))
    assert LockoutPolicy.from_config(config) == LockoutPolicy(5, timedelta(minutes=10), timedelta(minutes=30))
