"""Races of the authorisation, on SQLite and PostgreSQL: two decisions on the same estimate
version at once record one (whatever the channels), the approval chain stays linear across
visits decided together, and repair-order numbers stay gapless and unique."""
import re
import uuid
from decimal import Decimal

from sqlalchemy import func, select

from tests.factories import Factory, visit_at_estimate
from tests.support import run_together
from webapp.extensions import db
from webapp.models import Approval, LabourOperation, LabourRate, RepairOrder, Site, User, Visit
from webapp.services import ServiceError, estimates
from webapp.commands.estimates import parse_line, parse_repair_order

RO_TERMS = {"payment_method": "wechat", "old_parts": "leave", "car_wash": "yes",
            "delivery_explained": "1", "additional_work_consent": "1"}




def seed(app, visits=1, present=True):
    with app.app_context():
        f = Factory(db)
        site = db.session.scalar(select(Site).where(Site.code == "race"))
        advisor = f.user(site, "advisor", username=f"a{uuid.uuid4().hex[:6]}", desk="1")
        db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("180.00")))
        op = LabourOperation(site_id=site.id, code="OIL", name_zh="更换机油机滤", name_en="Oil change",
                             hours=Decimal("0.5"))
        db.session.add(op)
        db.session.commit()
        ids = []
        for i in range(visits):
            visit = visit_at_estimate(f, site, advisor, plate=f"京A{20000 + i}", mobile=f"139{i:08d}")
            estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(op.id)}), advisor)
            if present:
                estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), advisor)
                estimates.present(visit, advisor)
            ids.append(visit.id)
        advisor_id = advisor.id
        db.session.remove()
    return ids, advisor_id


def visit_and_advisor(app, visit_ids, advisor_id):
    """run_together's prepare: thread ``i`` gets its own app context, visit ``i`` and the advisor."""
    def prepare(i):
        ctx = app.app_context()
        ctx.push()
        return ctx, db.session.get(Visit, visit_ids[i]), db.session.get(User, advisor_id)
    return prepare


def test_two_decisions_at_once_record_one(race_app):
    (visit_id,), _ = seed(race_app)

    def prepare(i):
        ctx = race_app.app_context()
        ctx.push()
        visit = db.session.get(Visit, visit_id)
        est = estimates.estimate_for(visit)
        decisions = {line.id: ("approved", None) for line in est.lines}
        return ctx, visit, est.version, decisions

    def act(i, prepared):
        ctx, visit, version, decisions = prepared
        try:
            return estimates.decide(visit, version, decisions, "remote" if i % 2 else "in_shop").id
        except ServiceError as exc:
            return exc.message
        finally:
            db.session.remove()
            ctx.pop()

    results = run_together(4, prepare, act)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert all(r == "already_decided" for r in results if not isinstance(r, int)), results
    with race_app.app_context():
        assert db.session.scalar(select(func.count(Approval.id))) == 1


def test_chain_stays_linear_when_visits_are_decided_together(race_app):
    visit_ids, _ = seed(race_app, visits=4)

    def prepare(i):
        ctx = race_app.app_context()
        ctx.push()
        visit = db.session.get(Visit, visit_ids[i])
        est = estimates.estimate_for(visit)
        return ctx, visit, est.version, {line.id: ("approved", None) for line in est.lines}

    def act(i, prepared):
        ctx, visit, version, decisions = prepared
        try:
            return estimates.decide(visit, version, decisions, "remote").record_hash
        finally:
            db.session.remove()
            ctx.pop()

    results = run_together(4, prepare, act)
    assert not [r for r in results if isinstance(r, BaseException)], results
    with race_app.app_context():
        site = db.session.scalar(select(Site).where(Site.code == "race"))
        assert estimates.verify_chain(site.id)
        prevs = db.session.scalars(select(Approval.prev_hash)).all()
        assert len(set(prevs)) == 4                      # nobody shares a predecessor: no fork


def test_repair_order_numbers_gapless_and_unique(race_app):
    visit_ids, advisor_id = seed(race_app, visits=6, present=False)

    prepare = visit_and_advisor(race_app, visit_ids, advisor_id)

    def act(i, prepared):
        ctx, visit, advisor = prepared
        try:
            return estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), advisor).number
        finally:
            db.session.remove()
            ctx.pop()

    results = run_together(6, prepare, act)
    assert not [r for r in results if isinstance(r, BaseException)], results
    seqs = sorted(int(re.fullmatch(r"RO-\d{8}-(\d{4})", n).group(1)) for n in results)
    assert seqs == [1, 2, 3, 4, 5, 6]
    with race_app.app_context():
        assert db.session.scalar(select(func.count(RepairOrder.id))) == 6


def test_an_approval_moves_the_promise_of_cars_still_waiting(race_app):
    """Approved work queues ahead: the next car's promise time slips."""
    visit_ids, advisor_id = seed(race_app, visits=2)
    with race_app.app_context():
        from webapp.models import Estimate
        from webapp.roles import TECHNICIAN
        site = db.session.scalar(select(Site).where(Site.code == "race"))
        Factory(db).user(site, TECHNICIAN, username="tech")
        first, second = (db.session.get(Visit, i) for i in visit_ids)
        estimates.refresh_promise(second)
        before = db.session.scalar(select(Estimate.promised_at).where(Estimate.visit_id == second.id))
        est = estimates.estimate_for(first)
        estimates.decide(first, est.version, {line.id: ("approved", None) for line in est.lines}, "remote")
        db.session.expire_all()
        after = db.session.scalar(select(Estimate.promised_at).where(Estimate.visit_id == second.id))
        assert after > before


def test_status_page_shows_the_promise_once_presented(race_app):
    (visit_id,), _ = seed(race_app)
    with race_app.app_context():
        visit = db.session.get(Visit, visit_id)
        token = visit.ticket.token
    client = race_app.test_client()
    html = client.get(f"/t/{token}?lang=en", follow_redirects=True).get_data(as_text=True)
    assert "Expected ready:" in html and "data-promise" in html


def test_a_slipping_promise_alerts_the_advisor_and_tells_the_customer(race_app):
    from datetime import timedelta

    from tests.support import login
    from webapp.models import Estimate
    (visit_id,), advisor_id = seed(race_app)
    with race_app.app_context():
        visit = db.session.get(Visit, visit_id)
        est = estimates.estimate_for(visit)
        estimates.decide(visit, est.version, {line.id: ("approved", None) for line in est.lines}, "remote")
        est = db.session.scalar(select(Estimate).where(Estimate.visit_id == visit_id))
        est.promised_at = est.promised_at - timedelta(days=3)       # the promise has passed
        db.session.commit()
        token = visit.ticket.token
        advisor = db.session.get(User, advisor_id)
    client = race_app.test_client()
    login(client, advisor)
    assert 'data-risk="overdue"' in client.get("/advisor").get_data(as_text=True)
    phone = race_app.test_client()
    assert 'data-promise="late"' in phone.get(f"/t/{token}").get_data(as_text=True)


def test_eight_visits_of_one_site_decided_at_once(race_app):
    """Issue 15, short locks: eight customers of one site get their repair order, see the
    estimate and decide at the same moment, each tapping twice. Every repair order has its own
    number, every visit one approval in one linear chain, the shared part reserved exactly."""
    from webapp.models import Part, StockMovement
    visit_ids, advisor_id = seed(race_app, visits=8, present=False)
    with race_app.app_context():
        site = db.session.scalar(select(Site).where(Site.code == "race"))
        part = Part(site_id=site.id, number="F-1", name_zh="机滤", name_en="Oil filter",
                    unit_price=Decimal("40"), on_hand=Decimal("20"), reserved=Decimal("1"))
        db.session.add(part)
        db.session.commit()
        part_id, site_id = part.id, site.id
        for visit_id in visit_ids:
            estimates.add_line(db.session.get(Visit, visit_id),
                               parse_line({"kind": "part", "part_id": str(part_id), "quantity": "2"}),
                               db.session.get(User, advisor_id))
        db.session.remove()

    prepare = visit_and_advisor(race_app, visit_ids, advisor_id)

    def act(i, prepared):
        ctx, visit, advisor = prepared
        try:
            number = estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), advisor).number
            est = estimates.present(visit, advisor)
            decisions = {line.id: ("approved", None) for line in est.lines}
            version = est.version
            first = estimates.decide(visit, version, decisions, "remote").id
            try:
                estimates.decide(visit, version, decisions, "in_shop")
                second = "decided twice"
            except ServiceError as exc:
                second = exc.message
            return number, first, second
        finally:
            db.session.remove()
            ctx.pop()

    results = run_together(8, prepare, act)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len({number for number, _, _ in results}) == 8
    assert len({approval for _, approval, _ in results}) == 8
    assert {second for _, _, second in results} == {"already_decided"}
    with race_app.app_context():
        assert db.session.scalar(select(func.count(Approval.id))) == 8
        assert db.session.scalar(select(func.count(func.distinct(Approval.visit_id)))) == 8
        assert estimates.verify_chain(site_id)
        assert db.session.get(Part, part_id).reserved == Decimal("17")          # 1 before + 8 × 2
        assert db.session.scalar(select(func.count(StockMovement.id)).where(
            StockMovement.part_id == part_id, StockMovement.kind == "reserve")) == 8
        assert {v.state for v in db.session.scalars(select(Visit))} == {"dispatch"}
