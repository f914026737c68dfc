"""What the customer pays for the choices ticked so far on the phone's approval card, by the
same money rules the decision and the bill use (webapp/money.py): the approved lines, less the
estimate's discount, plus tax; every line declined → the inspection/diagnosis fee alone, as
services.estimates.decide() then bills it. The page asks the server (status.approval_total) on
each tap, so no copy of these rules lives in the browser."""
from dataclasses import dataclass
from decimal import Decimal

from . import money

CHOICES = ("approved", "declined")


@dataclass(frozen=True)
class ChoiceTotal:
    totals: money.Totals      # what the customer pays for the lines approved so far
    decided: int              # lines approved or declined so far
    lines: int
    all_declined: bool        # every line declined: the fee alone

    @property
    def complete(self) -> bool:
        return self.decided == self.lines


def choice_total(lines: dict, choices: dict, discount: Decimal, tax_rate: Decimal, fee: Decimal) -> ChoiceTotal:
    """``lines``: {line id: money.LineMoney}; ``choices``: {line id: "approved" | "declined"}
    (ids of other lines and other words are ignored: the request comes from a phone)."""
    chosen = {i: c for i, c in choices.items() if i in lines and c in CHOICES}
    approved = [lines[i] for i, c in chosen.items() if c == "approved"]
    all_declined = bool(lines) and len(chosen) == len(lines) and not approved
    if all_declined:
        approved = [money.LineMoney("diagnosis", Decimal("1"), fee)]
    return ChoiceTotal(money.totals(approved, discount or money.ZERO, tax_rate), len(chosen), len(lines),
                       all_declined)
