"""Data builders for tests: records with sensible defaults (``Factory``), and visits taken through
the real services to a given stage (``visit_at_estimate`` … ``visit_delivered``). Import them from
here (``from tests.factories import …``); the fixtures that hand them out live in ``tests/conftest.py``.
"""
import uuid
import zlib
from types import SimpleNamespace

from webapp.commands.intake import parse_inspection
from webapp.commands.estimates import parse_line, parse_repair_order

PASSWORD = "test-pass-123"


# ---------------------------------------------------------------- records

class Factory:
    """Builds records with sensible defaults; every call commits."""

    def __init__(self, db):
        self.db = db
        self.n = 0

    def _next(self):
        self.n += 1
        return self.n

    def site(self, code=None, **kw):
        from webapp.models import Site
        n = self._next()
        site = Site(code=code or f"s{n}", name_zh=kw.pop("name_zh", f"测试门店{n}"),
                    name_en=kw.pop("name_en", f"Test site {n}"), **kw)
        self.db.session.add(site)
        self.db.session.commit()
        return site

    def user(self, site, role="advisor", username=None, desk=None, **kw):
        from webapp.models import User
        n = self._next()
        user = User(site_id=site.id, username=username or f"{role}{n}", role=role,
                    display_name=kw.pop("display_name", f"{role.title()} {n}"),
                    desk=desk if desk is not None else (str(n) if role == "advisor" else None), **kw)
        user.set_password(PASSWORD)
        self.db.session.add(user)
        self.db.session.commit()
        return user

    def customer_vehicle(self, site, plate="京A12345", mobile="13800138000", name="张三", **vehicle):
        from webapp.models import Customer, Vehicle
        customer = Customer(site_id=site.id, name=name, mobile=mobile)
        self.db.session.add(customer)
        self.db.session.flush()
        car = Vehicle(site_id=site.id, customer_id=customer.id, plate=plate, **vehicle)
        self.db.session.add(car)
        self.db.session.commit()
        return customer, car

    def appointment(self, site, customer, vehicle, scheduled_at=None, reason="maintenance", advisor=None):
        from webapp.models import Appointment
        from webapp.timeutil import utcnow
        appt = Appointment(site_id=site.id, customer_id=customer.id, vehicle_id=vehicle.id,
                           scheduled_at=scheduled_at or utcnow(), reason=reason,
                           advisor_id=advisor.id if advisor else None, description="保养")
        self.db.session.add(appt)
        self.db.session.commit()
        return appt

    def walkin(self, site, plate="京A12345", mobile=None, reason="repair", key=None):
        """A checked-in walk-in through the real service. Returns the ticket. Without a mobile,
        each plate gets one of its own (京A12345: 13800138000): the kiosk gives a mobile already
        in the queue no second number."""
        from webapp.services.checkin import check_in_walkin
        if mobile is None:
            mobile = "13800138000" if plate == "京A12345" else f"137{zlib.crc32(plate.encode()) % 10 ** 8:08d}"
        return check_in_walkin(site, plate, mobile, reason, "异响", True, key or uuid.uuid4().hex)


def png_data_url(stroke=((20, 70), (80, 20), (140, 75), (260, 30)), size=(300, 100)) -> str:
    """A signature as the signature pad sends it: a transparent PNG with ink, as a data URL."""
    import base64
    import io

    from PIL import Image, ImageDraw
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    ImageDraw.Draw(image).line(stroke, fill=(0, 0, 0, 255), width=4)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def jpeg_bytes(size=(640, 480), colour=(180, 40, 40)):
    """A real JPEG photo, as a phone camera would upload."""
    import io

    from PIL import Image, ImageDraw
    image = Image.new("RGB", size, (200, 205, 210))
    ImageDraw.Draw(image).line((40, 60, size[0] - 40, size[1] - 80), fill=colour, width=8)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    return buf.getvalue()


# ---------------------------------------------------------------- a shop: a site and its staff

STAFF_ROLES = ("advisor", "dispatcher", "technician", "qc", "parts", "cashier", "csi", "manager", "admin")
SHOP_SITE = {"code": "bj01", "name_zh": "星驰汽车4S店（朝阳店）", "name_en": "Xingchi Motors (Chaoyang)"}


class Shop:
    """A site and its staff: ``shop.site``; ``shop.people[role]`` or ``shop.advisor`` (one user per role)."""

    def __init__(self, site, people):
        self.site = site
        self.people = people

    def __getattr__(self, name):
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None

    def plain(self) -> "Shop":
        """The same shop as plain values (each column of the site and the users), for tests whose
        database session has ended before they read it (browser tests against a live server)."""
        def values(row):
            return SimpleNamespace(**{column.key: getattr(row, column.key) for column in row.__table__.columns})
        return Shop(values(self.site), {role: values(user) for role, user in self.people.items()})


def build_shop(factory, roles=STAFF_ROLES, staff=None, **site):
    """A site (``SHOP_SITE`` unless ``site`` says otherwise: code, names, settings) with one user per
    role in ``roles``: username ``<role>1``, the advisor at desk 1, the factory's display names;
    ``staff[role]`` overrides any of these (``{"advisor": {"display_name": "王晓明", "desk": "3"}}``)."""
    row = factory.site(**{**SHOP_SITE, **site})
    people = {}
    for role in roles:
        kw = {"username": f"{role}1", "desk": "1" if role == "advisor" else None, **(staff or {}).get(role, {})}
        people[role] = factory.user(row, role, **kw)
    return Shop(row, people)


# ---------------------------------------------------------------- a visit through the real services

RO_TERMS = {"payment_method": "wechat", "old_parts": "leave", "car_wash": "yes",
            "delivery_explained": "1", "additional_work_consent": "1"}


def confirm_suggestion(visit, advisor):
    """What the advisor does at the desk with a walk-in whose plate or mobile is stored: checks it
    with the customer and links it (the kiosk itself never links a walk-in to stored records)."""
    from webapp.services import intake as intake_svc
    if intake_svc.suggested_records(visit):
        intake_svc.link_suggested(visit, advisor)
    return visit


def visit_at_estimate(factory, site, advisor, plate="京A12345", mobile="13800138000", concern="保养", ticket=None):
    """A walk-in (or the waiting ``ticket`` given, an appointment's) taken through the real
    services to the estimate stage: called, received, inspected (covers, mileage, fuel,
    signature), one concern, interview done."""
    from werkzeug.datastructures import MultiDict

    from webapp.extensions import db
    from webapp.models import Visit
    from webapp.services import calling
    from webapp.services import intake as intake_svc
    ticket = ticket or factory.walkin(site, plate=plate, mobile=mobile)
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    visit = db.session.get(Visit, ticket.visit_id)
    confirm_suggestion(visit, advisor)
    intake_svc.start_inspection(visit, advisor)
    intake_svc.save_inspection(visit, parse_inspection(MultiDict({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                                 "mileage": "1000", "fuel_level": "1/2", "valuables_left": "no"})), advisor)
    intake_svc.sign_intake(visit, png_data_url(), "客户", None, None, advisor)
    intake_svc.complete_inspection(visit, advisor)
    intake_svc.add_concern(visit, concern, advisor)
    intake_svc.complete_interview(visit, advisor)
    return visit


def job_at_dispatch(factory, site, advisor, plate="京A12345", car_wash="yes"):
    """walk-in → reception → inspection → interview → one labour line → RO → presented → approved."""
    import uuid
    from decimal import Decimal

    from webapp.extensions import db
    from webapp.models import LabourOperation, LabourRate
    from webapp.services import estimates
    RO = RO_TERMS
    if not db.session.query(LabourRate).filter_by(site_id=site.id).first():
        db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("180.00")))
        db.session.commit()
    factory.customer_vehicle(site, plate=plate, mobile="13800138000", make="大众", model="帕萨特")
    visit = visit_at_estimate(factory, site, advisor, plate=plate, concern="刹车异响")
    op = LabourOperation(site_id=site.id, code=f"BRK{uuid.uuid4().hex[:4]}", name_zh="更换前刹车片",
                         name_en="Replace front brake pads", hours=Decimal("1.5"))
    db.session.add(op)
    db.session.commit()
    estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(op.id)}), advisor)
    estimates.save_repair_order(visit, parse_repair_order({**RO, "car_wash": car_wash}), advisor)
    est = estimates.present(visit, advisor)
    estimates.decide(visit, est.version, {line.id: ("approved", None) for line in est.lines}, "remote")
    db.session.refresh(visit)
    assert visit.state == "dispatch" and visit.job is not None
    return visit


def visit_ready(factory, site, advisor, plate="京A12345", car_wash="no"):
    """job_at_dispatch, then through the real workshop services: assigned, started, finished,
    QC passed (and washed when the RO asked for it) — the car is ready for pickup."""
    from webapp.extensions import db
    from webapp.jobs import QC_CHECKLIST
    from webapp.services import workshop
    visit = job_at_dispatch(factory, site, advisor, plate=plate, car_wash=car_wash)
    dispatcher = factory.user(site, role="dispatcher")
    tech = factory.user(site, role="technician")
    inspector = factory.user(site, role="qc")
    workshop.assign(dispatcher, visit.job.id, tech.id, None)
    workshop.start(tech, visit.job.id)
    workshop.finish(tech, visit.job.id)
    workshop.qc(inspector, visit.job.id, {item: True for item in QC_CHECKLIST}, True, None)
    if car_wash == "yes":
        workshop.wash_done(inspector, visit.id)
    db.session.refresh(visit)
    assert visit.state == "ready"
    return visit


def workshop_cars(site, n, f=None, plate_base=30000):
    """``n`` visits approved by the customer (each in DISPATCH with a waiting job), plus the
    staff to move them: returns (visits, dispatcher, technician, bay)."""
    from decimal import Decimal

    from webapp.extensions import db
    from webapp.models import Bay, LabourOperation, LabourRate, Vehicle
    from webapp.services import estimates
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


def presented_estimate(live_app):
    """Reception → inspection → interview → four estimate lines → repair order → presented."""
    from decimal import Decimal

    from webapp.extensions import db
    from webapp.models import LabourOperation, LabourRate, Part
    from webapp.services import calling, estimates
    from webapp.services import intake as intake_svc
    from webapp.services.checkin import ticket_pin
    with live_app.app_context():
        f = Factory(db)
        site = f.site(name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)")
        advisor = f.user(site, "advisor", username=f"adv{uuid.uuid4().hex[:6]}", desk="3", display_name="王晓明")
        f.customer_vehicle(site, plate="京A12345", mobile="13800138000", name="张三", make="大众", model="帕萨特")
        ticket = f.walkin(site, plate="京A12345", mobile="13800138000")
        db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("300.00")))
        op = LabourOperation(site_id=site.id, code="BRK-F", name_zh="更换前刹车片", name_en="Replace front brake pads",
                             hours=Decimal("1.5"))
        part = Part(site_id=site.id, number="P-100", name_zh="前刹车片（原厂）", name_en="Front brake pads (OEM)",
                    unit_price=Decimal("388.50"), on_hand=Decimal("10"))
        db.session.add_all([op, part])
        db.session.commit()
        calling.call_next(advisor)
        calling.start_reception(advisor, ticket.id)
        visit = ticket.visit
        intake_svc.start_inspection(visit, advisor)
        db.session.expire(visit)
        intake_svc.save_inspection(visit, parse_inspection({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                           "mileage": "45000", "fuel_level": "1/2", "valuables_left": "no"}), advisor)
        intake_svc.sign_intake(visit, png_data_url(), "张三", "127.0.0.1", "pytest", advisor)
        intake_svc.complete_inspection(visit, advisor)
        intake_svc.add_concern(visit, "刹车时有异响", advisor)
        intake_svc.complete_interview(visit, advisor)
        labour = estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(op.id)}), advisor)
        pads = estimates.add_line(visit, parse_line({"kind": "part", "part_id": str(part.id), "quantity": "2"}), advisor)
        covered = estimates.add_line(visit, parse_line({"kind": "labour", "description": "更新发动机控制软件",
                                                        "quantity": "0.5", "warranty": "1"}), advisor)
        alignment = estimates.add_line(visit, parse_line({"kind": "labour", "description": "四轮定位", "quantity": "1"}),
                                       advisor, recommended="maintenance_due")
        estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), advisor)
        estimates.present(visit, advisor)
        shop = {"token": ticket.token, "pin": ticket_pin(ticket.token), "visit": visit.id, "advisor": advisor.username,
                "number": ticket.number, "labour": labour.id, "pads": pads.id, "covered": covered.id,
                "alignment": alignment.id, "part": part.id}
        db.session.remove()
        return shop


# ---------------------------------------------------------------- service history: a delivered visit with all it keeps

def visit_delivered_with_history(factory, site, advisor, plate="京A12345", when=None):
    """A visit through the real services (intake with a scratch, two labour lines: brake pads
    approved, wiper blades declined "下次再换"; RO; workshop; QC) to READY, then — until the
    delivery, cashier and follow-up services exist — the rest written as rows: delivered, a paid
    bill (JS-…) with two payments, a 2-star pickup rating and survey answers, a follow-up call
    reached, an open complaint. ``when`` (naive UTC) back-dates the visit."""
    import json
    from datetime import timedelta
    from decimal import Decimal

    from webapp.extensions import db
    from webapp.jobs import QC_CHECKLIST
    from webapp.models import (Bill, Complaint, DamageMark, FollowUp, FollowUpCall, LabourOperation, LabourRate,
                               Payment, SurveyResponse, Vehicle)
    from webapp.services import estimates, workshop
    from webapp.timeutil import utcnow
    if not db.session.query(LabourRate).filter_by(site_id=site.id).first():
        db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("180.00")))
        db.session.commit()
    if not db.session.query(Vehicle).filter_by(site_id=site.id, plate=plate).first():
        factory.customer_vehicle(site, plate=plate, mobile="13800138000", name="张三", make="大众", model="帕萨特",
                                 vin="LSVAU2180N2183294")
    visit = visit_at_estimate(factory, site, advisor, plate=plate, concern="刹车时有异响")
    db.session.add(DamageMark(site_id=site.id, intake_id=visit.intake.id, zone="front_bumper", kind="scratch",
                              note="右侧 5cm"))
    ops = {}
    for code, zh, en, hours in (("BRK", "更换前刹车片", "Replace front brake pads", "1.5"),
                                ("WIP", "更换雨刮片", "Replace wiper blades", "0.3")):
        op = db.session.query(LabourOperation).filter_by(site_id=site.id, code=code).first()
        if op is None:
            op = LabourOperation(site_id=site.id, code=code, name_zh=zh, name_en=en, hours=Decimal(hours))
            db.session.add(op)
        ops[code] = op
    db.session.commit()
    brake = estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(ops["BRK"].id)}), advisor)
    wiper = estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(ops["WIP"].id)}), advisor)
    estimates.save_repair_order(visit, parse_repair_order({**RO_TERMS, "car_wash": "no"}), advisor)
    est = estimates.present(visit, advisor)
    estimates.decide(visit, est.version, {brake.id: ("approved", None), wiper.id: ("declined", "下次再换")},
                     "in_shop", signer="张三")
    dispatcher = factory.user(site, role="dispatcher")
    tech = factory.user(site, role="technician")
    inspector = factory.user(site, role="qc")
    cashier = factory.user(site, role="cashier", display_name="钱收银")
    csi = factory.user(site, role="csi", display_name="孙回访")
    workshop.assign(dispatcher, visit.job.id, tech.id, None)
    workshop.start(tech, visit.job.id)
    workshop.finish(tech, visit.job.id)
    workshop.qc(inspector, visit.job.id, {item: True for item in QC_CHECKLIST}, True, None)
    db.session.refresh(visit)
    assert visit.state == "ready"
    now = utcnow()
    visit.state, visit.delivered_at = "delivered", now
    n = db.session.query(Bill).filter_by(site_id=site.id).count() + 1
    bill = Bill(site_id=site.id, visit_id=visit.id, number=f"JS-{now:%Y%m%d}-{n:04d}", status="paid",
                labour=Decimal("270.00"), subtotal=Decimal("270.00"), tax=Decimal("35.10"), total=Decimal("305.10"),
                created_by_id=cashier.id, issued_at=now, closed_at=now)
    db.session.add(bill)
    db.session.flush()
    db.session.add_all([
        Payment(site_id=site.id, bill_id=bill.id, method="wechat", amount=Decimal("200.00"), reference="WX8848",
                received_by_id=cashier.id),
        Payment(site_id=site.id, bill_id=bill.id, method="cash", amount=Decimal("105.10"), tendered=Decimal("110.00"),
                change=Decimal("4.90"), received_by_id=cashier.id),
        SurveyResponse(site_id=site.id, visit_id=visit.id, channel="pickup", rating=2, comment="等得太久"),
        SurveyResponse(site_id=site.id, visit_id=visit.id, channel="call", rating=3,
                       answers=json.dumps({"服务态度": "满意", "完工时间": "不满意"}, ensure_ascii=False)),
    ])
    fu = FollowUp(site_id=site.id, visit_id=visit.id, due_at=now + timedelta(days=3), status="reached",
                  attempts=1, closed_at=now)
    db.session.add(fu)
    db.session.flush()
    db.session.add(FollowUpCall(site_id=site.id, follow_up_id=fu.id, outcome="reached", comment="客户说刹车好了",
                                staff_id=csi.id))
    db.session.add(Complaint(site_id=site.id, visit_id=visit.id, source="rating", summary="取车等待时间过长",
                             status="open", owner_id=csi.id, due_at=now + timedelta(days=2)))
    if when is not None:
        visit.created_at = when
        visit.ticket.issued_at = when
        visit.delivered_at = when + timedelta(hours=5)
        visit.repair_order.day = when.date()
    db.session.commit()
    db.session.refresh(visit)
    return visit


# ---------------------------------------------------------------- follow-up: a car delivered through closing.py

def visit_delivered(factory, site, advisor, plate="京A12345", car_wash="no"):
    """visit_ready, then a completed delivery checklist and a paid bill written directly, and the
    real rule (services.closing.deliver_if_complete): DELIVERED, out time, the follow-up scheduled."""
    from decimal import Decimal

    from webapp.extensions import db
    from webapp.models import Bill, Delivery
    from webapp.services import closing
    from webapp.timeutil import utcnow
    visit = visit_ready(factory, site, advisor, plate=plate, car_wash=car_wash)
    now = utcnow()
    db.session.add(Delivery(site_id=site.id, visit_id=visit.id, car_fetched=True, exterior_checked=True,
                            belongings_checked=True, covers_removed=True, old_parts_done=True,
                            work_explained=True, completed_at=now, completed_by_id=advisor.id))
    db.session.add(Bill(site_id=site.id, visit_id=visit.id, number=f"FU-{uuid.uuid4().hex[:10]}", status="paid",
                        labour=Decimal("270.00"), subtotal=Decimal("270.00"), tax=Decimal("35.10"),
                        total=Decimal("305.10"), issued_at=now, closed_at=now))
    db.session.flush()
    db.session.refresh(visit)
    assert closing.deliver_if_complete(visit, advisor)
    db.session.commit()
    closing.publish_delivered(visit)
    db.session.refresh(visit)
    assert visit.state == "delivered" and visit.follow_up is not None
    return visit

