"""Money of an estimate, in Decimal (never float), rounded to the fen with ROUND_HALF_UP.

Prices are without tax. A line costs quantity × unit price, less its discount percentage; a
warranty line costs the customer nothing and its full price is claimed from the manufacturer;
a "price after diagnosis" line has no price yet. The customer pays the approved (or, before the
decision, the proposed) non-warranty lines, less the estimate's discount, plus tax on that."""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_QUANTITY = Decimal("999")
MAX_UNIT_PRICE = Decimal("1000000")


def q(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(raw, low=Decimal("0"), high=MAX_UNIT_PRICE) -> Decimal | None:
    """A money or quantity field from a form: None when it is not a number within [low, high]
    with at most two decimals (webapp/parsing.py: bounded before any rounding)."""
    from .parsing import parse_money
    return parse_money(raw, low=low, high=high)


@dataclass(frozen=True)
class LineMoney:
    kind: str                      # labour, part, diagnosis
    quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal = ZERO
    warranty: bool = False
    price_after_diagnosis: bool = False

    @property
    def gross(self) -> Decimal:
        if self.price_after_diagnosis:
            return ZERO
        return q(self.quantity * self.unit_price)

    @property
    def net(self) -> Decimal:
        """What the line costs before tax, after its own discount (warranty lines included)."""
        return q(self.gross * (Decimal(100) - self.discount_pct) / Decimal(100))

    @property
    def customer(self) -> Decimal:
        return ZERO if self.warranty else self.net

    @property
    def claim(self) -> Decimal:
        return self.gross if self.warranty else ZERO


@dataclass(frozen=True)
class Totals:
    labour: Decimal
    parts: Decimal
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    customer_pays: Decimal
    warranty_claims: Decimal
    pending_price: bool            # some line is priced after diagnosis


def totals(lines, discount=ZERO, tax_rate=Decimal("0.13")) -> Totals:
    lines = list(lines)
    labour = sum((line.customer for line in lines if line.kind in ("labour", "diagnosis")), ZERO)
    parts = sum((line.customer for line in lines if line.kind == "part"), ZERO)
    subtotal = q(labour + parts)
    discount = min(q(discount), subtotal)
    taxable = subtotal - discount
    tax = q(taxable * tax_rate)
    return Totals(
        labour=q(labour), parts=q(parts), subtotal=subtotal, discount=discount, tax=tax,
        customer_pays=q(taxable + tax),
        warranty_claims=q(sum((line.claim for line in lines), ZERO)),
        pending_price=any(line.price_after_diagnosis for line in lines),
    )
