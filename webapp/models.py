"""Database tables. Every record carries the site (门店) it belongs to, so one deployment can
serve several shops and every query can be scoped to the user's site."""
from datetime import date, datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .statuses import (BillStatus, ComplaintStatus, EstimateStatus, FollowUpStatus, JobStatus, LineDecision,
                       TicketStatus, status_type)
from .extensions import db
from .timeutil import utcnow
from .workflow import VisitState


class Site(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    prefix_appointment: Mapped[str] = mapped_column(String(4), default="A")
    prefix_walkin: Mapped[str] = mapped_column(String(4), default="W")
    # Appointment window for queue priority, in minutes before/after the booked time.
    appointment_early_minutes: Mapped[int] = mapped_column(default=30)
    appointment_late_minutes: Mapped[int] = mapped_column(default=15)
    # A booking not here this long after its time becomes a no-show (released, listed for a call).
    no_show_minutes: Mapped[int] = mapped_column(default=30, server_default="30")
    # Average reception time per customer, used for the wait estimate until there is history.
    reception_minutes: Mapped[int] = mapped_column(default=10)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.13"), server_default="0.13")
    diagnosis_fee: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("200"), server_default="200")
    opening: Mapped[str] = mapped_column(String(5), default="08:30", server_default="08:30")   # local HH:MM
    closing: Mapped[str] = mapped_column(String(5), default="17:30", server_default="17:30")
    break_start: Mapped[str | None] = mapped_column(String(5), default="12:00", server_default="12:00")
    break_end: Mapped[str | None] = mapped_column(String(5), default="13:00", server_default="13:00")
    # Follow-up (回访): first call this many days after delivery, retried after no answer.
    followup_days: Mapped[int] = mapped_column(default=3, server_default="3")
    followup_retry_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    followup_max_attempts: Mapped[int] = mapped_column(default=3, server_default="3")
    # Complaints: a rating at or below this opens a case, due this many days later.
    complaint_rating: Mapped[int] = mapped_column(default=2, server_default="2")
    complaint_due_days: Mapped[int] = mapped_column(default=2, server_default="2")
    # Bumped in every transaction that changes a record of the site (webapp/changes.py): screens
    # cache what they render per value, and live views can tell that they missed something.
    change_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    # The record_hash of the site's newest approval (services/estimates.decide): a decision links
    # to it and moves it in its last statement, the one that bumps change_seq (issue 15: short locks).
    approval_head: Mapped[str | None] = mapped_column(String(64))
    # Capability in the wall board's URL (/board?token=…): the TV has no login.
    board_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Booking capacity (webapp/capacity.py): reception slots, the bookable share of the
    # technicians' hours, optional caps per kind (hours a day), closed weekdays and holidays.
    slot_minutes: Mapped[int] = mapped_column(default=30, server_default="30")
    slot_customers: Mapped[int] = mapped_column(default=1, server_default="1")         # per advisor per slot
    utilisation_percent: Mapped[int] = mapped_column(default=85, server_default="85")
    reserve_percent: Mapped[int] = mapped_column(default=20, server_default="20")      # walk-ins, carry-over
    cap_maintenance_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    cap_diagnosis_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    closed_weekdays: Mapped[str] = mapped_column(String(20), default="", server_default="")  # "5,6": Sat, Sun
    holidays: Mapped[str] = mapped_column(Text, default="", server_default="")   # ISO dates, one a line
    # Workshop hours an online booking holds by kind (the customer picks no operations).
    online_hours_maintenance: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("1"), server_default="1")
    online_hours_bodywork: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("2"), server_default="2")
    online_hours_other: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("0.5"), server_default="0.5")
    # The manager's targets on /reports, in percent (kpi.DEFAULT_TARGETS, 4S reference values).
    target_on_time: Mapped[int] = mapped_column(default=95, server_default="95")
    target_same_day: Mapped[int] = mapped_column(default=80, server_default="80")
    target_utilisation: Mapped[int] = mapped_column(default=80, server_default="80")
    target_efficiency: Mapped[int] = mapped_column(default=100, server_default="100")
    target_parts_fill: Mapped[int] = mapped_column(default=90, server_default="90")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def name(self, locale: str) -> str:
        return self.name_en if str(locale).startswith("en") else self.name_zh


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    desk: Mapped[str | None] = mapped_column(String(32))  # service desk shown on the lobby display
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship()

    def set_password(self, password: str) -> None:
        # Werkzeug's default (scrypt) unless the config names another method: the test suite
        # uses a cheap one, since it creates hundreds of accounts.
        from flask import current_app, has_app_context
        method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
        self.password_hash = generate_password_hash(password, method) if method else generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active


class StaffSession(db.Model):
    """One signed-in staff session. The cookie carries a random token; the table keeps its SHA-256,
    so logout, deactivation and the lifetimes end every copy of the cookie on the server side.
    No site: it belongs to a user, who has one."""
    __tablename__ = "staff_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed sign-ins per username, whether or not such an account exists (a lock only for real
    accounts would tell which ones exist). Usernames are unique across sites, so no site here."""
    __tablename__ = "login_throttle"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]


class Customer(db.Model):
    # Searches are per site (a dealer group's history holds every site's customers): the site leads.
    __table_args__ = (Index("ix_customer_site_mobile", "site_id", "mobile"),
                      Index("ix_customer_site_name", "site_id", "name"))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(120))
    mobile: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))   # for notices (ready for pickup)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Vehicle(db.Model):
    __table_args__ = (Index("ix_vehicle_site_plate", "site_id", "plate"),
                      Index("ix_vehicle_site_vin", "site_id", "vin"),
                      Index("ix_vehicle_site_customer", "site_id", "customer_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    plate: Mapped[str] = mapped_column(String(16), index=True)
    vin: Mapped[str | None] = mapped_column(String(17), index=True)
    make: Mapped[str | None] = mapped_column(String(60))
    model: Mapped[str | None] = mapped_column(String(60))
    year: Mapped[int | None]
    colour: Mapped[str | None] = mapped_column(String(40))
    last_mileage: Mapped[int | None]
    warranty_start: Mapped[date | None]          # first registration / sale date
    warranty_years: Mapped[int | None]
    warranty_km: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer | None] = relationship()
    drivers: Mapped[list["VehicleDriver"]] = relationship(order_by="VehicleDriver.id", viewonly=True)


class Appointment(db.Model):
    """A booking (预约). Staff bookings (webapp/services/appointments.py) carry a number, the
    labour hours of their operations (held against the day's capacity while booked) and who
    made, moved or cancelled them; older rows (demo, tests) may have none of that."""
    __table_args__ = (UniqueConstraint("site_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    scheduled_at: Mapped[datetime] = mapped_column(index=True)  # UTC
    reason: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)       # the customer's words
    status: Mapped[str] = mapped_column(String(16), default="booked")  # booked, arrived, cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    number: Mapped[str | None] = mapped_column(String(24))      # YY-YYYYMMDD-NNN
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("0"), server_default="0")
    cap_kind: Mapped[str | None] = mapped_column(String(20))    # capacity.cap_kind: maintenance, diagnosis
    note: Mapped[str | None] = mapped_column(Text)              # the advisor's own note
    overbook_reason: Mapped[str | None] = mapped_column(Text)   # a manager booked past capacity: why
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)   # a double submit books once
    source: Mapped[str] = mapped_column(String(12), default="staff", server_default="staff")   # staff, online
    # The customer's capability for /book/<token> (online bookings; >=128 random bits). Kept in
    # clear like Ticket.token: the day-before reminder carries the same link again.
    manage_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    reminded_at: Mapped[datetime | None]       # the day-before reminder was written (once)
    no_show_at: Mapped[datetime | None]        # status became no_show (released from capacity)
    call_outcome: Mapped[str | None] = mapped_column(String(16))   # the call to rebook: reached, no_answer, ...
    called_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]     # the customer said yes on the day-before call

    customer: Mapped[Customer] = relationship()
    vehicle: Mapped[Vehicle] = relationship()
    advisor: Mapped["User | None"] = relationship(foreign_keys=[advisor_id])
    operations: Mapped[list["AppointmentOperation"]] = relationship(
        order_by="AppointmentOperation.id", cascade="all, delete-orphan")


class AppointmentOperation(db.Model):
    """A catalogue operation booked with an appointment; its hours as they were when booked."""
    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("labour_operation.id"))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))

    operation: Mapped["LabourOperation"] = relationship()


class AppointmentCall(db.Model):
    """A phone call about a booking, append-only: the day-before call to confirm it (reached,
    no answer, moved, cancelled) or the call to rebook a no-show."""
    __tablename__ = "appointment_call"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    purpose: Mapped[str] = mapped_column(String(12))    # confirm, rebook
    outcome: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped["User | None"] = relationship()


class Visit(db.Model):
    """One customer's stay, from the kiosk ticket to delivery and follow-up."""
    # A shop-year holds tens of thousands of visits and few active ones: screens read the active
    # ones by (site, state), timelines by (site, vehicle) and (site, customer), never the whole table.
    __table_args__ = (Index("ix_visit_site_state", "site_id", "state"),
                      Index("ix_visit_site_vehicle", "site_id", "vehicle_id"),
                      Index("ix_visit_site_customer", "site_id", "customer_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), unique=True)
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    state: Mapped[str] = mapped_column(String(20), default=VisitState.WAITING.value, index=True)
    plate: Mapped[str] = mapped_column(String(16))        # as entered at the kiosk, normalised
    mobile: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime | None]                   # notice on data use accepted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None]
    # The first time the visit reached each milestone of the report's stage times (workflow.milestones,
    # stamped by record_transition; the same instants as its first VisitEvent of each kind).
    first_reception_at: Mapped[datetime | None]
    first_estimate_at: Mapped[datetime | None]
    first_presented_at: Mapped[datetime | None]
    first_decided_at: Mapped[datetime | None]
    first_qc_at: Mapped[datetime | None]
    first_qc_left_at: Mapped[datetime | None]
    first_wash_at: Mapped[datetime | None]
    first_wash_left_at: Mapped[datetime | None]
    first_ready_at: Mapped[datetime | None]

    site: Mapped[Site] = relationship()
    customer: Mapped[Customer | None] = relationship()
    vehicle: Mapped[Vehicle | None] = relationship()
    appointment: Mapped[Appointment | None] = relationship()
    advisor: Mapped[User | None] = relationship()
    ticket: Mapped["Ticket"] = relationship(back_populates="visit", uselist=False)
    events: Mapped[list["VisitEvent"]] = relationship(
        order_by="VisitEvent.id", back_populates="visit", viewonly=True
    )


class Ticket(db.Model):
    """The queue ticket printed at the kiosk. ``token`` is the customer's capability for the
    status page (≥128 random bits); the PIN printed beside the QR code (derived from the token with
    the server secret, see services.checkin.ticket_pin) is the second factor for prices and approvals."""
    __table_args__ = (
        UniqueConstraint("site_id", "day", "prefix", "seq"),
        Index("ix_ticket_site_status", "site_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))          # appointment, walkin
    day: Mapped[date]
    prefix: Mapped[str] = mapped_column(String(4))
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(12))        # e.g. W012
    token: Mapped[str] = mapped_column(String(64), unique=True)
    pin_failures: Mapped[int] = mapped_column(default=0)
    pin_locked_until: Mapped[datetime | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(status_type(TicketStatus), default=TicketStatus.WAITING)
    on_time_appointment: Mapped[bool] = mapped_column(default=False)
    appointment_at: Mapped[datetime | None]
    assigned_advisor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    desk: Mapped[str | None] = mapped_column(String(32))
    call_count: Mapped[int] = mapped_column(default=0)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)  # back of the queue after a late return
    called_at: Mapped[datetime | None]
    served_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    visit: Mapped[Visit] = relationship(back_populates="ticket")
    site: Mapped[Site] = relationship()
    called_by: Mapped[User | None] = relationship(foreign_keys=[called_by_id])
    assigned_advisor: Mapped[User | None] = relationship(foreign_keys=[assigned_advisor_id])


class TicketCounter(db.Model):
    """Last number issued per site, day and prefix. Incremented by one atomic upsert in the same
    transaction as the ticket it numbers, so numbers are gapless and never repeat."""
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class VisitEvent(db.Model):
    """Append-only log of every state change of a visit: who, when, from, to. Reports read it."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_kind: Mapped[str] = mapped_column(String(16))   # customer, staff, system
    action: Mapped[str] = mapped_column(String(32))       # check_in, call, recall, skip, transfer, advance…
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    visit: Mapped[Visit] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


# ---------------------------------------------------------------- advisor intake (reception, walk-around, interview)

class ReadinessCheck(db.Model):
    """An advisor's start-of-day checklist (接待准备): appearance, forms and tools, clean area."""
    __table_args__ = (UniqueConstraint("user_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    day: Mapped[date]
    appearance: Mapped[bool] = mapped_column(default=False)
    forms_tools: Mapped[bool] = mapped_column(default=False)
    clean_area: Mapped[bool] = mapped_column(default=False)
    completed_at: Mapped[datetime | None]


class VehicleDriver(db.Model):
    """Several people may drive (and bring in) one car; the owner is Vehicle.customer."""
    __table_args__ = (UniqueConstraint("vehicle_id", "customer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()


class IntakeForm(db.Model):
    """The vehicle intake form (接车登记表) of one visit, filled during the walk-around."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    cover_seat: Mapped[bool] = mapped_column(default=False)
    cover_wheel: Mapped[bool] = mapped_column(default=False)
    cover_floor: Mapped[bool] = mapped_column(default=False)
    mileage: Mapped[int | None]
    mileage_reason: Mapped[str | None] = mapped_column(Text)   # required when lower than the last visit
    fuel_level: Mapped[str | None] = mapped_column(String(4))  # E, 1/4, 1/2, 3/4, F
    warning_lights: Mapped[str | None] = mapped_column(Text)   # JSON list of codes
    accessories: Mapped[str | None] = mapped_column(Text)      # JSON list of codes present
    valuables: Mapped[str | None] = mapped_column(Text)        # what the customer left, when valuables_left
    # The explicit answer the walk-around needs: None not asked yet, False "none", True items listed.
    valuables_left: Mapped[bool | None]
    licence_received_at: Mapped[datetime | None]               # 行驶证
    licence_received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    booklet_received_at: Mapped[datetime | None]               # 保养手册
    booklet_received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    visit: Mapped[Visit] = relationship(backref=db.backref("intake", uselist=False))
    marks: Mapped[list["DamageMark"]] = relationship(order_by="DamageMark.id", back_populates="intake")
    licence_received_by: Mapped[User | None] = relationship(foreign_keys=[licence_received_by_id])
    booklet_received_by: Mapped[User | None] = relationship(foreign_keys=[booklet_received_by_id])


class DamageMark(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intake_form.id"), index=True)
    zone: Mapped[str] = mapped_column(String(32))     # e.g. front_bumper, left_front_door
    kind: Mapped[str] = mapped_column(String(16))     # scratch, dent, crack, chip, other
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    intake: Mapped[IntakeForm] = relationship(back_populates="marks")
    photos: Mapped[list["Photo"]] = relationship(order_by="Photo.id", back_populates="mark")


class Photo(db.Model):
    """An uploaded picture, stored on disk by content hash with a thumbnail; served only to staff
    of the site or to the holder of the visit's ticket token."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    mark_id: Mapped[int | None] = mapped_column(ForeignKey("damage_mark.id"), index=True)
    additional_work_id: Mapped[int | None] = mapped_column(ForeignKey("additional_work.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    path: Mapped[str] = mapped_column(String(255))          # relative to UPLOAD_DIR
    thumb_path: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    mark: Mapped[DamageMark | None] = relationship(back_populates="photos")


class Signature(db.Model):
    """A customer's signature on a document. Append-only: a changed document needs a new one.
    ``content_hash`` is the SHA-256 of the document as shown when signing."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    document: Mapped[str] = mapped_column(String(32))       # intake (later: repair_order, delivery)
    signer_name: Mapped[str | None] = mapped_column(String(120))
    image_path: Mapped[str] = mapped_column(String(255))
    image_sha256: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    witnessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Concern(db.Model):
    """One customer concern, in the customer's words, with the advisor's notes and decisions."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    note_internal: Mapped[str | None] = mapped_column(Text)
    note_customer: Mapped[str | None] = mapped_column(Text)
    diagnosis: Mapped[str] = mapped_column(String(16), default="clear")    # clear, needs_diagnosis
    proposed_repair: Mapped[str | None] = mapped_column(Text)
    warranty: Mapped[str] = mapped_column(String(16), default="not_covered")  # covered, not_covered, undetermined
    warranty_suggested: Mapped[str | None] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    requests: Mapped[list["ManufacturerRequest"]] = relationship(order_by="ManufacturerRequest.id",
                                                                  back_populates="concern")

    @property
    def open_request(self):
        return next((r for r in reversed(self.requests) if r.status == "pending"), None)

    @property
    def last_request(self):
        return self.requests[-1] if self.requests else None


class ManufacturerRequest(db.Model):
    """A warranty question sent to the manufacturer's service department, and its answer."""
    __table_args__ = (Index("ix_manufacturer_request_site_status", "site_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id"), index=True)
    reference: Mapped[str] = mapped_column(String(64))
    sent_summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, approved, rejected
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    concern: Mapped[Concern] = relationship(back_populates="requests")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


# ---------------------------------------------------------------- catalogues (labour, parts, maintenance)

class LabourOperation(db.Model):
    """A flat-rate labour operation (工时项目): hours × the site's labour rate."""
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    kind: Mapped[str] = mapped_column(String(20), default="mechanical")  # mechanical, electrical, bodywork, paint, diagnosis
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_en if str(locale).startswith("en") else self.name_zh


class LabourRate(db.Model):
    """Labour rate per hour for a kind of work at a site; kind "default" applies otherwise."""
    __table_args__ = (UniqueConstraint("site_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="default")
    rate: Mapped[Decimal] = mapped_column(Numeric(10, 2))


class Part(db.Model):
    """A spare part (备品/配件) with its stock: on hand, and reserved for approved estimates."""
    __table_args__ = (UniqueConstraint("site_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    on_hand: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    reserved: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    lead_days: Mapped[int] = mapped_column(default=2)   # expected days to get it when short
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_en if str(locale).startswith("en") else self.name_zh

    @property
    def available(self) -> Decimal:
        return (self.on_hand or 0) - (self.reserved or 0)


class StockMovement(db.Model):
    """Receipt (入库) or issue (出库) of a part, or a reservation change; append-only."""
    # A booking's hold is the sum of its movements by reference (services/appointment_preparation).
    __table_args__ = (Index("ix_stock_movement_site_reference", "site_id", "reference"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("part.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))       # receipt, issue, reserve, release, adjust
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    reference: Mapped[str | None] = mapped_column(String(64))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    part: Mapped[Part] = relationship()
    user: Mapped[User | None] = relationship()


class MaintenanceItem(db.Model):
    """Scheduled maintenance per model (保养项目): due every N km or M months, whichever first."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    make: Mapped[str | None] = mapped_column(String(60))
    model: Mapped[str | None] = mapped_column(String(60))    # None: every model of the make (or all)
    operation_id: Mapped[int] = mapped_column(ForeignKey("labour_operation.id"))
    part_id: Mapped[int | None] = mapped_column(ForeignKey("part.id"))
    part_quantity: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    every_km: Mapped[int | None]
    every_months: Mapped[int | None]

    operation: Mapped[LabourOperation] = relationship()
    part: Mapped[Part | None] = relationship()


class TechnicianShift(db.Model):
    """A technician on shift on a day: the hours they can take (for the promise time)."""
    __table_args__ = (UniqueConstraint("user_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    day: Mapped[date]
    start: Mapped[str] = mapped_column(String(5), default="08:30")   # local HH:MM
    end: Mapped[str] = mapped_column(String(5), default="17:30")


# ---------------------------------------------------------------- estimate, repair order, approvals

class Estimate(db.Model):
    """The estimate of one visit. Every change after it was shown for approval makes a new
    version; approvals name the version they approve."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(status_type(EstimateStatus), default=EstimateStatus.DRAFT)
    discount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))  # on the customer total
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.13"))
    promised_at: Mapped[datetime | None]       # UTC
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    visit: Mapped[Visit] = relationship(backref=db.backref("estimate", uselist=False))
    lines: Mapped[list["EstimateLine"]] = relationship(order_by="EstimateLine.position, EstimateLine.id",
                                                       back_populates="estimate", cascade="all, delete-orphan")


class EstimateLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    estimate_id: Mapped[int] = mapped_column(ForeignKey("estimate.id"), index=True)
    concern_id: Mapped[int | None] = mapped_column(ForeignKey("concern.id"))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(12))            # labour, part, diagnosis
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("labour_operation.id"))
    part_id: Mapped[int | None] = mapped_column(ForeignKey("part.id"))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))    # hours for labour, pieces for parts
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # labour rate or part price
    discount_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    warranty: Mapped[bool] = mapped_column(default=False)        # customer pays 0, claimed from the maker
    price_after_diagnosis: Mapped[bool] = mapped_column(default=False)
    recommended: Mapped[str | None] = mapped_column(String(16))  # booked, maintenance_due, declined_before
    decision: Mapped[str] = mapped_column(status_type(LineDecision, "decision"), default=LineDecision.PENDING)
    decline_reason: Mapped[str | None] = mapped_column(String(200))
    reserved: Mapped[bool] = mapped_column(default=False)        # parts reserved on approval
    added_in_version: Mapped[int] = mapped_column(default=1)
    # When the customer was first shown this line (UTC) and, for a catalogue part, whether the
    # stock covered it then (备件满足率 in /reports). Written once by estimates.present, never
    # again: NULL on lines shown before it was recorded, which the report leaves out.
    presented_at: Mapped[datetime | None]
    in_stock: Mapped[bool | None]

    estimate: Mapped[Estimate] = relationship(back_populates="lines")
    operation: Mapped[LabourOperation | None] = relationship()
    part: Mapped[Part | None] = relationship()


class RepairOrder(db.Model):
    """The repair order (任务委托书): numbered per site and day, signed by the customer."""
    __table_args__ = (UniqueConstraint("site_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    number: Mapped[str] = mapped_column(String(24))              # RO-20261129-0012
    day: Mapped[date]
    seq: Mapped[int]
    payment_method: Mapped[str | None] = mapped_column(String(16))  # wechat, alipay, card, cash, company
    old_parts: Mapped[str | None] = mapped_column(String(8))        # take, leave
    car_wash: Mapped[bool | None]
    delivery_explained: Mapped[bool] = mapped_column(default=False)
    additional_work_consent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit] = relationship(backref=db.backref("repair_order", uselist=False))


class Approval(db.Model):
    """An append-only record of a customer's decision on an estimate version: what was shown
    (lines and amounts, and their SHA-256), how, by whom, when, from where, with the consent
    text, chained to the previous record of the site by hash."""
    __table_args__ = (UniqueConstraint("estimate_id", "version", "channel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    estimate_id: Mapped[int] = mapped_column(ForeignKey("estimate.id"), index=True)
    version: Mapped[int]
    channel: Mapped[str] = mapped_column(String(16))        # in_shop (signature), remote (status page)
    shown: Mapped[str] = mapped_column(Text)                # canonical JSON of the lines and totals shown
    shown_sha256: Mapped[str] = mapped_column(String(64))
    decisions: Mapped[str] = mapped_column(Text)            # JSON {line_id: approved|declined, reason}
    signer: Mapped[str | None] = mapped_column(String(120))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signature.id"))
    consent_text: Mapped[str] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)


# ---------------------------------------------------------------- workshop: jobs, technicians, QC, board

class Bay(db.Model):
    """A workshop bay (工位) a car can be assigned to."""
    __table_args__ = (UniqueConstraint("site_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)


class Job(db.Model):
    """The workshop's job for a visit: the approved work, done by one technician in one bay."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    bay_id: Mapped[int | None] = mapped_column(ForeignKey("bay.id"))
    status: Mapped[str] = mapped_column(status_type(JobStatus), default=JobStatus.WAITING)
    pause_reason: Mapped[str | None] = mapped_column(String(20))  # waiting_parts, waiting_approval, break, other
    pause_note: Mapped[str | None] = mapped_column(String(200))
    rework_count: Mapped[int] = mapped_column(default=0)
    clocked_seconds: Mapped[int] = mapped_column(default=0)       # closed work periods
    running_since: Mapped[datetime | None]                        # open work period
    stage_since: Mapped[datetime] = mapped_column(default=utcnow)  # for "elapsed in stage" on the board
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_assigned_at: Mapped[datetime | None]       # the report's stage times: dispatched, work started
    first_started_at: Mapped[datetime | None]

    visit: Mapped[Visit] = relationship(backref=db.backref("job", uselist=False))
    technician: Mapped[User | None] = relationship()
    bay: Mapped[Bay | None] = relationship()
    events: Mapped[list["JobEvent"]] = relationship(order_by="JobEvent.id", back_populates="job")


class JobEvent(db.Model):
    """Append-only log of a job: assign, start, pause, resume, finish, qc_pass, qc_fail, wash_done."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    job: Mapped[Job] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()


class AdditionalWork(db.Model):
    """Additional work (增项) a technician found: the advisor prices it as estimate lines, the
    customer approves or declines them like the rest of the estimate."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[str | None] = mapped_column(Text)     # the technician's suggested lines, free text
    status: Mapped[str] = mapped_column(String(16), default="reported")  # reported, priced, approved, declined
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    estimate_version: Mapped[int | None]                     # the version that carries its lines

    reported_by: Mapped[User | None] = relationship()
    photos: Mapped[list["Photo"]] = relationship(order_by="Photo.id", viewonly=True)


class QcCheck(db.Model):
    """A quality inspection of a job: the checklist as ticked, pass or fail with the reason."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    checklist: Mapped[str] = mapped_column(Text)             # JSON {item: true/false}
    result: Mapped[str] = mapped_column(String(8))           # pass, fail
    reason: Mapped[str | None] = mapped_column(Text)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    inspector: Mapped[User | None] = relationship()


# ---------------------------------------------------------------- delivery, settlement, follow-up, complaints

class Delivery(db.Model):
    """The handover of the car (交车): the advisor's checklist with the customer, signed by them.
    The visit is delivered when this is completed and its bill is settled (services/closing.py)."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    car_fetched: Mapped[bool] = mapped_column(default=False)        # brought from the workshop
    exterior_checked: Mapped[bool] = mapped_column(default=False)   # against the intake form's damage map
    belongings_checked: Mapped[bool] = mapped_column(default=False)  # valuables and accessories of the intake
    covers_removed: Mapped[bool] = mapped_column(default=False)     # 三件套
    old_parts_done: Mapped[bool] = mapped_column(default=False)     # returned or left, as the RO says
    work_explained: Mapped[bool] = mapped_column(default=False)     # work done and advice
    notes: Mapped[str | None] = mapped_column(Text)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signature.id"))
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    visit: Mapped[Visit] = relationship(backref=db.backref("delivery", uselist=False))
    signature: Mapped["Signature | None"] = relationship()
    completed_by: Mapped[User | None] = relationship()


class Notification(db.Model):
    """A message to a customer (ready for pickup, …) through a notifier backend: written
    ``pending`` in the transaction that calls for it, sent later by a task (webapp/tasks), and
    kept as the log of what was sent, to whom, by which channel, and whether the backend accepted
    it. A sender first claims the row (``claim_key``/``claimed_at`` set by a conditional UPDATE
    while ``claimed_at`` is NULL), so a retried or duplicated task never sends it twice."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))          # ready, survey, appointment_booked, …
    channel: Mapped[str] = mapped_column(String(16))       # log, email, sms, wechat
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)   # pending, sent, failed, skipped
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")   # sends tried and refused
    claim_key: Mapped[str | None] = mapped_column(String(32))     # the sender holding the row
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class Bill(db.Model):
    """A settlement (结算单) of a visit, or a credit note correcting one. Built from the approved
    estimate lines; immutable once issued: corrections are credit notes (kind credit_note,
    negative amounts, ``original_id`` naming the bill)."""
    __table_args__ = (UniqueConstraint("site_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="invoice")   # invoice, credit_note
    original_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id"))
    number: Mapped[str | None] = mapped_column(String(24))            # JS-20261201-0003 once issued
    status: Mapped[str] = mapped_column(status_type(BillStatus), default=BillStatus.DRAFT)
    labour: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    parts: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    discount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.13"))
    tax: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))   # the customer pays
    warranty_claims: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    reason: Mapped[str | None] = mapped_column(Text)                 # of a credit note
    company_name: Mapped[str | None] = mapped_column(String(120))    # company account (挂账)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]                               # paid in full / on account

    visit: Mapped[Visit] = relationship(backref=db.backref("bills", order_by="Bill.id", viewonly=True))
    original: Mapped["Bill | None"] = relationship(remote_side=[id])
    lines: Mapped[list["BillLine"]] = relationship(order_by="BillLine.position, BillLine.id",
                                                   back_populates="bill", cascade="all, delete-orphan")
    payments: Mapped[list["Payment"]] = relationship(order_by="Payment.id", back_populates="bill")
    created_by: Mapped[User | None] = relationship()


class BillLine(db.Model):
    """A line of a bill, copied from an approved estimate line (or a credit note's line)."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id"), index=True)
    estimate_line_id: Mapped[int | None] = mapped_column(ForeignKey("estimate_line.id"))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(12))           # labour, part, diagnosis
    description: Mapped[str] = mapped_column(String(200))
    part_id: Mapped[int | None] = mapped_column(ForeignKey("part.id"))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    discount_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    warranty: Mapped[bool] = mapped_column(default=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))   # what the customer pays for it, before tax
    claim: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))  # warranty claim

    bill: Mapped[Bill] = relationship(back_populates="lines")
    estimate_line: Mapped[EstimateLine | None] = relationship()
    part: Mapped[Part | None] = relationship()

    @property
    def operation(self):
        """The catalogue operation of the estimate line this bill line was copied from."""
        return self.estimate_line.operation if self.estimate_line is not None else None


class BillDifference(db.Model):
    """A difference between what was approved and what the parts clerk issued for the visit,
    flagged to the advisor. Never charged silently: the advisor resolves each one (keep the
    approved quantity, or charge what was issued because the customer agreed) before issuing."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("part.id"))
    approved_quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    issued_quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    resolution: Mapped[str | None] = mapped_column(String(16))   # keep_approved, charge_issued
    note: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None]

    bill: Mapped[Bill] = relationship(backref=db.backref("differences", order_by="BillDifference.id"))
    part: Mapped[Part] = relationship()


class Payment(db.Model):
    """A payment recorded by the cashier (the app moves no money). Append-only; a refund is a
    negative payment on a credit note."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))             # wechat, alipay, card, cash, company
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))     # applied to the bill
    tendered: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # cash handed over
    change: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))    # cash given back
    reference: Mapped[str | None] = mapped_column(String(64))   # transaction / voucher number
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    bill: Mapped[Bill] = relationship(back_populates="payments")
    received_by: Mapped[User | None] = relationship()


class SurveyResponse(db.Model):
    """The customer's rating and answers: a one-tap rating at pickup on the status page, the short
    survey after delivery (status page), or the answers taken on a follow-up call."""
    __table_args__ = (UniqueConstraint("visit_id", "channel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))       # pickup, survey, call
    rating: Mapped[int | None]                              # 1–5
    answers: Mapped[str | None] = mapped_column(Text)       # JSON {question: answer}
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUp(db.Model):
    """The follow-up call (回访) of a delivered visit: due some days after delivery (site setting),
    retried after no answer, closed when the customer was reached (or the number was wrong)."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    due_at: Mapped[datetime] = mapped_column(index=True)      # UTC; moved on after "no answer"
    status: Mapped[str] = mapped_column(status_type(FollowUpStatus), default=FollowUpStatus.DUE)
    attempts: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None]
    # When the follow-up screens were last told this call is due (webapp/tasks/periodic.py):
    # before due_at (or never) means the call became due since and is announced again.
    reminded_at: Mapped[datetime | None]

    visit: Mapped[Visit] = relationship(backref=db.backref("follow_up", uselist=False))
    calls: Mapped[list["FollowUpCall"]] = relationship(order_by="FollowUpCall.id", back_populates="follow_up")


class FollowUpCall(db.Model):
    """One call attempt and its outcome; append-only."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))      # reached, no_answer, wrong_number
    comment: Mapped[str | None] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    follow_up: Mapped[FollowUp] = relationship(back_populates="calls")
    staff: Mapped[User | None] = relationship()


class Complaint(db.Model):
    """A complaint case (投诉): opened by a low rating, on a call, or by staff; has an owner and a
    due date, and is escalated to the manager when overdue."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))            # rating, call, staff
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(status_type(ComplaintStatus), default=ComplaintStatus.OPEN, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    due_at: Mapped[datetime]
    escalated_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit | None] = relationship(backref=db.backref("complaints", order_by="Complaint.id",
                                                                  viewonly=True))
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    notes: Mapped[list["ComplaintNote"]] = relationship(order_by="ComplaintNote.id", back_populates="complaint")


class ComplaintNote(db.Model):
    """A note on a complaint case; append-only."""
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


# The reports (webapp/reports) read a period of a site by these timestamps: the site leads, so a
# month of one shop is a range scan however many years the table holds.
REPORT_INDEXES = (
    Index("ix_visit_site_delivered", Visit.site_id, Visit.delivered_at),
    Index("ix_visit_site_created", Visit.site_id, Visit.created_at),
    Index("ix_bill_site_issued", Bill.site_id, Bill.issued_at),
    Index("ix_payment_site_at", Payment.site_id, Payment.at),
    Index("ix_survey_response_site_at", SurveyResponse.site_id, SurveyResponse.at),
    Index("ix_complaint_site_created", Complaint.site_id, Complaint.created_at),
    Index("ix_qc_check_site_at", QcCheck.site_id, QcCheck.at),
    Index("ix_appointment_site_scheduled", Appointment.site_id, Appointment.scheduled_at),
    Index("ix_technician_shift_site_day", TechnicianShift.site_id, TechnicianShift.day),
    Index("ix_estimate_line_site_presented", EstimateLine.site_id, EstimateLine.presented_at),
)



# Fragment search indexes (FTS5 trigram on SQLite, pg_trgm on PostgreSQL) made with their tables.
from .search_index import install as _install_search_indexes  # noqa: E402

_install_search_indexes(db.metadata)
