"""Parsers of the booking forms: a posted form becomes typed values; problems the service must
raise in turn with its own checks (a car on file, how far ahead) travel with the command."""
from datetime import date, time

import pytest
from werkzeug.datastructures import MultiDict

from webapp.commands import appointments as cmd
from webapp.validation import Invalid

NEW_CUSTOMER = {"name": "张先生", "plate": "京a 12345", "mobile": "+86 138 0013 8001", "reason": "maintenance",
                "day": "2030-05-06", "slot": "9:30"}


def test_a_new_customers_booking_becomes_typed_values():
    booking = cmd.parse_booking(MultiDict({**NEW_CUSTOMER, "operation_ids": ["3", "4"], "advisor_id": "7",
                                           "email": "zhang@example.com", "description": " 异响 "}))
    assert booking.vehicle_id is None and booking.name == "张先生"
    assert booking.plate == "京A12345" and booking.mobile == "13800138001"
    assert booking.day == date(2030, 5, 6) and booking.start == time(9, 30)
    assert booking.operation_ids == (3, 4) and booking.advisor_id == 7
    assert booking.email == "zhang@example.com" and booking.description == "异响" and booking.note is None
    assert booking.problems == {}


def test_a_car_on_file_needs_no_name_plate_or_mobile():
    booking = cmd.parse_booking({"vehicle_id": "12", "reason": "repair", "day": "2030-05-06", "slot": "10:00",
                                 "advisor_id": "", "operation_ids": []})
    assert booking.vehicle_id == 12 and booking.name is None and booking.plate is None
    assert booking.advisor_id is None and booking.operation_ids == () and booking.problems == {}


def test_a_booking_carries_every_problem_in_the_forms_order():
    booking = cmd.parse_booking(MultiDict({"vehicle_id": "abc", "plate": "??", "reason": "fun",
                                           "email": "nope", "day": "2030-05-06", "slot": "25:00",
                                           "note": "x" * (cmd.MAX_WORDS + 1), "operation_ids": ["1", "x"],
                                           "advisor_id": "-3", "overbook_reason": "y" * (cmd.MAX_REASON + 1)}))
    assert booking.problems == {"name": "required", "plate": "plate_invalid", "mobile": "required",
                                "reason": "reason_invalid", "email": "email_invalid", "slot": "slot_required",
                                "note": "too_long", "operation_ids": "operation_invalid",
                                "advisor_id": "advisor_invalid", "overbook_reason": "too_long"}
    assert list(booking.problems) == ["name", "plate", "mobile", "reason", "email", "slot", "note",
                                      "operation_ids", "advisor_id", "overbook_reason"]


def test_an_unreadable_day_names_no_slot_problem():
    booking = cmd.parse_booking({**NEW_CUSTOMER, "day": "6 May", "slot": ""})
    assert booking.problems == {"day": "day_invalid"} and booking.day is None and booking.start is None


def test_too_many_operations():
    booking = cmd.parse_booking(MultiDict({**NEW_CUSTOMER,
                                           "operation_ids": [str(i) for i in range(1, cmd.MAX_OPERATIONS + 2)]}))
    assert booking.problems == {"operation_ids": "operation_invalid"} and booking.operation_ids == ()


def test_a_move_takes_day_slot_advisor_and_overbooking_reason():
    move = cmd.parse_move(MultiDict({"day": "2030-05-07", "slot": "14:00", "advisor_id": "5",
                                     "overbook_reason": " VIP "}))
    assert (move.day, move.start, move.advisor_id, move.overbook_reason, move.problems) == (
        date(2030, 5, 7), time(14, 0), 5, "VIP", {})
    assert cmd.parse_move({"day": "2030-05-07"}).problems == {"slot": "slot_required"}


def test_the_customers_move_ignores_an_advisor_and_an_overbooking_reason():
    move = cmd.parse_online_move(MultiDict({"day": "2030-05-07", "slot": "14:00", "advisor_id": "x",
                                            "overbook_reason": "please"}))
    assert move.advisor_id is None and move.overbook_reason is None and move.problems == {}


def test_a_cancellation_needs_a_short_reason():
    assert cmd.parse_cancel({"cancel_reason": " 出差 "}) == cmd.Cancel("出差")
    with pytest.raises(Invalid) as exc:
        cmd.parse_cancel(MultiDict({}))
    assert exc.value.errors == {"cancel_reason": "required"}
    with pytest.raises(Invalid) as exc:
        cmd.parse_cancel({"cancel_reason": "x" * (cmd.MAX_REASON + 1)})
    assert exc.value.errors == {"cancel_reason": "too_long"}


def test_an_online_booking_becomes_typed_values():
    booking = cmd.parse_online_booking({**NEW_CUSTOMER, "reason": "repair", "description": "刹车异响"})
    assert (booking.reason, booking.plate, booking.mobile, booking.name) == ("repair", "京A12345", "13800138001", "张先生")
    assert booking.day == date(2030, 5, 6) and booking.start == time(9, 30) and booking.email is None
    assert booking.description == "刹车异响" and booking.problems == {}


def test_an_online_booking_carries_every_problem_in_the_forms_order():
    booking = cmd.parse_online_booking({"reason": "", "plate": "", "mobile": "12345", "email": "a@", "name": " ",
                                        "day": "2030-05-06", "slot": "",
                                        "description": "x" * (cmd.MAX_ONLINE_WORDS + 1)})
    assert list(booking.problems.items()) == [("reason", "reason_invalid"), ("plate", "required"),
                                              ("mobile", "mobile_invalid"), ("email", "email_invalid"),
                                              ("name", "required"), ("slot", "slot_required"),
                                              ("description", "too_long")]
