"""Demo bookings (issue 13): a few phone bookings for today and the coming days, made by the
demo advisors through the real booking service, so the day view shows real numbers, hours and
capacity. Today's is booked at the next free time (none once the shop has closed). One more is
booked online (/book) by a customer the shop does not know yet, so its manage link exists too.
Tomorrow's two bookings make a pick list for the parts clerk, the transmission fluid change (4 L
wanted, 3 in stock) the advisor's shortage warning."""
from datetime import timedelta

from sqlalchemy import select

from .commands import appointments as commands
from .extensions import db
from .models import LabourOperation, Site, User, Vehicle
from .services import appointments, booking_capacity, online_booking
from .validation import Invalid

# plate, days ahead, local time (None: the next free time today), reason, operations, the customer's words
BOOKINGS = [
    ("京N8K2M1", 0, None, "maintenance", ("M001", "M002"), "到6万公里保养了"),
    ("京Q6P7R8", 1, "09:00", "repair", ("D001", "M009"), "刹车时有异响，方向盘抖；到6万公里了，顺便换变速箱油"),
    ("京BD12345", 1, "10:30", "maintenance", ("M003",), "空调有异味，换个滤芯"),
    ("京A12345", 2, "14:00", "maintenance", ("M018",), "雨刮刮不干净，上次没换"),
    ("津C55667", 3, "09:30", "warranty", (), "仪表盘偶尔黑屏"),
]

# days ahead, local time, reason, plate, mobile, name, the customer's words (typed on the phone)
ONLINE = [(2, "11:00", "repair", "粤B7X9Y2", "13612345678", "刘女士", "冷车启动时发动机有哒哒声")]


def load(site: Site) -> int:
    """Book what still fits; returns how many were booked."""
    staff = {u.username: u for u in db.session.scalars(select(User).where(User.site_id == site.id))}
    ops = {o.code: o.id for o in db.session.scalars(select(LabourOperation).where(LabourOperation.site_id == site.id))}
    today = booking_capacity.today(site)
    booked = 0
    for i, (plate, ahead, at, reason, codes, words) in enumerate(BOOKINGS):
        vehicle = db.session.scalar(select(Vehicle).where(Vehicle.site_id == site.id, Vehicle.plate == plate))
        if vehicle is None:
            continue
        day = today + timedelta(days=ahead)
        if at is None:
            free = booking_capacity.next_free(site, 0, reason)
            if not free or free[0].date() != today:
                continue
            at = free[0].strftime("%H:%M")
        form = {"vehicle_id": str(vehicle.id), "reason": reason, "description": words, "day": day.isoformat(),
                "slot": at, "operation_ids": [str(ops[c]) for c in codes if c in ops], "advisor_id": ""}
        advisor = staff["advisor1" if i % 2 == 0 else "advisor2"]
        try:
            appointments.book(advisor, commands.parse_booking(form), f"demo-{site.code}-{i}")
            booked += 1
        except (Invalid, appointments.BookingRefused):
            db.session.rollback()   # a closed day or a full time: the demo books what fits
    for i, (ahead, at, reason, plate, mobile, name, words) in enumerate(ONLINE):
        form = {"reason": reason, "day": (today + timedelta(days=ahead)).isoformat(), "slot": at, "plate": plate,
                "mobile": mobile, "name": name, "description": words}
        try:
            online_booking.book(site, commands.parse_online_booking(form), f"demo-{site.code}-online-{i}")
            booked += 1
        except (Invalid, appointments.BookingRefused):
            db.session.rollback()
    return booked
