"""The report's formulas (webapp/kpi.py), by table."""
from decimal import Decimal as D

import pytest

from webapp import kpi


@pytest.mark.parametrize("num, den, percent", [
    (19, 20, D("95.0")),
    (2, 3, D("66.7")),          # half-up to 0.1
    (1, 8, D("12.5")),
    (0, 5, D("0.0")),
    (3, 0, None),               # nothing to divide by: no figure, not 0 %
    (None, None, None),
    (D("7.5"), D("6"), D("125.0")),   # efficiency may pass 100 %
])
def test_rate_percent(num, den, percent):
    r = kpi.rate(num, den)
    assert r.percent == percent
    assert r.numerator == D(num or 0) and r.denominator == D(den or 0)


@pytest.mark.parametrize("values, median, p90", [
    ([], None, None),
    ([5], 5, 5),
    ([1, 2, 3, 4], 2, 4),
    ([10, 1, 7, 3, 5], 5, 10),
    (list(range(1, 11)), 5, 9),
    (list(range(1, 21)), 10, 18),
    ([None, 4, None, 2], 2, 4),
])
def test_median_and_p90_nearest_rank(values, median, p90):
    assert kpi.median(values) == median
    assert kpi.p90(values) == p90


@pytest.mark.parametrize("counts, p, value", [
    ({}, 50, None),
    ({7: 0}, 50, None),                  # a bucket with no visits is no figure
    ({5: 1}, 50, 5),
    ({5: 1}, 90, 5),
    ({1: 1, 2: 1, 3: 1, 4: 1}, 50, 2),   # the list [1, 2, 3, 4]
    ({1: 1, 2: 1, 3: 1, 4: 1}, 90, 4),
    ({3: 2, 1: 2}, 50, 1),               # rank 2 of [1, 1, 3, 3]: order of the mapping does not matter
    ({3: 2, 1: 2}, 51, 3),
    ({10: 9, 60: 1}, 90, 10),            # 9 of 10 at 10 min: the 90th percentile is still 10
    ({10: 8, 60: 2}, 90, 60),
    ({0: 5, 1: 5}, 50, 0),               # zero minutes is a value, not "no figure"
    ({None: 3, 4: 1}, 50, 4),            # an unknown duration is ignored
    ([(2, 3), (9, 1)], 90, 9),           # pairs as the database returns them
])
def test_percentile_of_counts_by_table(counts, p, value):
    assert kpi.percentile_of_counts(counts, p) == value


@pytest.mark.parametrize("values", [
    [4, 4, 4, 9, 1, 1, 30, 2, 2, 2, 2, 17],
    list(range(1, 101)) + [5] * 40,
    [0, 0, 1],
])
def test_percentile_of_counts_is_the_percentile_of_the_list(values):
    """The histogram and the list it counts give the same nearest-rank figure, for every p."""
    from collections import Counter
    for p in range(1, 101):
        assert kpi.percentile_of_counts(Counter(values), p) == kpi.percentile(values, p), p


@pytest.mark.parametrize("current, previous, delta, direction", [
    (D("96.0"), D("90.0"), D("6.0"), "up"),
    (D("80"), D("85.5"), D("-5.5"), "down"),
    (3, 3, D("0"), "same"),
    (None, 5, None, "none"),
    (5, None, None, "none"),
])
def test_previous_period_comparison(current, previous, delta, direction):
    change = kpi.compare(current, previous)
    assert change.delta == delta and change.direction == direction


@pytest.mark.parametrize("value, target, higher, met", [
    (D("95.0"), 95, True, True),
    (D("94.9"), 95, True, False),
    (D("120"), 100, True, True),
    (None, 95, True, None),
    (D("50"), None, True, None),
    (D("3"), 5, False, True),
    (D("6"), 5, False, False),
])
def test_target_met(value, target, higher, met):
    assert kpi.target_met(value, target, higher) is met


@pytest.mark.parametrize("total, count, avg", [
    (D("1000"), 3, D("333.33")), (D("10"), 4, D("2.50")), (D("5"), 0, None),
])
def test_average(total, count, avg):
    assert kpi.average(total, count) == avg


def test_default_targets_are_the_issues():
    assert kpi.DEFAULT_TARGETS == {"on_time": 95, "same_day": 80, "utilisation": 80, "efficiency": 100,
                                   "parts_fill": 90}
