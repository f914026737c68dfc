"""The figures of a period for one or more sites: ``build(site_ids, start, end)``.

A fixed number of queries whatever the number of visits (two passes: the period and the one before
it), each led by the site and a timestamp indexed for it (models.REPORT_INDEXES). Everything is
summed by the database: the stage times of the visits delivered come back as a histogram of minutes
(to the nearest) per stage and advisor or technician (a few hundred rows for a month of a big shop, not one
row per visit), and medians and 90th percentiles are read off it (kpi.percentile_of_counts), so
the report's stage times are exact to the minute they are shown in."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import JSON, and_, case, cast, exists, func, literal_column, null, or_, select, type_coerce, union_all
from sqlalchemy.orm import aliased

from .. import followup as survey_rules
from .. import kpi
from ..extensions import db
from ..models import (Appointment, Bill, BillLine, Complaint, Estimate, EstimateLine, Job, Payment, QcCheck, Site,
                      SurveyResponse, TechnicianShift, Ticket, User, Visit)
from .period import Period
from .sqltime import epoch_seconds, minutes_of, seconds_between

COMEBACK_DAYS = 30
SLOWEST = 5
ATTENDANCE_ROWS = 100      # cars in and out on the page; the CSV and the workbook hold them all
ZERO = Decimal("0")


@dataclass
class Durations:
    """One stage's times as a histogram of whole minutes (minute -> visits), for a median and a
    90th percentile; both are given in seconds (whole minutes × 60) like every duration here."""
    minutes: dict = field(default_factory=lambda: defaultdict(int))

    def add_minutes(self, minute: int, visits: int = 1):
        self.minutes[int(minute)] += visits

    def add(self, seconds):
        """One duration, to the nearest minute as the database buckets them (sqltime.minutes_of)."""
        if seconds is not None and seconds >= 0:
            self.add_minutes((int(seconds) + 30) // 60)

    @property
    def count(self) -> int:
        return sum(self.minutes.values())

    def _at(self, p):
        minute = kpi.percentile_of_counts(self.minutes, p)
        return None if minute is None else minute * 60

    @property
    def median(self):
        return self._at(50)

    @property
    def p90(self):
        return self._at(90)


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
    technician_stages: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(Durations)))
    slowest: list = field(default_factory=list)        # (seconds in shop, visit row with every stage's seconds)
    attendance_rows: list = field(default_factory=list)   # the first ATTENDANCE_ROWS of ``delivered``
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

# The stages of a visit delivered, in the order a car goes through them, then its whole time in the
# shop. Each runs from the FIRST time the visit reached one milestone to the first time it reached
# the next (the first_*_at columns, the same instants as the first visit_event / job_event of each
# kind), so a QC failure (QC -> repair -> QC) leaves "qc" as the first inspection (entered QC ->
# first left it) and the rework shows in the repair's clocked time, the time in the shop and the QC
# rework rate, not twice in a stage. See _stage_seconds for each stage's two milestones.
STAGES = ("wait", "to_desk", "reception", "decision", "dispatch", "start", "repair", "qc", "wash", "pickup",
          "in_shop")
# Whose stage it is in the per-person tables: the technician's are timed per technician, the rest per advisor.
TECHNICIAN_STAGES = ("start", "repair")
ADVISOR_STAGES = ("wait", "to_desk", "reception", "decision", "pickup", "in_shop")


def _hours(seconds) -> Decimal:
    return (Decimal(seconds or 0) / 3600).quantize(Decimal("0.01"))


def _minutes_of(hhmm: str | None) -> int | None:
    try:
        h, m = (hhmm or "").split(":")
        return int(h) * 60 + int(m)
    except ValueError:
        return None


# ---------------------------------------------------------------- the queries of one period

def _delivered_in(visit, site_ids, lo, hi):
    return and_(visit.site_id.in_(site_ids), visit.delivered_at >= lo, visit.delivered_at < hi)


def _stage_seconds(visits, offset_minutes: int | None = None):
    """One row per visit that ``visits`` (a condition on Visit) picks: who served it and the whole
    seconds of each stage (NULL where the visit skipped the stage). The milestones, each the FIRST
    time the visit reached it (Visit.first_*_at and Job.first_*_at, stamped as the visit moves:
    workflow.milestones), so a rework leaves the first inspection as the QC stage:

    wait       ticket issued -> called            to_desk   called -> reception started (ticket)
    reception  reception -> estimate started (walk-around and interview)
    decision   estimate presented -> decided (authorisation -> dispatch/repair/ready)
    dispatch   decided -> job assigned            start     assigned -> work started
    repair     the job's clocked seconds          qc        entered QC -> left it
    wash       entered wash -> left it            pickup    ready -> delivered
    in_shop    visit created -> delivered

    With ``offset_minutes`` (the period's UTC offset) the row also holds the delivery facts the
    counts need: the local day out (days since 1970-01-01), whether the visit had a promise, was
    delivered by it, came in that same day, and its lobby wait's bucket (WAIT_BUCKETS)."""
    e = epoch_seconds
    called, delivered, decided = e(Ticket.called_at), e(Visit.delivered_at), e(Visit.first_decided_at)
    assigned = e(Job.first_assigned_at)
    seconds = {
        "wait": called - e(Ticket.issued_at),
        "to_desk": e(Ticket.served_at) - called,
        "reception": e(Visit.first_estimate_at) - e(Visit.first_reception_at),
        "decision": decided - e(Visit.first_presented_at),
        "dispatch": assigned - decided,
        "start": e(Job.first_started_at) - assigned,
        "repair": case((Job.technician_id.is_not(None), Job.clocked_seconds)),
        "qc": e(Visit.first_qc_left_at) - e(Visit.first_qc_at),
        "wash": e(Visit.first_wash_left_at) - e(Visit.first_wash_at),
        "pickup": delivered - e(Visit.first_ready_at),
        "in_shop": delivered - e(Visit.created_at),
    }
    facts = []
    if offset_minutes is not None:
        shift = literal_column(str(int(offset_minutes) * 60))
        out_day = ((delivered + shift).self_group().op("/")(literal_column("86400"))).label("out_day")
        in_day = (e(Visit.created_at) + shift).self_group().op("/")(literal_column("86400"))
        flag = lambda condition: case((condition, 1), else_=0)  # noqa: E731
        wait = seconds["wait"]
        bucket = case(*((wait < high * 60, i) for i, (_low, high) in enumerate(WAIT_BUCKETS) if high is not None),
                      else_=len(WAIT_BUCKETS) - 1)
        facts = [out_day, flag(in_day == out_day).label("same_day"),
                 flag(Estimate.promised_at.is_not(None)).label("promised"),
                 flag(and_(Estimate.promised_at.is_not(None), Visit.delivered_at <= Estimate.promised_at)).label("on_time"),
                 case((wait >= 0, bucket)).label("wait_bucket")]
    query = (select(Visit.id, Visit.plate, Visit.advisor_id, Job.technician_id, Visit.created_at, Visit.delivered_at,
                    *(expr.label(stage) for stage, expr in seconds.items()), *facts)
             .select_from(Visit)
             .outerjoin(Ticket, Ticket.visit_id == Visit.id)
             .outerjoin(Job, Job.visit_id == Visit.id))
    if facts:
        query = query.outerjoin(Estimate, Estimate.visit_id == Visit.id)
    return query.where(visits)


# The delivery counts' rows in the stage histogram's statement (their "stage" numbers, past the stages').
DAY_ROWS, ON_TIME_ROWS, WAIT_ROWS = 100, 101, 102
EPOCH = date(1970, 1, 1)


def _stage_histogram(f: Figures, site_ids, lo, hi):
    """Every stage's minutes counted by the database: (stage, advisor or technician, minute) ->
    visits, and the seconds summed (the technicians' clocked time is the repair stage's sum); in
    the same statement, over the same per-visit rows, the delivery counts per advisor and local day
    and the lobby waits per bucket (one pass over the period's visits instead of two)."""
    # MATERIALIZED: the per-visit row (its joins and date arithmetic) is computed once and then
    # grouped once per stage (faster on SQLite than fanning each row out to eleven).
    per_visit = (_stage_seconds(_delivered_in(Visit, site_ids, lo, hi), f.period.utc_offset_minutes)
                 .cte("per_visit").prefix_with("MATERIALIZED"))
    c = per_visit.c
    number = lambda n: literal_column(str(n)).label("stage")  # noqa: E731
    members = []
    for n, stage in enumerate(STAGES):
        who = c.technician_id if stage in TECHNICIAN_STAGES else c.advisor_id
        minute = minutes_of(c[stage])
        members.append(select(number(n), who.label("who"), minute.label("minute"),
                              func.count().label("visits"), func.sum(c[stage]).label("seconds"))
                       .where(c[stage] >= 0).group_by(who, minute))
    # delivered and with a promise, on time and same day (per advisor and day), waits per bucket
    members.append(select(number(DAY_ROWS), c.advisor_id, c.out_day, func.count(), func.sum(c.promised))
                   .group_by(c.advisor_id, c.out_day))
    members.append(select(number(ON_TIME_ROWS), c.advisor_id, c.out_day, func.sum(c.on_time), func.sum(c.same_day))
                   .group_by(c.advisor_id, c.out_day))
    members.append(select(number(WAIT_ROWS), null(), c.wait_bucket, func.count(), literal_column("0"))
                   .where(c.wait_bucket.is_not(None)).group_by(c.wait_bucket))
    f.by_day = {day: [0, 0] for day in f.period.each_day()}
    f.wait_buckets = [0] * len(WAIT_BUCKETS)
    for row_kind, who, minute, visits, seconds in db.session.execute(union_all(*members)).all():
        row_kind = int(row_kind)
        if row_kind >= DAY_ROWS:
            _delivery_row(f, row_kind, who, int(minute), int(visits or 0), int(seconds or 0))
            continue
        stage = STAGES[row_kind]
        f.stages[stage].add_minutes(minute, visits)
        if who is None:
            continue
        if stage in TECHNICIAN_STAGES:
            f.technician_stages[who][stage].add_minutes(minute, visits)
            if stage == "repair":
                f.clocked[who] += int(seconds or 0)
        elif stage in ADVISOR_STAGES:
            f.advisor_stages[who][stage].add_minutes(minute, visits)


def _delivery_row(f: Figures, kind, advisor_id, key, first, second):
    """One delivery-count row of the stage histogram's statement: delivered and promised, or on
    time and same day, per advisor and local day (``key``: days since 1970-01-01); or the count of
    a wait bucket (``key``: its index)."""
    if kind == WAIT_ROWS:
        f.wait_buckets[key] += first
        return
    day = f.by_day.setdefault(EPOCH + timedelta(days=key), [0, 0])
    mine = f.advisor_counts[advisor_id]
    if kind == DAY_ROWS:
        f.delivered += first
        f.promised += second
        day[0] += first
        mine[0] += first
        mine[1] += second
    else:
        f.on_time += first
        f.same_day += second
        day[1] += first
        mine[2] += first
        mine[3] += second


def _slowest(f: Figures, site_ids, lo, hi):
    """The SLOWEST visits by time in the shop, each with every stage's seconds (to name its slowest)."""
    in_shop = seconds_between(Visit.created_at, Visit.delivered_at)
    top = (select(Visit.id.label("id")).where(_delivered_in(Visit, site_ids, lo, hi))
           .order_by(func.coalesce(in_shop, 0).desc(), Visit.id).limit(SLOWEST).cte("slowest"))
    rows = db.session.execute(_stage_seconds(Visit.id.in_(select(top.c.id)))).all()
    f.slowest = sorted(((r.in_shop or 0, r) for r in rows), key=lambda pair: (-pair[0], pair[1].id))


def slowest_stage(row) -> tuple[str, int] | None:
    """The stage a visit spent longest in (its time in the shop aside): (stage, seconds)."""
    times = [(getattr(row, stage), stage) for stage in STAGES if stage != "in_shop"]
    times = [(seconds, stage) for seconds, stage in times if seconds is not None and seconds >= 0]
    if not times:
        return None
    seconds, stage = max(times, key=lambda t: (t[0], -STAGES.index(t[1])))
    return stage, seconds


def attendance(site_ids, period: Period, advisor_id=None, limit=None):
    """The cars delivered in ``period`` in the order they left: plate, advisor, in, out. A statement,
    so the page takes ATTENDANCE_ROWS and an export streams every row."""
    lo, hi = period.bounds
    q = (select(Visit.id, Visit.plate, Visit.advisor_id, Visit.created_at, Visit.delivered_at)
         .where(_delivered_in(Visit, site_ids, lo, hi)).order_by(Visit.delivered_at, Visit.id))
    if advisor_id is not None:
        q = q.where(Visit.advisor_id == advisor_id)
    return q.limit(limit) if limit else q


def _visits_delivered(f: Figures, site_ids, lo, hi):
    _stage_histogram(f, site_ids, lo, hi)
    _slowest(f, site_ids, lo, hi)
    f.attendance_rows = db.session.execute(attendance(site_ids, f.period, limit=ATTENDANCE_ROWS)).all()


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
    ids = (set(f.advisor_stages) | set(f.advisor_counts) | set(f.technicians()) | set(f.technician_stages)
           | {r.advisor_id for r in f.attendance_rows} | {r.advisor_id for _s, r in f.slowest})
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
