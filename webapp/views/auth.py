"""Staff sign-in. Customers never sign in: they hold a ticket token and a PIN."""
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..extensions import limiter
from ..forms import LoginForm
from ..i18n import safe_next
from ..services import auth as auth_service
from ..roles import ADVISOR, CASHIER, CSI, DISPATCHER, PARTS, QC, SUPERVISORS, TECHNICIAN

bp = Blueprint("auth", __name__)
SESSION_TOKEN = "staff_session"   # the key of the session token in the signed cookie


def home_for(user) -> str:
    if user.role == ADVISOR or user.role in SUPERVISORS:
        return url_for("advisor.console")
    if user.role == PARTS:
        return url_for("parts.desk")
    if user.role == DISPATCHER:
        return url_for("workshop.dispatch")
    if user.role == TECHNICIAN:
        return url_for("tech.tablet")
    if user.role == QC:
        return url_for("workshop.qc_page")
    if user.role == CASHIER:
        return url_for("cashier.queue")
    if user.role == CSI:
        return url_for("followup.queue")
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            user = auth_service.sign_in(form.username.data, form.password.data)
        except auth_service.SignInRefused as refused:
            status = refused.status
            if refused.locked:
                form.username.errors.append(refused.message)  # the lock belongs to the name typed
            else:
                error = refused.message
        else:
            begin_session(user)
            nxt = request.args.get("next")
            return redirect(safe_next(nxt) if nxt else home_for(user))
    if status == 200 and form.errors:
        status = 422
    return render_template("auth/login.html", form=form, error=error,
                           session_ended=request.args.get("ended") == "1"), status


@bp.post("/logout")
def logout():
    end_session()
    return redirect(url_for("auth.login"))


def begin_session(user):
    """A fresh cookie at sign-in: whatever session (and CSRF token) the browser had before is
    dropped, so a session fixed or seen before sign-in opens nothing afterwards."""
    auth_service.end_session(session.get(SESSION_TOKEN))
    session.clear()
    login_user(user)
    session[SESSION_TOKEN] = auth_service.start_session(user)


def end_session():
    auth_service.end_session(session.get(SESSION_TOKEN))
    logout_user()
    session.clear()


@bp.get("/")
def root():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("main.index"))
