"""Catalogue administration (/admin/catalogue): labour operations, labour rates, parts and
stock (入库/出库 with history), the maintenance schedule, and CSV import of each list.

Managers and admins may do everything; the parts clerk keeps parts and stock; advisors (and
the parts clerk) may read the lists. Plain forms: a good POST redirects back (so a reload does
not post again), bad input answers 422 with the page, the message next to the field and what
was typed."""
from datetime import timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import LabourOperation, MaintenanceItem, Part, Visit
from ..roles import ADVISOR, PARTS
from ..security import roles_required
from ..services import catalogue as svc
from ..workflow import OPEN_STATES
from ..parsing import read_id
from ..commands.catalogue import (OPERATION_KINDS, RATE_KINDS, parse_maintenance, parse_operation, parse_part,
                                  parse_rates)
from ..messages import error_text
from ..validation import Invalid

bp = Blueprint("catalogue", __name__, url_prefix="/admin/catalogue")

READERS = (ADVISOR, PARTS)


def kind_names():
    return {
        "default": _("Default (all work)"),
        "mechanical": _("Mechanical"),
        "electrical": _("Electrical"),
        "bodywork": _("Body repair"),
        "paint": _("Paint"),
        "diagnosis": _("Diagnosis"),
    }


def movement_names():
    return {
        "receipt": _("Receipt (入库)"),
        "issue": _("Issue (出库)"),
        "reserve": _("Reserved"),
        "release": _("Released"),
        "adjust": _("Adjustment"),
    }


def catalogue_names():
    return {"operations": _("Labour operations"), "parts": _("Parts"), "maintenance": _("Maintenance schedule")}


def current_user_locale():
    return get_locale() or "zh"


def _site_id():
    return current_user.site_id


def _can_edit_catalogue():
    return current_user.role in ("manager", "admin")


def _can_edit_parts():
    return current_user.role in ("manager", "admin", PARTS)


def fmt_qty(value) -> str:
    """A stock quantity without needless decimals: 6, 2.5, 0."""
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def local_time(at):
    """A stored UTC time as the site's wall clock, e.g. 2026-11-29 14:05."""
    if at is None:
        return ""
    tz = ZoneInfo(current_user.site.timezone or "Asia/Shanghai")
    return at.replace(tzinfo=timezone.utc).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _render(template, status=200, **ctx):
    ctx.setdefault("errors", {})
    ctx.setdefault("values", {})
    return render_template(template, error_text=error_text, local_time=local_time, fmt_qty=fmt_qty, kinds=kind_names(),
                           kind_options=[(k, kind_names()[k]) for k in OPERATION_KINDS], can_edit_catalogue=_can_edit_catalogue(),
                           can_edit_parts=_can_edit_parts(), **ctx), status


def _get(model, obj_id):
    obj = db.session.get(model, obj_id)
    if obj is None or obj.site_id != _site_id():
        abort(404)
    return obj


@bp.get("/")
@roles_required(*READERS)
def index():
    return redirect(url_for(".operations"))


# ---------------------------------------------------------------- labour operations

def _operations():
    return db.session.scalars(select(LabourOperation).where(LabourOperation.site_id == _site_id())
                              .order_by(LabourOperation.code)).all()


def _operation_values(op):
    return {"code": op.code, "name_zh": op.name_zh, "name_en": op.name_en, "hours": op.hours,
            "kind": op.kind, "active": op.active}


@bp.get("/operations")
@roles_required(*READERS)
def operations():
    editing = None
    values = {"kind": "mechanical", "active": True}
    if request.args.get("edit") and _can_edit_catalogue():
        editing = _get(LabourOperation, read_id("edit", request.args) or 0)
        values = _operation_values(editing)
    return _render("catalogue/operations.html", operations=_operations(), editing=editing, values=values)


@bp.post("/operations", defaults={"op_id": None})
@bp.post("/operations/<int:op_id>")
@roles_required()
def save_operation(op_id):
    editing = _get(LabourOperation, op_id) if op_id else None
    form = request.form.to_dict()
    form["active"] = "1" if request.form.get("active") else "0"
    try:
        op = svc.save_operation(_site_id(), parse_operation(form), editing)
    except Invalid as exc:
        values = dict(form, active=form["active"] == "1")
        return _render("catalogue/operations.html", 422, operations=_operations(), editing=editing,
                       values=values, errors=exc.errors)
    flash(_("Saved: %(code)s", code=op.code))
    return redirect(url_for(".operations"))


# ---------------------------------------------------------------- labour rates

@bp.get("/rates")
@roles_required(*READERS)
def rates():
    values = {f"rate_{k}": v for k, v in svc.rates_for(_site_id()).items()}
    return _render("catalogue/rates.html", values=values, rate_kinds=RATE_KINDS)


@bp.post("/rates")
@roles_required()
def save_rates():
    try:
        svc.save_rates(_site_id(), parse_rates(request.form))
    except Invalid as exc:
        return _render("catalogue/rates.html", 422, values=request.form.to_dict(), errors=exc.errors,
                       rate_kinds=RATE_KINDS)
    flash(_("Labour rates saved."))
    return redirect(url_for(".rates"))


# ---------------------------------------------------------------- parts and stock

def _parts():
    q = (request.args.get("q") or "").strip()
    stmt = select(Part).where(Part.site_id == _site_id())
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Part.number.ilike(like) | Part.name_zh.ilike(like) | Part.name_en.ilike(like))
    return db.session.scalars(stmt.order_by(Part.number)).all(), q


def _parts_page(status=200, **ctx):
    parts, q = _parts()
    ctx.setdefault("values", {"lead_days": 2, "active": True})
    return _render("catalogue/parts.html", status, parts=parts, q=q, **ctx)


@bp.get("/parts")
@roles_required(*READERS)
def parts():
    return _parts_page()


@bp.post("/parts")
@roles_required(PARTS)
def create_part():
    form = request.form.to_dict()
    form["active"] = "1"
    try:
        part = svc.save_part(_site_id(), parse_part(form))
    except Invalid as exc:
        return _parts_page(422, values=form, errors=exc.errors)
    flash(_("Saved: %(code)s", code=part.number))
    return redirect(url_for(".part", part_id=part.id))


def _open_visits():
    return db.session.scalars(select(Visit).where(Visit.site_id == _site_id(),
                                                  Visit.state.in_([s.value for s in OPEN_STATES]))
                              .order_by(Visit.created_at.desc()).limit(100)).all()


def _part_page(part, status=200, **ctx):
    ctx.setdefault("values", {"number": part.number, "name_zh": part.name_zh, "name_en": part.name_en,
                              "unit_price": part.unit_price, "lead_days": part.lead_days, "active": part.active})
    ctx.setdefault("stock_values", {})
    ctx.setdefault("stock_errors", {})
    ctx.setdefault("stock_form", None)
    return _render("catalogue/part.html", status, part=part, movements=svc.movements(part),
                   movement_names=movement_names(),
                   visit_options=[(v.id, f"{v.plate} (#{v.id})") for v in _open_visits()] if _can_edit_parts() else [],
                   **ctx)


@bp.get("/parts/<int:part_id>")
@roles_required(*READERS)
def part(part_id):
    return _part_page(_get(Part, part_id))


@bp.post("/parts/<int:part_id>")
@roles_required(PARTS)
def save_part(part_id):
    part = _get(Part, part_id)
    form = request.form.to_dict()
    form["active"] = "1" if request.form.get("active") else "0"
    try:
        svc.save_part(_site_id(), parse_part(form), part)
    except Invalid as exc:
        db.session.rollback()
        return _part_page(part, 422, values=dict(form, active=form["active"] == "1"), errors=exc.errors)
    flash(_("Saved: %(code)s", code=part.number))
    return redirect(url_for(".part", part_id=part.id))


@bp.post("/parts/<int:part_id>/receive")
@roles_required(PARTS)
def receive(part_id):
    part = _get(Part, part_id)
    form = request.form.to_dict()
    try:
        movement = svc.receive_stock(part, form.get("quantity"), form.get("reference"), current_user)
    except Invalid as exc:
        return _part_page(part, 422, stock_form="receive", stock_values=form, stock_errors=exc.errors)
    flash(_("Received %(q)s of %(part)s.", q=fmt_qty(movement.quantity), part=part.number))
    return redirect(url_for(".part", part_id=part.id))


@bp.post("/parts/<int:part_id>/issue")
@roles_required(PARTS)
def issue(part_id):
    part = _get(Part, part_id)
    form = request.form.to_dict()
    visit = None
    if form.get("visit_id"):
        visit = db.session.get(Visit, read_id("visit_id") or 0)
        if visit is None or visit.site_id != _site_id():
            return _part_page(part, 422, stock_form="issue", stock_values=form,
                              stock_errors={"visit_id": "visit_invalid"})
    try:
        movement = svc.issue_stock(part, form.get("quantity"), form.get("reference"), current_user, visit)
    except Invalid as exc:
        return _part_page(part, 422, stock_form="issue", stock_values=form, stock_errors=exc.errors)
    flash(_("Issued %(q)s of %(part)s.", q=fmt_qty(movement.quantity), part=part.number))
    return redirect(url_for(".part", part_id=part.id))


# ---------------------------------------------------------------- maintenance schedule

def _maintenance_page(status=200, **ctx):
    site_id = _site_id()
    items = db.session.scalars(
        select(MaintenanceItem).where(MaintenanceItem.site_id == site_id)
        .order_by(MaintenanceItem.make.is_not(None), MaintenanceItem.make, MaintenanceItem.model,
                  MaintenanceItem.every_km, MaintenanceItem.id)).all()
    all_parts = db.session.scalars(select(Part).where(Part.site_id == site_id, Part.active.is_(True))
                                   .order_by(Part.number)).all()
    ops = db.session.scalars(select(LabourOperation).where(LabourOperation.site_id == site_id,
                                                           LabourOperation.active.is_(True))
                             .order_by(LabourOperation.code)).all()
    ctx.setdefault("values", {})
    ctx.setdefault("editing", None)
    loc = str(current_user_locale())
    return _render("catalogue/maintenance.html", status, items=items,
                   op_options=[(o.id, f"{o.code} · {o.name(loc)}") for o in ops],
                   part_options=[(p.id, f"{p.number} · {p.name(loc)}") for p in all_parts], **ctx)


@bp.get("/maintenance")
@roles_required(*READERS)
def maintenance():
    editing = None
    values = {}
    if request.args.get("edit") and _can_edit_catalogue():
        editing = _get(MaintenanceItem, read_id("edit", request.args) or 0)
        values = {"make": editing.make or "", "model": editing.model or "", "operation_id": editing.operation_id,
                  "part_id": editing.part_id or "", "part_quantity": editing.part_quantity or "",
                  "every_km": editing.every_km or "", "every_months": editing.every_months or ""}
    return _maintenance_page(editing=editing, values=values)


@bp.post("/maintenance", defaults={"item_id": None})
@bp.post("/maintenance/<int:item_id>")
@roles_required()
def save_maintenance(item_id):
    editing = _get(MaintenanceItem, item_id) if item_id else None
    form = request.form.to_dict()
    try:
        svc.save_maintenance_item(_site_id(), parse_maintenance(form), editing)
    except Invalid as exc:
        db.session.rollback()
        return _maintenance_page(422, editing=editing, values=form, errors=exc.errors)
    flash(_("Maintenance item saved."))
    return redirect(url_for(".maintenance"))


@bp.post("/maintenance/<int:item_id>/delete")
@roles_required()
def delete_maintenance(item_id):
    svc.delete_maintenance_item(_get(MaintenanceItem, item_id))
    flash(_("Maintenance item deleted."))
    return redirect(url_for(".maintenance"))


# ---------------------------------------------------------------- CSV import

def _may_import(catalogue):
    if catalogue not in svc.COLUMNS:
        abort(404)
    allowed = _can_edit_parts() if catalogue == "parts" else _can_edit_catalogue()
    if not allowed:
        abort(403)


@bp.route("/import/<catalogue>", methods=["GET", "POST"])
@roles_required(PARTS)
def import_csv(catalogue):
    _may_import(catalogue)
    ctx = {"catalogue": catalogue, "catalogue_name": catalogue_names()[catalogue],
           "columns": svc.COLUMNS[catalogue], "required_columns": svc.REQUIRED_COLUMNS[catalogue],
           "summary": None}
    if request.method == "GET":
        return _render("catalogue/import.html", **ctx)
    upload = request.files.get("file")
    raw = upload.read() if upload else b""
    try:
        summary = svc.import_csv(_site_id(), catalogue, raw)
    except Invalid as exc:
        return _render("catalogue/import.html", 422, errors=exc.errors, **ctx)
    ctx["summary"] = summary
    return _render("catalogue/import.html", 422 if summary.errors and not summary.imported else 200, **ctx)
