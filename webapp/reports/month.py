"""The figures of a period for one or more sites: ``build(site_ids, start, end)``.

A fixed number of queries whatever the number of visits (two passes: the period and the one before
it), each led by the site and a timestamp indexed for it (models.REPORT_INDEXES). Per-visit
durations (medians need every value) come back as one narrow row per visit delivered in the period;
everything else is summed by the database."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import JSON, and_, case, cast, exists, func, or_, select, type_coerce
from sqlalchemy.orm import aliased

from .. import followup as survey_rules
from .. import kpi
from ..extensions import db
from ..models import (Appointment, Bill, BillLine, Complaint, Estimate, EstimateLine, Job, Payment, QcCheck, Site,
                      SurveyResponse, TechnicianShift, Ticket, User, Visit)
from .period import Period

COMEBACK_DAYS = 30
SLOWEST = 5
ZERO = Decimal("0")


@dataclass
class Durations:
    """Seconds per visit of one stage, for a median and a 90th percentile."""
    values: list = field(default_factory=list)

    def add(self, seconds):
        if seconds is not None and seconds >= 0:
            self.values.append(seconds)

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def median(self):
        return kpi.median(self.values)

    @property
    def p90(self):
        return kpi.p90(self.values)


@dataclass
class Figures:
    """Everything the report shows for one period."""
    period: Period
    delivered: int = 0
    promised: int = 0                  # delivered visits that had a promise time
    on_time: int = 0
    same_day: int = 0
    stages: dict = field(default_factory=lambda: defaultdict(Durations))           # stage -> Durations
    advisor_stages: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(Durations)))
    technician_repair: dict = field(default_factory=lambda: defaultdict(Durations))
    slowest: list = field(default_factory=list)        # (seconds in shop, visit row)
    attendance_rows: list = field(default_factory=list)
    by_day: dict = field(default_factory=dict)         # local day -> [delivered, on time]
    wait_buckets: list = field(default_factory=list)   # counts per WAIT_BUCKETS
    # productivity per technician: clocked seconds, sold hours, rostered hours
    clocked: dict = field(default_factory=lambda: defaultdict(int))
    sold_hours: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))
    roster_hours: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))
    hours_presented: Decimal = ZERO
    hours_sold: Decimal = ZERO
    extra_decided: int = 0
    extra_approved: int = 0
    visits_in: int = 0
    visits_from_appointment: int = 0
    appointments_due: int = 0
    no_shows: int = 0
    ratings: dict = field(default_factory=dict)        # channel -> (answers, rated, average)
    # question -> [answered, yes] over the survey after delivery and the follow-up call together
    survey_answers: dict = field(default_factory=lambda: {q: [0, 0] for q in survey_rules.QUESTIONS})
    parts_lines: int = 0               # part lines first shown in the period with their stock recorded
    parts_in_stock: int = 0            # of those, covered by the stock then
    complaints_opened: int = 0
    complaints_due: int = 0                # opened in the period, due by now or resolved
    complaints_in_time: int = 0
    comebacks: int = 0
    qc_checks: int = 0
    qc_failed: int = 0
    invoices: int = 0
    labour: Decimal = ZERO
    parts: Decimal = ZERO
    tax: Decimal = ZERO
    revenue: Decimal = ZERO
    credit_notes: int = 0
    credit_total: Decimal = ZERO
    payments: dict = field(default_factory=dict)       # method -> (count, amount)
    items: list = field(default_factory=list)          # (kind, line kind, description, count, quantity, revenue)
    names: dict = field(default_factory=dict)          # user id -> display name
    # per advisor: delivered, with a promise, on time, same day (the advisor's own "my day")
    advisor_counts: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0]))

    # ------------------------------------------------------------ the figures as rates

    @property
    def on_time_rate(self):
        return kpi.rate(self.on_time, self.promised)

    @property
    def same_day_rate(self):
        return kpi.rate(self.same_day, self.delivered)

    @property
    def appointment_rate(self):
        return kpi.rate(self.visits_from_appointment, self.visits_in)

    @property
    def no_show_rate(self):
        return kpi.rate(self.no_shows, self.appointments_due)

    @property
    def approval_rate(self):
        return kpi.rate(self.extra_approved, self.extra_decided)

    @property
    def comeback_rate(self):
        return kpi.rate(self.comebacks, self.delivered)

    @property
    def qc_rework_rate(self):
        return kpi.rate(self.qc_failed, self.qc_checks)

    @property
    def parts_fill_rate(self):
        return kpi.rate(self.parts_in_stock, self.parts_lines)

    def survey_yes_rate(self, question: str):
        answered, yes = self.survey_answers.get(question, (0, 0))
        return kpi.rate(yes, answered)

    @property
    def complaints_in_time_rate(self):
        return kpi.rate(self.complaints_in_time, self.complaints_due)

    @property
    def clocked_hours_total(self) -> Decimal:
        return _hours(sum(self.clocked.values()))

    @property
    def utilisation_rate(self):
        return kpi.rate(self.clocked_hours_total, sum(self.roster_hours.values(), ZERO))

    @property
    def efficiency_rate(self):
        return kpi.rate(sum(self.sold_hours.values(), ZERO), self.clocked_hours_total)

    @property
    def average_ro(self):
        return kpi.average(self.revenue, self.invoices)

    def technicians(self) -> list[int]:
        ids = set(self.clocked) | set(self.sold_hours) | set(self.roster_hours)
        return sorted((i for i in ids if i is not None), key=lambda i: self.names.get(i, ""))


@dataclass
class Report:
    site_ids: tuple
    current: Figures
    previous: Figures
    targets: dict


# Waiting in the lobby (ticket → called), minutes: the distribution's bars.
WAIT_BUCKETS = ((0, 5), (5, 10), (10, 15), (15, 30), (30, None))

STAGES = ("wait", "to_desk", "in_shop", "repair")


def _hours(seconds) -> Decimal:
    return (Decimal(seconds or 0) / 3600).quantize(Decimal("0.01"))


def _seconds(a: datetime | None, b: datetime | None):
    if a is None or b is None:
        return None
    return int((b - a).total_seconds())


def _minutes_of(hhmm: str | None) -> int | None:
    try:
        h, m = (hhmm or "").split(":")
        return int(h) * 60 + int(m)
    except ValueError:
        return None


# ---------------------------------------------------------------- the queries of one period

def _visits_delivered(f: Figures, site_ids, lo, hi):
    rows = db.session.execute(
        select(Visit.id, Visit.plate, Visit.site_id, Visit.advisor_id, Visit.reason, Visit.created_at,
               Visit.delivered_at, Estimate.promised_at, Ticket.issued_at, Ticket.called_at, Ticket.served_at,
               Job.technician_id, Job.clocked_seconds)
        .outerjoin(Estimate, Estimate.visit_id == Visit.id)
        .outerjoin(Ticket, Ticket.visit_id == Visit.id)
        .outerjoin(Job, Job.visit_id == Visit.id)
        .where(Visit.site_id.in_(site_ids), Visit.delivered_at >= lo, Visit.delivered_at < hi)
        .order_by(Visit.delivered_at, Visit.id)).all()
    # One offset for the period (Period.utc_offset_minutes): a zone lookup per row would cost more
    # than everything else done with the row.
    shift = timedelta(minutes=f.period.utc_offset_minutes)
    f.by_day = {day: [0, 0] for day in f.period.each_day()}
    f.wait_buckets = [0] * len(WAIT_BUCKETS)
    for r in rows:
        f.delivered += 1
        out_day = (r.delivered_at + shift).date()
        day = f.by_day.setdefault(out_day, [0, 0])
        day[0] += 1
        mine = f.advisor_counts[r.advisor_id]
        mine[0] += 1
        if r.promised_at is not None:
            f.promised += 1
            mine[1] += 1
            if r.delivered_at <= r.promised_at:
                f.on_time += 1
                mine[2] += 1
                day[1] += 1
        if (r.created_at + shift).date() == out_day:
            f.same_day += 1
            mine[3] += 1
        wait = _seconds(r.issued_at, r.called_at)
        in_shop = _seconds(r.created_at, r.delivered_at)
        for stage, seconds in (("wait", wait), ("to_desk", _seconds(r.called_at, r.served_at)),
                               ("in_shop", in_shop), ("repair", r.clocked_seconds if r.technician_id else None)):
            f.stages[stage].add(seconds)
            if stage != "repair" and r.advisor_id is not None:
                f.advisor_stages[r.advisor_id][stage].add(seconds)
        if r.technician_id is not None:
            f.technician_repair[r.technician_id].add(r.clocked_seconds)
            f.clocked[r.technician_id] += r.clocked_seconds or 0
        if wait is not None and wait >= 0:
            minutes = wait / 60
            for i, (low, high) in enumerate(WAIT_BUCKETS):
                if minutes >= low and (high is None or minutes < high):
                    f.wait_buckets[i] += 1
                    break
        f.attendance_rows.append(r)
    f.slowest = sorted(((_seconds(r.created_at, r.delivered_at) or 0, r) for r in rows),
                       key=lambda pair: (-pair[0], pair[1].id))[:SLOWEST]


def _estimate_lines(f: Figures, site_ids, lo, hi):
    """Hours presented and sold (approved) of the visits delivered, sold hours per technician, and
    the customers' answers on recommended and additional lines."""
    extra = or_(EstimateLine.recommended.is_not(None), EstimateLine.added_in_version > 1)
    rows = db.session.execute(
        select(Job.technician_id, EstimateLine.kind, EstimateLine.decision,
               case((extra, 1), else_=0).label("extra"),
               func.count(EstimateLine.id), func.coalesce(func.sum(EstimateLine.quantity), 0))
        .join(Estimate, Estimate.id == EstimateLine.estimate_id)
        .join(Visit, Visit.id == Estimate.visit_id)
        .outerjoin(Job, Job.visit_id == Visit.id)
        .where(Visit.site_id.in_(site_ids), Visit.delivered_at >= lo, Visit.delivered_at < hi)
        .group_by(Job.technician_id, EstimateLine.kind, EstimateLine.decision, "extra")).all()
    for tech, kind, decision, is_extra, count, quantity in rows:
        quantity = Decimal(quantity or 0)
        if kind == "labour":
            f.hours_presented += quantity
            if decision == "approved":
                f.hours_sold += quantity
                f.sold_hours[tech] += quantity
        if is_extra and decision in ("approved", "declined"):
            f.extra_decided += count
            if decision == "approved":
                f.extra_approved += count


def _roster(f: Figures, site_ids, sites):
    """Rostered hours per technician: each shift less the site's break it spans."""
    rows = db.session.execute(
        select(TechnicianShift.user_id, TechnicianShift.site_id, TechnicianShift.start, TechnicianShift.end)
        .where(TechnicianShift.site_id.in_(site_ids), TechnicianShift.day >= f.period.start,
               TechnicianShift.day <= f.period.end)).all()
    for user_id, site_id, start, end in rows:
        a, b = _minutes_of(start), _minutes_of(end)
        if a is None or b is None or b <= a:
            continue
        minutes = b - a
        site = sites.get(site_id)
        if site is not None:
            ba, bb = _minutes_of(site.break_start), _minutes_of(site.break_end)
            if ba is not None and bb is not None:
                minutes -= max(0, min(b, bb) - max(a, ba))
        f.roster_hours[user_id] += (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def _appointments(f: Figures, site_ids, lo, hi):
    f.visits_in, f.visits_from_appointment = db.session.execute(
        select(func.count(Visit.id), func.count(Visit.appointment_id))
        .where(Visit.site_id.in_(site_ids), Visit.created_at >= lo, Visit.created_at < hi)).one()
    f.appointments_due, f.no_shows = db.session.execute(
        select(func.count(Appointment.id),
               func.coalesce(func.sum(case((Appointment.status == "no_show", 1), else_=0)), 0))
        .where(Appointment.site_id.in_(site_ids), Appointment.scheduled_at >= lo, Appointment.scheduled_at < hi,
               Appointment.status != "cancelled")).one()


def _csi(f: Figures, site_ids, lo, hi, now):
    for channel, answers, rated, avg in db.session.execute(
            select(SurveyResponse.channel, func.count(SurveyResponse.id), func.count(SurveyResponse.rating),
                   func.avg(SurveyResponse.rating))
            .where(SurveyResponse.site_id.in_(site_ids), SurveyResponse.at >= lo, SurveyResponse.at < hi)
            .group_by(SurveyResponse.channel)):
        f.ratings[channel] = (answers, rated,
                              None if avg is None else Decimal(str(avg)).quantize(Decimal("0.01")))
    # A case counts once it is due (or resolved): an open case not yet due is neither in time nor late.
    counted = or_(Complaint.resolved_at.is_not(None), Complaint.due_at <= now)
    in_time = and_(Complaint.resolved_at.is_not(None), Complaint.resolved_at <= Complaint.due_at)
    f.complaints_opened, f.complaints_due, f.complaints_in_time = db.session.execute(
        select(func.count(Complaint.id), func.coalesce(func.sum(case((counted, 1), else_=0)), 0),
               func.coalesce(func.sum(case((in_time, 1), else_=0)), 0))
        .where(Complaint.site_id.in_(site_ids), Complaint.created_at >= lo, Complaint.created_at < hi)).one()
    f.qc_checks, f.qc_failed = db.session.execute(
        select(func.count(QcCheck.id), func.coalesce(func.sum(case((QcCheck.result == "fail", 1), else_=0)), 0))
        .where(QcCheck.site_id.in_(site_ids), QcCheck.at >= lo, QcCheck.at < hi)).one()


def _answer_text(question: str):
    """One answer of SurveyResponse.answers (a JSON object kept as text) as text, in SQL: SQLite's
    JSON functions read the text as it is, PostgreSQL casts it to json first."""
    dialect = db.session.get_bind().dialect.name
    doc = (cast(SurveyResponse.answers, JSON) if dialect == "postgresql"
           else type_coerce(SurveyResponse.answers, JSON))
    return doc[question].as_string()


def _survey_answers(f: Figures, site_ids, lo, hi):
    """Per question of the short survey (webapp/followup.QUESTIONS, asked on the status page after
    delivery and on the follow-up call): how many answered it and how many said yes, counted by the
    database (one row; a visit answering on the page and on the call counts in both). Dated by the
    answer (SurveyResponse.at), like the ratings."""
    columns = []
    for q in survey_rules.QUESTIONS:
        text = _answer_text(q)
        columns += [func.count(text), func.coalesce(func.sum(case((text == "yes", 1), else_=0)), 0)]
    row = db.session.execute(
        select(*columns).where(SurveyResponse.site_id.in_(site_ids), SurveyResponse.channel.in_(("survey", "call")),
                               SurveyResponse.answers.is_not(None), SurveyResponse.at >= lo,
                               SurveyResponse.at < hi)).one()
    for i, q in enumerate(survey_rules.QUESTIONS):
        f.survey_answers[q] = [int(row[2 * i] or 0), int(row[2 * i + 1] or 0)]


def _parts_fill(f: Figures, site_ids, lo, hi):
    """备件满足率: catalogue part lines first shown to a customer in the period (EstimateLine.
    presented_at: the first estimate's lines, or a later version's additional work, when shown),
    and those the stock covered at that moment (in_stock, recorded by estimates.present). Lines
    shown before it was recorded (NULL) are left out."""
    f.parts_lines, f.parts_in_stock = db.session.execute(
        select(func.count(EstimateLine.id),
               func.coalesce(func.sum(case((EstimateLine.in_stock.is_(True), 1), else_=0)), 0))
        .where(EstimateLine.site_id.in_(site_ids), EstimateLine.presented_at >= lo, EstimateLine.presented_at < hi,
               EstimateLine.in_stock.is_not(None))).one()


def _comebacks(f: Figures, site_ids, lo, hi):
    """Visits delivered in the period with an approved operation the same vehicle had approved on a
    visit delivered in the 30 days before this one came in (返修率)."""
    earlier_visit, earlier_est, earlier_line = aliased(Visit), aliased(Estimate), aliased(EstimateLine)
    repeated = (select(earlier_line.id)
                .join(earlier_est, earlier_est.id == earlier_line.estimate_id)
                .join(earlier_visit, earlier_visit.id == earlier_est.visit_id)
                .where(earlier_visit.site_id == Visit.site_id, earlier_visit.vehicle_id == Visit.vehicle_id,
                       earlier_visit.id != Visit.id, earlier_visit.delivered_at <= Visit.created_at,
                       earlier_visit.delivered_at >= Visit.created_at - timedelta(days=COMEBACK_DAYS),
                       earlier_line.operation_id == EstimateLine.operation_id,
                       earlier_line.decision == "approved"))
    f.comebacks = db.session.scalar(
        select(func.count(func.distinct(Visit.id)))
        .join(Estimate, Estimate.visit_id == Visit.id)
        .join(EstimateLine, EstimateLine.estimate_id == Estimate.id)
        .where(Visit.site_id.in_(site_ids), Visit.delivered_at >= lo, Visit.delivered_at < hi,
               Visit.vehicle_id.is_not(None), EstimateLine.operation_id.is_not(None),
               EstimateLine.decision == "approved", exists(repeated))) or 0


SETTLED = ("issued", "paid", "company")


def _sales(f: Figures, site_ids, lo, hi):
    for kind, count, labour, parts, tax, total in db.session.execute(
            select(Bill.kind, func.count(Bill.id), func.coalesce(func.sum(Bill.labour), 0),
                   func.coalesce(func.sum(Bill.parts), 0), func.coalesce(func.sum(Bill.tax), 0),
                   func.coalesce(func.sum(Bill.total), 0))
            .where(Bill.site_id.in_(site_ids), Bill.issued_at >= lo, Bill.issued_at < hi, Bill.status.in_(SETTLED))
            .group_by(Bill.kind)):
        if kind == "credit_note":
            f.credit_notes, f.credit_total = count, Decimal(total)
        else:
            f.invoices, f.labour, f.parts = count, Decimal(labour), Decimal(parts)
            f.tax, f.revenue = Decimal(tax), Decimal(total)
    for method, count, amount in db.session.execute(
            select(Payment.method, func.count(Payment.id), func.coalesce(func.sum(Payment.amount), 0))
            .where(Payment.site_id.in_(site_ids), Payment.at >= lo, Payment.at < hi)
            .group_by(Payment.method).order_by(Payment.method)):
        f.payments[method] = (count, Decimal(amount))


def _items(f: Figures, site_ids, lo, hi):
    """Operations and parts of the invoices of the period by kind of work: warranty lines (paid by
    the maker's claim), maintenance visits, everything else repair."""
    work = case((BillLine.warranty.is_(True), "warranty"), (Visit.reason == "maintenance", "maintenance"),
                else_="repair").label("work")
    rows = db.session.execute(
        select(work, BillLine.kind, BillLine.description, func.count(BillLine.id),
               func.coalesce(func.sum(BillLine.quantity), 0),
               func.coalesce(func.sum(BillLine.amount + BillLine.claim), 0))
        .join(Bill, Bill.id == BillLine.bill_id)
        .join(Visit, Visit.id == Bill.visit_id)
        .where(Bill.site_id.in_(site_ids), Bill.issued_at >= lo, Bill.issued_at < hi, Bill.status.in_(SETTLED),
               Bill.kind == "invoice")
        .group_by(work, BillLine.kind, BillLine.description)).all()
    f.items = sorted(((w, k, d, c, Decimal(q), Decimal(a)) for w, k, d, c, q, a in rows),
                     key=lambda r: (r[0], r[1], -r[5], r[2]))


def _names(f: Figures):
    ids = set(f.advisor_stages) | set(f.technicians()) | {r.advisor_id for r in f.attendance_rows}
    ids.discard(None)
    # Asked even when empty: the report's query count stays the same whatever the period holds.
    f.names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def figures(site_ids, period: Period, sites: dict, now: datetime) -> Figures:
    f = Figures(period)
    lo, hi = period.bounds
    _visits_delivered(f, site_ids, lo, hi)
    _estimate_lines(f, site_ids, lo, hi)
    _roster(f, site_ids, sites)
    _appointments(f, site_ids, lo, hi)
    _csi(f, site_ids, lo, hi, now)
    _survey_answers(f, site_ids, lo, hi)
    _parts_fill(f, site_ids, lo, hi)
    _comebacks(f, site_ids, lo, hi)
    _sales(f, site_ids, lo, hi)
    _items(f, site_ids, lo, hi)
    _names(f)
    return f


def build(site_ids, start: date, end: date, tz: str | None = None, now: datetime | None = None) -> Report:
    """The report of local days [start, end] for ``site_ids`` and the period of the same length
    before it. The sites' time zone is the first site's (a dealer group's shops share one)."""
    from ..timeutil import utcnow
    site_ids = tuple(site_ids)
    sites = {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(site_ids)))}
    first = sites[min(sites)] if sites else None
    tz = tz or (first.timezone if first else "Asia/Shanghai")
    period = Period(start, end, tz)
    now = now or utcnow()
    targets = ({key: getattr(first, f"target_{key}") for key in kpi.DEFAULT_TARGETS} if first
               else dict(kpi.DEFAULT_TARGETS))
    return Report(site_ids, figures(site_ids, period, sites, now), figures(site_ids, period.previous(), sites, now),
                  targets)
