"""Catalogues (issue 4): labour operations, labour rates, parts with their stock, the
maintenance schedule, and CSV import of the three lists.

The views parse the forms (``commands.catalogue``: operations, parts, rates); each public
function checks what needs the database, changes it and commits. Bad input raises
``Invalid`` whose ``errors`` map a field name to a code (the views put words on the
codes). Money and quantities are Decimal, never float. Stock moves only through receipts
(入库) and issues (出库), each written as an append-only ``StockMovement`` with who and when;
the stock columns change with one conditional UPDATE so two clerks at once cannot lose a
receipt or issue more than there is.
"""
import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select, update

from ..extensions import db
from ..models import (Estimate, EstimateLine, LabourOperation, LabourRate, MaintenanceItem, Part,
                      StockMovement, Visit)
from ..money import parse_amount
from ..validation import Invalid
from ..commands.catalogue import (RATE_KINDS, MAX_RATE, MaintenanceFields, OperationFields, PartFields, ordered,
                                  parse_maintenance, parse_operation, parse_part, text)

MAX_STOCK_QUANTITY = Decimal("100000")
MAX_IMPORT_ROWS = 5000


# ---------------------------------------------------------------- labour operations

def _operation_values(site_id, fields: OperationFields, existing=None, upsert=False):
    errors = dict(fields.problems)
    if fields.code:
        other = db.session.scalar(select(LabourOperation).where(
            LabourOperation.site_id == site_id, LabourOperation.code == fields.code))
        if other is not None and other is not existing and not upsert:
            errors["code"] = "code_taken"
    return fields.values(), ordered(errors, OperationFields.FIELDS)


def save_operation(site_id: int, fields: OperationFields, operation: LabourOperation | None = None) -> LabourOperation:
    """Create (``operation`` None) or update a labour operation; code unique per site."""
    values, errors = _operation_values(site_id, fields, operation)
    if errors:
        raise Invalid(errors)
    if operation is None:
        operation = LabourOperation(site_id=site_id)
        db.session.add(operation)
    for key, value in values.items():
        setattr(operation, key, value)
    db.session.commit()
    return operation


# ---------------------------------------------------------------- labour rates

def save_rate(site_id: int, kind: str, raw_rate) -> LabourRate | None:
    """Set the hourly rate of a kind of work; an empty rate removes a kind's own rate
    (the default rate then applies). The default rate itself is required."""
    kind = str(kind or "").strip().lower()
    if kind not in RATE_KINDS:
        raise Invalid({"kind": "invalid"})
    existing = db.session.scalar(select(LabourRate).where(LabourRate.site_id == site_id, LabourRate.kind == kind))
    if not str(raw_rate or "").strip():
        if kind == "default":
            raise Invalid({f"rate_{kind}": "required"})
        if existing is not None:
            db.session.delete(existing)
            db.session.commit()
        return None
    rate = parse_amount(raw_rate, Decimal("0.01"), MAX_RATE)
    if rate is None:
        raise Invalid({f"rate_{kind}": "rate_range"})
    if existing is None:
        existing = LabourRate(site_id=site_id, kind=kind)
        db.session.add(existing)
    existing.rate = rate
    db.session.commit()
    return existing


def save_rates(site_id: int, rates: dict[str, Decimal | None]) -> None:
    """All rates of the rates form at once (``commands.catalogue.parse_rates`` checked every
    field before anything changes)."""
    for kind, rate in rates.items():
        save_rate(site_id, kind, rate if rate is not None else "")


def rates_for(site_id: int) -> dict[str, Decimal]:
    return {r.kind: r.rate for r in db.session.scalars(select(LabourRate).where(LabourRate.site_id == site_id))}


# ---------------------------------------------------------------- parts

def _part_values(site_id, fields: PartFields, existing=None, upsert=False):
    errors = dict(fields.problems)
    if fields.number:
        other = db.session.scalar(select(Part).where(Part.site_id == site_id, Part.number == fields.number))
        if other is not None and other is not existing and not upsert:
            errors["number"] = "number_taken"
    return fields.values(), ordered(errors, PartFields.FIELDS)


def save_part(site_id: int, fields: PartFields, part: Part | None = None) -> Part:
    """Create or update a part's catalogue data. Stock is not edited here: it moves only by
    receipts and issues."""
    values, errors = _part_values(site_id, fields, part)
    if errors:
        raise Invalid(errors)
    if part is None:
        part = Part(site_id=site_id, on_hand=Decimal("0"), reserved=Decimal("0"))
        db.session.add(part)
    for key, value in values.items():
        setattr(part, key, value)
    db.session.commit()
    return part


def _quantity(raw, errors):
    if not str(raw or "").strip():
        errors["quantity"] = "required"
        return None
    value = parse_amount(raw, Decimal("0.01"), MAX_STOCK_QUANTITY)
    if value is None:
        errors["quantity"] = "stock_quantity_invalid"
    return value


def receive_stock(part: Part, raw_quantity, reference, user) -> StockMovement:
    """入库: quantity > 0 with a reference (delivery note, supplier invoice)."""
    errors = {}
    quantity = _quantity(raw_quantity, errors)
    reference = text({"reference": reference}, "reference", errors, 64)
    if errors:
        raise Invalid(errors)
    db.session.execute(update(Part).where(Part.id == part.id)
                       .values(on_hand=Part.on_hand + quantity).execution_options(synchronize_session=False))
    movement = StockMovement(site_id=part.site_id, part_id=part.id, kind="receipt", quantity=quantity,
                             reference=reference, user_id=getattr(user, "id", None))
    db.session.add(movement)
    db.session.commit()
    db.session.refresh(part)
    return movement


def reserved_for_visit(part: Part, visit: Visit) -> list[EstimateLine]:
    return list(db.session.scalars(
        select(EstimateLine).join(Estimate, Estimate.id == EstimateLine.estimate_id)
        .where(Estimate.visit_id == visit.id, EstimateLine.part_id == part.id,
               EstimateLine.reserved.is_(True))
        .order_by(EstimateLine.id)))


def issue_stock(part: Part, raw_quantity, reference, user, visit: Visit | None = None) -> StockMovement:
    """出库: at most what is available (on hand − reserved), plus what is reserved for ``visit``.
    Issuing for a visit consumes its reservations (whole estimate lines) first."""
    errors = {}
    quantity = _quantity(raw_quantity, errors)
    reference = text({"reference": reference}, "reference", errors, 64, required=False)
    if visit is not None and visit.site_id != part.site_id:
        errors["visit_id"] = "visit_invalid"
    if errors:
        raise Invalid(errors)
    consumed, lines = Decimal("0"), []
    if visit is not None:
        for line in reserved_for_visit(part, visit):
            if consumed + line.quantity <= quantity:
                consumed += line.quantity
                lines.append(line)
    free_needed = quantity - consumed
    result = db.session.execute(
        update(Part).where(Part.id == part.id, Part.on_hand - Part.reserved >= free_needed,
                           Part.reserved >= consumed)
        .values(on_hand=Part.on_hand - quantity, reserved=Part.reserved - consumed)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(part)
        raise Invalid({"quantity": "not_enough_stock"})
    for line in lines:
        line.reserved = False
    movement = StockMovement(site_id=part.site_id, part_id=part.id, kind="issue", quantity=quantity,
                             reference=reference or (f"visit {visit.id}" if visit else None),
                             visit_id=visit.id if visit else None, user_id=getattr(user, "id", None))
    db.session.add(movement)
    db.session.commit()
    db.session.refresh(part)
    return movement


def movements(part: Part, limit=200) -> list[StockMovement]:
    return list(db.session.scalars(select(StockMovement).where(StockMovement.part_id == part.id)
                                   .order_by(StockMovement.at.desc(), StockMovement.id.desc()).limit(limit)))


# ---------------------------------------------------------------- maintenance schedule

def _maintenance_values(site_id, fields: MaintenanceFields):
    errors = dict(fields.problems)
    values = {"make": fields.make, "model": fields.model, "every_km": fields.every_km,
              "every_months": fields.every_months}
    op = None
    if fields.operation_id:
        op = db.session.get(LabourOperation, fields.operation_id)
    elif fields.operation_code:
        op = db.session.scalar(select(LabourOperation).where(
            LabourOperation.site_id == site_id, LabourOperation.code == fields.operation_code))
    if op is None or op.site_id != site_id:
        errors.setdefault("operation_id", "operation_unknown")
    values["operation_id"] = op.id if op is not None else None
    part = None
    if fields.part_id or "part_id" in errors:
        part = db.session.get(Part, fields.part_id) if fields.part_id else None
        if part is None or part.site_id != site_id:
            errors.setdefault("part_id", "part_unknown")
    elif fields.part_number:
        part = db.session.scalar(select(Part).where(Part.site_id == site_id, Part.number == fields.part_number))
        if part is None:
            errors["part_id"] = "part_unknown"
    values["part_id"] = part.id if part is not None else None
    values["part_quantity"] = None
    if part is not None:
        values["part_quantity"] = fields.part_quantity
        if fields.part_quantity_problem:
            errors["part_quantity"] = fields.part_quantity_problem
    elif fields.part_quantity_typed:
        errors["part_id"] = "part_for_quantity"
    if values["every_km"] is None and values["every_months"] is None and not (
            {"every_km", "every_months"} & errors.keys()):
        errors["every_km"] = "interval_required"
    return values, errors


def save_maintenance_item(site_id: int, fields: MaintenanceFields,
                          item: MaintenanceItem | None = None) -> MaintenanceItem:
    """Due every N km or M months (whichever first); make/model empty means every car."""
    values, errors = _maintenance_values(site_id, fields)
    if errors:
        raise Invalid(errors)
    if item is None:
        item = MaintenanceItem(site_id=site_id)
        db.session.add(item)
    for key, value in values.items():
        setattr(item, key, value)
    db.session.commit()
    return item


def delete_maintenance_item(item: MaintenanceItem) -> None:
    db.session.delete(item)
    db.session.commit()


# ---------------------------------------------------------------- CSV import

COLUMNS = {
    "operations": ("code", "name_zh", "name_en", "hours", "kind", "active"),
    "parts": ("number", "name_zh", "name_en", "unit_price", "lead_days", "active"),
    "maintenance": ("make", "model", "operation_code", "part_number", "part_quantity", "every_km", "every_months"),
}
REQUIRED_COLUMNS = {
    "operations": {"code", "name_zh", "name_en", "hours"},
    "parts": {"number", "name_zh", "name_en", "unit_price"},
    "maintenance": {"operation_code"},
}


@dataclass
class RowError:
    row: int          # line of the file, the header being row 1
    field: str
    code: str


@dataclass
class ImportSummary:
    catalogue: str
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")   # with or without the BOM Excel writes
    except UnicodeDecodeError:
        raise Invalid({"file": "encoding"}) from None


def _upsert_operation(site_id, row):
    code = str(row.get("code") or "").strip().upper()
    existing = db.session.scalar(select(LabourOperation).where(
        LabourOperation.site_id == site_id, LabourOperation.code == code)) if code else None
    values, errors = _operation_values(site_id, parse_operation(row), existing, upsert=True)
    if errors:
        return None, errors
    created = existing is None
    if created:
        existing = LabourOperation(site_id=site_id)
        db.session.add(existing)
    for key, value in values.items():
        setattr(existing, key, value)
    return created, {}


def _upsert_part(site_id, row):
    number = str(row.get("number") or "").strip().upper()
    existing = db.session.scalar(select(Part).where(Part.site_id == site_id, Part.number == number)) if number else None
    values, errors = _part_values(site_id, parse_part(row), existing, upsert=True)
    if errors:
        return None, errors
    created = existing is None
    if created:
        existing = Part(site_id=site_id, on_hand=Decimal("0"), reserved=Decimal("0"))
        db.session.add(existing)
    for key, value in values.items():
        setattr(existing, key, value)
    return created, {}


def _upsert_maintenance(site_id, row):
    values, errors = _maintenance_values(site_id, parse_maintenance(row))
    if errors:
        if "operation_id" in errors:
            errors["operation_code"] = errors.pop("operation_id")
        if "part_id" in errors:
            errors["part_number"] = errors.pop("part_id")
        return None, errors
    # Same operation and part for the same make and model: the row replaces that item.
    existing = db.session.scalar(select(MaintenanceItem).where(
        MaintenanceItem.site_id == site_id, MaintenanceItem.operation_id == values["operation_id"],
        MaintenanceItem.make.is_(None) if values["make"] is None else MaintenanceItem.make == values["make"],
        MaintenanceItem.model.is_(None) if values["model"] is None else MaintenanceItem.model == values["model"],
        MaintenanceItem.part_id.is_(None) if values["part_id"] is None else MaintenanceItem.part_id == values["part_id"]))
    created = existing is None
    if created:
        existing = MaintenanceItem(site_id=site_id)
        db.session.add(existing)
    for key, value in values.items():
        setattr(existing, key, value)
    return created, {}


UPSERT = {"operations": _upsert_operation, "parts": _upsert_part, "maintenance": _upsert_maintenance}


def import_csv(site_id: int, catalogue: str, raw: bytes) -> ImportSummary:
    """Import a CSV (header row, UTF-8 with or without BOM). Valid rows are created or updated
    (by code / part number / operation+part+make+model); every bad row is reported with its row
    number and field and left out."""
    if catalogue not in COLUMNS:
        raise Invalid({"catalogue": "invalid"})
    if not raw:
        raise Invalid({"file": "file_missing"})
    text = _decode(raw)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [str(h or "").strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error:
        raise Invalid({"file": "not_csv"}) from None
    missing = REQUIRED_COLUMNS[catalogue] - set(header)
    if missing:
        raise Invalid({"file": "header_invalid"})
    reader.fieldnames = header
    summary = ImportSummary(catalogue)
    upsert = UPSERT[catalogue]
    try:
        for index, row in enumerate(reader, start=2):
            if index - 1 > MAX_IMPORT_ROWS:
                summary.errors.append(RowError(index, "file", "too_many_rows"))
                break
            row = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
            if not any(row.values()):
                continue   # blank line
            created, errors = upsert(site_id, row)
            if errors:
                summary.errors.extend(RowError(index, f, c) for f, c in errors.items())
                continue
            db.session.flush()
            if created:
                summary.created += 1
            else:
                summary.updated += 1
    except csv.Error:
        db.session.rollback()
        raise Invalid({"file": "not_csv"}) from None
    db.session.commit()
    return summary


def example_csv(catalogue: str) -> str:
    return ",".join(COLUMNS[catalogue])
