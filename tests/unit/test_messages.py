"""The one registry of refusal codes: a code means one thing on every screen."""
from webapp import messages
from webapp.validation import Invalid


def test_no_code_is_worded_twice(app):
    with app.test_request_context():
        seen = {}
        for table in messages.TABLES:
            for code in table({}):
                assert code not in seen or seen[code] == table.__name__, f"{code} in {seen.get(code)} and {table.__name__}"
                seen[code] = table.__name__


def test_codes_follow_the_language(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert messages.error_text("required") == "Required."
        assert messages.error_text("no_such_code") == "no_such_code"
        assert "¥5" in messages.error_text("over_balance", balance="¥5")


def test_invalid_carries_the_codes_per_field():
    exc = Invalid({"amount": "amount_required"})
    assert exc.errors == {"amount": "amount_required"}
    assert "amount=amount_required" in str(exc)


# Codes worded by their own screen, not through the registry: the status page (rating, survey),
# the kiosk (check-in) and the parts desk answer in their own words; history's 404s are pages.
OWN_WORDS = {"already_rated", "rating_not_open", "survey_done", "survey_not_open", "appointment_not_found",
             "appointment_not_open", "consent_required", "reason_invalid", "nothing_to_issue", "customer_not_found"}


def test_every_code_a_service_or_parser_raises_has_words(app):
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    patterns = (r'Invalid\(\{[^}]*?:\s*"([a-z_]+)"', r'(?:errors|problems)\[[^\]]+\]\s*=\s*"([a-z_]+)"',
                r'ServiceError\("([a-z_]+)"', r'_refuse\("([a-z_]+)"', r'errors\.setdefault\([^,]+,\s*"([a-z_]+)"')
    raised = set()
    for path in [*root.glob("webapp/services/*.py"), *root.glob("webapp/commands/*.py"), root / "webapp/billing.py"]:
        source = path.read_text(encoding="utf-8")
        for pattern in patterns:
            raised.update(re.findall(pattern, source))
    with app.test_request_context():
        worded = set(messages.all_texts())
    assert len(raised) > 100
    assert raised - worded - OWN_WORDS == set()
