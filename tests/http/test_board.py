"""The workshop wall board over HTTP: token-gated, no personal data, no-store, and the lanes
follow the real workshop services (assign, start, pause, finish, QC)."""
import re
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import Factory, visit_at_estimate
from webapp.extensions import db
from webapp.models import Bay, LabourOperation, LabourRate, Site, Vehicle
from webapp.services import estimates, workshop
from webapp.commands.estimates import parse_line, parse_repair_order

RO_TERMS = {"payment_method": "wechat", "old_parts": "leave", "car_wash": "yes",
            "delivery_explained": "1", "additional_work_consent": "1"}
TOKEN = "board-token-" + "x" * 20


def workshop_cars(site, n, f=None, plate_base=30000):
    """``n`` visits approved by the customer (each in DISPATCH with a waiting job), plus the
    staff to move them: returns (visits, dispatcher, technician, bay)."""
    f = f or Factory(db)
    advisor = f.user(site, "advisor", username=f"a{uuid.uuid4().hex[:6]}", desk="1", display_name="李顾问")
    dispatcher = f.user(site, "dispatcher", username=f"d{uuid.uuid4().hex[:6]}", display_name="调度员")
    tech = f.user(site, "technician", username=f"t{uuid.uuid4().hex[:6]}", display_name="王师傅")
    bay = Bay(site_id=site.id, name="3号工位")
    db.session.add(bay)
    db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("180.00")))
    op = LabourOperation(site_id=site.id, code=f"OIL{uuid.uuid4().hex[:4]}", name_zh="更换机油机滤",
                         name_en="Oil change", hours=Decimal("0.5"))
    db.session.add(op)
    db.session.commit()
    visits = []
    for i in range(n):
        visit = visit_at_estimate(f, site, advisor, plate=f"京A{plate_base + i}", mobile=f"139{plate_base + i:08d}")
        estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(op.id)}), advisor)
        estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), advisor)
        estimates.present(visit, advisor)
        est = estimates.estimate_for(visit)
        estimates.decide(visit, est.version, {line.id: ("approved", None) for line in est.lines}, "remote")
        if visit.vehicle is None:  # a walk-in not yet matched to a vehicle record: give it one
            visit.vehicle = Vehicle(site_id=site.id, plate=visit.plate)
        visit.vehicle.make, visit.vehicle.model = "丰田", "凯美瑞"
        db.session.commit()
        visits.append(visit)
    return visits, dispatcher, tech, bay


@pytest.fixture
def shop(app, factory):
    site = factory.site(code="bj01", board_token=TOKEN)
    visits, dispatcher, tech, bay = workshop_cars(site, 3, factory)
    return site, visits, dispatcher, tech, bay


def lanes_of(html):
    """{lane: [visit ids]} as the HTML shows them."""
    out = {}
    for m in re.finditer(r'<section class="lane[^"]*" data-lane="(\w+)".*?</section>', html, re.S):
        out[m.group(1)] = [int(v) for v in re.findall(r'data-visit="(\d+)"', m.group(0))]
    return out


def test_missing_or_wrong_token_is_404(client, shop):
    for path in ("/board", "/board?token=", "/board?token=nope", "/board/state", "/board/state?token=nope",
                 "/board?token=" + "x" * 200):
        assert client.get(path).status_code == 404, path


def test_site_without_board_token_cannot_be_reached_with_empty_token(client, factory):
    factory.site(code="nt")  # board_token NULL
    assert client.get("/board?token=").status_code == 404
    assert client.get("/board/state?token=None").status_code == 404


def test_page_and_state_follow_the_services(client, shop):
    site, (v1, v2, v3), dispatcher, tech, bay = shop
    resp = client.get(f"/board?token={TOKEN}")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    assert 'data-live-channel="board"' in html and f'data-live-token="{TOKEN}"' in html
    assert lanes_of(html)["dispatch"] == [v1.id, v2.id, v3.id]

    workshop.assign(dispatcher, v1.job.id, tech.id, bay.id)
    workshop.start(tech, v1.job.id)
    workshop.assign(dispatcher, v2.job.id, tech.id, None)
    workshop.start(tech, v2.job.id)
    workshop.pause(tech, v2.job.id, "waiting_parts")
    workshop.assign(dispatcher, v3.job.id, tech.id, None)
    workshop.start(tech, v3.job.id)
    workshop.finish(tech, v3.job.id)

    resp = client.get(f"/board/state?token={TOKEN}")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith('<main id="lanes"')
    lanes = lanes_of(html)
    assert lanes["dispatch"] == [] and lanes["in_progress"] == [v1.id]
    assert lanes["waiting_parts"] == [v2.id] and lanes["qc"] == [v3.id]
    assert re.search(r'data-lane="in_progress".*?<span class="count" data-count="1">', html, re.S)
    card = re.search(rf'<article[^>]*data-visit="{v1.id}".*?</article>', html, re.S).group(0)
    for text in ("王师傅", "3号工位", "京A·***00", "丰田 凯美瑞"):
        assert text in card, card
    assert re.search(r'data-since="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', card)
    assert re.search(r'data-promise="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', card)


def test_state_carries_the_change_sequence(client, shop):
    site, (v1, *_), dispatcher, tech, bay = shop
    for step in range(2):
        html = client.get(f"/board/state?token={TOKEN}").get_data(as_text=True)
        seq = db.session.scalar(select(Site.change_seq).where(Site.id == site.id))
        assert seq > 0
        assert re.search(r'<main id="lanes" class="lanes" data-seq="(\d+)"', html).group(1) == str(seq)
        workshop.assign(dispatcher, v1.job.id, tech.id, bay.id)


def test_no_personal_data_or_prices(client, shop):
    site, visits, *_ = shop
    for path in (f"/board?token={TOKEN}", f"/board/state?token={TOKEN}"):
        html = client.get(path).get_data(as_text=True)
        for i, v in enumerate(visits):
            mobile = f"139{30000 + i:08d}"
            assert v.plate not in html and v.plate[2:] not in html   # full plate
            assert mobile not in html                                # phone
        assert "张三" not in html and "李顾问" not in html   # customer, advisor
        assert "¥" not in html and "180" not in html and "90.00" not in html  # prices


def test_risk_and_rework_are_shown(client, shop):
    site, (v1, v2, v3), dispatcher, tech, bay = shop
    v1.estimate.promised_at = v1.estimate.promised_at.replace(year=2000)  # long past
    db.session.commit()
    workshop.assign(dispatcher, v3.job.id, tech.id, None)
    workshop.start(tech, v3.job.id)
    workshop.finish(tech, v3.job.id)
    qc = Factory(db).user(site, "qc", username="qc1")
    workshop.qc(qc, v3.job.id, {}, False, "漏油")
    html = client.get(f"/board/state?token={TOKEN}").get_data(as_text=True)
    card1 = re.search(rf'<article[^>]*data-visit="{v1.id}"[^>]*>', html).group(0)
    assert "risk-overdue" in card1
    card3 = re.search(rf'<article[^>]*data-visit="{v3.id}".*?</article>', html, re.S).group(0)
    assert 'class="rework"' in card3


def test_english_labels(client, shop):
    client.get("/lang/en?next=/start")
    html = client.get(f"/board?token={TOKEN}").get_data(as_text=True)
    for label in ("Workshop board", "Waiting dispatch", "In progress", "Waiting parts", "Waiting approval",
                  "Quality check", "Wash", "Ready"):
        assert label in html


def test_rate_limited_like_the_lobby(app, db_url, tmp_path):  # app: a clean database on PostgreSQL too
    from conftest import make_app
    app = make_app(db_url, RATELIMIT_ENABLED=True, RATELIMIT_STATUS="3 per minute")
    with app.app_context():
        db.create_all()
        Factory(db).site(code="rl", board_token=TOKEN)
        client = app.test_client()
        codes = [client.get(f"/board/state?token={TOKEN}").status_code for _ in range(5)]
        db.session.remove()
        db.engine.dispose()
    assert codes[:3] == [200] * 3 and codes[-1] == 429
