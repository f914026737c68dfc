"""One answer for one save, as the advisor sees it: walking around the car, signing, completing
the inspection and recording a concern each cost one request, and every section the save
changed (the to-do list, the signature, the interview, the progress block) shows it from that
answer alone — no section sends a GET of its own afterwards."""
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import draw_signature, sign_in
from tests.factories import Factory, confirm_suggestion
from webapp.extensions import db

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-oob")

# The page's htmx requests about the visit (not its images, styles or socket.io traffic).
VISIT_REQUEST = re.compile(r"/(advisor|history|cashier)/visits/\d+")


@pytest.fixture
def reception(live_app):
    """A walk-in whose stored car the advisor has linked at the desk: the visit is at reception."""
    from webapp.services import calling
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="bj01")
        advisor = f.user(site, "advisor", username="advisor1", desk="1", display_name="王晓明")
        f.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三", make="大众",
                           model="帕萨特", last_mileage=45000)
        ticket = f.walkin(site, plate="京A12345", mobile="13800138000")
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        confirm_suggestion(ticket.visit, advisor)
        return ticket.visit_id


class Requests:
    """The page's requests to the visit's endpoints, counted per step of the walk-around."""

    def __init__(self, page):
        self.seen = []
        page.on("request", lambda r: r.resource_type in ("xhr", "fetch") and VISIT_REQUEST.search(r.url)
                and self.seen.append((r.method, r.url)))
        self.steps = {}
        self.mark = 0

    def step(self, name):
        made = self.seen[self.mark:]
        self.mark = len(self.seen)
        self.steps[name] = dict(Counter(method for method, _ in made))
        return made


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_each_save_is_one_request_that_updates_every_section_it_changed(live_server, reception, new_page, lang):
    en = lang == "en"
    page = new_page("console", lang="en" if en else None)
    sign_in(page, live_server.url, "advisor1", lang, live=True)
    # The page refetches its live sections once its socket is up (live:refresh); count from then.
    with page.expect_response(re.compile(r"/section/progress$")):
        page.goto(f"{live_server.url}/advisor/visits/{reception}")
    requests = Requests(page)
    insp = page.locator("#sec-inspection")

    # Start: the inspection opens, the progress block says so, the damage map becomes tappable.
    insp.get_by_role("button", name=re.compile("Start walk-around|开始环车检查")).click()
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "inspection")
    expect(page.locator("#i-mileage")).to_be_editable()
    expect(page.locator("#sec-damage svg [data-zone]").first).to_be_visible()
    requests.step("start inspection")

    # The walk-around saves as the advisor goes: each tick one autosave, and the to-do list
    # (below the form) follows from that answer.
    todo = page.locator("#inspection-status")
    covers_todo = "Fit the seat cover" if en else "座椅套"
    for label in (("Seat cover", "座椅套"), ("Steering-wheel cover", "方向盘套"), ("Floor mat", "脚垫")):
        with page.expect_response(re.compile(r"/inspection$")):
            insp.get_by_text(label[0] if en else label[1], exact=True).click()
    expect(todo).not_to_contain_text(covers_todo)
    requests.step("three covers ticked")
    with page.expect_response(re.compile(r"/inspection$")):
        page.locator("#i-mileage").fill("46000")
        page.locator("#i-mileage").press("Tab")
    with page.expect_response(re.compile(r"/inspection$")):
        insp.get_by_text("3/4", exact=True).click()
    with page.expect_response(re.compile(r"/inspection$")):
        insp.locator(".valuables label:has(input[value='no'])").click()   # nothing valuable left in the car
    expect(todo.locator(".todo-list li")).to_have_count(1)   # only the signature is left
    requests.step("mileage, fuel and valuables")

    # The customer signs: the inspection's to-do list empties from the signing's answer.
    sig = page.locator("#sec-signature")
    sig.scroll_into_view_if_needed()
    draw_signature(page, sig.locator("canvas[data-signature-pad]"))
    sig.get_by_role("button", name=re.compile("Customer signs|客户签字")).click()
    expect(sig.locator("img").first).to_be_visible()
    expect(todo.locator(".todo-list")).to_have_count(0)
    requests.step("customer signs")

    # Complete: the interview opens and the progress block moves on, from the one answer.
    insp.get_by_role("button", name=re.compile("Complete inspection|完成环车检查")).click()
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "interview")
    expect(page.locator("#new-concern")).to_be_editable()
    expect(insp.locator(".section-head .pill.ok")).to_be_visible()
    requests.step("complete inspection")
    SHOTS.mkdir(exist_ok=True)   # looked at by people, never committed
    page.locator("#sec-interview").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"visit-after-complete-{lang}.png"))

    # A concern: the interview lists it; the estimate section comes along in the same answer.
    page.locator("#new-concern").fill("Brakes squeal" if en else "刹车异响")
    page.locator("#sec-interview").get_by_role("button", name=re.compile("Add concern|添加描述")).click()
    expect(page.locator("#sec-interview .concern")).to_have_count(1)
    requests.step("add concern")

    counts = requests.steps
    if os.environ.get("OOB_COUNTS"):   # figures for the report: before/after per save
        with open(os.environ["OOB_COUNTS"], "a") as out:
            out.write(json.dumps({"lang": lang, **counts}, ensure_ascii=False) + "\n")
    assert counts == {
        "start inspection": {"POST": 1},
        "three covers ticked": {"POST": 3},
        "mileage, fuel and valuables": {"POST": 3},
        "customer signs": {"POST": 1},
        "complete inspection": {"POST": 1},
        "add concern": {"POST": 1},
    }, counts
    assert page.console_errors == []
