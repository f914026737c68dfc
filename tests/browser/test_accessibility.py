"""axe-core (WCAG 2.2 A/AA rules) on every screen, in both languages, at each screen's real size.

The demo shop gives every surface something true to show: a delivered and a ready-for-pickup
visit, a bill, a follow-up call, today's appointments. On top, one walk-in is called and taken
into the walk-around so the visit page is seen at intake too. A page passes when axe reports no
*critical* and no *serious* violation; moderate and minor findings are printed for the record.

axe-core is vendored from the npm registry (tests/browser/vendor) and injected into the page by
Playwright; the context bypasses our CSP for that injection only (the app's pages never load it).
"""
from pathlib import Path

import pytest
from sqlalchemy import select

import re

from tests.browser import language_mix
from tests.browser.helpers import SCREENSHOTS, screenshot, set_lang, sign_in
from webapp.cli import DEMO_PASSWORD

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"critical", "serious"}


def seed_demo_shop(live_app):
    """The demo shop, plus a walk-in at the walk-around; returns what the page list needs."""
    from webapp.cli import demo_data
    from webapp.extensions import db
    from webapp.models import Appointment, Bill, Customer, FollowUp, Site, Ticket, User, Vehicle, Visit
    from webapp.services import calling, checkin
    from webapp.services import intake as intake_svc
    from webapp.services.checkin import ticket_pin

    with live_app.app_context():
        demo_data("bj01")
        site = db.session.scalar(select(Site).where(Site.code == "bj01"))
        advisor = db.session.scalar(select(User).where(User.username == "advisor1"))
        ticket = checkin.check_in_walkin(site, "京B20250", "13600136000", "repair", None, True, None)
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        intake_visit = db.session.get(Visit, ticket.visit_id)
        intake_svc.start_inspection(intake_visit, advisor)
        # A car in the workshop, started by tech1: the tablet shows a live job with its controls.
        from tests.factories import Factory, job_at_dispatch
        from webapp.services import workshop
        in_repair = job_at_dispatch(Factory(db), site, advisor, plate="京E33333")
        staff = {u.username: u for u in db.session.scalars(select(User).where(User.site_id == site.id))}
        workshop.assign(staff["dispatcher"], in_repair.job.id, staff["tech1"].id, None)
        workshop.start(staff["tech1"], in_repair.job.id)
        ready = db.session.scalar(select(Visit).join(Vehicle).where(Vehicle.plate == "津C55667"))
        done = db.session.scalar(select(Visit).join(Vehicle).where(Vehicle.plate == "京A12345"))
        status_ticket = db.session.scalar(select(Ticket).where(Ticket.visit_id == ready.id))
        data = {
            "board_token": site.board_token,
            "intake_visit": intake_visit.id, "repair_visit": in_repair.id, "ready_visit": ready.id, "done_visit": done.id,
            "vehicle": done.vehicle_id, "customer": db.session.scalar(select(Customer.id).order_by(Customer.id)),
            "bill": db.session.scalar(select(Bill.id).where(Bill.visit_id == ready.id)),
            "follow_up": db.session.scalar(select(FollowUp.id).order_by(FollowUp.id)),
            "token": status_ticket.token, "pin": ticket_pin(status_ticket.token),
            "booking": db.session.scalar(select(Appointment.manage_token).where(Appointment.source == "online")),
            "data_strings": language_mix.data_strings(db),
        }
        db.session.remove()
    return data


def staff_pages(d):
    """(username, viewport, path) for every staff screen."""
    return [
        ("advisor1", "console", "/advisor"),
        ("advisor1", "console", f"/advisor/visits/{d['intake_visit']}"),
        ("advisor1", "console", f"/advisor/visits/{d['repair_visit']}"),
        ("advisor1", "console", f"/advisor/visits/{d['ready_visit']}"),
        ("advisor1", "console", f"/advisor/visits/{d['done_visit']}"),
        ("advisor1", "console", "/history/"),
        ("advisor1", "console", f"/history/vehicles/{d['vehicle']}"),
        ("advisor1", "console", f"/history/customers/{d['customer']}"),
        ("dispatcher", "console", "/workshop"),
        ("qc", "console", "/workshop/qc"),
        ("tech1", "tablet", "/tech"),
        ("cashier", "console", "/cashier/"),
        ("cashier", "console", f"/cashier/bills/{d['bill']}"),
        ("csi", "console", "/followup"),
        ("csi", "console", f"/followup/{d['follow_up']}"),
        ("manager", "console", "/complaints"),
        ("manager", "console", "/reports?range=month"),
        ("advisor1", "console", "/reports/me"),
        ("parts", "console", "/parts/"),
        ("admin", "console", "/admin/site"),
        ("admin", "console", "/admin/shifts"),
        ("admin", "console", "/admin/catalogue/"),
        ("admin", "console", "/admin/catalogue/operations"),
        ("admin", "console", "/admin/catalogue/parts"),
    ]


def public_pages(d):
    """(viewport, path) for every screen without a login."""
    return [
        ("kiosk", "/kiosk?site=bj01"),
        ("kiosk", "/kiosk/walkin?site=bj01"),
        ("kiosk", "/kiosk/appointment?site=bj01"),
        ("tv", "/lobby?site=bj01"),
        ("tv", f"/board?token={d['board_token']}"),
        ("phone", f"/t/{d['token']}"),
        ("phone", "/book?site=bj01"),
        ("phone", f"/book/{d['booking']}"),
        ("console", "/login"),
    ]


def axe_findings(page):
    """Run axe on what the page shows now; returns its violations."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
                         ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
                         " nodes: v.nodes.slice(0, 6).map(n => n.target.join(' ') + ' ' + ((n.any[0] || n.all[0] || {}).message || ''))})))", AXE_TAGS)


SMALL_TARGETS = """min => Array.from(document.querySelectorAll(
    'button, a[href], input:not([type=hidden]), select, textarea, summary, label.btn'))
  .filter(el => el.offsetParent !== null)
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.height < min && r.width > 0)
  .map(([el, r]) => `${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.name || '').trim().slice(0, 30)}"`
                    + ` ${Math.round(r.height)} px`)"""


class Audit:
    def __init__(self, lang, data_strings):
        self.lang, self.blocking, self.other, self.mixed = lang, [], [], []
        self.data_strings = data_strings
        self.phrases = language_mix.english_phrases() if lang == "zh" else []

    def language(self, page, label):
        text = page.inner_text("body")
        if self.lang == "en":
            found = language_mix.chinese_on_english_screen(text, self.data_strings)
        else:
            found = language_mix.english_on_chinese_screen(text, self.phrases, self.data_strings)
        if found:
            self.mixed.append(f"[{self.lang}] {label}: {found[:12]}")

    def check(self, page, label):
        # The page as a person sees it: loaded, and no htmx section still on its way.
        page.wait_for_load_state("load")
        page.wait_for_function("() => !document.querySelector('.htmx-request, [hx-trigger^=load]:empty')")
        screenshot(page, f"a11y-{self.lang}-" + re.sub(r"\W+", "-", label.split("?token")[0]).strip("-"))
        for v in axe_findings(page):
            line = f"[{self.lang}] {label}: {v['impact']} {v['id']} — {v['help']} at {v['nodes']}"
            (self.blocking if v["impact"] in BLOCKING else self.other).append(line)
        self.language(page, label)

    def small_targets(self, page, label, min_px):
        """Gloved fingers on the workshop tablet need targets at least ``min_px`` tall."""
        for target in page.evaluate(SMALL_TARGETS, min_px):
            self.blocking.append(f"[{self.lang}] {label}: target under {min_px} px: {target}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_screen_is_accessible_and_speaks_one_language(live_app, live_server, new_page, lang):
    d = seed_demo_shop(live_app)
    base = live_server.url
    audit = Audit(lang, d["data_strings"])
    locale = "en" if lang == "en" else None

    for viewport, path in public_pages(d):
        page = new_page("console" if viewport == "tablet" else viewport, lang=locale, bypass_csp=True)
        set_lang(page, base, lang, then=path)
        audit.check(page, path)
        if path.startswith("/t/"):
            page.fill("#pin", d["pin"])
            page.locator("#pin").press("Enter")
            page.locator("#pin").wait_for(state="detached")
            audit.check(page, path + " (after PIN)")
        page.context.close()

    pages_by_user = {}
    for username, viewport, path in staff_pages(d):
        pages_by_user.setdefault((username, viewport), []).append(path)
    for (username, viewport), paths in pages_by_user.items():
        size = {"width": 1024, "height": 768} if viewport == "tablet" else None
        page = new_page("console", lang=locale, bypass_csp=True, **({"viewport": size} if size else {}))
        sign_in(page, base, username, lang=lang, password=DEMO_PASSWORD, path=paths[0])
        for path in paths:
            if page.url != base + path:
                page.goto(base + path)
            audit.check(page, path)
            if path == "/tech":
                audit.small_targets(page, path, min_px=44)
        page.context.close()

    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / f"axe-{lang}.txt").write_text("\n".join(audit.blocking + audit.mixed + audit.other) + "\n")
    assert audit.blocking == [], "\n".join(audit.blocking)
    assert audit.mixed == [], "text of the other language:\n" + "\n".join(audit.mixed)
