"""The parts clerk books a delivery (入库) through the form and sees the stock change; the
parts page (1366×768) in both languages for people to look at."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, set_lang
from tests.factories import PASSWORD
from webapp import demo_catalogue
from webapp.extensions import db
from webapp.models import Site, User

pytestmark = [pytest.mark.browser,
              pytest.mark.shop(roles=("parts", "manager"),
                               staff={"parts": {"display_name": "赵库管"}, "manager": {"display_name": "李经理"}})]


@pytest.fixture
def shop(live_shop, live_app):
    """The shared shop's parts clerk (赵库管) and manager (李经理), with the demo catalogue loaded."""
    with live_app.app_context():
        site = db.session.get(Site, live_shop.site.id)
        demo_catalogue.load(site, db.session.get(User, live_shop.parts.id))
        db.session.commit()
        return {"clerk": live_shop.parts.username}


def sign_in_parts(page, base, lang, username="parts1"):
    set_lang(page, base, lang, then="/login?next=/admin/catalogue/parts")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/catalogue/parts$"))


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_parts_clerk_receives_stock(live_server, shop, new_page, lang):
    en = lang == "en"
    page = new_page("console", lang="en" if en else None)
    sign_in_parts(page, live_server.url, lang)

    row = page.locator('tr[data-part="BRK-PAD-R"]')   # rear brake pads: 0 on hand, shown as short
    expect(row.locator(".on-hand")).to_have_text("0")
    expect(row.locator(".stock.short")).to_be_visible()
    screenshot(page, f"catalogue-parts-{'en' if en else 'zh'}")

    row.locator("td.code a").click()
    page.wait_for_url(re.compile(r".*/admin/catalogue/parts/\d+$"))
    expect(page.locator("#on-hand")).to_have_text("0")

    # A mistake first: the message appears next to the field and what was typed stays.
    page.fill("#rc-quantity", "-3")
    page.fill("#rc-reference", "DN-20261129-07")
    page.locator("#rc-quantity").press("Enter")
    expect(page.locator("#rc-quantity-error")).to_be_visible()
    expect(page.locator("#rc-reference")).to_have_value("DN-20261129-07")

    page.fill("#rc-quantity", "6")
    page.get_by_role("button", name="Book receipt" if en else re.compile("Book receipt|入库")).click()
    expect(page.locator("#on-hand")).to_have_text("6")
    expect(page.locator("#available")).to_have_text("6")
    history = page.locator(".history tbody tr").first
    expect(history).to_contain_text("DN-20261129-07")
    expect(history).to_contain_text("赵库管")
    screenshot(page, f"catalogue-part-{'en' if en else 'zh'}")

    page.goto(live_server.url + "/admin/catalogue/parts")
    expect(page.locator('tr[data-part="BRK-PAD-R"] .on-hand')).to_have_text("6")
    assert [e for e in page.console_errors if "422" not in e] == []   # the deliberate mistake answers 422


def test_manager_pages_and_csv_import(live_server, shop, new_page, tmp_path):
    """The other catalogue pages as a manager sees them (screenshots), and a CSV import with a bad row."""
    page = new_page("console", lang="en")
    sign_in_parts(page, live_server.url, "en", username="manager1")
    for name, path in (("operations", "/operations?edit=1"), ("rates", "/rates"), ("maintenance", "/maintenance")):
        page.goto(live_server.url + "/admin/catalogue" + path)
        expect(page.locator(".cat-tabs a[aria-current=page]")).to_have_count(1)
        screenshot(page, f"catalogue-{name}-en")
    page.goto(live_server.url + "/admin/catalogue/import/operations")
    csv_file = tmp_path / "ops.csv"
    csv_file.write_bytes("\ufeffcode,name_zh,name_en,hours,kind\nM001,更换机油机滤,Oil change,0.6,mechanical\n"
                         "N1,新项目,New one,0,mechanical\n".encode())
    page.set_input_files("#file", str(csv_file))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#updated")).to_have_text("1")
    expect(page.locator(".row-errors tbody tr")).to_have_count(1)
    expect(page.locator(".row-errors tbody tr td").first).to_have_text("3")
    screenshot(page, "catalogue-import-en")
    assert page.console_errors == []
