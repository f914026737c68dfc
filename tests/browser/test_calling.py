"""Calling, as people do it: the advisor presses "Call next" and the lobby TV follows live."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, set_lang, sign_in
from webapp.extensions import db
from webapp.models import Site

pytestmark = [pytest.mark.browser,
              pytest.mark.shop(roles=("advisor",), staff={"advisor": {"desk": "3", "display_name": "王晓明"}})]


@pytest.fixture
def shop(live_shop, live_app):
    """The shared shop's advisor1 (王晓明, desk 3), a second advisor (advisor2, 李娜, desk 4) and three
    walk-ins waiting."""
    with live_app.app_context():
        f, site = live_shop.factory, db.session.get(Site, live_shop.site.id)
        f.user(site, "advisor", username="advisor2", desk="4", display_name="李娜")
        for plate in ("京A11111", "京BD22222", "沪C33333"):
            f.walkin(site, plate=plate)
    return {"site": live_shop.site.code, "advisor": live_shop.advisor.username}




@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_call_next_reaches_the_lobby_live(live_server, shop, new_page, lang):
    base = live_server.url
    tv = new_page("tv")
    set_lang(tv, base, lang, then="/lobby")
    expect(tv.locator("body")).to_have_attribute("data-live-state", "online")
    tv.evaluate("window.__noReload = true")
    expect(tv.locator("#waiting-count")).to_have_text("3")
    screenshot(tv, f"lobby-idle-{lang}")

    desk = new_page("console")
    sign_in(desk, base, shop["advisor"], lang)
    expect(desk.locator("#waiting-count")).to_have_text("3")
    screenshot(desk, f"advisor-queue-{lang}")
    desk.click("button.call-next")
    expect(desk.locator(".current-ticket .number")).to_have_text("W001")
    screenshot(desk, f"advisor-called-{lang}")

    # The TV changes without a reload: the number, the desk, the queue length, and a chime.
    latest = tv.locator(".call.latest")
    expect(latest.locator(".number")).to_have_text("W001")
    expect(latest.locator(".desk")).to_have_text("3号服务台" if lang == "zh_CN" else "Desk 3")
    expect(tv.locator("#waiting-count")).to_have_text("2")
    expect(tv.locator("body")).to_have_attribute("data-chimes", "1")
    assert tv.evaluate("window.__noReload") is True
    screenshot(tv, f"lobby-calling-{lang}")

    # Recall chimes again; the customer arrives; the next call moves W001 to "recent".
    desk.get_by_role("button", name=re.compile("Recall|重新叫号")).click()
    expect(tv.locator("body")).to_have_attribute("data-chimes", "2")
    desk.get_by_role("button", name=re.compile("start reception|开始接待")).click()
    expect(desk.locator("button.call-next")).to_be_visible()
    desk.click("button.call-next")
    expect(latest.locator(".number")).to_have_text("W002")
    expect(tv.locator(".recent li").first).to_contain_text("W001")
    assert tv.evaluate("window.__noReload") is True
    assert tv.console_errors == [] and desk.console_errors == []


def test_two_consoles_see_each_others_calls(live_server, shop, new_page):
    base = live_server.url
    one, two = new_page("console"), new_page("console")
    sign_in(one, base, "advisor1")
    sign_in(two, base, "advisor2")
    expect(two.locator("body")).to_have_attribute("data-live-state", "online")
    one.click("button.call-next")
    expect(one.locator(".current-ticket .number")).to_have_text("W001")
    # advisor2's queue loses W001 without a reload, and their own call gets the next ticket.
    expect(two.locator("#waiting-count")).to_have_text("2")
    two.click("button.call-next")
    expect(two.locator(".current-ticket .number")).to_have_text("W002")


def test_lobby_rebuilds_after_reconnect(live_server, live_app, shop, new_page):
    base = live_server.url
    tv = new_page("tv")
    tv.goto(base + "/lobby")
    expect(tv.locator("body")).to_have_attribute("data-live-state", "online")
    tv.evaluate("() => { window.__failedFetches = 0;"
                " document.body.addEventListener('htmx:sendError', () => { window.__failedFetches += 1; }); }")
    tv.context.set_offline(True)
    with live_app.app_context():
        from webapp.models import User
        from webapp.services import calling
        calling.call_next(db.session.scalar(db.select(User).where(User.username == "advisor1")))
    # The call is missed while offline: either the socket has dropped, or its message came and the
    # board's refetch failed. Wait until the screen is in one of those states, then come back.
    tv.wait_for_function("() => document.body.dataset.liveState === 'offline' || window.__failedFetches > 0")
    tv.context.set_offline(False)
    # Whether the socket noticed the outage or not, the board catches up from the server.
    expect(tv.locator(".call.latest .number")).to_have_text("W001", timeout=40_000)
