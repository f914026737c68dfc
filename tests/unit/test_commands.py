"""Parsers of the edge: a posted form becomes typed values, and every problem is named at once."""
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from webapp.commands import estimates as est_cmd
from webapp.commands import followup as fu_cmd
from webapp.commands import settings as settings_cmd
from webapp.validation import Invalid

SITE = {"name_zh": "北京店", "name_en": "Beijing", "tax_rate": "13%", "diagnosis_fee": "200", "opening": "8:30",
        "closing": "18:00", "break_start": "", "break_end": "", "reception_minutes": "15",
        "appointment_early_minutes": "30", "appointment_late_minutes": "15", "prefix_appointment": "A",
        "prefix_walkin": "W"}


def test_site_settings_become_typed_values():
    parsed = settings_cmd.parse_site_settings(SITE)
    assert str(parsed.tax_rate) == "0.1300" and parsed.opening == "08:30" and parsed.reception_minutes == 15
    assert parsed.break_start is None and parsed.followup == {}
    assert "followup_days" not in parsed.values()        # not on the form: the stored value stays


def test_site_settings_name_every_problem():
    with pytest.raises(Invalid) as exc:
        settings_cmd.parse_site_settings({**SITE, "tax_rate": "31", "break_start": "12:00", "prefix_walkin": "A",
                                          "followup_days": "61"})
    assert exc.value.errors == {"tax_rate": "tax_range", "break_end": "break_pair", "prefix_walkin": "prefix_same",
                                "followup_days": "followup_days_range"}


def test_a_call_carries_its_problems_for_the_service_to_raise_in_turn():
    report = fu_cmd.parse_call(MultiDict({"attempt": "2", "outcome": "reached", "explained": "yes", "rating": "9",
                                          "complaint": "1", "summary": " "}))
    assert report.attempt == 2 and report.answers == {"explained": "yes"}
    assert report.problems["rating"] == "rating_invalid" and report.problems["summary"] == "required"
    assert report.problems["on_time"] == "required"


@pytest.mark.parametrize("attempt", ["", "-1", "1e3", "9" * 30, "２"])
def test_an_unreadable_attempt_is_none(attempt):
    assert fu_cmd.parse_call({"attempt": attempt, "outcome": "no_answer"}).attempt is None


def test_a_survey_comment_is_bounded():
    answers = fu_cmd.parse_survey({q: "no" for q in ("explained", "on_time", "clean", "recommend")}
                                  | {"comment": "x" * 2001})
    assert answers.problems == {"comment": "too_long"} and answers.answers["clean"] == "no"


def test_the_summary_bound_is_the_complaints_one():
    from webapp.services.complaints import MAX_TEXT
    assert fu_cmd.MAX_SUMMARY == MAX_TEXT


# ---------------------------------------------------------------- the estimate

def test_an_unknown_line_kind_is_refused_at_once():
    with pytest.raises(Invalid) as exc:
        est_cmd.parse_line({"kind": "gift"})
    assert exc.value.errors == {"kind": "line_kind_invalid"}


def test_a_line_keeps_what_was_not_typed_open_for_the_catalogue():
    req = est_cmd.parse_line({"kind": "labour", "operation_id": "7", "quantity": "", "unit_price": ""})
    assert (req.operation_id, req.quantity, req.unit_price, req.problems) == (7, None, None, {})


@pytest.mark.parametrize("kind, quantity, code", [
    ("part", "0", "line_quantity_invalid"), ("part", "1000", "line_quantity_invalid"),
    ("labour", "0.05", "hours_invalid"), ("diagnosis", "1e309", "hours_invalid")])
def test_a_line_quantity_is_bounded_by_its_kind(kind, quantity, code):
    assert est_cmd.parse_line({"kind": kind, "quantity": quantity}).problems == {"quantity": code}


def test_a_line_names_each_of_its_problems():
    req = est_cmd.parse_line({"kind": "labour", "concern_id": "x", "operation_id": "9" * 20, "unit_price": "-1",
                              "discount_pct": "101", "warranty": "0", "description": " 换 "})
    assert req.problems == {"concern_id": "invalid", "operation_id": "invalid", "unit_price": "price_invalid",
                            "discount_pct": "discount_invalid"}
    assert req.warranty is False and req.description == "换"


def test_repair_order_terms_need_both_confirmations():
    with pytest.raises(Invalid) as exc:
        est_cmd.parse_repair_order({"payment_method": "wechat", "old_parts": "take", "car_wash": "yes"})
    assert exc.value.errors == {"additional_work_consent": "required", "delivery_explained": "required"}
    terms = est_cmd.parse_repair_order({"payment_method": "cash", "old_parts": "leave", "car_wash": "no",
                                        "additional_work_consent": "1", "delivery_explained": "1"})
    assert terms == est_cmd.RepairOrderTerms("cash", "leave", False)


def test_discount_in_yuan():
    assert est_cmd.parse_discount("") == Decimal("0") and est_cmd.parse_discount("¥1,000.5") == Decimal("1000.5")
    with pytest.raises(Invalid):
        est_cmd.parse_discount("abc")


def test_in_shop_answers_as_posted():
    answers = est_cmd.parse_in_shop_approval(MultiDict({
        "version": "2", "decision-5": "approved", "decision-6": "declined", "reason-6": "下次",
        "decision-x": "approved", "signature": "data:image/png;base64,AAAA", "signer_name": " 张三 "}))
    assert answers.version == 2 and answers.signer_name == "张三"
    assert answers.choices == {5: ("approved", None), 6: ("declined", "下次")}
    assert est_cmd.parse_in_shop_approval({"version": "v2"}).version is None


# ---------------------------------------------------------------- the reception

def test_customer_vehicle_names_every_problem_at_once():
    from webapp.commands.intake import parse_customer_vehicle
    with pytest.raises(Invalid) as exc:
        parse_customer_vehicle({"mobile": "123", "plate": "", "vin": "IOQ", "email": "x@", "year": "1900",
                                "warranty_km": "-1", "warranty_start": "2026-13-01"})
    assert exc.value.errors == {"mobile": "mobile_invalid", "plate": "plate_invalid", "vin": "vin_invalid",
                                "email": "email_invalid", "year": "year_invalid",
                                "warranty_km": "warranty_km_invalid", "warranty_start": "date_invalid"}
    cv = parse_customer_vehicle({"mobile": "+86 138 0013 8000", "plate": "京a·12345", "make": " 大众 ", "email": ""})
    assert (cv.mobile, cv.plate, cv.make, cv.model, cv.email, cv.email_given) == (
        "13800138000", "京A12345", "大众", None, None, True)


def test_a_concern_edit_keeps_unsent_choices_open():
    from webapp.commands.intake import parse_concern_edit
    edit = parse_concern_edit({"text": " 异响 ", "note_customer": "  "})
    assert (edit.text, edit.diagnosis, edit.warranty, edit.note_customer, edit.problems) == ("异响", None, None, None, {})
    assert parse_concern_edit({"text": "", "warranty": "maybe"}).problems == {"text": "required", "warranty": "invalid"}


# ---------------------------------------------------------------- the catalogue

def test_an_operation_names_its_problems_in_form_order():
    from webapp.commands.catalogue import parse_operation
    fields = parse_operation({"code": " brk1 ", "name_zh": "", "name_en": "x" * 121, "hours": "100", "kind": "magic"})
    assert fields.code == "BRK1" and fields.active is True
    assert list(fields.problems.items()) == [("name_zh", "required"), ("name_en", "too_long"),
                                             ("hours", "hours_range"), ("kind", "invalid")]


def test_a_part_defaults_its_lead_time():
    from webapp.commands.catalogue import parse_part
    fields = parse_part({"number": "06l115562", "name_zh": "机滤", "name_en": "Oil filter", "unit_price": "¥88",
                         "active": "0"})
    assert (fields.number, fields.unit_price, fields.lead_days, fields.active, fields.problems) == (
        "06L115562", Decimal("88"), 2, False, {})


def test_rates_need_the_default_and_bounded_others():
    from webapp.commands.catalogue import parse_rates
    with pytest.raises(Invalid) as exc:
        parse_rates({"rate_default": "", "rate_paint": "0"})
    assert exc.value.errors == {"rate_default": "required", "rate_paint": "rate_range"}
    rates = parse_rates({"rate_default": "120", "rate_paint": " "})
    assert rates["default"] == Decimal("120") and rates["paint"] is None


def test_a_maintenance_item_leaves_the_look_ups_to_the_service():
    from webapp.commands.catalogue import parse_maintenance
    fields = parse_maintenance({"model": "帕萨特", "operation_code": " oil ", "part_number": "06l115562",
                                "part_quantity": "", "every_months": "12"})
    assert (fields.operation_code, fields.part_number, fields.part_quantity_problem) == ("OIL", "06L115562", "required")
    assert fields.problems == {"make": "make_for_model"}
    assert parse_maintenance({"operation_id": "x"}).problems == {"operation_id": "operation_unknown"}
