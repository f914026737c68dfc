"""The one reader of ids and money (webapp/parsing.py), by table: what a person types is read,
anything hostile is None — never an exception, never a number the database cannot hold."""
from decimal import Decimal

import pytest
from werkzeug.routing import Map, Rule
from werkzeug.exceptions import NotFound

from webapp.billing import read_amount
from webapp.money import parse_amount
from webapp.parsing import MAX_ID, BoundedIntConverter, parse_id, parse_money, parse_whole

HOSTILE = ["", " ", None, "0", "-1", "+1", "1.0", "1e3", "0x10", "NaN", "inf", "1 2", "١٢", "²",
           "1" * 27, str(MAX_ID + 1), "9" * 100_000, "1\x00", "🚗", "[1]", "1;DROP TABLE visit"]


@pytest.mark.parametrize("raw", HOSTILE)
def test_ids_refuse_anything_but_a_bounded_positive_whole_number(raw):
    assert parse_id(raw) is None


@pytest.mark.parametrize("raw, expected", [("1", 1), (" 42 ", 42), (7, 7), (str(MAX_ID), MAX_ID), ("007", 7)])
def test_ids_read_what_a_form_or_url_sends(raw, expected):
    assert parse_id(raw) == expected


def test_a_whole_number_may_be_zero_where_counting_starts_there():
    assert parse_whole("0") == 0 and parse_whole("-0") is None and parse_whole(True) is None


@pytest.mark.parametrize("raw", ["1e309", "1E+400", "-1e309", "NaN", "sNaN", "-Infinity", "Infinity", "1.123",
                                 "0.00000000000000000001", "1" * 40, "9" * 100_000, "1\x00", "🚗", "1,2,3.4.5",
                                 "10000000.01", "-0.01", "", None, "12e"])
def test_money_refuses_huge_non_finite_over_precise_or_garbage_amounts(raw):
    assert parse_money(raw) is None
    assert parse_amount(raw) is None


@pytest.mark.parametrize("raw, expected", [("100", "100"), ("¥1,280.50", "1280.50"), (" 0.5 ", "0.5"),
                                           ("1.00000000000000000000", "1"), ("10000000", "10000000"), ("1E+2", "100")])
def test_money_reads_amounts_as_typed_at_the_counter(raw, expected):
    assert parse_money(raw) == Decimal(expected)


@pytest.mark.parametrize("raw, why", [("1e309", "amount_too_large"), ("1E+400", "amount_too_large"),
                                      ("NaN", "amount_not_number"), ("9" * 100_000, "amount_not_number"),
                                      ("1.005", "amount_decimals"), ("-5", "amount_not_positive")])
def test_cashier_amounts_say_why_they_are_refused_instead_of_raising(raw, why):
    assert read_amount(raw) == (None, why)


def test_url_ids_beyond_the_database_integer_do_not_match_the_route():
    urls = Map([Rule("/visits/<int:visit_id>", endpoint="visit")], converters={"int": BoundedIntConverter}).bind("x")
    assert urls.match(f"/visits/{MAX_ID}") == ("visit", {"visit_id": MAX_ID})
    for raw in ("1" + "0" * 26, str(MAX_ID + 1)):
        with pytest.raises(NotFound):
            urls.match(f"/visits/{raw}")
