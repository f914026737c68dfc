"""The customer's e-mail (for the ready-for-pickup notice) in the intake's customer section:
optional, validated, a bad one answered with a message next to the field and kept."""
import pytest

from tests.support import csrf_token, login
from webapp.models import Customer, User
from webapp.services import calling

pytestmark = pytest.mark.shop(roles=("advisor",))

HX = {"HX-Request": "true"}
FORM = {"name": "张三", "mobile": "13800138000", "plate": "京A12345"}


@pytest.fixture
def visit(shop, factory, client):
    site, advisor = shop.site, shop.advisor
    factory.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三")
    ticket = factory.walkin(site, plate="京A12345", mobile="13800138000")
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    client.set_cookie("lang", "en")
    login(client, User.query.filter_by(username=advisor.username).one())
    return ticket.visit


def save(client, visit, **fields):
    token = csrf_token(client, "/advisor")
    return client.post(f"/advisor/visits/{visit.id}/customer", data={**FORM, **fields},
                       headers={"X-CSRFToken": token, **HX})


def email_of(db):
    db.session.expire_all()
    return Customer.query.filter_by(mobile="13800138000").one().email


def test_field_is_shown(client, visit):
    html = client.get(f"/advisor/visits/{visit.id}").get_data(as_text=True)
    assert 'id="c-email"' in html and 'name="email"' in html


def test_good_email_is_saved_normalised_and_shown(client, visit, db):
    r = save(client, visit, email=" Zhang.San@Example.COM ")
    assert r.status_code == 200
    assert email_of(db) == "Zhang.San@example.com"
    assert 'value="Zhang.San@example.com"' in r.get_data(as_text=True)
    assert save(client, visit, email="").status_code == 200          # emptied: no notices by e-mail
    assert email_of(db) is None


def test_bad_email_is_refused_next_to_the_field_and_kept(client, visit, db):
    r = save(client, visit, email="zhang@qq", name="张三丰")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="email-error"' in html and "Enter an e-mail address such as name@example.com" in html
    assert 'value="zhang@qq"' in html and 'value="张三丰"' in html
    assert email_of(db) is None
    assert Customer.query.filter_by(mobile="13800138000").one().name == "张三"   # nothing saved


def test_without_the_field_the_email_is_left_alone(client, visit, db):
    save(client, visit, email="a@b.cn")
    token = csrf_token(client, "/advisor")
    r = client.post(f"/advisor/visits/{visit.id}/customer", data=FORM, headers={"X-CSRFToken": token, **HX})
    assert r.status_code == 200 and email_of(db) == "a@b.cn"
