"""Rules of the service history (webapp/history.py), by table."""
from datetime import date, datetime

import pytest

from webapp.history import Item, QueryRefused, csv_cell, open_declined, parse_query, parse_range


@pytest.mark.parametrize("raw, plate, mobile, vin, name", [
    ("京A12345", "京A12345", None, None, "京A12345"),
    (" 京a·123 45 ", "京A12345", None, None, "京a·123 45"),
    ("a123", "A123", None, None, "a123"),
    ("13800138000", "13800138000", "13800138000", "13800138000", None),
    ("+86 138 0013 8000", None, "13800138000", None, None),
    ("8000", "8000", "8000", None, None),
    ("LSVAU2180N2183294", "LSVAU2180N2183294", None, "LSVAU2180N2183294", "LSVAU2180N2183294"),
    ("2183294", "2183294", "2183294", "2183294", None),
    ("张三", "张三", None, None, "张三"),
    ("O'Brien", None, None, None, "O'Brien"),
])
def test_parse_query_keys(raw, plate, mobile, vin, name):
    q = parse_query(raw)
    assert (q.plate, q.mobile, q.vin, q.name) == (plate, mobile, vin, name)


@pytest.mark.parametrize("raw, code", [
    (None, "query_required"), ("", "query_required"), ("   ", "query_required"),
    ("张", "query_too_short"), ("%", "query_too_short"), ("%%%", "query_invalid"), ("--", "query_invalid"),
    ("x" * 65, "query_too_long"),
])
def test_parse_query_refused(raw, code):
    with pytest.raises(QueryRefused) as exc:
        parse_query(raw)
    assert exc.value.code == code


D1, D2, D3 = datetime(2026, 1, 5), datetime(2026, 4, 2), datetime(2026, 9, 9)


@pytest.mark.parametrize("declined, approved, exclude, expected", [
    # declined once, never done since: open
    ([Item(1, D1, "更换雨刮", 7)], [], None, ["更换雨刮"]),
    # done on a later visit (same operation): closed
    ([Item(1, D1, "更换雨刮", 7)], [Item(2, D2, "Wiper blades", 7)], None, []),
    # done on an EARLIER visit does not close a later refusal
    ([Item(2, D2, "更换雨刮", 7)], [Item(1, D1, "更换雨刮", 7)], None, ["更换雨刮"]),
    # parts compare by part, free text by description (spaces and case ignored)
    ([Item(1, D1, "刹车油", None, 3)], [Item(2, D2, "x", None, 3)], None, []),
    ([Item(1, D1, "Clean  AC")], [Item(2, D2, "clean ac")], None, []),
    ([Item(1, D1, "Clean AC")], [Item(2, D2, "Clean brakes")], None, ["Clean AC"]),
    # declined twice: counted once, the latest refusal
    ([Item(1, D1, "A", 5, reason="old"), Item(2, D2, "A", 5, reason="new")], [], None, ["A:new"]),
    # the current visit's own declines are left out, but its approvals close earlier ones
    ([Item(1, D1, "A", 5), Item(3, D3, "B", 6)], [Item(3, D3, "A", 5)], 3, []),
    # newest first
    ([Item(1, D1, "old", 1), Item(2, D2, "new", 2)], [], None, ["new", "old"]),
])
def test_open_declined(declined, approved, exclude, expected):
    got = open_declined(declined, approved, exclude)
    assert [f"{i.description}:{i.reason}" if i.reason else i.description for i in got] == expected


@pytest.mark.parametrize("a, b, errors", [
    ("2026-01-01", "2026-01-31", {}),
    ("2026-01-01", "2026-01-01", {}),
    ("", "2026-01-31", {"from": "date_required"}),
    (None, None, {"from": "date_required", "to": "date_required"}),
    ("2026-13-01", "2026-01-31", {"from": "date_invalid"}),
    ("01/02/2026", "2026-01-31", {"from": "date_invalid"}),
    ("2026-02-30", "2026-03-01", {"from": "date_invalid"}),
    ("2026-02-01", "2026-01-31", {"to": "range_reversed"}),
    ("2025-01-01", "2026-01-02", {"to": "range_too_long"}),   # 367 days
    ("2025-01-01", "2026-01-01", {}),                         # 366 days, both included
])
def test_parse_range(a, b, errors):
    start, end, got = parse_range(a, b)
    assert got == errors
    if not errors:
        assert start == date.fromisoformat(a) and end == date.fromisoformat(b)


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+86", "'+86"), ("-1+2", "'-1+2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("张三", "张三"), ("RO-20260101-0001", "RO-20260101-0001"), ("", ""), (None, ""), (12, "12"),
])
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell
