"""A labour operation, a part and the labour rates, as the catalogue forms and CSV rows give
them, parsed into typed values. Whether a code or part number is already taken is the
service's to say (it reads the database); the parsed fields carry their own problems so both
are reported in one answer."""
from dataclasses import dataclass, field
from decimal import Decimal

from ..money import parse_amount
from .fields import int_field
from ..validation import Invalid

OPERATION_KINDS = ("mechanical", "electrical", "bodywork", "paint", "diagnosis")
RATE_KINDS = ("default",) + OPERATION_KINDS
MIN_HOURS, MAX_HOURS = Decimal("0.1"), Decimal("99")
MAX_PRICE = Decimal("1000000")
MAX_RATE = Decimal("10000")
MAX_LEAD_DAYS = 365


def text(data, name, errors, max_len, required=True):
    value = str(data.get(name) or "").strip()
    if not value:
        if required:
            errors[name] = "required"
        return None
    if len(value) > max_len:
        errors[name] = "too_long"
        return None
    return value


def amount(data, name, errors, low, high, code):
    raw = str(data.get(name) or "").strip()
    if not raw:
        errors[name] = "required"
        return None
    value = parse_amount(raw, low, high)
    if value is None:
        errors[name] = code
    return value


def flag(data, name, default=True):
    raw = data.get(name)
    if raw is None:
        return default
    return str(raw).strip().lower() in ("1", "true", "yes", "y", "on", "是")


def ordered(errors: dict, fields: tuple) -> dict:
    """``errors`` in the form's field order (the service adds its own after the parser's)."""
    return {name: errors[name] for name in fields if name in errors} | errors


@dataclass(frozen=True)
class OperationFields:
    code: str | None                # upper case; None when missing or too long (see problems)
    name_zh: str | None
    name_en: str | None
    hours: Decimal | None
    kind: str
    active: bool
    problems: dict[str, str] = field(default_factory=dict)

    FIELDS = ("code", "name_zh", "name_en", "hours", "kind")

    def values(self) -> dict:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en, "hours": self.hours,
                "kind": self.kind, "active": self.active}


def parse_operation(data) -> OperationFields:
    problems: dict[str, str] = {}
    code = text(data, "code", problems, 32)
    name_zh = text(data, "name_zh", problems, 120)
    name_en = text(data, "name_en", problems, 120)
    hours = amount(data, "hours", problems, MIN_HOURS, MAX_HOURS, "hours_range")
    kind = str(data.get("kind") or "mechanical").strip().lower()
    if kind not in OPERATION_KINDS:
        problems["kind"] = "invalid"
    return OperationFields(code.upper() if code else code, name_zh, name_en, hours, kind, flag(data, "active"),
                           problems)


@dataclass(frozen=True)
class PartFields:
    number: str | None              # upper case; None when missing or too long
    name_zh: str | None
    name_en: str | None
    unit_price: Decimal | None
    lead_days: int
    active: bool
    problems: dict[str, str] = field(default_factory=dict)

    FIELDS = ("number", "lead_days", "name_zh", "name_en", "unit_price")

    def values(self) -> dict:
        return {"number": self.number, "name_zh": self.name_zh, "name_en": self.name_en,
                "unit_price": self.unit_price, "lead_days": self.lead_days, "active": self.active}


def parse_part(data) -> PartFields:
    problems: dict[str, str] = {}
    number = text(data, "number", problems, 40)
    lead = int_field(data, "lead_days", problems, 0, MAX_LEAD_DAYS, "lead_days_range")
    name_zh = text(data, "name_zh", problems, 120)
    name_en = text(data, "name_en", problems, 120)
    unit_price = amount(data, "unit_price", problems, Decimal("0"), MAX_PRICE, "price_range")
    return PartFields(number.upper() if number else number, name_zh, name_en, unit_price,
                      2 if lead is None else lead, flag(data, "active"), problems)


def parse_rates(data) -> dict[str, Decimal | None]:
    """Every kind's hourly rate (None: the default rate applies); the default is required."""
    errors, rates = {}, {}
    for kind in RATE_KINDS:
        raw = str(data.get(f"rate_{kind}") or "").strip()
        if not raw:
            if kind == "default":
                errors[f"rate_{kind}"] = "required"
            rates[kind] = None
            continue
        rate = parse_amount(raw, Decimal("0.01"), MAX_RATE)
        if rate is None:
            errors[f"rate_{kind}"] = "rate_range"
        rates[kind] = rate
    if errors:
        raise Invalid(errors)
    return rates


MAX_KM, MAX_MONTHS = 500_000, 240


@dataclass(frozen=True)
class MaintenanceFields:
    """A maintenance schedule item as typed; the operation and part are named by id (the form)
    or by code and number (a CSV row), looked up by the service."""
    make: str | None
    model: str | None
    every_km: int | None
    every_months: int | None
    operation_id: int | None = None
    operation_code: str | None = None  # upper case
    part_id: int | None = None
    part_number: str | None = None     # upper case
    part_quantity: Decimal | None = None
    # What is wrong with the quantity ("required", "stock_quantity_invalid"): it counts only when a
    # part is found, and a quantity typed without a part is "part_for_quantity": the service decides.
    part_quantity_problem: str | None = None
    part_quantity_typed: bool = False
    problems: dict[str, str] = field(default_factory=dict)


def parse_maintenance(data) -> MaintenanceFields:
    problems: dict[str, str] = {}
    make = text(data, "make", problems, 60, required=False)
    model = text(data, "model", problems, 60, required=False)
    every_km = int_field(data, "every_km", problems, 500, MAX_KM, "km_range")
    every_months = int_field(data, "every_months", problems, 1, MAX_MONTHS, "months_range")
    if model and not make and "make" not in problems:
        problems["make"] = "make_for_model"
    operation_id = operation_code = None
    if data.get("operation_id"):
        operation_id = int_field(data, "operation_id", problems, 1, 2**31, "operation_unknown")
    elif data.get("operation_code"):
        operation_code = str(data.get("operation_code")).strip().upper()
    else:
        problems["operation_id"] = "required"
    part_id = part_number = None
    if data.get("part_id"):
        part_id = int_field(data, "part_id", problems, 1, 2**31, "part_unknown")
    elif str(data.get("part_number") or "").strip():
        part_number = str(data.get("part_number")).strip().upper()
    typed = bool(str(data.get("part_quantity") or "").strip())
    quantity_problem: dict[str, str] = {}
    quantity = amount(data, "part_quantity", quantity_problem, Decimal("0.01"), Decimal("999"),
                      "stock_quantity_invalid")
    return MaintenanceFields(make, model, every_km, every_months, operation_id, operation_code, part_id,
                             part_number, quantity, quantity_problem.get("part_quantity"), typed, problems)
