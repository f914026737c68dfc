"""A save is all or nothing (issue 10, defect 9): a concern or the repair-order terms with one
refused field answer 422, write none of the other fields, and show every value the advisor typed
with the message next to the bad field."""
import re

import pytest

from tests.factories import RO_TERMS, visit_at_estimate
from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import Concern, RepairOrder, Visit
from webapp.services import calling, estimates
from webapp.services import intake as intake_svc
from webapp.commands.estimates import parse_repair_order
from webapp.commands.intake import parse_concern_edit

pytestmark = pytest.mark.shop(roles=("advisor",))

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def desk(shop, client):
    login(client, shop.advisor)
    return shop.site, shop.advisor


def post(client, url, data):
    return client.post(url, data=data, headers={"X-CSRFToken": csrf_token(client, "/advisor"), **HX})


def concern_in_interview(factory, site, advisor) -> Concern:
    ticket = factory.walkin(site, plate="京A12345")
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    visit = db.session.get(Visit, ticket.visit_id)
    intake_svc.start_inspection(visit, advisor)
    db.session.expire(visit)
    concern = intake_svc.add_concern(visit, "刹车异响", advisor)
    intake_svc.update_concern(visit, concern.id, parse_concern_edit({"text": "刹车异响", "note_internal": "旧备注",
                                                  "diagnosis": "needs_diagnosis", "warranty": "undetermined"}), advisor)
    return concern


def concern_form(html: str, concern_id: int) -> str:
    start = html.index(f'id="concern-{concern_id}"')
    return html[start:html.index("</form>", start)]


def saved(concern_id) -> Concern:
    db.session.expire_all()
    return db.session.get(Concern, concern_id)


def test_a_concern_with_its_text_emptied_saves_none_of_the_other_fields_and_keeps_them_typed(client, factory, desk):
    site, advisor = desk
    concern = concern_in_interview(factory, site, advisor)
    typed = {"concern_id": str(concern.id), "text": "", "note_internal": "客户赶时间", "note_customer": "下午取车",
             "diagnosis": "clear", "proposed_repair": "更换前刹车片", "warranty": "not_covered"}
    resp = post(client, f"/advisor/visits/{concern.visit_id}/concerns/{concern.id}", typed)
    assert resp.status_code == 422
    after = saved(concern.id)
    assert (after.text, after.note_internal, after.note_customer, after.diagnosis, after.proposed_repair,
            after.warranty) == ("刹车异响", "旧备注", None, "needs_diagnosis", None, "undetermined")
    form = concern_form(resp.get_data(as_text=True), concern.id)
    assert re.search(r'name="text" value=""[^>]*aria-invalid="true"', form)
    assert 'id="text-error" role="alert">Required.<' in form
    assert "客户赶时间</textarea>" in form and "下午取车</textarea>" in form
    assert 'value="更换前刹车片"' in form
    assert re.search(r'value="clear"\s+checked', form) and re.search(r'value="not_covered"\s+checked', form)


def test_a_concern_with_an_unknown_warranty_saves_nothing_and_says_so_next_to_the_warranty(client, factory, desk):
    site, advisor = desk
    concern = concern_in_interview(factory, site, advisor)
    typed = {"concern_id": str(concern.id), "text": "刹车时方向盘抖动", "note_internal": "新备注",
             "diagnosis": "needs_diagnosis", "warranty": "free_forever"}
    resp = post(client, f"/advisor/visits/{concern.visit_id}/concerns/{concern.id}", typed)
    assert resp.status_code == 422
    after = saved(concern.id)
    assert (after.text, after.note_internal, after.warranty) == ("刹车异响", "旧备注", "undetermined")
    form = concern_form(resp.get_data(as_text=True), concern.id)
    assert 'value="刹车时方向盘抖动"' in form and "新备注</textarea>" in form
    warranty_field = form[form.index(">Warranty"):]
    assert 'id="warranty-error" role="alert">Choose one of the options.<' in warranty_field


def test_repair_order_terms_with_one_missing_change_nothing_and_stay_as_typed(client, factory, desk):
    site, advisor = desk
    visit = visit_at_estimate(factory, site, advisor)
    estimates.save_repair_order(visit, parse_repair_order({**RO_TERMS, "payment_method": "wechat", "old_parts": "leave",
                                        "car_wash": "no"}), advisor)
    typed = {"payment_method": "cash", "old_parts": "take", "car_wash": "yes", "delivery_explained": "1"}
    resp = post(client, f"/advisor/visits/{visit.id}/estimate/repair-order", typed)
    assert resp.status_code == 422
    db.session.expire_all()
    ro = db.session.query(RepairOrder).filter_by(visit_id=visit.id).one()
    assert (ro.payment_method, ro.old_parts, ro.car_wash, ro.additional_work_consent) == ("wechat", "leave", False, True)
    html = resp.get_data(as_text=True)
    form = html[html.index('class="ro-terms"'):]
    form = form[:form.index("</form>")]
    assert re.search(r'value="cash"\s+checked', form) and re.search(r'value="take"\s+checked', form)
    assert re.search(r'value="yes"\s+checked', form)
    assert re.search(r'name="delivery_explained" value="1"\s+checked', form)
    assert not re.search(r'name="additional_work_consent" value="1"\s+checked', form)
    assert 'id="additional_work_consent-error"' in form


def test_repair_order_terms_refused_before_the_first_save_take_no_number(client, factory, desk):
    site, advisor = desk
    visit = visit_at_estimate(factory, site, advisor)
    resp = post(client, f"/advisor/visits/{visit.id}/estimate/repair-order", {"payment_method": "wechat"})
    assert resp.status_code == 422
    db.session.expire_all()
    assert db.session.query(RepairOrder).filter_by(visit_id=visit.id).count() == 0
