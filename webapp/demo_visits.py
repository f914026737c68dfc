"""Two finished stories for the demo shop, told through the real services so that every screen
has something true to show on the first run:

- 张先生's Passat, serviced four days ago: oil change approved, wiper blades declined, handed
  over with his signature, paid by WeChat Pay and cash, rated five stars. Its follow-up call is
  due now (/followup), its visit is in the service history, and when he checks in for today's
  appointment the advisor sees the declined wipers again.
- 陈先生's GL8, repaired today and ready for pickup: its bill waits at the cashier (/cashier)
  and the handover checklist is open on the advisor's visit page.

Outside the test suite a month of finished visits comes first (``HISTORY``), so /reports has
figures to show on the first run: a few customers asked for a part that was out of stock (the parts
fill rate), some answered the survey on their status page, and the follow-up calls took the answers.
"""
import base64
import io
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .commands.intake import parse_inspection
from .extensions import db
from .jobs import QC_CHECKLIST
from .models import LabourOperation, Part, Site, User, Visit
from .timeutil import clock_at, local_day, local_to_utc
from .statuses import LineDecision
from .commands.estimates import parse_line, parse_repair_order

RO_TERMS = {"payment_method": "wechat", "old_parts": "leave", "car_wash": "no",
            "delivery_explained": "1", "additional_work_consent": "1"}


def _signature() -> str:
    """A signature as the pad sends it: a PNG with a stroke of ink, as a data URL."""
    from PIL import Image, ImageDraw
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    ImageDraw.Draw(image).line(((20, 70), (70, 25), (120, 72), (190, 30), (260, 60)), fill=(20, 20, 60, 255), width=4)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _repair(site, staff, plate, mobile, reason, concern, mileage, lines, move=None, day=None, late=0):
    """Kiosk ticket → call → walk-around → interview → estimate → signed approval → workshop →
    QC: the car is ready for pickup. ``lines`` are (operation code, part number or None, approve)."""
    from .services import calling, checkin, estimates, workshop
    from .services import intake as intake_svc

    def at(hh, mm):
        if move is not None:   # ``late``: minutes this car runs behind the morning's schedule
            move(local_to_utc(site.timezone, datetime(day.year, day.month, day.day, hh, mm)) + timedelta(minutes=late))

    advisor = staff["advisor1"]
    at(9, 5)
    ticket = checkin.check_in_walkin(site, plate, mobile, reason, None, True, None)
    at(9, 9)
    calling.call_next(advisor)
    calling.start_reception(advisor, ticket.id)
    visit = db.session.get(Visit, ticket.visit_id)
    if intake_svc.suggested_records(visit):   # the advisor confirms the stored customer at the desk
        intake_svc.link_suggested(visit, advisor)
    intake_svc.start_inspection(visit, advisor)
    intake_svc.save_inspection(visit, parse_inspection(MultiDict({"cover_seat": "1", "cover_wheel": "1", "cover_floor": "1",
                                                 "mileage": str(mileage), "fuel_level": "1/2", "valuables_left": "no"})), advisor)
    at(9, 18)
    intake_svc.sign_intake(visit, _signature(), visit.customer.name if visit.customer else None, None, None, advisor)
    intake_svc.complete_inspection(visit, advisor)
    intake_svc.add_concern(visit, concern, advisor)
    intake_svc.complete_interview(visit, advisor)
    at(9, 25)
    for code, part_number, _approve in lines:
        op = db.session.scalar(select(LabourOperation).where(LabourOperation.site_id == site.id,
                                                             LabourOperation.code == code))
        estimates.add_line(visit, parse_line({"kind": "labour", "operation_id": str(op.id)}), advisor)
        if part_number:
            part = db.session.scalar(select(Part).where(Part.site_id == site.id, Part.number == part_number))
            estimates.add_line(visit, parse_line({"kind": "part", "part_id": str(part.id), "quantity": "1"}), advisor)
    estimates.save_repair_order(visit, parse_repair_order(RO_TERMS), advisor)
    est = estimates.present(visit, advisor)
    wanted = {code: ok for code, _p, ok in lines} | {p: ok for _c, p, ok in lines if p}
    approve = {line.id: (LineDecision.APPROVED, None)
               if wanted[line.operation.code if line.operation else line.part.number]
               else (LineDecision.DECLINED, "下次再换") for line in est.lines}
    at(9, 32)
    estimates.decide(visit, est.version, approve, "remote")
    db.session.refresh(visit)
    at(10, 0)
    workshop.assign(staff["dispatcher"], visit.job.id, staff["tech1"].id, None)
    at(10, 10)
    workshop.start(staff["tech1"], visit.job.id)
    at(11, 20)
    workshop.finish(staff["tech1"], visit.job.id)
    at(11, 40)
    workshop.qc(staff["qc"], visit.job.id, {item: True for item in QC_CHECKLIST}, True, None)
    db.session.refresh(visit)
    return visit


def _bill(visit, staff):
    """The parts clerk issues the approved parts for the visit, then the advisor bills it."""
    from .services import billing, catalogue
    for line in visit.estimate.lines:
        if line.part is not None and line.decision == LineDecision.APPROVED:
            catalogue.issue_stock(line.part, str(line.quantity), visit.repair_order.number, staff["parts"], visit)
    billing.prepare_bill(visit, staff["advisor1"])
    return billing.issue_bill(visit, staff["advisor1"])


def _hand_over(visit, advisor):
    from .handover import ITEMS
    from .services import delivery
    for item in ITEMS:
        delivery.set_item(visit, item, True, advisor)
    delivery.sign(visit, _signature(), visit.customer.name if visit.customer else None, None, None, advisor)
    delivery.complete(visit, advisor)


def load(site: Site) -> None:
    """Both stories; the caller has committed the site, its users and its catalogue."""
    from .services import billing, followup
    staff = {u.username: u for u in db.session.scalars(select(User).where(User.site_id == site.id))}
    past = local_day(site.timezone) - timedelta(days=4)
    with clock_at() as move:
        visit = _repair(site, staff, "京A12345", "13800138001", "maintenance", "到保养里程了，换机油机滤；雨刮有点刮不干净",
                        45210, [("M001", "OIL-5W30-4L", True), ("M018", None, False)], move, past)
        move(local_to_utc(site.timezone, datetime(past.year, past.month, past.day, 15, 30)))
        bill = _bill(visit, staff)
        move(local_to_utc(site.timezone, datetime(past.year, past.month, past.day, 16, 5)))
        _hand_over(visit, staff["advisor1"])
        billing.record_payment(staff["cashier"], bill.id, "wechat", "300.00", reference="4200001234567")
        left = billing.bill_balance(bill)
        billing.record_payment(staff["cashier"], bill.id, "cash", str(left),
                               tendered=str((left + Decimal("9.99")).quantize(Decimal("1"))))
        followup.rate(db.session.get(Visit, visit.id), "5")
    from flask import current_app
    # About a second a car (each step commits): the test suite's demo shops go without the month.
    if current_app.config.get("DEMO_HISTORY", not current_app.testing):
        _history(site, staff)
    today = _repair(site, staff, "津C55667", "18600186005", "repair", "空调不凉，出风有异味", 30500,
                    [("E002", None, True), ("M003", "FLT-CAB-01", True)])
    _bill(today, staff)


# A month of finished visits for the reports (/reports): a car on most days, some later than
# others, some picked up the next morning, each paid, rated and followed up — through the same
# services as the stories above. (days ago, plate, reason, operation, part, minutes behind the
# morning's schedule, handed over this many minutes after the promise time (negative: before) or
# None for the next morning, payment method, rating)
HISTORY = (
    (29, "京N30101", "maintenance", "M001", "OIL-5W30-4L", 0, -20, "wechat", 5),
    (27, "京N30102", "repair", "E002", None, 35, 40, "alipay", 4),
    (24, "京N30104", "repair", "E002", None, 60, None, "wechat", 3),
    (22, "京N30105", "maintenance", "M003", "FLT-CAB-01", 5, -10, "cash", 5),
    (20, "京N30106", "maintenance", "M001", "OIL-5W30-4L", 20, -35, "wechat", 4),
    (19, "京N30102", "repair", "E002", None, 0, -5, "alipay", 2),
    (17, "京N30107", "maintenance", "M003", "FLT-CAB-01", 45, 25, "card", 5),
    (15, "京N30108", "repair", "E002", None, 15, None, "wechat", 4),
    (13, "京N30109", "maintenance", "M001", "OIL-5W30-4L", 0, -15, "wechat", 5),
    (10, "京N30111", "repair", "E002", None, 5, -25, "alipay", 5),
    (8, "京N30112", "maintenance", "M001", "OIL-5W30-4L", 30, 70, "wechat", 4),
    (5, "京N30114", "repair", "E002", None, 50, None, "wechat", 3),
)
# Lines some of those customers also asked for: the activated-carbon cabin filter is out of stock
# (none on hand), so it was declined — the parts fill rate (备件满足率) of /reports is below target.
OUT_OF_STOCK = {27: ("M003", "FLT-CAB-02", False), 5: ("M003", "FLT-CAB-02", False)}
# Customers who also answered the short survey on their status page after delivery (days ago).
SURVEYED = (27, 20, 17, 10, 8, 5)
# … and whose car was not quite clean (the other answers follow from the story: see _answers).
NOT_CLEAN = (24, 8)


def _answers(ago, out, rating) -> dict:
    """The survey's answers a customer of HISTORY gives: on time when handed over by the promise,
    explained unless the rating was poor, recommended from four stars up."""
    yes = {True: "yes", False: "no"}
    return {"explained": yes[rating > 2], "on_time": yes[out is not None and out <= 0],
            "clean": yes[ago not in NOT_CLEAN], "recommend": yes[rating >= 4]}


def _history(site, staff):
    from .commands.followup import CallReport, parse_survey
    from .services import billing, followup
    from .services import settings as settings_svc
    today = local_day(site.timezone)
    with clock_at() as move:
        for ago, plate, reason, op, part, late, out, method, rating in HISTORY:
            day = today - timedelta(days=ago)
            for tech in ("tech1",):              # the roster: what utilisation is measured against
                settings_svc.save_shift(site, staff[tech].id, day, site.opening, site.closing)
            lines = [(op, part, True)] + ([OUT_OF_STOCK[ago]] if ago in OUT_OF_STOCK else [])
            visit = _repair(site, staff, plate, f"139{plate[-5:]}001", reason, "保养" if reason == "maintenance"
                            else "空调不凉", 20000 + ago * 100, lines, move, day, late)
            promised = visit.estimate.promised_at
            if out is None:
                move(local_to_utc(site.timezone, datetime(day.year, day.month, day.day, 9, 15)) + timedelta(days=1))
            else:
                move(max(promised + timedelta(minutes=out), local_to_utc(site.timezone, datetime(
                    day.year, day.month, day.day, 11, 50)) + timedelta(minutes=late)))
            bill = _bill(visit, staff)
            _hand_over(visit, staff["advisor1"])
            billing.record_payment(staff["cashier"], bill.id, method, str(bill.total))
            followup.rate(db.session.get(Visit, visit.id), str(rating), confirmed=True)
            answers = _answers(ago, out, rating)
            if ago in SURVEYED:
                followup.survey(db.session.get(Visit, visit.id), parse_survey(answers))
            visit = db.session.get(Visit, visit.id)
            if visit.follow_up is not None and ago > 4:
                move(visit.follow_up.due_at + timedelta(hours=1))
                followup.record_call(staff["csi"], visit.follow_up.id,
                                     CallReport(attempt=visit.follow_up.attempts, outcome="reached",
                                                comment="满意" if rating >= 4 else "一般", answers=answers,
                                                rating=rating))
