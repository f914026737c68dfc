"""The service history (顾客服务档案, /history): search, a vehicle's and a customer's timeline,
the printable history of a vehicle, the repair orders as CSV, and the history panel on the
advisor's visit page (rendered by the visit page through ``history_panel``, and out of band in the customer
section's answer when it links a vehicle, fragments.out_of_band).

Read-only and site-scoped: every record is looked up within current_user.site_id (404 otherwise)."""
import csv
import io

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from .. import fragments
from .. import history as rules
from ..labels import state_label
from ..models import Visit
from ..roles import ADMIN, ADVISOR, CASHIER, CSI, MANAGER
from ..security import roles_required, visit_or_404
from ..services import ServiceError
from ..services import history as svc
from ..messages import error_text
from ..statuses import BillStatus, ComplaintStatus, FollowUpStatus

bp = Blueprint("history", __name__, url_prefix="/history")
READERS = (ADVISOR, CASHIER, CSI)

CHANNELS = {"in_shop": _l("In the shop (signed)"), "remote": _l("On the phone (status page)")}
BILL_KINDS = {"invoice": _l("Invoice"), "credit_note": _l("Credit note")}
BILL_STATUS = {BillStatus.DRAFT: _l("Draft"), BillStatus.ISSUED: _l("To pay"), BillStatus.PAID: _l("Paid"),
               BillStatus.COMPANY: _l("Company account"), BillStatus.VOID: _l("Void")}
PAYMENT_METHODS = {"wechat": _l("WeChat Pay"), "alipay": _l("Alipay"), "card": _l("Bank card"), "cash": _l("Cash"),
                   "company": _l("Company account")}
SURVEY_CHANNELS = {"pickup": _l("Rating at pickup"), "survey": _l("Survey after delivery"),
                   "call": _l("Answers on the follow-up call")}
CALL_OUTCOMES = {"reached": _l("Reached"), "no_answer": _l("No answer"), "wrong_number": _l("Wrong number")}
FOLLOW_UP_STATUS = {FollowUpStatus.DUE: _l("Due"), FollowUpStatus.REACHED: _l("Reached"),
                    FollowUpStatus.UNREACHABLE: _l("Unreachable"), FollowUpStatus.WRONG_NUMBER: _l("Wrong number")}
COMPLAINT_STATUS = {ComplaintStatus.OPEN: _l("Open"), ComplaintStatus.RESOLVED: _l("Resolved")}
COMPLAINT_SOURCES = {"rating": _l("Low rating"), "call": _l("Follow-up call"), "staff": _l("Staff")}
LINE_KINDS = {"labour": _l("Labour"), "part": _l("Part"), "diagnosis": _l("Diagnosis")}


def _label(table, code):
    return str(table.get(code, code)) if code else ""


def maybe_url(endpoint: str, **values) -> str | None:
    """A link to another surface's page, or None while that page does not exist (yet) or the
    user's role may not open it."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def can_open_visit() -> bool:
    """The visit page, the intake form and the repair order are the advisor's (and supervisors')."""
    return current_user.role in (ADVISOR, MANAGER, ADMIN)


def _context(**extra) -> dict:
    ctx = {
        "channel_label": lambda c: _label(CHANNELS, c), "bill_kind_label": lambda c: _label(BILL_KINDS, c),
        "bill_status_label": lambda c: _label(BILL_STATUS, c), "pay_label": lambda c: _label(PAYMENT_METHODS, c),
        "survey_label": lambda c: _label(SURVEY_CHANNELS, c), "outcome_label": lambda c: _label(CALL_OUTCOMES, c),
        "follow_up_label": lambda c: _label(FOLLOW_UP_STATUS, c),
        "complaint_label": lambda c: _label(COMPLAINT_STATUS, c),
        "complaint_source_label": lambda c: _label(COMPLAINT_SOURCES, c),
        "line_kind_label": lambda c: _label(LINE_KINDS, c),
        "maybe_url": maybe_url, "can_open_visit": can_open_visit(), "error_text": error_text,
        "can_print_bill": current_user.role in (ADVISOR, CASHIER, MANAGER, ADMIN),   # the cashier's paper
    }
    ctx.update(extra)
    return ctx


def _or_404(fn, *args):
    try:
        return fn(current_user.site_id, *args)
    except ServiceError as exc:
        abort(exc.status)


# ---------------------------------------------------------------- search

def _search_page(status=200, export_errors=None, export_values=None):
    raw = request.args.get("q")
    result, errors = None, {}
    if raw is not None:
        try:
            result = svc.search(current_user.site_id, raw)
        except rules.QueryRefused as exc:
            errors["q"] = error_text(exc.code)
            status = 422
    return render_template("history/search.html", **_context(
        q=raw or "", result=result, errors=errors, export_errors=export_errors or {},
        export_values=export_values or {})), status


@bp.get("/")
@roles_required(*READERS)
def search():
    return _search_page()


# ---------------------------------------------------------------- a vehicle, a customer

@bp.get("/vehicles/<int:vehicle_id>")
@roles_required(*READERS)
def vehicle(vehicle_id):
    h = _or_404(svc.vehicle_history, vehicle_id)
    return render_template("history/vehicle.html", **_context(h=h))


@bp.get("/vehicles/<int:vehicle_id>/print")
@roles_required(*READERS)
def vehicle_print(vehicle_id):
    h = _or_404(svc.vehicle_history, vehicle_id)
    return render_template("history/print.html", **_context(h=h, site=current_user.site))


@bp.get("/customers/<int:customer_id>")
@roles_required(*READERS)
def customer(customer_id):
    h = _or_404(svc.customer_history, customer_id)
    return render_template("history/customer.html", **_context(h=h))


# ---------------------------------------------------------------- repair orders as CSV

def csv_header() -> list[str]:
    return [_("RO number"), _("Date"), _("Plate"), _("VIN"), _("Customer"), _("Advisor"), _("Mileage (km)"),
            _("Labour approved"), _("Parts approved"), _("Total approved"), _("Bill number"), _("Paid"),
            _("Status"), _("Delivered at")]


def csv_text(rows: list[svc.RoRow]) -> str:
    """UTF-8 with a BOM (Excel then reads the Chinese right), CRLF rows, every text cell guarded
    against formula injection; amounts are numbers the app computed."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, quoting=csv.QUOTE_MINIMAL)
    w.writerow(csv_header())
    cell = rules.csv_cell
    for r in rows:
        v = r.visit
        w.writerow([
            cell(r.ro.number), r.ro.day.isoformat(), cell(v.vehicle.plate if v.vehicle else v.plate),
            cell(v.vehicle.vin if v.vehicle else ""), cell(v.customer.name if v.customer else ""),
            cell(v.advisor.display_name if v.advisor else ""), "" if r.mileage is None else r.mileage,
            f"{r.labour:.2f}", f"{r.parts:.2f}", f"{r.total:.2f}", cell(r.bill_number), f"{r.paid:.2f}",
            cell(state_label(v.state)), r.delivered_local.strftime("%Y-%m-%d %H:%M") if r.delivered_local else "",
        ])
    return buf.getvalue()


@bp.get("/ros.csv")
@roles_required(*READERS)
def ros_csv():
    raw_from, raw_to = request.args.get("from"), request.args.get("to")
    start, end, errors = rules.parse_range(raw_from, raw_to)
    if errors:
        return _search_page(422, {k: error_text(v) for k, v in errors.items()},
                            {"from": raw_from or "", "to": raw_to or ""})
    site = current_user.site
    body = csv_text(svc.ro_rows(site.id, start, end, site.timezone))
    name = f"ro-{site.code}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return body, 200, {"Content-Type": "text/csv; charset=utf-8",
                       "Content-Disposition": f'attachment; filename="{name}"',
                       "Cache-Control": "private, no-store"}


# ---------------------------------------------------------------- the panel on the advisor's visit page

def render_panel(visit: Visit) -> str:
    return render_template("advisor/visit/history.html", **_context(visit=visit, panel=svc.visit_panel(visit)))


# The visit page includes the panel with the intake's context: it renders itself with its own.
fragments.page_global(bp, "history_panel", render_panel)
fragments.visit_section("history", render_panel)


@bp.get("/visits/<int:visit_id>/panel")
@roles_required(ADVISOR)
def visit_panel(visit_id):
    return render_panel(visit_or_404(visit_id))
