"""What browser tests do on a page: sign in, choose the language, sign on a signature pad, wait for
htmx to settle, save a screenshot. Import them from here (``from tests.browser.helpers import …``).
"""
from tests.factories import PASSWORD
from tests.support import ROOT

SCREENSHOTS = ROOT / "screenshots"


def screenshot(page, name):
    """Save a screenshot for people to look at (screenshots/ is not committed)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def settled(page):
    """Wait until no htmx request is in flight and nothing is swapping or settling. Call it once what
    an action changed is on the screen (an ``expect`` or ``expect_response`` saw it): the refreshes the
    answer triggers (HX-Trigger, a section's ``load``) start while htmx handles that answer, and the
    settle classes cover the gap to those triggered after the settle, so none is missed."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")


def set_lang(page, base_url, lang, then="/start"):
    """Choose the UI language the way a person does: the language switch (sets the cookie), which
    then opens ``then``."""
    from urllib.parse import quote
    page.goto(f"{base_url}/lang/{lang}?next={quote(then)}")


def draw_signature(page, canvas):
    """Sign with the mouse: two strokes across the signature box."""
    box = canvas.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    strokes = [
        [(0.10, 0.65), (0.18, 0.30), (0.24, 0.70), (0.32, 0.35), (0.40, 0.62), (0.50, 0.40)],
        [(0.55, 0.55), (0.65, 0.32), (0.72, 0.68), (0.82, 0.38), (0.90, 0.55)],
    ]
    for stroke in strokes:
        page.mouse.move(x + stroke[0][0] * w, y + stroke[0][1] * h)
        page.mouse.down()
        for px, py in stroke[1:]:
            page.mouse.move(x + px * w, y + py * h, steps=8)
        page.mouse.up()


def sign_in(page, base, username, lang=None, password=PASSWORD, path=None, live=False):
    """Staff sign-in through the login form, in the chosen UI language: lands on ``path`` (asked
    for as ?next=) or, without one, on the advisor console. ``live``: wait until the page's
    Socket.IO connection is up, so what happens next reaches it."""
    import re as _re

    from playwright.sync_api import expect
    login_page = "/login" + (f"?next={path}" if path else "")
    if lang:
        set_lang(page, base, lang, then=login_page)   # the switch opens the sign-in form itself
    else:
        page.goto(base + login_page)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(_re.compile(".*" + _re.escape(path or "/advisor") + "$"))
    if live:
        expect(page.locator("body")).to_have_attribute("data-live-state", "online")

