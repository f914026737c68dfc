"""The technician reads what the customer said before touching the car.

On the tablet (1024×768) each job card opens with the customer's concern in their own words, the
advisor's note, the mileage and VIN read at intake, and the damage already recorded on the car."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, sign_in
from tests.factories import Factory, job_at_dispatch
from webapp.extensions import db

pytestmark = pytest.mark.browser
TABLET = {"width": 1024, "height": 768}


def job_for_tech(live_app):
    from webapp.models import Concern, DamageMark, Visit
    from webapp.services import workshop
    with live_app.app_context():
        f = Factory(db)
        site = f.site(code="bj01")
        advisor = f.user(site, "advisor", username="advisor1")
        dispatcher = f.user(site, "dispatcher", username="dispatcher")
        tech = f.user(site, "technician", username="tech1", display_name="刘师傅")
        visit = job_at_dispatch(f, site, advisor, plate="京A54321")
        concern = db.session.query(Concern).filter_by(visit_id=visit.id).one()
        concern.note_internal = "试车时注意低速制动"
        visit.vehicle.vin = "LSVAM4187C2184847"
        db.session.add(DamageMark(site_id=site.id, intake_id=visit.intake.id, zone="front_bumper", kind="scratch",
                                  note="约5厘米"))
        db.session.commit()
        workshop.assign(dispatcher, visit.job.id, tech.id, None)
        job_id = db.session.get(Visit, visit.id).job.id
        db.session.remove()
    return job_id


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_technician_sees_the_customers_concern_on_the_tablet(live_app, live_server, new_page, lang):
    job_id = job_for_tech(live_app)
    page = new_page("console", lang="en" if lang == "en" else None, viewport=TABLET)
    sign_in(page, live_server.url, "tech1", lang=lang, path="/tech")
    brief = page.locator(f"[data-job='{job_id}'] [data-brief]")
    expect(brief.locator("[data-concern]")).to_contain_text("刹车异响")
    expect(brief.locator("[data-concern]")).to_contain_text("试车时注意低速制动")
    expect(brief.locator("[data-mileage]")).to_have_text("1,000 km")
    expect(brief.locator("[data-vin]")).to_have_text("LSVAM4187C2184847")
    expect(brief.locator("[data-damage]")).to_contain_text("Front bumper" if lang == "en" else "前保险杠")
    expect(brief).to_contain_text("Customer says" if lang == "en" else "客户描述")
    screenshot(page, f"tech-brief-{lang}")
