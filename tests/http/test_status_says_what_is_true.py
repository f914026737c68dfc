"""The phone says what is true: a car waiting for a bay or for parts is not "Repair in progress"."""
from tests.factories import job_at_dispatch
from webapp.extensions import db
from webapp.models import Visit


def headline(client, visit_id):
    token = db.session.get(Visit, visit_id).ticket.token
    html = client.get(f"/t/{token}").get_data(as_text=True)
    start = html.index('id="st-headline">') + len('id="st-headline">')
    return html[start:html.index("</h1>", start)]


def test_the_phone_tells_waiting_for_a_technician_from_repair_and_waiting_for_parts(client, factory):
    from webapp.services import workshop
    site = factory.site(code="tr1")
    advisor = factory.user(site, "advisor", username="adv")
    dispatcher = factory.user(site, "dispatcher", username="disp")
    tech = factory.user(site, "technician", username="tech")
    visit = job_at_dispatch(factory, site, advisor, plate="京A20001")
    client.set_cookie("lang", "en")

    assert headline(client, visit.id) == "Waiting for a technician"
    workshop.assign(dispatcher, visit.job.id, tech.id, None)
    workshop.start(tech, visit.job.id)
    assert headline(client, visit.id) == "Repair in progress"
    workshop.pause(tech, visit.job.id, "waiting_parts", None)
    assert headline(client, visit.id) == "Waiting for parts"
