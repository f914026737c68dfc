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
    "RATELIMIT_ENABLED": bool,
    "PUBLIC_BASE_URL": str,
    "SESSION_COOKIE_SECURE": bool,
    "STATUS_LINK_DAYS": int,
    "UPLOAD_DIR": str,
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
    # Public endpoints; one kiosk is one IP, so its limit is a flood guard, not a per-person quota.
    RATELIMIT_KIOSK = "120 per minute"
    RATELIMIT_STATUS = "120 per minute"
    RATELIMIT_PIN = "10 per minute"
    PIN_MAX_FAILURES = 5
    PIN_LOCK_MINUTES = 15
    STATUS_LINK_DAYS = 14
    KIOSK_IDLE_SECONDS = 60
    KIOSK_TICKET_SECONDS = 20
    KIOSK_AUTOPRINT = True  # the kiosk prints each new ticket by itself (launcher uses --kiosk-printing)
    PUBLIC_BASE_URL = None  # e.g. https://service.example.com, for QR codes behind a proxy
    REDIS_URL = None
    SOCKETIO_ASYNC_MODE = "threading"
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    NOTIFY_BACKEND = "log"       # ready-for-pickup notices go to the app log until SMTP is set up
    SMTP_HOST = "localhost"
    SMTP_PORT = None             # 465 with SMTP_SSL, 587 with SMTP_STARTTLS, else 25
    SMTP_USER = None             # no login when empty
    SMTP_PASSWORD = None
    SMTP_FROM = None             # e.g. "Service <service@example.com>"; defaults to SMTP_USER
    SMTP_STARTTLS = False
    SMTP_SSL = False             # implicit TLS (SMTPS)
    SMTP_TIMEOUT = 10            # seconds; the notice is sent after the commit, in the request


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
