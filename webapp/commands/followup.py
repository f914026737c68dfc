"""The survey on the status page and the follow-up call's form, parsed into typed values.

The service still decides *when* bad input is reported: a call already recorded by a colleague
is a 409 even if this form was also incomplete, so the parsed command carries its ``problems``
and the service raises ``Invalid(problems)`` after its own checks."""
from dataclasses import dataclass, field

from .. import followup as rules
from ..parsing import parse_whole

MAX_COMMENT = 2000
MAX_SUMMARY = 4000     # a complaint's text: services.complaints.MAX_TEXT (tests/unit/test_commands.py)


def _comment(form, problems) -> str:
    comment = str(form.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        problems["comment"] = "too_long"
    return comment


@dataclass(frozen=True)
class SurveyAnswers:
    answers: dict[str, str]          # question -> "yes" | "no"
    comment: str
    problems: dict[str, str] = field(default_factory=dict)


def parse_survey(form) -> SurveyAnswers:
    answers, problems = rules.parse_answers(form)
    comment = _comment(form, problems)
    return SurveyAnswers(answers, comment, problems)


@dataclass(frozen=True)
class CallReport:
    attempt: int | None              # the attempt the form was opened at; None when unreadable
    outcome: str                     # checked by the rules (rules.OUTCOMES)
    comment: str
    answers: dict[str, str] = field(default_factory=dict)
    rating: int | None = None
    summary: str = ""                # a complaint raised on the call
    problems: dict[str, str] = field(default_factory=dict)


def parse_call(form) -> CallReport:
    problems: dict[str, str] = {}
    outcome = str(form.get("outcome") or "")
    comment = _comment(form, problems)
    answers, rating, summary = {}, None, ""
    if outcome == "reached":
        answers, answer_problems = rules.parse_answers(form)
        problems.update(answer_problems)
        raw_rating = str(form.get("rating") or "").strip()
        if raw_rating:
            rating = rules.parse_rating(raw_rating)
            if rating is None:
                problems["rating"] = "rating_invalid"
        if form.get("complaint"):
            summary = str(form.get("summary") or "").strip()
            if not summary:
                problems["summary"] = "required"
            elif len(summary) > MAX_SUMMARY:
                problems["summary"] = "too_long"
    return CallReport(parse_whole(form.get("attempt")), outcome, comment, answers, rating, summary, problems)
