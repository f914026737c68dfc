"""The parts clerk issues an approved part, and the advisor's bill stops waiting for it.

Two people, two browsers: the advisor prepares the bill and reads why it is blocked (an approved
oil filter was never issued) and who clears it; the parts clerk opens "Parts to issue", taps Issue,
and the difference leaves the advisor's bill section without a reload."""
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, sign_in
from tests.factories import Factory, visit_ready
from webapp.extensions import db
from webapp.commands.estimates import parse_line, parse_repair_order

pytestmark = pytest.mark.browser


def seed(live_app):
    from webapp.models import EstimateLine, Part
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="bj01", name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username="advisor1", display_name="王晓明")
        f.user(site, "parts", username="parts", display_name="周备件")
        visit = visit_ready(f, site, advisor, plate="京A12345")
        part = Part(site_id=site.id, number="15400-RTA-003", name_zh="机油滤清器", name_en="Oil filter",
                    unit_price=Decimal("68.00"), on_hand=Decimal("20"))
        db.session.add(part)
        db.session.commit()
        est = visit.estimate
        db.session.add(EstimateLine(site_id=site.id, estimate=est, kind="part", part_id=part.id, description="机油滤清器",
                                    quantity=Decimal("1"), unit_price=part.unit_price, decision="approved",
                                    position=len(est.lines)))
        db.session.commit()
        ids = {"visit": visit.id, "part": part.id}
        db.session.remove()
    return ids


def approve_a_part_elsewhere(live_app, part_id):
    from tests.factories import RO_TERMS, visit_at_estimate
    from webapp.models import User
    from webapp.services import estimates
    with live_app.app_context():
        f = Factory(db)
        advisor = db.session.scalar(db.select(User).where(User.username == "advisor1"))
        visit = visit_at_estimate(f, advisor.site, advisor, plate="京B66666", mobile="13900139666")
        estimates.add_line(visit, parse_line({"kind": "part", "part_id": str(part_id), "quantity": "1"}), advisor)
        estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), advisor)
        est = estimates.present(visit, advisor)
        estimates.decide(visit, est.version, {line.id: ("approved", None) for line in est.lines}, "remote")
        db.session.remove()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_parts_clerk_issues_the_part_and_the_bill_can_be_made(live_app, live_server, new_page, lang):
    ids = seed(live_app)
    base, en = live_server.url, lang == "en"
    locale = "en" if en else None

    advisor = new_page("console", lang=locale)
    sign_in(advisor, base, "advisor1", lang=lang, path=f"/advisor/visits/{ids['visit']}", live=True)
    bill = advisor.locator("#sec-bill")
    bill.locator("[data-bill-prepare]").click()
    difference = bill.locator("[data-differences] [data-kind=less]")
    expect(difference).to_contain_text("Issued less than approved" if en else "出库少于")
    expect(bill.locator("[data-who-fixes]")).to_contain_text("Parts to issue" if en else "待出库配件")

    clerk = new_page("console", lang=locale)
    sign_in(clerk, base, "parts", lang=lang, path="/parts/", live=True)
    row = clerk.locator(f"[data-issue='{ids['visit']}-{ids['part']}']")
    expect(row).to_contain_text("Oil filter" if en else "机油滤清器")
    screenshot(clerk, f"parts-desk-{lang}")
    row.get_by_role("button", name="Issue" if en else "出库").click()
    expect(clerk.locator("[data-message]")).to_contain_text("Oil filter" if en else "机油滤清器")
    expect(clerk.locator("[data-empty]")).to_be_visible()

    # A customer approves a part for another car: it appears on the desk without a reload.
    approve_a_part_elsewhere(live_app, ids["part"])
    expect(clerk.locator("tr[data-issue]")).to_have_count(1)
    expect(clerk.locator("tr[data-issue]")).to_contain_text("京B66666")

    # The advisor's bill follows live: no difference left, the bill can be issued.
    expect(bill.locator("[data-differences]")).to_have_count(0)
    expect(bill.get_by_role("button", name="Issue the bill" if en else "开出结算单")).to_be_enabled()
    screenshot(advisor, f"parts-bill-cleared-{lang}")
