"""The shipped stack in real Chromium: nginx (deploy/nginx/servicelane.conf.template) in front of two
gunicorn processes (deploy/gunicorn.conf.py), the consumer, PostgreSQL and Redis.

The kiosk talks to one web process, the lobby TV and the wall board to the other (each screen is
placed by its route cookie, the way nginx keeps a browser on one process). A check-in reaches the
lobby across processes through Redis. The lobby's process is killed: its screens reconnect through
nginx to the survivor and show what changed meanwhile. Redis is restarted: the tickets are all in
the database and the screens resync.
"""
import re
import urllib.request
from pathlib import Path

import psycopg2
import pytest
from playwright.sync_api import expect

from deploy.stack import PRODUCTION, render
from tests.browser.helpers import screenshot

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]

# The kiosk prints its ticket by itself; headless Chromium needs no print dialog in this flow.
NO_PRINT = "window.print = function () {};"


def route_to(stack, port):
    """A route cookie value that nginx hashes to the web process on ``port``."""
    for n in range(200):
        value = f"stack-test-{n}"
        request = urllib.request.Request(stack.url + "/lobby?site=bj01", headers={"Cookie": f"servicelane_route={value}"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            if answer.headers["X-Upstream"] == f"127.0.0.1:{port}":
                return value
    raise AssertionError(f"no route to {port}")


def screen(new_page, stack, kind, route):
    page = new_page(kind)
    page.context.add_cookies([{"name": "servicelane_route", "value": route, "url": stack.url}])
    page.add_init_script(NO_PRINT)
    return page


def check_in(kiosk, stack, plate_tail, mobile_tail):
    kiosk.goto(stack.url + "/kiosk")
    kiosk.click("#choose-walkin")
    plate_kb = kiosk.locator('.osk-plate[data-osk-target="plate"]')
    expect(plate_kb).to_be_visible()
    # The site's usual prefix may be filled in already, with the letters and digits up. It is learned
    # from the demo's recent cars (its month of history is mostly 京N), so the plate keeps whatever
    # province and letter the kiosk offers.
    typed = kiosk.locator("#plate").input_value()   # rendered by the server with the form
    if not typed:
        plate_kb.locator('[data-key="京"]').click()
        typed = "京"
    plate = (typed if len(typed) == 2 else "京A") + plate_tail
    assert plate.startswith(typed), typed
    for key in plate[len(typed):]:
        plate_kb.locator(f'[data-key="{key}"]').click()
    expect(kiosk.locator("#plate")).to_have_value(plate)
    kiosk.locator('.osk-plate [data-osk-action="next"]').click()
    for key in "1380013800" + mobile_tail:
        kiosk.locator(f'.osk-mobile [data-key="{key}"]').click()
    expect(kiosk.locator("#mobile")).to_have_value("1380013800" + mobile_tail)
    if kiosk.locator('.osk-mobile [data-osk-action="next"]').is_visible():   # full: it may close itself
        kiosk.locator('.osk-mobile [data-osk-action="next"]').click()
    kiosk.click("label[for=reason-repair]")
    kiosk.click("#walkin-submit")
    expect(kiosk.locator("#ticket-number")).to_have_text(re.compile(r"^W\d{3}$"))


def database(stack, sql):
    conn = psycopg2.connect(stack.database_url, connect_timeout=3)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]
    finally:
        conn.close()


def tickets(stack):
    return database(stack, "SELECT count(*) FROM ticket")


def waiting_on(lobby):
    return int(lobby.locator("#waiting-count").inner_text())


def refetch_from(port):
    """A board state answer served by the web process on ``port`` (nginx says which)."""
    def match(response):
        return "/board" in response.url and "/static/" not in response.url and response.status == 200 \
            and response.headers.get("x-upstream") == f"127.0.0.1:{port}"
    return match


def test_live_across_processes_a_crash_and_a_redis_restart(stack, new_page):
    port_a, port_b = stack.web_ports
    route_a, route_b = route_to(stack, port_a), route_to(stack, port_b)
    token = database(stack, "SELECT board_token FROM site WHERE code = 'bj01'")

    kiosk = screen(new_page, stack, "kiosk", route_a)
    lobby = screen(new_page, stack, "tv", route_b)
    board = screen(new_page, stack, "tv", route_b)
    lobby.goto(stack.url + "/lobby?site=bj01")
    board.goto(f"{stack.url}/board?token={token}")
    for page in (lobby, board):
        expect(page.locator("body")).to_have_attribute("data-live-state", "online")
    shown, issued = waiting_on(lobby), tickets(stack)

    # A check-in on process A appears on the lobby TV of process B, live.
    check_in(kiosk, stack, "12301", "1")
    expect(lobby.locator("#waiting-count")).to_have_text(str(shown + 1))
    screenshot(lobby, "stack-lobby-live")

    # Process B dies: its screens go offline, a check-in happens meanwhile, they reconnect through
    # nginx to A and show it.
    with board.expect_response(refetch_from(port_a), timeout=25_000):
        stack.kill_web(port_b)
        check_in(kiosk, stack, "12302", "2")
    for page in (lobby, board):
        expect(page.locator("body")).to_have_attribute("data-live-state", "online", timeout=20_000)
    expect(lobby.locator("#waiting-count")).to_have_text(str(shown + 2), timeout=20_000)
    stack.start_web(port_b)

    # Redis goes away: a check-in on B still lands in the database but its hint cannot cross to the
    # screens now on A; when Redis is back, A tells its screens to resync.
    kiosk_b = screen(new_page, stack, "kiosk", route_b)
    stack.redis.stop()
    check_in(kiosk_b, stack, "12303", "3")
    assert tickets(stack) == issued + 3   # nothing lost, nothing twice
    stack.redis.start()
    expect(lobby.locator("#waiting-count")).to_have_text(str(shown + 3), timeout=25_000)
    expect(board.locator("body")).to_have_attribute("data-live-state", "online")
    assert not [e for e in lobby.console_errors + board.console_errors if "socket.io" not in e and "WebSocket" not in e]


def test_production_site_is_the_rendered_template():
    """deploy/nginx/servicelane.conf is what the template renders for production (no hand edits)."""
    shipped = (ROOT / "deploy" / "nginx" / "servicelane.conf").read_text()
    assert shipped == render(PRODUCTION), "re-render it: python deploy/stack.py render-nginx > deploy/nginx/servicelane.conf"
    for needed in ("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", "hash $servicelane_route consistent;",
                   "proxy_set_header Upgrade $http_upgrade;", "ssl_certificate ", "client_max_body_size 17m;"):
        assert needed in shipped
