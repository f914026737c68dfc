"""Catalogue lines read in the reader's language on staff screens.

A line added from the catalogue copies its Chinese name (papers and bills keep what was agreed);
an English-speaking advisor, technician or cashier reads the catalogue's English name instead,
while a description someone typed stays as typed."""
from tests.factories import job_at_dispatch
from tests.support import login
from webapp.extensions import db
from webapp.models import EstimateLine, Visit


def test_an_english_reader_sees_catalogue_names_in_english_and_typed_text_as_typed(client, factory):
    site = factory.site(code="en1")
    advisor = factory.user(site, "advisor", username="adv")
    tech = factory.user(site, "technician", username="tech")
    visit = job_at_dispatch(factory, site, advisor, plate="京A11111")
    typed = EstimateLine(site_id=site.id, estimate_id=visit.estimate.id, kind="labour", description="检查异响（手写）",
                         quantity=1, unit_price=100, decision="approved")
    db.session.add(typed)
    db.session.commit()
    from webapp.services import workshop
    dispatcher = factory.user(site, "dispatcher", username="disp")
    workshop.assign(dispatcher, visit.job.id, tech.id, None)

    client.set_cookie("lang", "en")
    login(client, advisor)
    page = client.get(f"/advisor/visits/{visit.id}/estimate").get_data(as_text=True)
    assert "Replace front brake pads" in page and "更换前刹车片" not in page
    assert "检查异响（手写）" in page

    client.set_cookie("lang", "zh_CN")
    page = client.get(f"/advisor/visits/{visit.id}/estimate").get_data(as_text=True)
    assert "更换前刹车片" in page and "Replace front brake pads" not in page

    client.post("/logout", headers={"X-CSRFToken": _csrf(client)})
    client.set_cookie("lang", "en")
    login(client, tech)
    tablet = client.get("/tech").get_data(as_text=True)
    assert "Replace front brake pads" in tablet and "更换前刹车片" not in tablet


def _csrf(client):
    from tests.support import csrf_token
    return csrf_token(client)
