"""The approval card's running total, asked of the server on each tap (/t/<token>/approve/total):
behind the ticket PIN, read-only, rate-limited like the rest of /t/, and the same amount the
decision then records and the bill charges."""
import re
from decimal import Decimal

import pytest

from tests.support import csrf_token, make_app
from tests.http.test_remote_approval import advisor, catalogue, presented, site, unlock  # noqa: F401 (fixtures)
from webapp.extensions import db
from webapp.models import Visit
from webapp.services import estimates

TOTAL = re.compile(r'data-approve-total[^>]*>([^<]+)<')
COUNT = re.compile(r'data-approve-count>(\d+)<')


@pytest.fixture
def ticket(factory, site, advisor, catalogue):  # noqa: F811
    return presented(factory, site, advisor, catalogue)


def lines(ticket):
    db.session.expire_all()
    est = db.session.get(Visit, ticket.visit_id).estimate
    return est, [line.id for line in est.lines]   # labour 450.00, part 2 × 388.50


def ask(client, ticket, version, **choices):
    query = {"version": version, **{f"decision-{k}": v for k, v in choices.items()}}
    return client.get(f"/t/{ticket.token}/approve/total", query_string=query, headers={"HX-Request": "true"})


def shown(resp):
    html = resp.get_data(as_text=True)
    return TOTAL.search(html).group(1), COUNT.search(html).group(1)


def test_before_the_pin_no_amount(client, ticket):
    est, (labour, part) = lines(ticket)
    resp = ask(client, ticket, est.version, **{str(labour): "approved"})
    assert resp.status_code == 403 and resp.get_data(as_text=True) == "" and resp.headers["HX-Reswap"] == "none"
    assert resp.headers["Cache-Control"] == "no-store"


def test_the_total_follows_the_choices_in_the_readers_language(client, ticket):
    unlock(client, ticket)
    est, (labour, part) = lines(ticket)
    assert shown(ask(client, ticket, est.version)) == ("¥0.00", "0")
    assert shown(ask(client, ticket, est.version, **{str(labour): "approved"})) == ("¥508.50", "1")   # 450 × 1.13
    assert shown(ask(client, ticket, est.version, **{str(labour): "approved", str(part): "declined"})) == \
        ("¥508.50", "2")
    client.set_cookie("lang", "en")
    resp = ask(client, ticket, est.version, **{str(labour): "approved", str(part): "approved"})
    assert shown(resp) == ("CN¥1,386.51", "2")                                                          # 1227 × 1.13
    html = resp.get_data(as_text=True)
    assert 'id="approve-sum"' in html and 'data-complete="true"' in html and "<form" not in html


def test_everything_declined_shows_the_fee_and_says_so(client, ticket):
    unlock(client, ticket)
    est, (labour, part) = lines(ticket)
    resp = ask(client, ticket, est.version, **{str(labour): "declined", str(part): "declined"})
    fee = db.session.get(Visit, ticket.visit_id).site.diagnosis_fee
    from webapp.money import q
    assert shown(resp)[0] == f"¥{q(fee * Decimal('1.13')):,}"
    assert 'data-all-declined="true"' in resp.get_data(as_text=True)


def test_the_total_shown_is_what_the_decision_records(client, ticket):
    token = unlock(client, ticket)
    est, (labour, part) = lines(ticket)
    previewed = shown(ask(client, ticket, est.version, **{str(labour): "approved", str(part): "declined"}))[0]
    resp = client.post(f"/t/{ticket.token}/approve", data={
        "csrf_token": token, "version": est.version, f"decision-{labour}": "approved", f"decision-{part}": "declined"})
    assert resp.status_code == 303
    est, _ = lines(ticket)
    recorded = estimates.estimate_totals(est, ("approved",)).customer_pays
    assert previewed == f"¥{recorded:,}"
    page = client.get(f"/t/{ticket.token}").get_data(as_text=True)
    assert re.search(r'data-decided-total>([^<]+)<', page).group(1) == previewed


def test_another_version_or_a_decided_estimate_swaps_nothing(client, ticket):
    unlock(client, ticket)
    est, (labour, part) = lines(ticket)
    for version in (est.version + 1, "x", ""):
        resp = ask(client, ticket, version, **{str(labour): "approved"})
        assert resp.status_code == 409 and resp.headers["HX-Reswap"] == "none" and resp.get_data(as_text=True) == ""


def test_unknown_lines_and_words_change_nothing(client, ticket):
    unlock(client, ticket)
    est, (labour, part) = lines(ticket)
    resp = ask(client, ticket, est.version, **{str(labour): "approved", "999999": "approved", str(part): "maybe"})
    assert shown(resp) == ("¥508.50", "1")


def test_only_a_get(client, ticket):
    token = unlock(client, ticket)
    resp = client.post(f"/t/{ticket.token}/approve/total", data={"csrf_token": token})
    assert resp.status_code == 405


def test_rate_limited_like_the_rest_of_the_status_page(db_url, app, ticket):
    limited = make_app(db_url, RATELIMIT_ENABLED=True, RATELIMIT_STATUS="3 per minute")
    with limited.app_context():
        client = limited.test_client()
        csrf = csrf_token(client, "/login")
        from webapp.services.checkin import ticket_pin
        client.post(f"/t/{ticket.token}/unlock", data={"pin": ticket_pin(ticket.token), "csrf_token": csrf})
        est, _ = lines(ticket)
        codes = [ask(client, ticket, est.version).status_code for _ in range(4)]
        assert codes[-1] == 429 and 200 in codes
