"""A booking's parts and what stock covers (webapp/preparation.py), by table."""
from decimal import Decimal as D

import pytest

from webapp.preparation import Item, needs, plan, shortages

OIL, FILTER, PADS = 1, 2, 3
SERVICE, BRAKES = 10, 20
SCHEDULE = [
    Item(SERVICE, OIL, D("4"), make="Toyota"),
    Item(SERVICE, OIL, D("4.5"), make="Toyota", model="RAV4"),     # the model's own quantity wins
    Item(SERVICE, FILTER, D("1")),                                  # every car
    Item(BRAKES, PADS, D("1"), make="Honda"),
    Item(BRAKES, FILTER, D("0")),                                   # no quantity: needs nothing
]


@pytest.mark.parametrize("ops, make, model, expected", [
    ([SERVICE], "Toyota", "RAV4", {OIL: D("4.5"), FILTER: D("1")}),
    ([SERVICE], "Toyota", "Camry", {OIL: D("4"), FILTER: D("1")}),
    ([SERVICE], "Honda", "Civic", {FILTER: D("1")}),
    ([SERVICE, BRAKES], "Honda", None, {FILTER: D("1"), PADS: D("1")}),
    ([SERVICE, SERVICE], "Toyota", "Camry", {OIL: D("8"), FILTER: D("2")}),
    ([BRAKES], "Toyota", "RAV4", {}),
    ([], "Toyota", "RAV4", {}),
    ([SERVICE], None, None, {FILTER: D("1")}),                      # an unknown car: only what fits every car
])
def test_needs(ops, make, model, expected):
    assert needs(ops, make, model, SCHEDULE) == expected


@pytest.mark.parametrize("need, held, available, reserve, release, short", [
    ({OIL: D("4")}, {}, {OIL: D("10")}, {OIL: D("4")}, {OIL: D("0")}, {}),                 # plenty
    ({OIL: D("4")}, {}, {OIL: D("3")}, {OIL: D("3")}, {OIL: D("0")}, {OIL: D("1")}),        # partly short
    ({OIL: D("4")}, {}, {OIL: D("0")}, {OIL: D("0")}, {OIL: D("0")}, {OIL: D("4")}),        # none left
    ({OIL: D("4")}, {}, {OIL: D("-2")}, {OIL: D("0")}, {OIL: D("0")}, {OIL: D("4")}),       # over-reserved store
    ({OIL: D("4")}, {OIL: D("4")}, {OIL: D("0")}, {OIL: D("0")}, {OIL: D("0")}, {}),        # run twice: nothing more
    ({OIL: D("4")}, {OIL: D("1")}, {OIL: D("5")}, {OIL: D("3")}, {OIL: D("0")}, {}),        # stock came: tops up
    ({}, {OIL: D("4")}, {OIL: D("0")}, {OIL: D("0")}, {OIL: D("4")}, {}),                   # no longer needed
    ({OIL: D("2"), PADS: D("1")}, {}, {OIL: D("2")}, {OIL: D("2"), PADS: D("0")},
     {OIL: D("0"), PADS: D("0")}, {PADS: D("1")}),                                          # unknown to the store
])
def test_plan(need, held, available, reserve, release, short):
    lines = plan(need, held, available)
    assert {line.part_id: line.to_reserve for line in lines} == reserve
    assert {line.part_id: line.to_release for line in lines} == release
    assert {line.part_id: line.short for line in shortages(lines)} == short
