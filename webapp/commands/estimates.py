"""The estimate's forms (a line, the discount, the repair order's terms), parsed into typed values.

A line names records (concern, operation, part) the service looks up; the line's own problems
travel in ``LineRequest.problems`` so the service reports them together with a record that is
not found, in one answer, as before."""
from dataclasses import dataclass, field
from decimal import Decimal

from .. import money
from ..parsing import parse_id
from ..validation import Invalid

KINDS = ("labour", "part", "diagnosis")
PAYMENT_METHODS = ("wechat", "alipay", "card", "cash", "company")
HOURS = (Decimal("0.1"), Decimal("99"))
YES = ("1", "on", "true")
NO = ("0", "off", "false")


@dataclass(frozen=True)
class LineRequest:
    kind: str                         # one of KINDS
    description: str = ""             # at most 200 characters; empty: the catalogue's name
    concern_id: int | None = None
    operation_id: int | None = None
    part_id: int | None = None
    quantity: Decimal | None = None   # None: not typed (the operation's hours, or 1)
    unit_price: Decimal | None = None  # None: not typed (the rate or the part's price)
    warranty: bool | None = None      # None: as the concern says
    price_after_diagnosis: bool = False
    discount_pct: Decimal = Decimal("0")
    problems: dict[str, str] = field(default_factory=dict)


def parse_line(form) -> LineRequest:
    """A line of the estimate form; ``Invalid`` at once when the kind is unknown."""
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise Invalid({"kind": "line_kind_invalid"})
    problems: dict[str, str] = {}
    concern_id = None
    if form.get("concern_id"):
        concern_id = parse_id(form.get("concern_id"))
        if concern_id is None:
            problems["concern_id"] = "invalid"
    operation_id = None
    if kind == "labour" and form.get("operation_id"):
        operation_id = parse_id(form.get("operation_id"))
        if operation_id is None:
            problems["operation_id"] = "invalid"
    part_id = parse_id(form.get("part_id")) if kind == "part" else None

    quantity = None
    if form.get("quantity"):
        low, high, code = ((Decimal("0.01"), money.MAX_QUANTITY, "line_quantity_invalid") if kind == "part"
                           else (*HOURS, "hours_invalid"))
        quantity = money.parse_amount(form.get("quantity"), low, high)
        if quantity is None:
            problems["quantity"] = code
    unit_price = None
    if kind != "diagnosis" and form.get("unit_price"):
        unit_price = money.parse_amount(form.get("unit_price"))
        if unit_price is None:
            problems["unit_price"] = "price_invalid"
    discount = money.parse_amount(form.get("discount_pct") or "0", Decimal("0"), Decimal("100"))
    if discount is None:
        problems["discount_pct"] = "discount_invalid"
    warranty = True if form.get("warranty") in YES else False if form.get("warranty") in NO else None
    return LineRequest(kind, (form.get("description") or "").strip()[:200], concern_id, operation_id, part_id,
                       quantity, unit_price, warranty, form.get("price_after_diagnosis") in YES,
                       discount or Decimal("0"), problems)


def parse_discount(raw) -> Decimal:
    """The estimate's discount in yuan; empty is none."""
    amount = money.parse_amount(raw or "0")
    if amount is None:
        raise Invalid({"discount": "price_invalid"})
    return amount


@dataclass(frozen=True)
class RepairOrderTerms:
    payment_method: str               # one of PAYMENT_METHODS
    old_parts: str                    # "take" | "leave"
    car_wash: bool


def parse_repair_order(form) -> RepairOrderTerms:
    """The terms the customer agrees to; both confirmations must be ticked."""
    errors = {}
    method = form.get("payment_method") or None
    if method not in PAYMENT_METHODS:
        errors["payment_method"] = "invalid"
    old_parts = form.get("old_parts") or None
    if old_parts not in ("take", "leave"):
        errors["old_parts"] = "invalid"
    wash = form.get("car_wash")
    if wash not in ("yes", "no"):
        errors["car_wash"] = "invalid"
    if not form.get("additional_work_consent"):
        errors["additional_work_consent"] = "required"
    if not form.get("delivery_explained"):
        errors["delivery_explained"] = "required"
    if errors:
        # All or nothing: the section shows the terms as typed, the saved order stays as it was.
        raise Invalid(errors)
    return RepairOrderTerms(method, old_parts, wash == "yes")


@dataclass(frozen=True)
class InShopApproval:
    """The customer's answers on the advisor's tablet, as posted: the service checks them
    against the lines of the version shown (it knows the lines, the form does not)."""
    version: int | None                        # the version the tablet showed; None when unreadable
    choices: dict[int, tuple[str, str | None]]  # line id -> (what was chosen, decline reason)
    signature: str                             # the signature as a data: URL (checked when stored)
    signer_name: str | None


def parse_in_shop_approval(form) -> InShopApproval:
    choices = {}
    for name in form.keys():
        if name.startswith("decision-"):
            line_id = parse_id(name[len("decision-"):])
            if line_id is not None:
                choices[line_id] = (form.get(name, ""), form.get(f"reason-{line_id}") or None)
    return InShopApproval(parse_id(form.get("version", "")), choices, form.get("signature") or "",
                          (form.get("signer_name") or "").strip()[:120] or None)
