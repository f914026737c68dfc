"""Settlement rules (结算), pure Python and Decimal: what a bill costs, what was issued against
what was approved, and what a payment may be. No Flask, no database: webapp/services/billing.py
applies these to the records; tests/unit/test_billing.py checks them by table.

Money follows webapp/money.py (LineMoney, totals, q, parse_amount): a warranty line costs the
customer nothing and its price is claimed from the manufacturer; line discounts, then the bill's
discount, then the site's tax. Payments are recorded, never moved: WeChat Pay, Alipay, bank card,
cash (tendered above the balance gives change), or the company account (挂账), which closes the
bill for whatever is left."""
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from . import money
from .money import ZERO, LineMoney, q
from .validation import Invalid

METHODS = ("wechat", "alipay", "card", "cash", "company")
MAX_PAYMENT = Decimal("10000000")


# ---------------------------------------------------------------- bill totals

def bill_totals(lines, discount=ZERO, tax_rate=Decimal("0.13")) -> money.Totals:
    """The bill's figures from its lines (``LineMoney``): the same arithmetic as the estimate."""
    return money.totals(lines, discount or ZERO, tax_rate)


def line_amounts(line: LineMoney) -> tuple[Decimal, Decimal]:
    """(what the customer pays for the line before tax, what is claimed from the manufacturer)."""
    return line.customer, line.claim


# ---------------------------------------------------------------- parts: approved vs issued

MORE, LESS, UNAPPROVED = "more", "less", "unapproved"


@dataclass(frozen=True)
class PartDifference:
    part_id: int
    approved: Decimal
    issued: Decimal

    @property
    def kind(self) -> str:
        if self.approved == 0:
            return UNAPPROVED
        return MORE if self.issued > self.approved else LESS

    @property
    def delta(self) -> Decimal:
        return self.issued - self.approved


def issued_quantities(movements) -> dict[int, Decimal]:
    """Net quantity issued per part from ``(part_id, kind, quantity)`` of a visit's stock
    movements: issues (出库) minus returns; reservations and receipts do not count."""
    out: dict[int, Decimal] = {}
    for part_id, kind, quantity in movements:
        if kind == "issue":
            out[part_id] = out.get(part_id, ZERO) + Decimal(quantity)
        elif kind == "return":
            out[part_id] = out.get(part_id, ZERO) - Decimal(quantity)
    return {p: max(ZERO, v) for p, v in out.items()}


def part_differences(approved: dict[int, Decimal], issued: dict[int, Decimal]) -> list[PartDifference]:
    """Every part whose issued quantity differs from the approved one (issued more, issued less
    — including nothing issued — or issued but never approved), ordered by part."""
    found = []
    for part_id in sorted(set(approved) | set(issued)):
        a, i = Decimal(approved.get(part_id, ZERO)), Decimal(issued.get(part_id, ZERO))
        if a != i:
            found.append(PartDifference(part_id, a, i))
    return found


KEEP, CHARGE = "keep_approved", "charge_issued"
RESOLUTIONS = (KEEP, CHARGE)


def resolution_problem(kind: str, resolution: str, note: str | None, customer_agreed: bool) -> dict[str, str]:
    """What is wrong with the advisor's resolution of a difference (empty when nothing): keeping
    the approved quantity needs nothing more; charging what was issued needs a note, and a part
    that was never approved needs the customer's agreement as well."""
    errors = {}
    if resolution not in RESOLUTIONS:
        return {"resolution": "resolution_invalid"}
    if resolution == CHARGE:
        if not (note or "").strip():
            errors["note"] = "note_required"
        if kind == UNAPPROVED and not customer_agreed:
            errors["customer_agreed"] = "customer_agreement_required"
    return errors


def spread_quantity(quantities: list[Decimal], target: Decimal) -> list[Decimal]:
    """New quantities of the bill lines of one part so that they add up to ``target``: the
    difference goes on the last line; a reduction below zero moves on to the lines before."""
    out = [Decimal(x) for x in quantities]
    if not out:
        return out
    delta = Decimal(target) - sum(out, ZERO)
    if delta >= 0:
        out[-1] += delta
        return out
    for i in range(len(out) - 1, -1, -1):
        take = min(out[i], -delta)
        out[i] -= take
        delta += take
        if delta == 0:
            break
    return out


# ---------------------------------------------------------------- payments


def read_amount(raw) -> tuple[Decimal | None, str | None]:
    """A money amount typed by the cashier: (value, None) or (None, why it is refused). The size
    is checked before the decimals: rounding 1e309 to the fen raises instead of answering."""
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("¥", "").replace("￥", "")
    if not text:
        return None, "amount_required"
    if len(text) > 32:
        return None, "amount_not_number"
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None, "amount_not_number"
    if not value.is_finite():
        return None, "amount_not_number"
    if value <= 0:
        return None, "amount_not_positive"
    if value > MAX_PAYMENT:
        return None, "amount_too_large"
    if money.parse_amount(value, Decimal("0.01"), MAX_PAYMENT) is None:
        return None, "amount_decimals"
    return value, None


def balance(total: Decimal, paid) -> Decimal:
    """What is left to pay: the total less what was applied so far (never below zero)."""
    return max(ZERO, q(Decimal(total) - sum((Decimal(x) for x in paid), ZERO)))


def paid_in_full(total: Decimal, paid) -> bool:
    return balance(total, paid) == ZERO


@dataclass(frozen=True)
class PaymentPlan:
    method: str
    amount: Decimal                 # applied to the bill
    tendered: Decimal | None = None  # cash handed over
    change: Decimal | None = None    # cash given back
    company_name: str | None = None


def plan_payment(method: str, raw_amount, bal: Decimal, raw_tendered=None, company_name=None) -> PaymentPlan:
    """Check a payment against the bill's balance and say what is recorded.

    - a non-cash payment (WeChat, Alipay, card) is > 0, at most two decimals, not above the balance;
    - cash may be tendered above the balance: the applied amount is min(tendered, amount asked,
      balance) and the change is the rest;
    - the company account takes the whole remaining balance and needs the company's name."""
    bal = q(bal)
    if method not in METHODS:
        raise Invalid({"method": "method_invalid"})
    if bal <= 0:
        raise Invalid({"amount": "already_paid"})
    if method == "company":
        name = (company_name or "").strip()[:120]
        if not name:
            raise Invalid({"company_name": "company_name_required"})
        return PaymentPlan("company", bal, company_name=name)
    if method == "cash":
        errors = {}
        amount = bal
        if str(raw_amount or "").strip():
            amount, why = read_amount(raw_amount)
            if why:
                errors["amount"] = why
        tendered_raw = raw_tendered if str(raw_tendered or "").strip() else raw_amount
        tendered, why = read_amount(tendered_raw)
        if why:
            errors["tendered"] = why
        if errors:
            raise Invalid(errors)
        applied = min(tendered, amount, bal)
        return PaymentPlan("cash", applied, tendered=tendered, change=q(tendered - applied))
    amount, why = read_amount(raw_amount)
    if why:
        raise Invalid({"amount": why})
    if amount > bal:
        raise Invalid({"amount": "over_balance"})
    return PaymentPlan(method, amount)


# ---------------------------------------------------------------- credit notes

def credit_available(total: Decimal, credited) -> Decimal:
    """What may still be credited on a bill: its total less earlier credit notes (as positives)."""
    return max(ZERO, q(Decimal(total) - sum((abs(Decimal(x)) for x in credited), ZERO)))


def credit_split(amount: Decimal, tax_rate: Decimal) -> tuple[Decimal, Decimal]:
    """A credit of ``amount`` (tax included) as (net, tax), net + tax == amount exactly."""
    net = q(Decimal(amount) / (Decimal(1) + Decimal(tax_rate)))
    return net, q(Decimal(amount) - net)
