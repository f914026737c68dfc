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
from werkzeug.exceptions import HTTPException

from . import config as config_module
from .extensions import babel, csrf, db, htmx, limiter, login_manager, migrate, socketio
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

    db.init_app(app)
    from . import changes, sqlite_writer  # noqa: F401  (session events: change sequence, one SQLite writer)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    htmx.init_app(app)

    from .i18n import locale_code, select_locale
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(ROOT / "translations"))

    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    limiter.init_app(app)  # before CSRF, so a flood is refused before any other work
    csrf.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    from .models import User

    @login_manager.user_loader
    def load_user(user_id):
        return db.session.get(User, int(user_id))

    from . import realtime  # registers the socket handlers before the server is created
    from . import notify  # noqa: F401  (subscribes the ready-for-pickup notice to domain events)
    socketio.init_app(app, async_mode=app.config["SOCKETIO_ASYNC_MODE"],
                      message_queue=redis_url or None)
    realtime.init_app(app)

    from .security import add_security_headers
    app.after_request(add_security_headers)

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

    for bp in (i18n_bp, auth_bp, main_bp, kiosk_bp, lobby_bp, status_bp, advisor_bp, intake_bp, estimate_bp,
               catalogue_bp, settings_bp, workshop_bp, tech_bp, board_bp, delivery_bp, cashier_bp, followup_bp,
               history_bp):
        app.register_blueprint(bp)


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
