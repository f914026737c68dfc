"""The service history (顾客服务档案): what the history screens show, read in a fixed number of
queries whatever the number of visits (relationships eager-loaded with selectinload, the rows
without a relationship — concerns, approvals, survey answers — in one query each).

Read-only: nothing here writes. The rules (search keys, open declined items, export range, CSV
guard) are in webapp/history.py."""
import json
from functools import cache, lru_cache
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, literal, or_, select, text, union_all
from sqlalchemy.orm import joinedload, selectinload

from .. import history as rules
from .. import money
from ..extensions import db
from ..search_index import fts_table
from ..models import (Approval, Bill, Complaint, Concern, Customer, Estimate, EstimateLine, FollowUp,
                      FollowUpCall, IntakeForm, RepairOrder, SurveyResponse, Vehicle, VehicleDriver, Visit)
from . import ServiceError
from .closing import current_bill
from ..statuses import LineDecision

SEARCH_LIMIT = 50
# The search's statements are built once and take these as parameters: building a UNION ALL or a
# statement with a subquery cost more than running it on its index.
_SITE, _IDS = bindparam("site"), bindparam("ids", expanding=True)


# ---------------------------------------------------------------- search

@dataclass
class VehicleRow:
    vehicle: Vehicle
    visits: int
    last_visit: datetime | None


@dataclass
class CustomerRow:
    customer: Customer
    vehicles: list[Vehicle]
    visits: int


@dataclass
class SearchResult:
    query: rules.Query
    vehicles: list[VehicleRow]
    customers: list[CustomerRow]


def search(site_id: int, raw: str | None) -> SearchResult:
    """Vehicles and customers of the site matching a plate, a mobile, a VIN or a name. Exact
    matches first, in one statement on the site-led indexes (a counter lookup stays fast in years
    of history); only when nothing matches exactly, fragments (part of a plate, the last digits of
    a mobile or VIN, part of a name). Then the rows with their visit counts, in three more.
    Raises rules.QueryRefused for an unusable entry."""
    q = rules.parse_query(raw)
    vehicle_ids, customer_ids = _exact_ids(site_id, q)
    if not vehicle_ids and not customer_ids:
        vehicle_ids, customer_ids = _fragment_ids(site_id, q)
    vehicles = _vehicle_rows(site_id, q, vehicle_ids)
    return SearchResult(q, vehicles, _customer_rows(site_id, customer_ids, vehicles))


def _keys(q: rules.Query):
    """(model, column, value) for each way the entry can match."""
    candidates = ((Customer, Customer.mobile, q.mobile), (Customer, Customer.name, q.name),
                  (Vehicle, Vehicle.plate, q.plate), (Vehicle, Vehicle.vin, q.vin))
    return [(model, column, value) for model, column, value in candidates if value]


def _exact_ids(site_id: int, q: rules.Query) -> tuple[set[int], set[int]]:
    """Ids of the cars and people that match exactly, and the cars of (or driven by) those people."""
    keys = _keys(q)
    statement = _exact_statement(tuple(column.key for _model, column, _value in keys))
    found: dict[str, set[int]] = {"vehicle": set(), "customer": set()}
    for kind, id_ in db.session.execute(statement, {"site": site_id, **{c.key: v for _m, c, v in keys}}):
        found[kind].add(id_)
    return found["vehicle"], found["customer"]


@lru_cache(maxsize=16)
def _exact_statement(keys: tuple[str, ...]):
    """One branch per way of matching, each served by its site-led index (an OR across columns
    would make the database read every vehicle of the site), all in one UNION ALL. Built once per
    combination of keys, with the values as parameters: building it took longer than running it."""
    branches = []

    def branch(kind: str, stmt):
        inner = stmt.limit(SEARCH_LIMIT).subquery()   # a LIMIT per branch: SQLite wants it in a subquery
        branches.append(select(literal(kind).label("kind"), inner.c[0].label("id")))

    for key in keys:
        if key in ("plate", "vin"):
            branch("vehicle", select(Vehicle.id).where(Vehicle.site_id == _SITE, getattr(Vehicle, key) == bindparam(key)))
            continue
        people = select(Customer.id).where(Customer.site_id == _SITE, getattr(Customer, key) == bindparam(key)) \
            .limit(SEARCH_LIMIT)
        branch("customer", people)
        branch("vehicle", select(Vehicle.id).where(Vehicle.site_id == _SITE, Vehicle.customer_id.in_(people)))
        branch("vehicle", select(VehicleDriver.vehicle_id).where(VehicleDriver.customer_id.in_(people)))
    return union_all(*branches)


def _fragment_ids(site_id: int, q: rules.Query) -> tuple[set[int], set[int]]:
    """As _exact_ids for part of a plate, mobile, VIN or name: one query per way of matching, each
    through its fragment index."""
    vehicle_ids: set[int] = set()
    customer_ids: set[int] = set()
    for model, column, value in _keys(q):
        (vehicle_ids if model is Vehicle else customer_ids).update(fragment_match(model, column, value, site_id))
    if customer_ids:
        for stmt in (select(Vehicle.id).where(Vehicle.site_id == site_id, Vehicle.customer_id.in_(customer_ids)),
                     select(VehicleDriver.vehicle_id).where(VehicleDriver.customer_id.in_(customer_ids))):
            vehicle_ids.update(db.session.scalars(stmt.limit(SEARCH_LIMIT)))
    return vehicle_ids, customer_ids


def fragment_match(model, column, value: str, site_id: int) -> set[int]:
    """Ids of the site's rows whose ``column`` contains ``value``, through a fragment index
    (webapp/search_index.py): pg_trgm serves LIKE on PostgreSQL. On SQLite the FTS5 trigram table
    serves three characters or more — it must lead the join (CROSS JOIN fixes SQLite's order) and
    its LIKE must carry no ESCAPE clause, or the index is not used; a shorter fragment is matched
    as a prefix on the site-led index."""
    dialect = db.session.get_bind().dialect.name
    plain = not any(ch in value for ch in "%_\\")
    if dialect == "sqlite" and len(value) >= 3 and plain:
        name, fts = model.__tablename__, fts_table(model.__tablename__)
        return set(db.session.scalars(text(
            f"SELECT {name}.id FROM {fts} CROSS JOIN {name} ON {name}.id = {fts}.rowid "
            f"WHERE {fts}.{column.key} LIKE :pattern AND {name}.site_id = :site LIMIT :limit"),
            {"pattern": f"%{value}%", "site": site_id, "limit": SEARCH_LIMIT}))
    if dialect == "sqlite" and len(value) < 3:
        stmt = select(model.id).where(model.site_id == site_id, column >= value, column < value + "\U0010ffff")
    else:
        stmt = select(model.id).where(model.site_id == site_id, column.contains(value, autoescape=True))
    return set(db.session.scalars(stmt.limit(SEARCH_LIMIT)))


def _vehicle_rows(site_id: int, q: rules.Query, ids: set[int]) -> list[VehicleRow]:
    """The cars with their owner, number of visits and last visit, in one statement. Sorted here,
    not in SQL: an ORDER BY plate would lead the database down the plate index."""
    if not ids:
        return []
    rows = db.session.execute(_vehicles_statement(), {"site": site_id, "ids": list(ids)}).all()
    rows.sort(key=lambda r: (r[0].plate != q.plate, r[0].plate, r[0].id))
    return [VehicleRow(vehicle, count or 0, last_at) for vehicle, count, last_at in rows[:SEARCH_LIMIT]]


def _customer_rows(site_id: int, ids: set[int], vehicles: list[VehicleRow]) -> list[CustomerRow]:
    """The people found, by name, then the owners of the cars found; each with their cars and
    number of visits (two statements)."""
    owners = [row.vehicle.customer for row in vehicles if row.vehicle.customer is not None]
    wanted = ids | {c.id for c in owners}
    if not wanted:
        return []
    loaded = {c.id: (c, n or 0) for c, n in db.session.execute(_customers_statement(), {"site": site_id,
                                                                                 "ids": list(wanted)})}
    people = sorted((loaded[i][0] for i in ids if i in loaded), key=lambda c: (c.name or "", c.id))
    known = set(ids)
    for owner in owners:   # the owners of the cars found, too
        if owner.id not in known:
            people.append(owner)
            known.add(owner.id)
    owned: dict[int, list[Vehicle]] = {}
    for v in sorted(db.session.scalars(_owned_statement(), {"site": site_id, "ids": list(known)}),
                    key=lambda v: v.plate):   # sorted here: ORDER BY plate would walk the plate index
        owned.setdefault(v.customer_id, []).append(v)
    return [CustomerRow(c, owned.get(c.id, []), loaded[c.id][1] if c.id in loaded else 0) for c in people]


# The result rows' statements, built once with the site and ids as parameters (as _exact_statement).


@cache
def _vehicles_statement():
    stats = (select(Visit.vehicle_id, func.count(Visit.id).label("visits"), func.max(Visit.created_at).label("last"))
             .where(Visit.site_id == _SITE, Visit.vehicle_id.in_(_IDS)).group_by(Visit.vehicle_id).subquery())
    return (select(Vehicle, stats.c.visits, stats.c.last).outerjoin(stats, stats.c.vehicle_id == Vehicle.id)
            .where(Vehicle.id.in_(_IDS)).options(joinedload(Vehicle.customer)))


@cache
def _customers_statement():
    stats = (select(Visit.customer_id, func.count(Visit.id).label("visits"))
             .where(Visit.site_id == _SITE, Visit.customer_id.in_(_IDS)).group_by(Visit.customer_id).subquery())
    return (select(Customer, stats.c.visits).outerjoin(stats, stats.c.customer_id == Customer.id)
            .where(Customer.id.in_(_IDS)))


@cache
def _owned_statement():
    return select(Vehicle).where(Vehicle.site_id == _SITE, Vehicle.customer_id.in_(_IDS))


# ---------------------------------------------------------------- one visit, everything kept of it

@dataclass
class ApprovalView:
    approval: Approval
    version: int
    channel: str
    at: datetime
    signer: str | None
    approved: list[dict]       # {"description", "amount", "warranty"}
    declined: list[dict]       # {"description", "amount", "reason"}


@dataclass
class BillView:
    bill: Bill
    payments: list
    paid: Decimal


@dataclass
class VisitEntry:
    visit: Visit
    number: str                         # ticket number
    in_at: datetime                     # 进厂: ticket issued
    out_at: datetime | None             # 出厂: delivered
    mileage: int | None
    intake: IntakeForm | None
    marks: list
    concerns: list[Concern]
    lines: list[EstimateLine]           # the estimate's lines as last decided
    approved_lines: list[EstimateLine]
    declined_lines: list[EstimateLine]
    totals: money.Totals | None         # of the approved lines
    approvals: list[ApprovalView]
    repair_order: RepairOrder | None
    bills: list[BillView]
    surveys: list[SurveyResponse]
    answers: dict[int, dict]            # survey id -> answers
    follow_up: FollowUp | None
    calls: list[FollowUpCall]
    complaints: list[Complaint]

    @property
    def rating(self) -> int | None:
        ratings = [s.rating for s in self.surveys if s.rating is not None]
        return ratings[-1] if ratings else None

    @property
    def main_items(self) -> list[str]:
        return [line.description for line in self.approved_lines if line.kind != "diagnosis"][:4] or \
            [line.description for line in self.approved_lines][:4]


def _visit_options():
    return (
        selectinload(Visit.ticket), selectinload(Visit.advisor), selectinload(Visit.customer),
        selectinload(Visit.vehicle),
        selectinload(Visit.intake).selectinload(IntakeForm.marks),
        selectinload(Visit.estimate).selectinload(Estimate.lines),
        selectinload(Visit.repair_order),
        selectinload(Visit.bills).selectinload(Bill.payments),
        selectinload(Visit.follow_up).selectinload(FollowUp.calls).selectinload(FollowUpCall.staff),
        selectinload(Visit.complaints).selectinload(Complaint.owner),
    )


def _in_at(v: Visit) -> datetime:
    return v.ticket.issued_at if v.ticket is not None else v.created_at


def _approval_view(a: Approval) -> ApprovalView:
    shown = json.loads(a.shown or "{}")
    decisions = json.loads(a.decisions or "{}")
    approved, declined = [], []
    for line in shown.get("lines", []):
        d = decisions.get(str(line.get("id")), {})
        item = {"description": line.get("description", ""), "amount": Decimal(line.get("customer_amount") or "0"),
                "warranty": bool(line.get("warranty"))}
        if d.get("decision") == LineDecision.APPROVED:
            approved.append(item)
        elif d.get("decision") == LineDecision.DECLINED:
            declined.append({**item, "reason": d.get("reason")})
    return ApprovalView(a, a.version, a.channel, a.at, a.signer, approved, declined)


def _entries(visits: list[Visit]) -> list[VisitEntry]:
    ids = [v.id for v in visits]
    concerns: dict[int, list] = {}
    approvals: dict[int, list] = {}
    surveys: dict[int, list] = {}
    if ids:
        for c in db.session.scalars(select(Concern).where(Concern.visit_id.in_(ids))
                                    .order_by(Concern.position, Concern.id)):
            concerns.setdefault(c.visit_id, []).append(c)
        for a in db.session.scalars(select(Approval).where(Approval.visit_id.in_(ids)).order_by(Approval.id)):
            approvals.setdefault(a.visit_id, []).append(_approval_view(a))
        for s in db.session.scalars(select(SurveyResponse).where(SurveyResponse.visit_id.in_(ids))
                                    .order_by(SurveyResponse.at, SurveyResponse.id)):
            surveys.setdefault(s.visit_id, []).append(s)
    from .estimates import estimate_totals
    entries = []
    for v in visits:
        est = v.estimate
        lines = list(est.lines) if est else []
        intake = v.intake
        fu = v.follow_up
        mine = surveys.get(v.id, [])
        entries.append(VisitEntry(
            visit=v, number=v.ticket.number if v.ticket else "", in_at=_in_at(v), out_at=v.delivered_at,
            mileage=intake.mileage if intake else None, intake=intake, marks=list(intake.marks) if intake else [],
            concerns=concerns.get(v.id, []), lines=lines,
            approved_lines=[line for line in lines if line.decision == LineDecision.APPROVED],
            declined_lines=[line for line in lines if line.decision == LineDecision.DECLINED],
            totals=estimate_totals(est, (LineDecision.APPROVED,)) if est else None,
            approvals=approvals.get(v.id, []), repair_order=v.repair_order,
            bills=[BillView(b, list(b.payments), sum((p.amount for p in b.payments), Decimal("0")))
                   for b in v.bills],
            surveys=mine, answers={s.id: _answers(s.answers) for s in mine},
            follow_up=fu, calls=list(fu.calls) if fu else [], complaints=list(v.complaints)))
    entries.sort(key=lambda e: (e.in_at, e.visit.id), reverse=True)
    return entries


def _answers(raw: str | None) -> dict:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _items(entries: list[VisitEntry]) -> tuple[list[rules.Item], list[rules.Item]]:
    declined, approved = [], []
    for e in entries:
        for line in e.lines:
            item = rules.Item(e.visit.id, e.in_at, line.description, line.operation_id, line.part_id,
                              line.decline_reason, line.id)
            if line.decision == LineDecision.DECLINED:
                declined.append(item)
            elif line.decision == LineDecision.APPROVED:
                approved.append(item)
    return declined, approved


# ---------------------------------------------------------------- a vehicle's and a customer's history

@dataclass
class VehicleHistory:
    vehicle: Vehicle
    owner: Customer | None
    drivers: list[Customer]
    entries: list[VisitEntry]
    open_declined: list[rules.Item]
    last_mileage: int | None
    visit_count: int
    site_tz: str = "Asia/Shanghai"


def _vehicle(site_id: int, vehicle_id: int) -> Vehicle:
    vehicle = db.session.scalar(select(Vehicle).where(Vehicle.id == vehicle_id).options(
        selectinload(Vehicle.customer), selectinload(Vehicle.drivers).selectinload(VehicleDriver.customer)))
    if vehicle is None or vehicle.site_id != site_id:
        raise ServiceError("vehicle_not_found", 404)
    return vehicle


def vehicle_history(site_id: int, vehicle_id: int) -> VehicleHistory:
    vehicle = _vehicle(site_id, vehicle_id)
    visits = list(db.session.scalars(select(Visit).where(Visit.site_id == site_id, Visit.vehicle_id == vehicle.id)
                                     .options(*_visit_options())))
    entries = _entries(visits)
    declined, approved = _items(entries)
    mileages = [e.mileage for e in entries if e.mileage is not None]
    return VehicleHistory(
        vehicle=vehicle, owner=vehicle.customer,
        drivers=[d.customer for d in vehicle.drivers if d.customer_id != vehicle.customer_id],
        entries=entries, open_declined=rules.open_declined(declined, approved),
        last_mileage=vehicle.last_mileage if vehicle.last_mileage is not None else (mileages[0] if mileages else None),
        visit_count=sum(1 for e in entries if e.visit.state != "cancelled"))


@dataclass
class CustomerHistory:
    customer: Customer
    owned: list[Vehicle]
    driven: list[Vehicle]
    entries: list[VisitEntry]


def customer_history(site_id: int, customer_id: int) -> CustomerHistory:
    customer = db.session.get(Customer, customer_id)
    if customer is None or customer.site_id != site_id:
        raise ServiceError("customer_not_found", 404)
    owned = list(db.session.scalars(select(Vehicle).where(Vehicle.site_id == site_id, Vehicle.customer_id == customer.id)
                                    .order_by(Vehicle.plate)))
    driven = list(db.session.scalars(
        select(Vehicle).join(VehicleDriver, VehicleDriver.vehicle_id == Vehicle.id)
        .where(Vehicle.site_id == site_id, VehicleDriver.customer_id == customer.id,
               or_(Vehicle.customer_id.is_(None), Vehicle.customer_id != customer.id)).order_by(Vehicle.plate)))
    cars = [v.id for v in owned]
    visits = list(db.session.scalars(
        select(Visit).where(Visit.site_id == site_id,
                            or_(Visit.customer_id == customer.id, Visit.vehicle_id.in_(cars)) if cars
                            else Visit.customer_id == customer.id)
        .options(*_visit_options())))
    return CustomerHistory(customer, owned, driven, _entries(visits))


# ---------------------------------------------------------------- the advisor's panel during the next intake

@dataclass
class VisitPanel:
    visit: Visit
    vehicle: Vehicle | None
    previous: list[VisitEntry] = field(default_factory=list)
    previous_count: int = 0
    last_intake: IntakeForm | None = None     # the one whose marks the damage map shows faded
    previous_marks: list = field(default_factory=list)
    declined: list[rules.Item] = field(default_factory=list)


PANEL_VISITS = 5


def visit_panel(visit: Visit) -> VisitPanel:
    """For the visit's vehicle: the earlier visits (date, RO, main items), the damage marks of
    the last completed intake (what the damage map shows faded) and the declined items still open."""
    if visit.vehicle_id is None:
        return VisitPanel(visit, None)
    visits = list(db.session.scalars(select(Visit).where(Visit.site_id == visit.site_id,
                                                         Visit.vehicle_id == visit.vehicle_id)
                                     .options(*_visit_options())))
    entries = _entries(visits)
    declined, approved = _items(entries)
    earlier = [e for e in entries if e.visit.id != visit.id and e.visit.state != "cancelled"]
    done = [e.intake for e in entries if e.visit.id != visit.id and e.intake and e.intake.completed_at]
    last = max(done, key=lambda i: i.completed_at) if done else None
    return VisitPanel(visit, visit.vehicle, earlier[:PANEL_VISITS], len(earlier), last,
                      list(last.marks) if last else [],
                      rules.open_declined(declined, approved, exclude_visit=visit.id))


# ---------------------------------------------------------------- repair orders for the CSV export

@dataclass
class RoRow:
    ro: RepairOrder
    visit: Visit
    mileage: int | None
    labour: Decimal
    parts: Decimal
    total: Decimal
    bill_number: str | None
    paid: Decimal
    delivered_local: datetime | None


def ro_rows(site_id: int, start: date, end: date, tz_name: str) -> list[RoRow]:
    """The site's repair orders dated start..end (local days, both included), oldest first."""
    from .estimates import estimate_totals
    ros = db.session.scalars(
        select(RepairOrder).where(RepairOrder.site_id == site_id, RepairOrder.day >= start, RepairOrder.day <= end)
        .order_by(RepairOrder.day, RepairOrder.seq, RepairOrder.id)
        .options(selectinload(RepairOrder.visit).options(
            selectinload(Visit.vehicle), selectinload(Visit.customer), selectinload(Visit.advisor),
            selectinload(Visit.intake), selectinload(Visit.estimate).selectinload(Estimate.lines),
            selectinload(Visit.bills).selectinload(Bill.payments)))).all()
    rows = []
    zone = ZoneInfo(tz_name)
    for ro in ros:
        v = ro.visit
        t = estimate_totals(v.estimate, (LineDecision.APPROVED,)) if v.estimate else money.totals([])
        bill = current_bill(v)
        paid = sum((p.amount for b in v.bills for p in b.payments), Decimal("0"))
        out = (v.delivered_at.replace(tzinfo=timezone.utc).astimezone(zone).replace(tzinfo=None)
               if v.delivered_at else None)
        rows.append(RoRow(ro, v, v.intake.mileage if v.intake else None, t.labour, t.parts, t.customer_pays,
                          bill.number if bill else None, money.q(paid), out))
    return rows
