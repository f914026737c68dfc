"""A kiosk walk-in whose plate and mobile are stored, as the advisor meets it at reception (issue
10, defect 3): the stored customer and car are a suggestion on the visit page, linked with one
button once checked with the customer; only then does the visit join their history."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, sign_in
from webapp.extensions import db
from webapp.models import Site, User, Visit
from webapp.services import calling

pytestmark = [pytest.mark.browser, pytest.mark.shop(roles=("advisor",), staff={"advisor": {"username": "adv1"}})]


@pytest.fixture
def received(live_shop, live_app):
    """张先生's Passat is stored; someone walks in with its plate and his mobile, and is called."""
    with live_app.app_context():
        f, site = live_shop.factory, db.session.get(Site, live_shop.site.id)
        advisor = db.session.get(User, live_shop.advisor.id)
        f.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张先生", make="大众", model="帕萨特")
        ticket = f.walkin(site, plate="京A12345", mobile="13800138000")
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        visit_id = ticket.visit_id
        db.session.remove()
    return visit_id


@pytest.mark.parametrize("lang, button", [("zh_CN", None), ("en", "Link to this record")])
def test_advisor_links_the_suggested_customer_and_car(live_server, live_app, received, new_page, lang, button):
    page = new_page("console", lang="en" if lang == "en" else None)
    sign_in(page, live_server.url, "adv1", lang=lang)
    page.goto(f"{live_server.url}/advisor/visits/{received}")
    box = page.locator("#suggestion")
    expect(box).to_be_visible()
    expect(box.locator("#suggested-customer")).to_contain_text("张先生")
    expect(box.locator("#suggested-vehicle")).to_have_text("京A12345 大众 帕萨特")
    if button:
        expect(box.locator("#link-suggested")).to_have_text(button)
    with live_app.app_context():
        assert db.session.get(Visit, received).customer_id is None   # a suggestion only, until the tap
    box.scroll_into_view_if_needed()
    screenshot(page, f"advisor-suggestion-{lang}")

    box.locator("#link-suggested").click()
    expect(page.locator("#suggestion")).to_have_count(0)
    expect(page.locator("#sec-customer .section-head .pill.ok")).to_be_visible()
    expect(page.locator("#c-name")).to_have_value("张先生")
    with live_app.app_context():
        visit = db.session.get(Visit, received)
        assert visit.customer.name == "张先生" and visit.vehicle.plate == "京A12345"
    assert page.console_errors == []
