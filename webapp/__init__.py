"""ServiceLane: service reception for car dealerships and repair shops.

``create_app`` builds the Flask application; ``webapp.extensions.socketio`` serves it with
Socket.IO (``flask --app webapp run`` is not enough for live updates, use ``make run``)."""
import logging
import sqlite3

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .extensions import babel, csrf, db, htmx, limiter, login_manager, migrate, socketio
from .redisqueue import RedisQueue, client_options
from .workflow import IllegalTransition

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets the status pages read while a check-in writes; the busy timeout makes concurrent
    # writers queue instead of failing; SQLite leaves foreign keys off unless asked.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def create_app(config=None):
    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    config_module.load(app, config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.setdefault("connect_args", {"timeout": 30})
        # A file on this machine does not drop connections: no ping before every checkout.
        options["pool_pre_ping"] = False
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    else:
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        # The gevent server (webapp/wsgi_gevent.py): a bounded pool shared by a thousand greenlets.
        options.update(app.config.get("DB_POOL") or {})
        cost = app.config.get("PG_RANDOM_PAGE_COST")
        if cost and app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            # PostgreSQL's default (4.0) prices a random read for a spinning disk: it then scans
            # whole tables of tickets and jobs to join a month's cars (the month report at 1M visits
            # read ~3M rows a period). On SSD or a database in memory, 1.1 is the usual value.
            args = dict(options.get("connect_args") or {})
            args.setdefault("options", f"-c random_page_cost={float(cost)}")
            options["connect_args"] = args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    db.init_app(app)
    from . import changes, sqlite_writer  # noqa: F401  (session events: change sequence, one SQLite writer)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    htmx.init_app(app)

    from .i18n import locale_code, select_locale
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(ROOT / "translations"))

    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        # A request never waits long on Redis; when it is down, limits count in this process.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", client_options(app.config["REDIS_TIMEOUT"]))
    limiter.init_app(app)  # before CSRF, so a flood is refused before any other work
    csrf.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    _register_staff_sessions(app)

    from . import realtime  # registers the socket handlers before the server is created
    from . import tasks  # the task queue (notices, escalation, follow-ups due) on the configured storage
    tasks.init_app(app)
    # Our own Redis queue (webapp/redisqueue.py): it survives a Redis outage. client_manager is
    # always passed: the shared extension object would otherwise keep the last app's queue.
    queue = RedisQueue(redis_url, timeout=app.config["REDIS_TIMEOUT"],
                       on_recovered=realtime.resync_local) if redis_url else None
    socketio.init_app(app, async_mode=app.config["SOCKETIO_ASYNC_MODE"], client_manager=queue)
    realtime.init_app(app)

    hops = app.config["PROXY_HOPS"]
    if hops:
        # Outermost, so Socket.IO and Flask both see the client's address, scheme and host (rate
        # limits, HSTS, CSP's host, external URLs). Only as many hops as our own proxies add.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    from .security import add_security_headers
    app.after_request(add_security_headers)

    from . import parsing
    parsing.init_app(app)  # bounded <int:…> ids and the NUL guard, before the blueprints add rules
    _register_blueprints(app)
    _register_errors(app)

    from .cli import register as register_cli
    from .labels import register as register_labels
    register_cli(app)
    register_labels(app)
    from .navigation import register as register_navigation
    register_navigation(app)

    @app.context_processor
    def inject():
        from .timeutil import utcnow
        return {"locale_code": locale_code(), "now_utc": utcnow()}

    @app.teardown_appcontext
    def _close(_exc):
        g.pop("site", None)

    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    return app


def _register_blueprints(app):
    from kiosk.views import bp as kiosk_bp

    from .i18n import bp as i18n_bp
    from .views.advisor import bp as advisor_bp
    from .views.auth import bp as auth_bp
    from .views.catalogue import bp as catalogue_bp
    from .views.intake import bp as intake_bp
    from .views.lobby import bp as lobby_bp
    from .views.main import bp as main_bp
    from .views.status import bp as status_bp
    from .views.estimate import bp as estimate_bp
    from .views.settings import bp as settings_bp
    from .views.workshop import bp as workshop_bp
    from .views.tech import bp as tech_bp
    from .views.board import bp as board_bp
    from .views.delivery import bp as delivery_bp
    from .views.cashier import bp as cashier_bp
    from .views.followup import bp as followup_bp
    from .views.history import bp as history_bp
    from .views.parts import bp as parts_bp
    from .views.appointments import bp as appointments_bp
    from .views.book import bp as book_bp
    from .views.reports import bp as reports_bp

    for bp in (i18n_bp, auth_bp, main_bp, kiosk_bp, lobby_bp, status_bp, advisor_bp, intake_bp, estimate_bp,
               catalogue_bp, settings_bp, workshop_bp, tech_bp, board_bp, delivery_bp, cashier_bp, followup_bp,
               history_bp, parts_bp, appointments_bp, book_bp, reports_bp):
        app.register_blueprint(bp)


def _register_staff_sessions(app):
    """Flask-Login trusts the signed cookie; we also ask the staff_session table whether the
    session behind it is still alive (logout, deactivation, idle time, absolute lifetime)."""
    from flask import session
    from flask_login import current_user

    from .services import auth as auth_service
    from .views.auth import SESSION_TOKEN

    @login_manager.user_loader
    def load_user(user_id):
        row = auth_service.session_for(session.get(SESSION_TOKEN), user_id)
        if row is None:
            # The cookie is left as it is (a favicon fetched meanwhile must not wipe it), so every
            # request with it, not only the first, can tell the login page why it is shown.
            g.session_ended = True
            return None
        g.staff_session = row
        return row.user

    @app.before_request
    def note_activity():
        if request.endpoint == "static" or SESSION_TOKEN not in session:
            return
        if current_user.is_authenticated and not is_refetch(request):
            auth_service.touch_session(g.staff_session)

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import redirect, url_for
        from .i18n import safe_next
        nxt = page_to_return_to(request)
        target = url_for("auth.login", next=safe_next(nxt) if nxt else None,
                         ended="1" if g.get("session_ended") else None)
        if request.htmx:
            # htmx must navigate to the login page, not swap it into a fragment of the console.
            return "", 401, {"HX-Redirect": target}
        return redirect(target)


def is_refetch(req) -> bool:
    """A live refresh or a poll: htmx fetching an element's own content again (its trigger is its
    target). Those run all day on an open console and must not count as the user being there."""
    return (req.method == "GET" and bool(req.headers.get("HX-Request"))
            and req.headers.get("HX-Trigger") is not None
            and req.headers.get("HX-Trigger") == req.headers.get("HX-Target"))


def page_to_return_to(req) -> str | None:
    """Where to go after signing in again: the page the user was on (htmx says which), or the
    address asked for when it was a plain page load."""
    from urllib.parse import urlsplit
    current = req.headers.get("HX-Current-URL")
    if req.headers.get("HX-Request") and current:
        parts = urlsplit(current)
        return parts.path + ("?" + parts.query if parts.query else "")
    if req.method == "GET":
        return req.full_path.rstrip("?")
    return None


def _register_errors(app):
    def render_error(code, message):
        if request.htmx:
            # Show it in the page's message area instead of replacing what the user was working on.
            body = render_template("errors/fragment.html", code=code, message=message)
            return body, code, {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
        return render_template("errors/page.html", code=code, message=message), code

    @app.errorhandler(IllegalTransition)
    def illegal(exc):
        return render_error(409, _("This step is not possible now: the visit is at another stage. "
                                   "Reload to see the current state."))

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def value_out_of_range(exc):
        # Last line of defence: input that no reader bounded (webapp/parsing.py) and the database
        # refused — an id past SQLite's 64 bits or PostgreSQL's integer. Nothing was committed.
        db.session.rollback()
        app.logger.warning("value out of range reached the database: %s", exc)
        return render_error(400, _("The request could not be understood."))

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(400, _("The form has expired. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        messages = {
            400: _("The request could not be understood."),
            403: _("You do not have access to this page."),
            404: _("This page does not exist."),
            405: _("This action is not allowed here."),
            409: _("This was changed in the meantime. Reload to see the current state."),
            410: _("This link has expired."),
            413: _("The file is too large."),
            429: _("Too many attempts. Please wait a moment and try again."),
        }
        return render_error(exc.code or 500, messages.get(exc.code, exc.description))
