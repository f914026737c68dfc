"""The walk-around records an explicit valuables answer (a list, or "none"), required before the
inspection completes; the handover then confirms exactly that answer."""
import pytest

from tests.factories import confirm_suggestion, png_data_url, visit_ready
from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.models import IntakeForm, Visit
from webapp.services import calling
from webapp.services import intake as svc

HX = {"HX-Request": "true"}
DONE = {"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1", "mileage": "46000", "fuel_level": "1/2"}


@pytest.fixture
def visit(factory):
    site = factory.site(code="bj01")
    advisor = factory.user(site, "advisor", username="a1", desk="1")
    ticket = factory.walkin(site, plate="京A12345", mobile="13800138000")
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    confirm_suggestion(ticket.visit, advisor)
    svc.start_inspection(ticket.visit, advisor)
    return ticket.visit


@pytest.fixture
def desk(client, visit):
    login(client, visit.advisor)
    return client


def post(client, url, data=None):
    return client.post(url + "?lang=en", data=data or {},
                       headers={"X-CSRFToken": csrf_token(client, "/advisor"), **HX})


def form():
    db.session.expire_all()
    return IntakeForm.query.one()


def test_completion_without_the_answer_is_refused_next_to_the_field(desk, visit):
    assert post(desk, f"/advisor/visits/{visit.id}/inspection", DONE).status_code == 200
    svc.sign_intake(db.session.get(Visit, visit.id), png_data_url(), "张三", None, None, visit.advisor)
    assert "Ask the customer about valuables" in desk.get(
        f"/advisor/visits/{visit.id}/section/inspection_status?lang=en").get_data(as_text=True)
    resp = post(desk, f"/advisor/visits/{visit.id}/inspection/complete")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    field = html.split('class="valuables')[1].split("</fieldset>")[0]
    assert 'id="valuables-error"' in field and "list what stays in the car, or choose None" in field
    assert db.session.get(Visit, visit.id).state == "inspection"


def test_yes_without_items_is_no_answer_and_keeps_the_choice(desk, visit):
    post(desk, f"/advisor/visits/{visit.id}/inspection", {**DONE, "valuables_left": "yes", "valuables": " "})
    assert form().valuables_left is True and not svc.rules.valuables_answered(form().valuables_left, form().valuables)
    html = desk.get(f"/advisor/visits/{visit.id}/section/inspection?lang=en").get_data(as_text=True)
    assert 'value="yes" checked' in html


def test_none_keeps_no_list_and_typed_items_count_as_yes(desk, visit):
    post(desk, f"/advisor/visits/{visit.id}/inspection", {**DONE, "valuables": "墨镜"})
    assert (form().valuables_left, form().valuables) == (True, "墨镜")
    post(desk, f"/advisor/visits/{visit.id}/inspection", {**DONE, "valuables_left": "no", "valuables": "墨镜"})
    assert (form().valuables_left, form().valuables) == (False, None)
    post(desk, f"/advisor/visits/{visit.id}/inspection", {**DONE, "valuables_left": "maybe"})
    assert form().valuables_left is None


def test_answered_inspection_completes_once(desk, visit):
    post(desk, f"/advisor/visits/{visit.id}/inspection", {**DONE, "valuables_left": "no"})
    svc.sign_intake(db.session.get(Visit, visit.id), png_data_url(), "张三", None, None, visit.advisor)
    assert post(desk, f"/advisor/visits/{visit.id}/inspection/complete").status_code == 200
    assert db.session.get(Visit, visit.id).state == "interview"
    assert post(desk, f"/advisor/visits/{visit.id}/inspection/complete").status_code == 409


@pytest.mark.parametrize("answer,shown,absent", [
    ((True, "行车记录仪、雨伞"),
     ['data-valuables="listed"', "confirm they are in the car", "行车记录仪、雨伞"], ["No valuables recorded"]),
    ((False, None), ['data-valuables="none"', "No valuables recorded at intake"], ["confirm they are in"]),
    ((None, None), ['data-valuables="unknown"', "not recorded at intake: ask the customer"], ["confirm they are in"]),
])
def test_the_handover_confirms_exactly_what_intake_recorded(client, factory, answer, shown, absent):
    site = factory.site(code="bj01")
    advisor = factory.user(site, "advisor", username="a1", desk="1")
    visit = visit_ready(factory, site, advisor)
    visit.intake.valuables_left, visit.intake.valuables = answer   # as the walk-around recorded it
    db.session.commit()
    login(client, advisor)
    html = client.get(f"/advisor/visits/{visit.id}/delivery?lang=en").get_data(as_text=True)
    belongings = html.split("data-belongings")[1].split("</div>")[0]
    for text in shown:
        assert text in belongings
    for text in absent:
        assert text not in belongings
