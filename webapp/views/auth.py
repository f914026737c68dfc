"""Staff sign-in. Customers never sign in: they hold a ticket token and a PIN."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, limiter
from ..forms import LoginForm
from ..i18n import safe_next
from ..models import User
from ..roles import ADVISOR, CASHIER, CSI, DISPATCHER, PARTS, QC, SUPERVISORS, TECHNICIAN

bp = Blueprint("auth", __name__)


def home_for(user) -> str:
    if user.role == ADVISOR or user.role in SUPERVISORS:
        return url_for("advisor.console")
    if user.role == PARTS:
        return url_for("catalogue.parts")
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
    error = None
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user)
            nxt = request.args.get("next")
            return redirect(safe_next(nxt) if nxt else home_for(user))
        error = _("Wrong username or password.")
    status = 401 if error else (422 if form.errors else 200)
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


@bp.get("/")
def root():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("main.index"))
