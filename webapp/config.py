"""Settings: defaults here, then ``instance/config.py``, then ``SERVICELANE_*`` environment variables.

The order lets a deployment keep secrets out of the repository (instance file or environment)
while tests pass a plain dict to ``create_app``, which wins over everything.
"""
import os
import secrets
from pathlib import Path

ENV_PREFIX = "SERVICELANE_"

# Environment variables read as settings, with the type each is parsed as.
ENV_SETTINGS = {
    "DATABASE_URL": str,
    "SECRET_KEY": str,
    "REDIS_URL": str,
    # PostgreSQL's random_page_cost for the app's sessions (0: leave the server's setting).
    "PG_RANDOM_PAGE_COST": float,
    "RATELIMIT_ENABLED": bool,
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host/-Port are believed.
    "PROXY_HOPS": int,
    "PUBLIC_BASE_URL": str,
    "SESSION_COOKIE_SECURE": bool,
    "STATUS_LINK_DAYS": int,
    "NO_SHOW_LINK_HOURS": int,
    "UPLOAD_DIR": str,
    "UPLOAD_MAX_PIXELS": int,
    # Customer notices (webapp/notify): "log" (default), "smtp", or "package.module:Class".
    "NOTIFY_BACKEND": str,
    "SMTP_HOST": str,
    "SMTP_PORT": int,
    "SMTP_USER": str,
    "SMTP_PASSWORD": str,
    "SMTP_FROM": str,
    "SMTP_STARTTLS": bool,
    "SMTP_SSL": bool,
    "SMTP_TIMEOUT": int,
    "NOTIFY_MAX_ATTEMPTS": int,
    # The task queue (webapp/tasks): auto, sqlite, redis, memory or immediate.
    "TASKS_BACKEND": str,
    "TASKS_SQLITE_PATH": str,
    # Staff sessions and sign-in lockout (webapp/services/auth.py).
    "SESSION_IDLE_MINUTES": int,
    "SESSION_MAX_HOURS": int,
    "LOGIN_MAX_FAILURES": int,
    "LOGIN_FAILURE_WINDOW_MINUTES": int,
    "LOGIN_LOCK_MINUTES": int,
}


class Defaults:
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "servicelane_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # an advisor's console stays open all day
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down must not take the public side down: count in this process until it is back
    # (Flask-Limiter rechecks it with a backoff), and never turn a limiter error into a 500.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Public endpoints; one kiosk is one IP, so its limit is a flood guard, not a per-person quota.
    RATELIMIT_KIOSK = "120 per minute"
    # Status pages (/t/<token>/...) count per ticket: fifty phones on the lounge Wi-Fi share one
    # address, so the address only gets a generous flood guard shared by all status routes.
    RATELIMIT_STATUS = "120 per minute"
    RATELIMIT_PIN = "10 per minute"
    RATELIMIT_STATUS_ADDRESS = "1200 per minute"
    # 0: the app faces the clients and ignores X-Forwarded-* (anyone can send them); N: that many
    # proxies of ours in front, each appending to X-Forwarded-For (werkzeug's ProxyFix).
    PROXY_HOPS = 0
    PIN_MAX_FAILURES = 5
    PIN_LOCK_MINUTES = 15
    STATUS_LINK_DAYS = 14
    # A ticket that never reached a desk (no-show, or its day ended uncalled) is a link to nothing
    # the customer still needs: it stops working this many hours after its last activity.
    NO_SHOW_LINK_HOURS = 4
    KIOSK_IDLE_SECONDS = 60
    KIOSK_TICKET_SECONDS = 20
    KIOSK_ASK_SECONDS = 15      # "Still there?" counts down this long before a half-filled form is cleared
    KIOSK_AUTOPRINT = True  # the kiosk prints each new ticket by itself (launcher uses --kiosk-printing)
    PUBLIC_BASE_URL = None  # e.g. https://service.example.com, for QR codes behind a proxy
    REDIS_URL = None
    # PostgreSQL plans for SSD or memory (1.1) instead of its spinning-disk default (4.0), which
    # joins a month of cars by scanning every ticket and job: set per connection at login.
    PG_RANDOM_PAGE_COST = 1.1
    REDIS_TIMEOUT = 1.0  # seconds to connect/answer; a request never waits longer on Redis
    SOCKETIO_ASYNC_MODE = "threading"
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # Photos larger than this (width × height) are refused from their header, before decoding:
    # a 154 KB PNG can hold 40 Mpx (160 MB decoded). 16 Mpx fits phone and tablet cameras.
    UPLOAD_MAX_PIXELS = 16_000_000
    NOTIFY_BACKEND = "log"       # ready-for-pickup notices go to the app log until SMTP is set up
    SMTP_HOST = "localhost"
    SMTP_PORT = None             # 465 with SMTP_SSL, 587 with SMTP_STARTTLS, else 25
    SMTP_USER = None             # no login when empty
    SMTP_PASSWORD = None
    SMTP_FROM = None             # e.g. "Service <service@example.com>"; defaults to SMTP_USER
    SMTP_STARTTLS = False
    SMTP_SSL = False             # implicit TLS (SMTPS)
    SMTP_TIMEOUT = 10            # seconds; notices are sent by a task (webapp/tasks), never in a request
    NOTIFY_MAX_ATTEMPTS = 5      # sends refused (server down, …) before a notice is given up as failed
    # The task queue (Huey, webapp/tasks): "auto" = Redis when REDIS_URL is set, else an SQLite
    # file beside the SQLite database (instance/tasks.db with PostgreSQL); or "sqlite", "redis",
    # "memory" (this process only: tests drain it), "immediate" (run at enqueue).
    TASKS_BACKEND = "auto"
    TASKS_SQLITE_PATH = None     # the SQLite queue file for "sqlite"/"auto" (default: see above)
    # Staff sessions live on the server (table staff_session): logout and deactivation end every
    # copy of the cookie. A session ends after this long without the staff member doing anything
    # (live refreshes do not count), and in any case this long after sign-in (one long shift).
    SESSION_IDLE_MINUTES = 120
    SESSION_MAX_HOURS = 12
    # last_seen_at is written at most this often, so a busy console does not write on every request.
    SESSION_TOUCH_SECONDS = 60
    # Per account, whatever the address: this many failed sign-ins within the window lock the
    # username for LOGIN_LOCK_MINUTES (the per-address rate limit alone allows ~28,800 a day).
    LOGIN_MAX_FAILURES = 10
    LOGIN_FAILURE_WINDOW_MINUTES = 15
    LOGIN_LOCK_MINUTES = 15


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse(kind, raw, name=""):
    """A setting from the environment; a value that is not of its type stops the start."""
    value = raw.strip()
    if kind is bool:
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ValueError(f"{ENV_PREFIX}{name}: expected true/false, got {raw!r}")
    if kind is int:
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{ENV_PREFIX}{name}: expected a whole number, got {raw!r}") from None
    if kind is float:
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{ENV_PREFIX}{name}: expected a number, got {raw!r}") from None
    return kind(raw)


def load(app, overrides=None):
    """Fill ``app.config`` in the documented order."""
    app.config.from_object(Defaults)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    for name, kind in ENV_SETTINGS.items():
        raw = os.environ.get(ENV_PREFIX + name)
        if raw is not None and raw != "":
            app.config[name] = _parse(kind, raw, name)
    if overrides:
        app.config.update(overrides)

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        url = app.config.get("DATABASE_URL") or (
            "sqlite:///" + str(Path(app.instance_path) / "servicelane.db")
        )
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_DATABASE_URI"] = _with_driver(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["PROXY_HOPS"] < 0:
        raise ValueError(f"{ENV_PREFIX}PROXY_HOPS: expected 0 or more, got {app.config['PROXY_HOPS']}")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)
    app.config.setdefault("UPLOAD_DIR", str(Path(app.instance_path) / "uploads"))


def _with_driver(url: str) -> str:
    """SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3; the project ships psycopg2."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def _instance_secret(app):
    """A secret kept in the instance folder, so sessions survive restarts without one in git."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
