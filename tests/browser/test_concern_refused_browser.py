"""A concern saved with one refused field, in real Chromium on the advisor's console: the message
appears next to the emptied text, the note typed meanwhile stays on screen and is not saved until
the whole concern is valid; then everything is saved at once. Screenshots in both languages."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, sign_in
from tests.factories import Factory
from webapp.extensions import db

pytestmark = pytest.mark.browser


def visit_with_concern(live_app):
    from webapp.services import calling
    from webapp.services import intake as svc
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="bj01")
        advisor = f.user(site, "advisor", username="advisor1", desk="3", display_name="王晓明")
        f.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三", make="大众", model="帕萨特")
        ticket = f.walkin(site, plate="京A12345", mobile="13800138000")
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        svc.start_inspection(ticket.visit, advisor)
        db.session.expire(ticket.visit)
        concern = svc.add_concern(ticket.visit, "低速刹车有异响", advisor)
        ids = ticket.visit_id, concern.id
        db.session.remove()
        return ids


def send_and_wait_for_the_answer(page, field):
    """Leave the field (htmx sends the concern on change) and wait until the server's answer has
    replaced the section: what is on screen then is what the server sent back."""
    page.evaluate("document.querySelector('#sec-interview').dataset.before = '1'")
    field.click()
    expect(page.locator("#sec-interview[data-before]")).to_have_count(0)


def saved_concern(live_app, concern_id):
    from webapp.models import Concern
    with live_app.app_context():
        c = db.session.get(Concern, concern_id)
        values = c.text, c.note_internal
        db.session.remove()
        return values


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_refused_concern_keeps_what_was_typed_and_saves_it_only_when_whole(live_app, live_server, new_page, lang):
    visit_id, concern_id = visit_with_concern(live_app)
    page = new_page("console", lang="en" if lang == "en" else None)
    sign_in(page, live_server.url, "advisor1", lang)
    page.goto(f"{live_server.url}/advisor/visits/{visit_id}")
    page.locator(f"#cc-text-{concern_id}").fill("")
    send_and_wait_for_the_answer(page, page.locator(f"#cc-ni-{concern_id}"))
    error = page.locator(f"#concern-{concern_id} #text-error")
    expect(error).to_have_text("Required." if lang == "en" else "必填。")
    page.locator(f"#cc-ni-{concern_id}").fill("客户赶时间，优先安排")
    send_and_wait_for_the_answer(page, page.locator(f"#cc-nc-{concern_id}"))   # the text is still empty
    expect(page.locator(f"#cc-ni-{concern_id}")).to_have_value("客户赶时间，优先安排")
    expect(page.locator(f"#concern-{concern_id} #text-error")).to_be_visible()
    expect(page.locator(f"#cc-text-{concern_id}")).to_have_attribute("aria-invalid", "true")
    assert saved_concern(live_app, concern_id) == ("低速刹车有异响", None)
    page.locator(f"#concern-{concern_id}").scroll_into_view_if_needed()
    screenshot(page, f"concern-refused-{lang}")

    page.locator(f"#cc-text-{concern_id}").fill("低速刹车时有异响")
    send_and_wait_for_the_answer(page, page.locator(f"#cc-nc-{concern_id}"))
    expect(page.locator(f"#concern-{concern_id} #text-error")).to_have_count(0)
    expect(page.locator(f"#cc-ni-{concern_id}")).to_have_value("客户赶时间，优先安排")
    assert saved_concern(live_app, concern_id) == ("低速刹车时有异响", "客户赶时间，优先安排")
