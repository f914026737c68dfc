"""Workshop over HTTP: dispatch (/workshop), the technician's tablet (/tech), QC and wash
(/workshop/qc): roles, the whole job from assignment to ready, illegal moves, site scoping, CSRF."""
from datetime import timedelta

import pytest

from tests.factories import job_at_dispatch
from tests.support import csrf_token, login
from webapp.extensions import db
from webapp.jobs import QC_CHECKLIST
from webapp.models import (AdditionalWork, Bay, JobEvent, ManufacturerRequest, Visit)

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def english(client):
    """The assertions read the English wording."""
    client.set_cookie("lang", "en")


@pytest.fixture
def shop(shop, factory):
    """The shared shop, with a second technician (李四) and a bay (A1)."""
    shop.people["tech2"] = factory.user(shop.site, "technician", username="tech2", display_name="李四")
    shop.bay = Bay(site_id=shop.site.id, name="A1")
    db.session.add(shop.bay)
    db.session.commit()
    return shop


def post(client, url, data=None, htmx=True, path="/login"):
    headers = {"X-CSRFToken": csrf_token(client, path), **(HX if htmx else {})}
    return client.post(url, data=data or {}, headers=headers)


def state(visit_id):
    db.session.expire_all()
    return db.session.get(Visit, visit_id).state


def job_of(visit_id):
    db.session.expire_all()
    return db.session.get(Visit, visit_id).job


def kinds(job_id):
    return [e.kind for e in db.session.query(JobEvent).filter_by(job_id=job_id).order_by(JobEvent.id)]


# ---------------------------------------------------------------- roles

def test_roles(client, factory, shop):
    p = shop.people
    login(client, p["advisor"])
    assert client.get("/workshop").status_code == 403
    assert client.get("/tech").status_code == 403
    assert client.get("/workshop/qc").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})

    login(client, p["technician"])
    assert client.get("/workshop").status_code == 403
    assert client.get("/workshop/qc").status_code == 403
    assert client.get("/tech").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})

    login(client, p["qc"])
    assert client.get("/workshop/qc").status_code == 200
    assert client.get("/workshop").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/login")})

    login(client, p["dispatcher"])
    assert client.get("/workshop").status_code == 200
    assert client.get("/workshop/qc").status_code == 200
    assert client.get("/tech").status_code == 403


def test_dispatch_board_lists_the_waiting_job(client, factory, shop):
    site, p = shop.site, shop.people
    visit = job_at_dispatch(factory, site, p["advisor"])
    login(client, p["dispatcher"])
    html = client.get("/workshop").get_data(as_text=True)
    assert visit.ticket.number in html and "京A12345" in html and "帕萨特" in html
    assert "1.5 h" in html
    assert 'data-live-channel="workshop"' in html and "A1" in html and p["tech2"].display_name in html
    assert 'style="' not in html and "<script>" not in html


# ---------------------------------------------------------------- the whole job

def test_job_from_assignment_to_ready(app, client, factory, shop):
    site, p, bay = shop.site, shop.people, shop.bay
    visit = job_at_dispatch(factory, site, p["advisor"])
    vid, jid = visit.id, visit.job.id

    login(client, p["dispatcher"])
    resp = post(client, f"/workshop/jobs/{jid}/assign", {"technician_id": p["technician"].id, "bay_id": bay.id})
    assert resp.status_code == 200
    job = job_of(vid)
    assert (job.status, job.technician_id, job.bay_id) == ("assigned", p["technician"].id, bay.id)
    assert 'data-status="assigned"' in resp.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    tech = app.test_client()
    tech.set_cookie("lang", "en")
    login(tech, p["technician"])
    html = tech.get("/tech").get_data(as_text=True)
    assert f'data-job="{jid}"' in html and "Replace front brake pads" in html and "A1" in html

    assert post(tech, f"/tech/jobs/{jid}/start").status_code == 200
    assert state(vid) == "repair" and job_of(vid).status == "in_progress"

    # The clock runs: move the start back ten minutes, as if time had passed.
    job = job_of(vid)
    job.running_since -= timedelta(minutes=10)
    db.session.commit()
    resp = post(tech, f"/tech/jobs/{jid}/pause", {"reason": "nope"})
    assert resp.status_code == 422 and "Choose why the job pauses" in resp.get_data(as_text=True)
    assert post(tech, f"/tech/jobs/{jid}/pause", {"reason": "waiting_parts", "note": "刹车片"}).status_code == 200
    job = job_of(vid)
    assert job.status == "paused" and job.pause_reason == "waiting_parts" and job.clocked_seconds >= 600
    first = job.clocked_seconds
    assert post(tech, f"/tech/jobs/{jid}/resume").status_code == 200
    job = job_of(vid)
    job.running_since -= timedelta(minutes=5)
    db.session.commit()
    assert post(tech, f"/tech/jobs/{jid}/finish").status_code == 200
    assert state(vid) == "qc" and job_of(vid).clocked_seconds >= first + 300
    # Finishing twice is an illegal move.
    resp = post(tech, f"/tech/jobs/{jid}/finish")
    assert resp.status_code == 409 and "not possible now" in resp.get_data(as_text=True)

    qc = app.test_client()
    qc.set_cookie("lang", "en")
    login(qc, p["qc"])
    html = qc.get("/workshop/qc").get_data(as_text=True)
    assert f'data-job="{jid}"' in html and "Road test passed" in html
    resp = post(qc, f"/workshop/qc/jobs/{jid}", {"result": "fail", "work_done": "1"})
    assert resp.status_code == 422 and "Give the reason" in resp.get_data(as_text=True)
    assert state(vid) == "qc"
    assert post(qc, f"/workshop/qc/jobs/{jid}", {"result": "fail", "reason": "刹车仍有异响"}).status_code == 200
    job = job_of(vid)
    assert state(vid) == "repair" and job.status == "assigned" and job.rework_count == 1

    html = tech.get("/tech").get_data(as_text=True)
    assert "刹车仍有异响" in html and "Rework 1" in html
    assert post(tech, f"/tech/jobs/{jid}/start").status_code == 200
    assert post(tech, f"/tech/jobs/{jid}/finish").status_code == 200
    assert state(vid) == "qc"

    partial = {item: "1" for item in QC_CHECKLIST[:-1]}
    resp = post(qc, f"/workshop/qc/jobs/{jid}", {"result": "pass", **partial})
    assert resp.status_code == 422 and "Tick every checklist item" in resp.get_data(as_text=True)
    full = {item: "1" for item in QC_CHECKLIST}
    assert post(qc, f"/workshop/qc/jobs/{jid}", {"result": "pass", **full}).status_code == 200
    assert state(vid) == "wash" and job_of(vid).status == "passed"
    html = qc.get("/workshop/qc").get_data(as_text=True)
    assert f'data-visit="{vid}"' in html
    assert post(qc, f"/workshop/wash/{vid}").status_code == 200
    assert state(vid) == "ready"
    assert post(qc, f"/workshop/wash/{vid}").status_code == 409

    assert kinds(jid) == ["assign", "start", "pause", "resume", "finish", "qc_fail", "start", "finish", "qc_pass"]


def test_qc_pass_without_wash_goes_to_ready(client, factory, shop):
    site, p = shop.site, shop.people
    visit = job_at_dispatch(factory, site, p["advisor"], car_wash="no")
    from webapp.services import workshop as svc
    svc.assign(p["dispatcher"], visit.job.id, p["technician"].id, None)
    svc.start(p["technician"], visit.job.id)
    svc.finish(p["technician"], visit.job.id)
    login(client, p["qc"])
    assert post(client, f"/workshop/qc/jobs/{visit.job.id}", {"result": "pass", **{i: "1" for i in QC_CHECKLIST}}).status_code == 200
    assert state(visit.id) == "ready"


# ---------------------------------------------------------------- refusals

def test_pending_manufacturer_request_blocks_the_start(client, factory, shop):
    site, p = shop.site, shop.people
    visit = job_at_dispatch(factory, site, p["advisor"])
    db.session.add(ManufacturerRequest(site_id=site.id, concern_id=_concern_id(visit), reference="MFR-1", sent_summary="软件升级"))
    db.session.commit()
    login(client, p["dispatcher"])
    html = client.get("/workshop").get_data(as_text=True)
    assert 'data-flag="manufacturer"' in html
    assert post(client, f"/workshop/jobs/{visit.job.id}/assign", {"technician_id": p["technician"].id}).status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(client, p["technician"])
    resp = post(client, f"/tech/jobs/{visit.job.id}/start")
    assert resp.status_code == 409
    assert "manufacturer" in resp.get_data(as_text=True)
    assert job_of(visit.id).status == "assigned" and state(visit.id) == "dispatch"


def _concern_id(visit):
    from webapp.models import Concern
    return db.session.query(Concern.id).filter_by(visit_id=visit.id).first()[0]


def test_another_technicians_job_is_refused(client, factory, shop):
    site, p = shop.site, shop.people
    visit = job_at_dispatch(factory, site, p["advisor"])
    from webapp.services import workshop as svc
    svc.assign(p["dispatcher"], visit.job.id, p["tech2"].id, None)
    login(client, p["technician"])
    resp = post(client, f"/tech/jobs/{visit.job.id}/start")
    assert resp.status_code == 403 and "another technician" in resp.get_data(as_text=True)
    assert f'data-job="{visit.job.id}"' not in client.get("/tech").get_data(as_text=True)


def test_other_sites_jobs_are_not_found(client, factory, shop):
    p = shop.people
    other = factory.site(code="ws2")
    adv2 = factory.user(other, "advisor", username="adv2")
    visit = job_at_dispatch(factory, other, adv2, plate="沪B54321")
    login(client, p["dispatcher"])
    assert visit.ticket.number not in client.get("/workshop").get_data(as_text=True) or "沪B54321" not in \
        client.get("/workshop").get_data(as_text=True)
    assert post(client, f"/workshop/jobs/{visit.job.id}/assign", {"technician_id": p["technician"].id}).status_code == 404
    assert post(client, f"/workshop/qc/jobs/{visit.job.id}", {"result": "fail", "reason": "x"}).status_code == 404
    assert post(client, f"/workshop/wash/{visit.id}").status_code == 404
    assert job_of(visit.id).status == "waiting"


def test_assigning_a_technician_of_another_site_is_refused(client, factory, shop):
    site, p = shop.site, shop.people
    other = factory.site(code="ws3")
    stranger = factory.user(other, "technician", username="far")
    visit = job_at_dispatch(factory, site, p["advisor"])
    login(client, p["dispatcher"])
    resp = post(client, f"/workshop/jobs/{visit.job.id}/assign", {"technician_id": stranger.id})
    assert resp.status_code == 422 and "Choose a technician of this site" in resp.get_data(as_text=True)
    resp = post(client, f"/workshop/jobs/{visit.job.id}/assign", {"technician_id": p["advisor"].id})
    assert resp.status_code == 422


def test_csrf_is_required(client, factory, shop):
    site, p = shop.site, shop.people
    visit = job_at_dispatch(factory, site, p["advisor"])
    login(client, p["dispatcher"])
    resp = client.post(f"/workshop/jobs/{visit.job.id}/assign", data={"technician_id": p["technician"].id}, headers=HX)
    assert resp.status_code == 400
    assert job_of(visit.id).status == "waiting"


def test_reassign_a_paused_job(client, factory, shop):
    site, p = shop.site, shop.people
    visit = job_at_dispatch(factory, site, p["advisor"])
    from webapp.services import workshop as svc
    svc.assign(p["dispatcher"], visit.job.id, p["technician"].id, None)
    svc.start(p["technician"], visit.job.id)
    svc.pause(p["technician"], visit.job.id, "break")
    login(client, p["dispatcher"])
    html = client.get("/workshop").get_data(as_text=True)
    assert "Break" in html and "Reassign" in html
    assert post(client, f"/workshop/jobs/{visit.job.id}/assign", {"technician_id": p["tech2"].id}).status_code == 200
    job = job_of(visit.id)
    assert job.status == "paused" and job.technician_id == p["tech2"].id


def test_report_additional_work_pauses_the_job(client, factory, shop):
    site, p = shop.site, shop.people
    visit = job_at_dispatch(factory, site, p["advisor"])
    from webapp.services import workshop as svc
    svc.assign(p["dispatcher"], visit.job.id, p["technician"].id, None)
    login(client, p["technician"])
    assert post(client, f"/tech/jobs/{visit.job.id}/start").status_code == 200
    resp = post(client, f"/tech/jobs/{visit.job.id}/additional", {"description": "  ", "suggestion": "x"})
    assert resp.status_code == 422 and "Describe the additional work" in resp.get_data(as_text=True)
    # A file that is not a photo is refused and leaves nothing behind; what was typed stays.
    import io
    resp = post(client, f"/tech/jobs/{visit.job.id}/additional",
                {"description": "后刹车片磨损到极限", "photos": (io.BytesIO(b"not a picture"), "x.jpg")})
    assert resp.status_code == 422 and "This file is not a photo." in resp.get_data(as_text=True)
    assert "后刹车片磨损到极限" in resp.get_data(as_text=True)
    assert db.session.query(AdditionalWork).count() == 0
    from tests.factories import jpeg_bytes
    resp = post(client, f"/tech/jobs/{visit.job.id}/additional",
                {"description": "后刹车片磨损到极限", "suggestion": "更换后刹车片 1.2h",
                 "photos": (io.BytesIO(jpeg_bytes()), "pads.jpg")})
    assert resp.status_code == 200
    job = job_of(visit.id)
    assert job.status == "paused" and job.pause_reason == "waiting_approval"
    work = db.session.query(AdditionalWork).filter_by(job_id=job.id).one()
    assert work.status == "reported" and work.suggestion == "更换后刹车片 1.2h"
    from webapp.models import Photo
    photo = db.session.query(Photo).filter_by(additional_work_id=work.id).one()
    assert photo.visit_id == visit.id and photo.content_type == "image/jpeg"
    html = resp.get_data(as_text=True)
    assert "后刹车片磨损到极限" in html and 'data-work-status="reported"' in html
    # The customer's answer shows on the tablet (the advisor's and the customer's flows set it).
    work.status = "approved"
    db.session.commit()
    assert 'data-work-status="approved"' in client.get("/tech/jobs").get_data(as_text=True)


def test_tablet_lists_jobs_in_assignment_order(client, factory, shop):
    site, p = shop.site, shop.people
    from webapp.services import workshop as svc
    first = job_at_dispatch(factory, site, p["advisor"], plate="京A00001")
    second = job_at_dispatch(factory, site, p["advisor"], plate="京A00002")
    svc.assign(p["dispatcher"], second.job.id, p["technician"].id, None)
    svc.assign(p["dispatcher"], first.job.id, p["technician"].id, None)
    login(client, p["technician"])
    html = client.get("/tech").get_data(as_text=True)
    assert html.index("京A00002") < html.index("京A00001")
