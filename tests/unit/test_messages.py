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
