"""A staff member whose session was ended elsewhere is sent to the login page at the next click,
whether the click is an htmx request (401 + HX-Redirect: the whole page navigates, nothing is
half-swapped into the console) or a plain link; signing in again returns to the console."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import PASSWORD
from webapp.extensions import db
from webapp.models import Site, StaffSession
from webapp.timeutil import utcnow

pytestmark = [pytest.mark.browser,
              pytest.mark.shop(roles=("advisor",), staff={"advisor": {"display_name": "王晓明"}})]
SHOTS = Path("/tmp/shots-auth")
ENDED = {"zh_CN": "登录已失效", "en": "Your session has ended"}
SIGN_OUT = {"zh_CN": "退出登录", "en": "Sign out"}


@pytest.fixture
def advisor(live_shop, live_app):
    """The shared shop's advisor (王晓明), with a walk-in waiting."""
    with live_app.app_context():
        live_shop.factory.walkin(db.session.get(Site, live_shop.site.id), plate="京A11111")
    return live_shop.advisor.username


def back_on_login_page(page, lang):
    page.wait_for_url(re.compile(r".*/login\?next=/advisor&ended=1$"))
    expect(page.get_by_text(ENDED[lang])).to_be_visible()
    expect(page.locator("#panel")).to_have_count(0)


def sign_in_again(page):
    page.fill("#password", PASSWORD)
    page.fill("#username", "advisor1")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/advisor$"))
    expect(page.locator("#panel")).to_be_visible()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_htmx_click_after_logout_elsewhere_goes_to_login(live_server, advisor, new_page, lang):
    base = live_server.url
    desk = new_page("console")
    sign_in(desk, base, advisor, lang, live=True)

    # Another browser holding a copy of the same cookie signs out.
    other = new_page("console")
    other.context.add_cookies(desk.context.cookies())
    other.goto(base + "/advisor")
    other.get_by_role("button", name=SIGN_OUT[lang]).click()
    other.wait_for_url(re.compile(r".*/login(\?.*)?$"))

    # At the desk, ticking a readiness item is an htmx POST: the page must go to the login page.
    desk.locator("#readiness input[type=checkbox]").first.click()
    back_on_login_page(desk, lang)
    desk.screenshot(path=str(SHOTS / f"login-session-ended-{lang}.png"))
    sign_in_again(desk)


def test_plain_click_after_idle_timeout_goes_to_login(live_app, live_server, advisor, new_page):
    base = live_server.url
    desk = new_page("console")
    sign_in(desk, base, advisor)
    with live_app.app_context():
        idle = timedelta(minutes=live_app.config["SESSION_IDLE_MINUTES"] + 1)
        db.session.execute(db.update(StaffSession).values(last_seen_at=utcnow() - idle))
        db.session.commit()
        db.session.remove()

    # A click on the console's own link (a full page load) — unless a live refresh of the page met
    # the ended session first and already took it to the login page, which is just as right.
    try:
        desk.locator("details.screens summary").click(timeout=5000)
        desk.locator("details.screens a[aria-current=page]").click(timeout=5000)
    except PlaywrightTimeout:
        assert "/login" in desk.url, desk.url
    back_on_login_page(desk, "zh_CN")
