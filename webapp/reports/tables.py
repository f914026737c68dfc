"""The report as tables: the page, the CSV and the Excel export all render these, so they show the
same numbers. A cell is None (no figure: "—"), a str, an int or a Decimal (already rounded)."""
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from .. import followup as survey_rules
from .. import kpi
from ..labels import REASONS
from .month import ADVISOR_STAGES, STAGES, TECHNICIAN_STAGES, WAIT_BUCKETS, Figures, Report, slowest_stage

HOURS = Decimal("0.01")
MINUTES = Decimal("0.1")


@dataclass
class Table:
    key: str
    title: str
    columns: list
    rows: list
    numeric: tuple = ()          # indexes of right-aligned (number) columns
    total: int | None = None     # rows in the period when ``rows`` holds only the first of them


# figure key -> label, definition (shown on hover and in the details), higher is better, target key
KPIS = (
    ("on_time", _l("On-time delivery"),
     _l("Cars delivered by the promise time, of the cars delivered in the period that had a promise time."),
     True, "on_time"),
    ("same_day", _l("Same-day delivery"),
     _l("Cars delivered on the day they came in, of all cars delivered in the period."), True, "same_day"),
    ("utilisation", _l("Productive utilisation"),
     _l("Hours clocked on the jobs of the cars delivered, of the technicians' rostered hours (less the break)."),
     True, "utilisation"),
    ("efficiency", _l("Labour efficiency"),
     _l("Sold (approved) labour hours of the cars delivered, of the hours clocked on them."), True, "efficiency"),
    ("parts_fill", _l("Parts fill rate"),
     _l("Part lines of the estimates shown to customers in the period (additional work when it was shown) whose "
        "parts were in stock at that moment, of all part lines shown. Lines shown before this was recorded are "
        "not counted."), True, "parts_fill"),
    ("appointments", _l("Appointment share"),
     _l("Visits that came from an appointment, of all visits that came in during the period."), True, None),
    ("no_shows", _l("No-show rate"),
     _l("Appointments booked for the period whose customer did not come, of those not cancelled."), False, None),
    ("approval", _l("Approval of recommended and additional items"),
     _l("Recommended lines and lines added after the first estimate that the customer approved, of those decided."),
     True, None),
    ("comebacks", _l("Comebacks"),
     _l("Cars delivered with an operation the same car had done in the 30 days before it came in, of all cars delivered."),
     False, None),
    ("qc_rework", _l("QC rework"), _l("Quality inspections failed (sent back to repair), of all inspections."),
     False, None),
    ("complaints_in_time", _l("Complaints resolved in time"),
     _l("Complaints opened in the period and resolved by their due date, of those resolved or already due."),
     True, None),
)

STAGE_LABELS = {"wait": _l("Arrival → called"), "to_desk": _l("Called → reception"),
                "reception": _l("Reception (walk-around and interview)"),
                "decision": _l("Estimate presented → decided"), "dispatch": _l("Decided → dispatched"),
                "start": _l("Dispatched → work started"), "repair": _l("Repair (clocked)"),
                "qc": _l("Quality check"), "wash": _l("Wash"), "pickup": _l("Ready → delivered"),
                "in_shop": _l("Time in the shop (in → out)")}
# The short survey's questions (webapp/followup.QUESTIONS) as the follow-up call's form asks them.
QUESTION_LABELS = {"explained": _l("Did we explain the work well?"),
                   "on_time": _l("Was the car ready when promised?"),
                   "clean": _l("Was the car clean?"),
                   "recommend": _l("Would you recommend us?")}
SURVEY_LABELS = {"pickup": _l("Rating at pickup"), "survey": _l("Survey after delivery"),
                 "call": _l("Answers on the follow-up call")}
PAYMENT_LABELS = {"wechat": _l("WeChat Pay"), "alipay": _l("Alipay"), "card": _l("Bank card"), "cash": _l("Cash"),
                  "company": _l("Company account")}
LINE_KINDS = {"labour": _l("Labour"), "part": _l("Part"), "diagnosis": _l("Diagnosis")}


def rate_of(f: Figures, key: str) -> kpi.Rate:
    return {"on_time": f.on_time_rate, "same_day": f.same_day_rate, "utilisation": f.utilisation_rate,
            "efficiency": f.efficiency_rate, "parts_fill": f.parts_fill_rate, "appointments": f.appointment_rate, "no_shows": f.no_show_rate,
            "approval": f.approval_rate, "comebacks": f.comeback_rate, "qc_rework": f.qc_rework_rate,
            "complaints_in_time": f.complaints_in_time_rate}[key]


def minutes(seconds) -> Decimal | None:
    return None if seconds is None else (Decimal(seconds) / 60).quantize(MINUTES, rounding=ROUND_HALF_UP)


def hours(seconds) -> Decimal | None:
    return None if seconds is None else (Decimal(seconds) / 3600).quantize(HOURS, rounding=ROUND_HALF_UP)


def local(at: datetime | None, tz: str) -> str | None:
    if at is None:
        return None
    return at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def cell_text(value) -> str:
    """How a cell reads on the page and in the CSV."""
    if value is None:
        return "—"
    return str(value)      # no thousands separator: the page reads like the CSV and the workbook


def chart_top(rows) -> Decimal:
    """The top of a bar chart's scale: the largest value of the rows' series (columns after the
    label), at least 1 so an empty period draws flat bars instead of dividing by zero."""
    values = [Decimal(v) for row in rows for v in row[1:] if isinstance(v, (int, Decimal))]
    return max(values + [Decimal(1)])


@dataclass
class Kpi:
    key: str
    label: str
    definition: str
    rate: kpi.Rate
    previous: kpi.Rate
    target: int | None
    higher_is_better: bool

    @property
    def met(self):
        return kpi.target_met(self.rate.percent, self.target, self.higher_is_better)

    @property
    def change(self):
        return kpi.compare(self.rate.percent, self.previous.percent)


def kpis(report: Report) -> list[Kpi]:
    return [Kpi(key, str(label), str(definition), rate_of(report.current, key), rate_of(report.previous, key),
                report.targets.get(target) if target else None, higher)
            for key, label, definition, higher, target in KPIS]


def kpi_table(report: Report) -> Table:
    rows = [[k.label, k.rate.percent, k.rate.numerator, k.rate.denominator, k.previous.percent, k.target,
             None if k.met is None else (str(_l("yes")) if k.met else str(_l("no")))] for k in kpis(report)]
    return Table("kpis", str(_l("Key figures")),
                 [str(_l("Figure")), str(_l("%")), str(_l("Counted")), str(_l("Of")), str(_l("Previous period %")),
                  str(_l("Target %")), str(_l("Target met"))], rows, (1, 2, 3, 4, 5))


def stage_table(report: Report) -> Table:
    cur, prev = report.current, report.previous
    rows = [[str(STAGE_LABELS[s]), cur.stages[s].count, minutes(cur.stages[s].median), minutes(cur.stages[s].p90),
             minutes(prev.stages[s].median)] for s in STAGES]
    return Table("stages", str(_l("Stage times")),
                 [str(_l("Stage")), str(_l("Visits")), str(_l("Median (min)")), str(_l("90th percentile (min)")),
                  str(_l("Previous median (min)"))], rows, (1, 2, 3, 4))


def advisor_table(report: Report, advisor_id=None) -> Table:
    f = report.current
    people = [a for a in f.advisor_stages if advisor_id is None or a == advisor_id]
    return _stage_table_per_person(f, "advisors", _l("Stage times per advisor"), _l("Advisor"), people,
                                   f.advisor_stages, ADVISOR_STAGES)


def _stage_table_per_person(f, key, title, person, people, stages_of, stages) -> Table:
    """One row per person and stage: visits, median and 90th percentile, people by name."""
    rows = []
    for pid in sorted(people, key=lambda i: f.names.get(i, "")):
        for s in stages:
            d = stages_of[pid][s]
            rows.append([f.names.get(pid, "—"), str(STAGE_LABELS[s]), d.count, minutes(d.median), minutes(d.p90)])
    return Table(key, str(title), [str(person), str(_l("Stage")), str(_l("Visits")), str(_l("Median (min)")),
                                   str(_l("90th percentile (min)"))], rows, (2, 3, 4))


def slowest_table(report: Report) -> Table:
    f, tz = report.current, report.current.period.tz
    rows = []
    for seconds, r in f.slowest:
        stage, stage_seconds = slowest_stage(r) or (None, None)
        rows.append([r.plate, f.names.get(r.advisor_id, "—"), local(r.created_at, tz), local(r.delivered_at, tz),
                     hours(seconds), str(STAGE_LABELS[stage]) if stage else None, minutes(stage_seconds)])
    return Table("slowest", str(_l("Slowest visits")),
                 [str(_l("Plate")), str(_l("Advisor")), str(_l("In")), str(_l("Out")), str(_l("In the shop (h)")),
                  str(_l("Slowest stage")), str(_l("Slowest stage (min)"))], rows, (4, 6))


def technician_table(report: Report) -> Table:
    f = report.current
    rows = []
    for tid in f.technicians():
        clocked = hours(f.clocked.get(tid, 0))
        sold = f.sold_hours.get(tid, Decimal("0.00"))
        roster = f.roster_hours.get(tid, Decimal("0.00"))
        rows.append([f.names.get(tid, "—"), roster, clocked, sold, kpi.rate(clocked, roster).percent,
                     kpi.rate(sold, clocked).percent, minutes(f.technician_stages[tid]["repair"].median)])
    return Table("technicians", str(_l("Productivity per technician")),
                 [str(_l("Technician")), str(_l("Rostered (h)")), str(_l("Clocked (h)")), str(_l("Sold (h)")),
                  str(_l("Utilisation %")), str(_l("Efficiency %")), str(_l("Repair median (min)"))], rows,
                 (1, 2, 3, 4, 5, 6))


def technician_stage_table(report: Report) -> Table:
    f = report.current
    return _stage_table_per_person(f, "technician_stages", _l("Stage times per technician"), _l("Technician"),
                                   list(f.technician_stages), f.technician_stages, TECHNICIAN_STAGES)


def csi_table(report: Report) -> Table:
    f, p = report.current, report.previous
    rows = []
    for channel in ("pickup", "survey", "call"):
        answers, rated, avg = f.ratings.get(channel, (0, 0, None))
        rows.append([str(SURVEY_LABELS[channel]), answers, rated, avg, p.ratings.get(channel, (0, 0, None))[2]])
    return Table("csi", str(_l("Customer satisfaction")),
                 [str(_l("Source")), str(_l("Answers")), str(_l("Rated")), str(_l("Average rating (1–5)")),
                  str(_l("Previous average"))], rows, (1, 2, 3, 4))


def survey_table(report: Report) -> Table:
    """The answers to each question of the survey after delivery and of the follow-up call, both
    together, beside the previous period."""
    f, p = report.current, report.previous
    rows = []
    for q in survey_rules.QUESTIONS:
        answered, yes = f.survey_answers.get(q, (0, 0))
        before = p.survey_answers.get(q, (0, 0))[0]
        rows.append([str(QUESTION_LABELS.get(q, q)), answered, yes, answered - yes, f.survey_yes_rate(q).percent,
                     before, p.survey_yes_rate(q).percent])
    return Table("survey", str(_l("Survey answers")),
                 [str(_l("Question")), str(_l("Answers")), str(_l("Yes")), str(_l("No")), str(_l("Yes %")),
                  str(_l("Previous answers")), str(_l("Previous yes %"))], rows, (1, 2, 3, 4, 5, 6))


def sales_table(report: Report) -> Table:
    f, p = report.current, report.previous
    figures = (
        (_l("Repair orders invoiced"), f.invoices, p.invoices),
        (_l("Labour hours presented"), f.hours_presented, p.hours_presented),
        (_l("Labour hours sold"), f.hours_sold, p.hours_sold),
        (_l("Average repair order (incl. tax)"), f.average_ro, p.average_ro),
        (_l("Labour"), f.labour, p.labour),
        (_l("Parts"), f.parts, p.parts),
        (_l("Tax"), f.tax, p.tax),
        (_l("Invoiced total"), f.revenue, p.revenue),
        (_l("Credit notes"), f.credit_notes, p.credit_notes),
        (_l("Credit notes total"), f.credit_total, p.credit_total),
    )
    return Table("sales", str(_l("Sales")), [str(_l("Figure")), str(_l("Period")), str(_l("Previous period"))],
                 [[str(label), value, before] for label, value, before in figures], (1, 2))


def payment_table(report: Report) -> Table:
    f = report.current
    rows = [[str(PAYMENT_LABELS.get(m, m)), count, amount] for m, (count, amount) in f.payments.items()]
    return Table("payments", str(_l("Payments by method")),
                 [str(_l("Method")), str(_l("Payments")), str(_l("Amount"))], rows, (1, 2))


def items_table(report: Report) -> Table:
    rows = [[str(REASONS.get(work, work)), str(LINE_KINDS.get(kind, kind)), description, count, quantity, revenue]
            for work, kind, description, count, quantity, revenue in report.current.items]
    return Table("items", str(_l("Repair items")),
                 [str(_l("Kind of work")), str(_l("Line")), str(_l("Item")), str(_l("Count")),
                  str(_l("Quantity")), str(_l("Revenue"))], rows, (3, 4, 5))


def attendance_table(report: Report, rows=None, total=None) -> Table:
    """The cars in and out: the page's first rows (Figures.attendance_rows, ``total`` of them in the
    period), or ``rows`` given (month.attendance: every car, as an export streams them, or one
    advisor's). ``rows`` may be an iterator: the table's rows are then one too, read once."""
    f, tz = report.current, report.current.period.tz
    names = f.names
    source = f.attendance_rows if rows is None else rows
    cells = ([r.plate, names.get(r.advisor_id, "—"), local(r.created_at, tz), local(r.delivered_at, tz),
              hours(int((r.delivered_at - r.created_at).total_seconds()))] for r in source)
    return Table("attendance", str(_l("Vehicles in and out")),
                 [str(_l("Plate")), str(_l("Advisor")), str(_l("In")), str(_l("Out")), str(_l("In the shop (h)"))],
                 list(cells) if rows is None or isinstance(rows, list) else cells, (4,),
                 total=f.delivered if rows is None else total)


def day_table(report: Report) -> Table:
    rows = [[day.isoformat(), delivered, on_time] for day, (delivered, on_time) in sorted(report.current.by_day.items())]
    return Table("days", str(_l("Deliveries by day")),
                 [str(_l("Day")), str(_l("Delivered")), str(_l("On time"))], rows, (1, 2))


def wait_table(report: Report) -> Table:
    rows = []
    for (low, high), count in zip(WAIT_BUCKETS, report.current.wait_buckets):
        label = f"{low}–{high}" if high is not None else f"≥ {low}"
        rows.append([label, count])
    return Table("waiting", str(_l("Waiting in the lobby (minutes)")), [str(_l("Minutes")), str(_l("Visits"))],
                 rows, (1,))


BUILDERS = {"kpis": kpi_table, "stages": stage_table, "advisors": advisor_table, "slowest": slowest_table,
            "technician_stages": technician_stage_table, "technicians": technician_table, "csi": csi_table,
            "survey": survey_table, "sales": sales_table, "payments": payment_table,
            "items": items_table, "attendance": attendance_table, "days": day_table, "waiting": wait_table}


def all_tables(report: Report) -> dict[str, Table]:
    return {key: build(report) for key, build in BUILDERS.items()}
