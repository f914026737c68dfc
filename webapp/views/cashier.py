"""Settlement (结算): the advisor's bill section on the visit page and the cashier's desk.

- /cashier/visits/<id>/bill…  (advisor) prepare the bill of a car ready for pickup, resolve the
  differences between approved and issued parts, issue it. One section
  (templates/advisor/visit/bill.html), included by the visit page and rendered alone as the HTMX
  answer to each of its forms; it refetches itself on live hints but answers 204 when nothing
  it shows changed (?seen=), so a hint never wipes out a note being typed.
- /cashier  (cashier) bills waiting for payment, one bill open with its payment form, today's
  settled bills; follows the advisor Socket.IO room (a bill issued appears without a reload).
  Each action answers with the page's ``panel`` block and, out of band, the list block (which
  also refetches itself on live hints).
- /cashier/bills/<id>/print, /receipt: the A4 settlement statement and the 80 mm receipt."""
import uuid
from datetime import timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from .. import fragments
from .. import billing as rules
from ..extensions import db
from ..labels import yuan
from ..models import Bill, Visit
from ..roles import ADVISOR, CASHIER
from ..security import roles_required, visit_or_404
from ..services import ServiceError
from ..services import billing as svc
from ..timeutil import day_bounds_utc, local_day
from ..workflow import VisitState
from ..parsing import read_id
from ..messages import error_text, error_texts
from ..validation import Invalid
from ..statuses import BillStatus

bp = Blueprint("cashier", __name__, url_prefix="/cashier")
PAGE = "cashier/queue.html"
SECTION = "advisor/visit/bill.html"


def local_time(dt, tz_name):
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)


def bill_or_404(bill_id: int) -> Bill:
    bill = db.session.get(Bill, bill_id)
    if bill is None or bill.site_id != current_user.site_id:
        abort(404)
    return bill


def bill_facts(bill: Bill | None) -> dict:
    """What every bill view shows of a bill: payments, balance, change, credit notes."""
    if bill is None:
        return {"bill": None, "payments": [], "paid": 0, "balance": 0, "credit_notes": [], "credit_left": 0}
    paid = svc.paid_amount(bill)
    notes = svc.credited(bill) if bill.kind == "invoice" else []
    return {"bill": bill, "payments": list(bill.payments), "paid": paid,
            "balance": rules.balance(bill.total, [paid]) if bill.kind == "invoice" else 0,
            "credit_notes": notes,
            "credit_left": svc.credit_left(bill) if bill.kind == "invoice" and bill.status in svc.SETTLED else 0}


# ---------------------------------------------------------------- the advisor's section

def section_context(visit: Visit, **extra) -> dict:
    db.session.expire(visit, ["bills"])
    bill = svc.closing.current_bill(visit)
    ctx = {
        "visit": visit, **bill_facts(bill),
        "diff_kind": svc.difference_kind,
        "can_prepare": visit.state == VisitState.READY.value and (bill is None or bill.status == BillStatus.DRAFT),
        "open_differences": [d for d in bill.differences if d.resolution is None] if bill else [],
        "own_context": True,
        "local_time": lambda dt: local_time(dt, visit.site.timezone),
        "errors": {}, "values": None, "error_for": None,
    }
    ctx.update(extra)
    return ctx


def render_section(visit: Visit, status: int = 200, **extra):
    body = render_template(SECTION, **section_context(visit, **extra))
    return body, status


def _guard_section(visit, action, values=None, error_for=None):
    return fragments.refused(action, lambda status, errors: render_section(
        visit, status, errors=errors, values=values, error_for=error_for)) or render_section(visit)


# The visit page includes the section with the intake's context: it renders itself with its own.
fragments.page_global(bp, "bill_section", lambda visit: render_template(SECTION, **section_context(visit)))


@bp.get("/visits/<int:visit_id>/bill")
@roles_required(ADVISOR)
def bill_section(visit_id):
    visit = visit_or_404(visit_id)
    return render_section(visit)


@bp.post("/visits/<int:visit_id>/bill/prepare")
@roles_required(ADVISOR)
def prepare(visit_id):
    visit = visit_or_404(visit_id)
    return _guard_section(visit, lambda: svc.prepare_bill(visit, current_user._get_current_object()))


@bp.post("/visits/<int:visit_id>/bill/differences/<int:difference_id>")
@roles_required(ADVISOR)
def resolve(visit_id, difference_id):
    visit = visit_or_404(visit_id)
    f = request.form
    return _guard_section(
        visit, lambda: svc.resolve_difference(visit, difference_id, f.get("resolution", ""), f.get("note"),
                                              bool(f.get("customer_agreed")), current_user._get_current_object()),
        values=f, error_for=difference_id)


@bp.post("/visits/<int:visit_id>/bill/issue")
@roles_required(ADVISOR)
def issue(visit_id):
    visit = visit_or_404(visit_id)
    return _guard_section(visit, lambda: svc.issue_bill(visit, current_user._get_current_object()))


# ---------------------------------------------------------------- the cashier's desk

def _today(site):
    return day_bounds_utc(site.timezone, local_day(site.timezone))


def list_context() -> dict:
    me = current_user._get_current_object()
    start, end = _today(me.site)
    waiting = [{"bill": b, "balance": svc.bill_balance(b)} for b in svc.waiting_bills(me.site_id)]
    return {"waiting": waiting, "settled": svc.settled_between(me.site_id, start, end),
            "tz": me.site.timezone, "local_time": lambda dt: local_time(dt, me.site.timezone),
            "selected": read_id("bill", request.args)}


def panel_context(bill: Bill | None, **extra) -> dict:
    site = current_user.site
    ctx = {**bill_facts(bill), "visit": bill.visit if bill else None,
           "key": uuid.uuid4().hex,
           "local_time": lambda dt: local_time(dt, site.timezone),
           "methods": [m for m in rules.METHODS if m != "company"],
           "errors": {}, "values": None, "form": None, "message": None}
    ctx.update(extra)
    return ctx


def page_context(bill: Bill | None, **extra) -> dict:
    return {**list_context(), **panel_context(bill, **extra)}


def _panel(bill: Bill, status=200, **extra):
    db.session.expire_all()
    bill = db.session.get(Bill, bill.id)
    if request.htmx:
        body = render_block(PAGE, "panel", **panel_context(bill, **extra))
        if status < 400:
            # A payment moves the bill between the lists: the list comes in the same answer,
            # out of band, instead of refetching itself after it.
            body += fragments.mark_out_of_band(render_block(PAGE, "queue_list", **{**list_context(),
                                                                                   "selected": bill.id}))
        return body, status, {}
    if status >= 400:
        return render_template(PAGE, **page_context(bill, **extra)), status
    return redirect(url_for(".bill", bill_id=bill.id))


def _act(bill: Bill, action, form: str):
    values = request.form
    try:
        action()
    except Invalid as exc:
        db.session.rollback()
        # over_balance and over_credit quote the amount still open
        left = svc.credit_left(bill) if bill.status in svc.SETTLED else 0
        return _panel(bill, 422, errors=error_texts(exc.errors, balance=yuan(svc.bill_balance(bill)), left=yuan(left)),
                      values=values, form=form)
    except ServiceError as exc:
        db.session.rollback()
        return _panel(bill, exc.status, message=error_text(exc.message), values=values, form=form)
    return _panel(bill)


@bp.get("/")
@roles_required(CASHIER)
def queue():
    return render_template(PAGE, **page_context(None))


@bp.get("/list")
@roles_required(CASHIER)
def queue_list():
    return render_block(PAGE, "queue_list", **list_context())


@bp.get("/bills/<int:bill_id>")
@roles_required(CASHIER)
def bill(bill_id):
    b = bill_or_404(bill_id)
    if request.htmx:
        return render_block(PAGE, "panel", **panel_context(b))
    return render_template(PAGE, **page_context(b))


@bp.post("/bills/<int:bill_id>/payments")
@roles_required(CASHIER)
def pay(bill_id):
    b = bill_or_404(bill_id)
    f = request.form
    return _act(b, lambda: svc.record_payment(current_user._get_current_object(), b.id, f.get("method", ""),
                                              f.get("amount"), f.get("tendered"), f.get("reference"),
                                              idempotency_key=f.get("key")), "pay")


@bp.post("/bills/<int:bill_id>/company")
@roles_required(CASHIER)
def company(bill_id):
    b = bill_or_404(bill_id)
    f = request.form
    return _act(b, lambda: svc.record_payment(current_user._get_current_object(), b.id, "company",
                                              reference=f.get("reference"), company_name=f.get("company_name"),
                                              idempotency_key=f.get("key")), "company")


@bp.post("/bills/<int:bill_id>/close")
@roles_required(CASHIER)
def close(bill_id):
    b = bill_or_404(bill_id)
    return _act(b, lambda: svc.close_bill(current_user._get_current_object(), b.id), "close")


@bp.post("/bills/<int:bill_id>/credit-note")
@roles_required(CASHIER)
def credit(bill_id):
    b = bill_or_404(bill_id)
    f = request.form
    return _act(b, lambda: svc.credit_note(current_user._get_current_object(), b.id, f.get("amount"),
                                           f.get("reason"), f.get("refund_method", ""), f.get("reference")),
                "credit")


# ---------------------------------------------------------------- paper

def _paper_context(b: Bill) -> dict:
    visit = b.visit
    return {**bill_facts(b), "visit": visit, "site": visit.site, "ro": visit.repair_order,
            "original": b.original, "local_time": lambda dt: local_time(dt, visit.site.timezone)}


@bp.get("/bills/<int:bill_id>/print")
@roles_required(CASHIER, ADVISOR)
def print_bill(bill_id):
    b = bill_or_404(bill_id)
    if b.status == BillStatus.DRAFT:
        abort(404)
    return render_template("cashier/print.html", **_paper_context(b))


@bp.get("/bills/<int:bill_id>/receipt")
@roles_required(CASHIER, ADVISOR)
def receipt(bill_id):
    b = bill_or_404(bill_id)
    if b.status == BillStatus.DRAFT:
        abort(404)
    return render_template("cashier/receipt.html", **_paper_context(b))
