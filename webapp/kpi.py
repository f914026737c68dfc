"""Key figures of the service department as pure functions: a rate keeps its numerator and
denominator (a manager asks "95 % of how many?"), durations give their median and 90th percentile,
every figure is compared with the previous period and with the site's target. No Flask, no database."""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from math import ceil

# Targets a site starts with (4S reference values, issue 14); a site changes them on /admin/site.
DEFAULT_TARGETS = {"on_time": 95, "same_day": 80, "utilisation": 80, "efficiency": 100, "parts_fill": 90}


@dataclass(frozen=True)
class Rate:
    numerator: Decimal
    denominator: Decimal

    @property
    def percent(self) -> Decimal | None:
        """Rounded half-up to 0.1 %; None when there is nothing to divide by (shown as "—", not 0 %)."""
        if not self.denominator:
            return None
        value = Decimal(self.numerator) * 100 / Decimal(self.denominator)
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def rate(numerator, denominator) -> Rate:
    return Rate(Decimal(numerator or 0), Decimal(denominator or 0))


def percentile(values, p: int) -> float | None:
    """Nearest-rank percentile (the value a person can point at in the list, never an interpolation
    between two visits): the smallest value with at least p % of the values at or below it."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    rank = max(1, ceil(p * len(ordered) / 100))
    return ordered[rank - 1]


def percentile_of_counts(counts, p: int):
    """The same nearest-rank percentile from a histogram: ``counts`` maps a value (a bucket, e.g.
    whole minutes) to how many times it occurs, so a database hands over a few hundred
    (value, count) rows instead of one row per visit. Values with no count are ignored."""
    ordered = sorted((v, n) for v, n in dict(counts).items() if v is not None and n)
    total = sum(n for _v, n in ordered)
    if not total:
        return None
    rank = max(1, ceil(p * total / 100))
    seen = 0
    for value, n in ordered:
        seen += n
        if seen >= rank:
            return value
    return ordered[-1][0]     # not reached: seen ends at total >= rank


def median(values) -> float | None:
    return percentile(values, 50)


def p90(values) -> float | None:
    return percentile(values, 90)


@dataclass(frozen=True)
class Change:
    current: Decimal | None
    previous: Decimal | None

    @property
    def delta(self) -> Decimal | None:
        if self.current is None or self.previous is None:
            return None
        return Decimal(self.current) - Decimal(self.previous)

    @property
    def direction(self) -> str:
        """up, down, same, or none when either period has no figure."""
        delta = self.delta
        if delta is None:
            return "none"
        return "up" if delta > 0 else "down" if delta < 0 else "same"


def compare(current, previous) -> Change:
    return Change(None if current is None else Decimal(current), None if previous is None else Decimal(previous))


def target_met(value, target, higher_is_better: bool = True) -> bool | None:
    """None when there is no figure or no target: an empty day is neither met nor missed."""
    if value is None or target is None:
        return None
    return Decimal(value) >= Decimal(target) if higher_is_better else Decimal(value) <= Decimal(target)


def average(total, count) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total or 0) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
