"""Parsers of the edge: a posted form becomes typed values, and every problem is named at once."""
import pytest
from werkzeug.datastructures import MultiDict

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
