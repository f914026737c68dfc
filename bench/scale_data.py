"""Years of a dealer group's history, built fast by bulk SQL, for the scale bench (issue 15).

``build(db_url, visits)`` migrates an empty database (Alembic, as ``flask db upgrade`` does) and
writes ``visits`` historical visits the way the app's tables hold them: several sites (most visits in
the first, big one), customers and vehicles with plates, mobiles and VINs, each car back every few
months over the years; every visit ends as the app ends them (followed up or delivered with its
ticket, repair order, decided estimate with its lines, passed job, paid bill, completed delivery and
sometimes a rating; cancelled or a no-show with its ticket only), plus ``ACTIVE_JOBS`` cars in the
big site's workshop today (dispatch, repair, QC, wash, ready) for the board and ``/workshop``.

Rows go in by the driver's ``executemany`` on SQLite (with load PRAGMAs) and by ``COPY`` on
PostgreSQL, with ids chosen here so no row has to be read back. Indexes stay as the migrations made
them: dropping and recreating them did not make the load faster enough to be worth the risk of a
schema that differs from the migrated one.

The history covers ``first_day``..``last_day`` (by default the four years before today), visits
spread evenly, so any calendar month inside holds a realistic month of one shop (a month report can
be measured on ``build(url, 1_000_000, first_day=date(2023, 1, 1), last_day=date(2026, 11, 30))``).
"""
import io
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import text

SITES = ("big", "east", "west", "south")
BIG_SHARE = 0.7                     # of the visits, in the first site
VISITS_PER_CAR = 4
ACTIVE_JOBS = 200
BOARD_TOKEN = "scale-board-" + "b" * 20
PASSWORD = "scale-bench-pw"
CHUNK = 50_000
MODELS = (("大众", "帕萨特"), ("丰田", "凯美瑞"), ("本田", "雅阁"), ("别克", "君越"), ("日产", "天籁"),
          ("宝马", "3系"), ("奥迪", "A4L"))
PROVINCES = "京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川贵云陕甘青"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
ACTIVE_STATES = (("dispatch", "waiting"), ("repair", "in_progress"), ("repair", "paused"),
                 ("qc", "done"), ("wash", "passed"), ("ready", "passed"))


def plate(car: int) -> str:
    """A distinct valid plate per car: province, letter, five digits."""
    return f"{PROVINCES[car % len(PROVINCES)]}{LETTERS[(car // len(PROVINCES)) % len(LETTERS)]}" \
           f"{(car // (len(PROVINCES) * len(LETTERS))) % 100_000:05d}"


def mobile(car: int) -> str:
    return f"13{car % 1_000_000_000:09d}"


def vin(car: int) -> str:
    return f"LSV{car:014d}"


@dataclass
class Built:
    db_url: str
    visits: int
    seconds: float
    site_ids: dict
    first_day: date
    last_day: date
    sample_plates: list = field(default_factory=list)   # cars of the big site with several visits
    board_token: str = BOARD_TOKEN
    password: str = PASSWORD
    rows: dict = field(default_factory=dict)             # table -> rows written


class Writer:
    """Bulk rows into one table; the columns this module does not give get the model's default."""

    def __init__(self, conn, dialect, table):
        self.conn, self.dialect, self.table = conn, dialect, table
        self.count = 0

    def columns_for(self, given):
        extra = {}
        for col in self.table.columns:
            if col.name in given or col.nullable or col.server_default is not None or col.primary_key:
                continue
            default = col.default
            if default is None:
                raise ValueError(f"{self.table.name}.{col.name} needs a value")
            extra[col.name] = default.arg(None) if default.is_callable else default.arg
        return list(given) + list(extra), tuple(extra.values())

    def write(self, given, rows):
        columns, tail = self.columns_for(given)
        batch = []
        for row in rows:
            batch.append(row + tail)
            if len(batch) >= CHUNK:
                self._flush(columns, batch)
                batch = []
        if batch:
            self._flush(columns, batch)

    def _flush(self, columns, batch):
        self.count += len(batch)
        if self.dialect == "sqlite":
            marks = ", ".join("?" * len(columns))
            self.conn.executemany(f'INSERT INTO "{self.table.name}" ({", ".join(columns)}) VALUES ({marks})',
                                  [tuple(_sqlite(v) for v in r) for r in batch])
        else:
            buf = io.StringIO()
            for r in batch:
                buf.write("\t".join(_copy(v) for v in r))
                buf.write("\n")
            buf.seek(0)
            with self.conn.cursor() as cur:
                cur.copy_expert(f'COPY "{self.table.name}" ({", ".join(columns)}) FROM STDIN', buf)


def _sqlite(v):
    if isinstance(v, datetime):
        return v.isoformat(" ")
    if isinstance(v, date):
        return v.isoformat()
    if hasattr(v, "as_tuple"):       # Decimal
        return float(v)
    return v


def _copy(v):
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, datetime):
        return v.isoformat(" ")
    return str(v)


def migrate(db_url):
    """An app on ``db_url`` with the migrated schema (Alembic's upgrade, as ``flask db upgrade``)."""
    from flask_migrate import upgrade

    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "scale-bench",
                      "RATELIMIT_ENABLED": False, "REDIS_URL": None})
    logging.disable(logging.INFO)    # one line per migration, twenty times a run: not the bench's output
    try:
        with app.app_context():
            upgrade(revision="heads")   # branches of migrations not chained yet too
    finally:
        logging.disable(logging.NOTSET)
    return app


def build(db_url: str, visits: int, first_day: date | None = None, last_day: date | None = None,
          today: datetime | None = None, log=print) -> Built:
    """Migrate the empty database at ``db_url`` and fill it (see the module docstring)."""
    from webapp.extensions import db
    from webapp.models import (Bay, Bill, Customer, Delivery, Estimate, EstimateLine, Job, JobEvent, RepairOrder,
                               Site, SurveyResponse, Ticket, User, Vehicle, Visit, VisitEvent)
    from werkzeug.security import generate_password_hash

    started = time.monotonic()
    now = (today or datetime.utcnow()).replace(microsecond=0)
    last_day = last_day or (now.date() - timedelta(days=1))
    first_day = first_day or (last_day - timedelta(days=4 * 365))
    span = (datetime.combine(last_day, datetime.min.time()) + timedelta(days=1)
            - datetime.combine(first_day, datetime.min.time())).total_seconds()
    app = migrate(db_url)
    log(f"  schema migrated in {time.monotonic() - started:.1f} s")
    with app.app_context():
        dialect = db.engine.dialect.name
        db.engine.dispose()          # the migration's connections: the load's own is the only one
        raw = db.engine.raw_connection()
        conn = raw.driver_connection
        if dialect == "sqlite":
            # No journal while loading an empty database (a failed load is rebuilt, not rolled back):
            # a WAL would hold a second copy of every page written. WAL again when done.
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-200000", "temp_store=MEMORY"):
                conn.execute(f"PRAGMA {pragma}")
        W = lambda model: Writer(conn, dialect, model.__table__)  # noqa: E731

        # Sites, staff, bays: a handful of rows.
        W(Site).write(("id", "code", "name_zh", "name_en", "board_token", "change_seq"), [
            (i + 1, code, f"规模门店 {code}", f"Scale site {code}", BOARD_TOKEN if i == 0 else None, 0)
            for i, code in enumerate(SITES)])
        site_ids = {code: i + 1 for i, code in enumerate(SITES)}
        pw = generate_password_hash(PASSWORD)
        staff, uid = {}, 0
        users = []
        for code, sid in site_ids.items():
            for role, n in (("advisor", 4), ("dispatcher", 1), ("technician", 12), ("manager", 1), ("cashier", 1)):
                for k in range(1, n + 1):
                    uid += 1
                    users.append((uid, sid, f"{code}-{role}-{k}", f"{role} {k}", pw, role, True,
                                  f"{k}" if role == "advisor" else None))
                    staff.setdefault((sid, role), []).append(uid)
        W(User).write(("id", "site_id", "username", "display_name", "password_hash", "role", "active", "desk"), users)
        bays = {sid: list(range((sid - 1) * 10 + 1, sid * 10 + 1)) for sid in site_ids.values()}
        W(Bay).write(("id", "site_id", "name", "active"),
                     [(b, sid, f"B{b - (sid - 1) * 10}", True) for sid, ids in bays.items() for b in ids])

        # Cars: one customer each; 70% at the big site, the rest spread over the others.
        cars = max(1, (visits + ACTIVE_JOBS) // VISITS_PER_CAR)

        car_site = _site_of

        epoch = datetime.combine(first_day, datetime.min.time())
        W(Customer).write(("id", "site_id", "name", "mobile", "created_at"), (
            (c + 1, car_site(c), f"客户{c}", mobile(c), epoch) for c in range(cars)))
        W(Vehicle).write(("id", "site_id", "customer_id", "plate", "vin", "make", "model", "created_at"), (
            (c + 1, car_site(c), c + 1, plate(c), vin(c), *MODELS[c % len(MODELS)], epoch) for c in range(cars)))
        log(f"  {cars:,} customers and vehicles in {time.monotonic() - started:.1f} s")

        # Visits in time order; a car's visits spread over the years (a stride through the cars).
        stride = 7919 if cars % 7919 else 7907
        step = span / max(visits, 1)
        seqs = {}

        def history():
            for v in range(visits):
                car = (v * stride) % cars
                sid = car_site(car)
                at = epoch + timedelta(seconds=int(v * step) + 8 * 3600)
                day = at.date()
                seq = seqs[(sid, day)] = seqs.get((sid, day), 0) + 1
                r = (v * 2654435761) % 100
                state = ("cancelled" if r < 5 else "no_show" if r < 8 else "delivered" if r < 18 else "followed_up")
                yield v + 1, car, sid, at, day, seq, r, state

        rows = list(history()) if visits <= 200_000 else None
        source = (lambda: iter(rows)) if rows is not None else history

        def advisor(sid, v):
            a = staff[(sid, "advisor")]
            return a[v % len(a)]

        W(Visit).write(("id", "site_id", "customer_id", "vehicle_id", "advisor_id", "state", "plate", "mobile",
                        "reason", "description", "created_at", "updated_at", "delivered_at", *VISIT_FIRSTS), (
            (v, sid, car + 1, car + 1, advisor(sid, v), state, plate(car), mobile(car),
             "maintenance" if r % 2 else "repair", "保养" if r % 2 else "异响", at, at + timedelta(hours=6),
             at + timedelta(hours=6) if state in ("delivered", "followed_up") else None,
             *visit_firsts(visit_events(v, sid, at, r, state, None, None)))
            for v, car, sid, at, day, seq, r, state in source()))
        W(Ticket).write(("id", "site_id", "visit_id", "kind", "day", "prefix", "seq", "number", "token", "status",
                         "issued_at", "queued_at", "called_at", "served_at", "closed_at"), (
            (v, sid, v, "walkin", day, "W", seq, f"W{seq:03d}", f"{v:032x}",
             "cancelled" if state == "cancelled" else "skipped" if state == "no_show" else "done",
             at, at, None if state == "cancelled" else at + timedelta(seconds=CALLED_AFTER + r),
             None if state in ("cancelled", "no_show") else at + timedelta(minutes=5), at + timedelta(hours=6))
            for v, car, sid, at, day, seq, r, state in source()))
        log(f"  {visits:,} visits and tickets in {time.monotonic() - started:.1f} s")

        def worked():
            for v, car, sid, at, day, seq, r, state in source():
                if state in ("delivered", "followed_up"):
                    yield v, car, sid, at, day, seq, r, state

        W(RepairOrder).write(("id", "site_id", "visit_id", "number", "day", "seq", "payment_method", "old_parts",
                              "car_wash", "delivery_explained", "created_at"), (
            (v, sid, v, f"RO-{day:%Y%m%d}-{seq:04d}", day, seq, "wechat", "leave", r % 3 == 0, True, at)
            for v, car, sid, at, day, seq, r, state in worked()))
        W(Estimate).write(("id", "site_id", "visit_id", "version", "status", "promised_at", "created_at",
                           "updated_at"), (
            (v, sid, v, 1, "decided", at + timedelta(hours=5), at, at) for v, car, sid, at, day, seq, r, state in worked()))
        # Shown to the customer when the estimate was presented (its event below); one part line in
        # ten was short of stock then (the report's parts fill rate).
        W(EstimateLine).write(("id", "site_id", "estimate_id", "position", "kind", "description", "quantity",
                               "unit_price", "decision", "presented_at", "in_stock"), (
            line for v, car, sid, at, day, seq, r, state in worked() for line in (
                (2 * v - 1, sid, v, 0, "labour", "更换机油机滤", "1.00", "180.00", "approved",
                 at + timedelta(seconds=2400 + r * 6), None),
                (2 * v, sid, v, 1, "part", "机油滤清器", "1.00", "68.00", "approved" if r % 4 else "declined",
                 at + timedelta(seconds=2400 + r * 6), r % 10 != 0))))
        W(Job).write(("id", "site_id", "visit_id", "technician_id", "bay_id", "status", "clocked_seconds",
                      "stage_since", "created_at", "first_assigned_at", "first_started_at"), (
            (v, sid, v, staff[(sid, "technician")][v % 12], bays[sid][v % 10], "passed", 3600 + r * 30,
             at + timedelta(hours=4), at + timedelta(hours=1), *job_firsts(job_events(v, sid, at, r, None, None)))
            for v, car, sid, at, day, seq, r, state in worked()))
        W(Bill).write(("id", "site_id", "visit_id", "kind", "number", "status", "labour", "parts", "subtotal",
                       "tax_rate", "tax", "total", "created_at", "issued_at", "closed_at"), (
            (v, sid, v, "invoice", f"JS-{day:%Y%m%d}-{seq:04d}", "paid", "180.00",
             "68.00" if r % 4 else "0.00", "248.00" if r % 4 else "180.00", "0.13",
             "32.24" if r % 4 else "23.40", "280.24" if r % 4 else "203.40",
             at + timedelta(hours=5), at + timedelta(hours=5), at + timedelta(hours=6))
            for v, car, sid, at, day, seq, r, state in worked()))
        W(Delivery).write(("id", "site_id", "visit_id", "car_fetched", "exterior_checked", "belongings_checked",
                           "covers_removed", "old_parts_done", "work_explained", "completed_at", "updated_at"), (
            (v, sid, v, True, True, True, True, True, True, at + timedelta(hours=6), at + timedelta(hours=6))
            for v, car, sid, at, day, seq, r, state in worked()))
        W(SurveyResponse).write(("id", "site_id", "visit_id", "channel", "rating", "at"), (
            (v, sid, v, "pickup", 5 if r % 7 else 2, at + timedelta(hours=6))
            for v, car, sid, at, day, seq, r, state in worked() if r % 3 == 0))
        log(f"  orders, estimates, jobs, bills, deliveries in {time.monotonic() - started:.1f} s")
        W(VisitEvent).write(("site_id", "visit_id", "actor_id", "actor_kind", "action", "from_state", "to_state", "at"), (
            event for v, car, sid, at, day, seq, r, state in source()
            for event in visit_events(v, sid, at, r, state, advisor(sid, v), staff[(sid, "technician")][v % 12])))
        W(JobEvent).write(("site_id", "job_id", "kind", "user_id", "at"), (
            event for v, car, sid, at, day, seq, r, state in worked()
            for event in job_events(v, sid, at, r, staff[(sid, "dispatcher")][0], staff[(sid, "technician")][v % 12])))
        log(f"  visit and job events in {time.monotonic() - started:.1f} s")

        # Today's workshop at the big site: ACTIVE_JOBS cars, spread over the board's lanes.
        big, today_ = site_ids["big"], now.date()
        first = visits + 1
        big_cars = [c for c in range(cars) if car_site(c) == big][-ACTIVE_JOBS:]
        active = []
        for k, car in enumerate(big_cars):
            v = first + k
            state, job_status = ACTIVE_STATES[k % len(ACTIVE_STATES)]
            at = now - timedelta(minutes=30 + k)
            active.append((v, car, k, state, job_status, at))
        W(Visit).write(("id", "site_id", "customer_id", "vehicle_id", "advisor_id", "state", "plate", "mobile",
                        "reason", "description", "created_at", "updated_at"), (
            (v, big, car + 1, car + 1, advisor(big, v), state, plate(car), mobile(car), "repair", "异响", at, at)
            for v, car, k, state, job_status, at in active))
        W(Ticket).write(("id", "site_id", "visit_id", "kind", "day", "prefix", "seq", "number", "token", "status",
                         "issued_at", "queued_at", "served_at"), (
            (v, big, v, "walkin", today_, "T", k + 1, f"T{k + 1:03d}", f"{v:032x}", "served", at, at, at)
            for v, car, k, state, job_status, at in active))
        W(RepairOrder).write(("id", "site_id", "visit_id", "number", "day", "seq", "created_at"), (
            (v, big, v, f"RO-T{today_:%Y%m%d}-{k + 1:04d}", today_, 10_000 + k, at)
            for v, car, k, state, job_status, at in active))
        W(Estimate).write(("id", "site_id", "visit_id", "version", "status", "promised_at", "created_at",
                           "updated_at"), (
            (v, big, v, 1, "decided", now + timedelta(hours=2 + k % 5), at, at)
            for v, car, k, state, job_status, at in active))
        W(EstimateLine).write(("id", "site_id", "estimate_id", "position", "kind", "description", "quantity",
                               "unit_price", "decision"), (
            (2 * v - 1, big, v, 0, "labour", "检查异响", "1.50", "180.00", "approved")
            for v, car, k, state, job_status, at in active))
        techs = staff[(big, "technician")]
        W(Job).write(("id", "site_id", "visit_id", "technician_id", "bay_id", "status", "pause_reason",
                      "running_since", "stage_since", "created_at"), (
            (v, big, v, None if job_status == "waiting" else techs[k % len(techs)],
             None if job_status == "waiting" else bays[big][k % 10], job_status,
             "waiting_parts" if job_status == "paused" else None,
             at if job_status == "in_progress" else None, at, at)
            for v, car, k, state, job_status, at in active))

        tables = (Site, User, Bay, Customer, Vehicle, Visit, Ticket, RepairOrder, Estimate, EstimateLine,
                  Job, Bill, Delivery, SurveyResponse, VisitEvent, JobEvent)
        if dialect == "postgresql":
            with conn.cursor() as cur:   # ids were given: move each sequence past them
                for model in tables:
                    name = model.__table__.name
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{name}\"), false)")
        conn.commit()
        if dialect == "sqlite":
            conn.execute("PRAGMA journal_mode=WAL")
        if dialect == "postgresql":
            old = conn.autocommit
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("ANALYZE")    # what autovacuum would have done after a load this size
            conn.autocommit = old
        raw.close()
        with db.engine.connect() as c:
            counts = {m.__table__.name: c.execute(text(f'SELECT COUNT(*) FROM "{m.__table__.name}"')).scalar()
                      for m in (Visit, Ticket, Job, EstimateLine, Bill, VisitEvent, JobEvent)}
        db.engine.dispose()
    seconds = time.monotonic() - started
    log(f"  built in {seconds:.1f} s: {counts}")
    return Built(db_url, visits, seconds, site_ids, first_day, last_day, sample_plates(visits), rows=counts)


CALLED_AFTER = 60                   # seconds from the ticket to the call, plus r (0–99) seconds


def visit_events(v, sid, at, r, state, advisor_id, tech_id):
    """The state changes the app logs (services.visits.record_transition, checkin) for a visit of
    the history: (site, visit, actor, actor kind, action, from, to, at). The stage times vary with
    ``r`` so the report's histograms hold more than one bucket; every tenth car fails QC once."""
    s = lambda seconds: at + timedelta(seconds=seconds)  # noqa: E731
    yield sid, v, None, "customer", "check_in", None, "waiting", at
    if state == "cancelled":
        yield sid, v, None, "customer", "advance", "waiting", "cancelled", s(600)
        return
    yield sid, v, advisor_id, "staff", "call", "waiting", "called", s(CALLED_AFTER + r)
    if state == "no_show":
        yield sid, v, advisor_id, "staff", "skip", "called", "no_show", s(300)
        return
    steps = [("start_reception", "called", "reception", 300, advisor_id),
             ("start_inspection", "reception", "inspection", 360, advisor_id),
             ("complete_inspection", "inspection", "interview", 900 + r * 6, advisor_id),
             ("complete_interview", "interview", "estimate", 1800 + r * 6, advisor_id),
             ("present_estimate", "estimate", "authorisation", 2400 + r * 6, advisor_id),
             ("authorise", "authorisation", "dispatch", 3000 + r * 12, None),
             ("start_job", "dispatch", "repair", 3600 + r * 18, tech_id),
             ("finish_job", "repair", "qc", 4 * 3600, tech_id)]
    out_of_qc = 4 * 3600 + 900
    if r % 10 == 0:
        steps += [("qc_fail", "qc", "repair", out_of_qc, None), ("finish_job", "repair", "qc", out_of_qc + 1500, tech_id)]
        out_of_qc += 2400
    if r % 3 == 0:
        steps += [("qc_pass", "qc", "wash", out_of_qc, None), ("wash_done", "wash", "ready", out_of_qc + 1200, None)]
    else:
        steps += [("qc_pass", "qc", "ready", out_of_qc, None)]
    steps += [("deliver", "ready", "delivered", 6 * 3600, advisor_id)]
    if state == "followed_up":
        steps += [("follow_up_call", "delivered", "followed_up", 3 * 86400, None)]
    for action, a, b, seconds, actor in steps:
        yield sid, v, actor, "staff" if actor else "customer", action, a, b, s(seconds)


VISIT_FIRSTS = ("first_reception_at", "first_estimate_at", "first_presented_at", "first_decided_at", "first_qc_at",
                "first_qc_left_at", "first_wash_at", "first_wash_left_at", "first_ready_at")


def visit_firsts(events) -> tuple:
    """The Visit.first_*_at columns the app keeps (record_transition with workflow.milestones) for
    a visit with these events, in VISIT_FIRSTS order."""
    from webapp.workflow import milestones
    firsts = {}
    for _sid, _v, _actor, _kind, _action, current, target, at in events:
        for name in milestones(current, target):
            firsts.setdefault(name, at)
    return tuple(firsts.get(name) for name in VISIT_FIRSTS)


def job_firsts(events) -> tuple:
    """Job.first_assigned_at and first_started_at (services.workshop assign and start)."""
    firsts = {}
    for _sid, _job, kind, _user, at in events:
        firsts.setdefault(kind, at)
    return firsts.get("assign"), firsts.get("start")


def job_events(v, sid, at, r, dispatcher_id, tech_id):
    """The job's log (services.workshop._log) of a delivered visit: (site, job, kind, user, at)."""
    s = lambda seconds: at + timedelta(seconds=seconds)  # noqa: E731
    yield sid, v, "assign", dispatcher_id, s(3300 + r * 12)
    yield sid, v, "start", tech_id, s(3600 + r * 18)
    yield sid, v, "finish", tech_id, s(4 * 3600)
    out_of_qc = 4 * 3600 + 900
    if r % 10 == 0:
        yield sid, v, "qc_fail", None, s(out_of_qc)
        yield sid, v, "start", tech_id, s(out_of_qc + 300)
        yield sid, v, "finish", tech_id, s(out_of_qc + 1500)
        out_of_qc += 2400
    yield sid, v, "qc_pass", None, s(out_of_qc)
    if r % 3 == 0:
        yield sid, v, "wash_done", None, s(out_of_qc + 1200)


def sample_plates(visits: int, n: int = 20) -> list[str]:
    """Plates of big-site cars that came back over the years: the history lookups to measure."""
    cars = max(1, (visits + ACTIVE_JOBS) // VISITS_PER_CAR)
    stride = 7919 if cars % 7919 else 7907
    picked = {plate(c) for c in ((v * stride) % cars for v in range(0, visits, max(1, visits // 500)))
              if _site_of(c) == 1}
    return sorted(picked)[:n]


def built(db_url: str, visits: int) -> Built:
    """What ``build`` returned, for a database it built earlier (to measure it again)."""
    last = date.today() - timedelta(days=1)
    return Built(db_url, visits, 0.0, {code: i + 1 for i, code in enumerate(SITES)}, last - timedelta(days=4 * 365),
                 last, sample_plates(visits))


def _site_of(car: int) -> int:
    return 1 if (car * 37) % 100 < BIG_SHARE * 100 else 2 + car % (len(SITES) - 1)
