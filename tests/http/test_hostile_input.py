"""Hostile input against every POST route of the URL map: never a 500, and a refused request
changes nothing.

One shop is seeded per module (a visit in the estimate, a car ready with an issued bill, a
delivered car with its follow-up and complaint, the catalogue, a waiting ticket), every POST rule
of ``app.url_map`` gets its URL ids from those records and a client signed in with a role allowed
there, and its form fields are read from the forms the pages render plus the fields its view
reads. Each hostile value then goes into every field at once; duplicated fields, a missing body
and a JSON body follow. A refused answer (4xx) must leave the row counts of every table and the
sites' change sequence (bumped by every writing transaction) exactly as they were.

On PostgreSQL (the second pass of ``make test``) a representative subset of the values runs:
the same code paths, a quarter of the requests."""
import inspect
import re
import uuid
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from werkzeug.datastructures import MultiDict

from tests.factories import Factory, build_shop, visit_at_estimate, visit_delivered, visit_ready
from tests.support import USE_PG, csrf_token, fresh_g, login, make_app, pg_database, reset_pg_schema
from webapp.extensions import db as _db
from webapp.parsing import MAX_ID
from webapp.commands.estimates import parse_line

HUGE_ID = "1" + "0" * 26
HOSTILE = {
    "huge": HUGE_ID,
    "negative": "-1",
    "nan": "NaN",
    "inf_exponent": "1e309",
    "big_exponent": "1E+400",
    "twenty_decimals": "0.12345678901234567890",
    "nul": "1\x00",
    "hundred_k": "9" * 100_000,
    "emoji": "🚗💥",
    "wrong_enum": "definitely_not_an_option",
    "past_int": str(MAX_ID + 1),
    "other_digits": "²",
}
PG_SUBSET = ("huge", "inf_exponent", "nul", "hundred_k", "wrong_enum")
ONE_FIELD_VALUES = ("huge", "big_exponent", "hundred_k") if not USE_PG else ("huge", "big_exponent")

# Where the page's own values would do something for good (pay the whole balance), a smaller
# sensible request, so the bill stays open for the values after it.
BASE_OVERRIDES = {"cashier.pay": {"amount": "1"}, "cashier.credit": {"refund_method": "wechat", "reason": "多收"}}

# URL arguments that are not record ids: a value the route knows, so the form gets read.
ACTIONS = {"advisor.ticket_action": ["transfer", "recall"], "tech.job_action": ["pause", "additional"],
           "catalogue.import_csv": ["operations"]}


# ---------------------------------------------------------------- the seeded shop

@pytest.fixture(scope="module")
def seeded_shop(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    if USE_PG:
        url = pg_database("servicelane_hostile")
        reset_pg_schema(url)
    else:
        url = f"sqlite:///{tmp / 'hostile.db'}"
    app = make_app(url, UPLOAD_DIR=str(tmp / "uploads"))
    from flask import request_started
    request_started.connect(fresh_g, app)  # two clients take turns: no signed-in user carried over in g
    with app.app_context():
        _db.create_all()
        yield app, _seed(Factory(_db))
        _db.session.remove()
        _db.engine.dispose()


def _seed(factory):
    from webapp.models import Concern, DamageMark, FollowUp, LabourOperation, MaintenanceItem, Part
    from webapp.services import billing, complaints, estimates
    # The shared shop (tests/factories.py), built once for the module on its own app.
    shop = build_shop(factory, roles=("advisor", "manager", "cashier", "csi", "dispatcher", "parts", "admin"))
    site, users = shop.site, shop.people
    estimate_visit = visit_at_estimate(factory, site, users["advisor"], plate="京A11111")
    ready = visit_ready(factory, site, users["advisor"], plate="京A22222")
    billing.prepare_bill(ready, users["manager"])
    bill = billing.issue_bill(ready, users["manager"])
    second = visit_ready(factory, site, users["advisor"], plate="京A55555")
    billing.prepare_bill(second, users["manager"])
    company_bill = billing.issue_bill(second, users["manager"])
    delivered = visit_delivered(factory, site, users["advisor"], plate="京A33333")
    mark = DamageMark(site_id=site.id, intake_id=estimate_visit.intake.id, zone="front_bumper", kind="scratch")
    op = LabourOperation(site_id=site.id, code="OIL", name_zh="更换机油", name_en="Oil change", hours=Decimal("0.5"))
    part = Part(site_id=site.id, number="P-001", name_zh="机油", name_en="Oil", unit_price=Decimal("50"),
                on_hand=Decimal("10"))
    _db.session.add_all([mark, op, part])
    _db.session.flush()
    item = MaintenanceItem(site_id=site.id, operation_id=op.id, part_id=part.id, every_km=5000)
    _db.session.add(item)
    _db.session.commit()
    line = estimates.add_line(estimate_visit, parse_line({"kind": "labour", "operation_id": str(op.id)}), users["advisor"])
    case = complaints.new_case(delivered, "manual", "等待太久")
    _db.session.commit()
    waiting = factory.walkin(site, plate="京A44444")
    ids = {
        "visit_id": estimate_visit.id, "concern_id": _db.session.query(Concern.id).filter_by(visit_id=estimate_visit.id).scalar(),
        "mark_id": mark.id,
        "line_id": line.id,
        "request_id": 1, "ticket_id": waiting.id, "job_id": ready.job.id, "bill_id": bill.id,
        "difference_id": 1, "complaint_id": case.id,
        "follow_up_id": _db.session.query(FollowUp.id).limit(1).scalar() or 1,
        "item_id": item.id, "op_id": op.id, "part_id": part.id,
        "token": ready.ticket.token,
    }
    # Cashier routes on the visit with the bill, workshop wash on the ready car. The company account
    # and closing would settle the bill that payments need open: they get a bill of their own, and
    # credit notes the delivered car's paid bill.
    ids["cashier_visit_id"] = ready.id
    ids["bill_for"] = {"cashier.company": company_bill.id, "cashier.close": company_bill.id,
                       "cashier.credit": delivered_bill_id(delivered)}
    return {"site": site, "users": users, "ids": ids}


def delivered_bill_id(visit):
    from webapp.models import Bill
    return _db.session.query(Bill.id).filter_by(visit_id=visit.id).scalar()


# ---------------------------------------------------------------- what a refused request must leave alone

def snapshot():
    """Row counts of every table and the sites' change sequences, in one query."""
    tables = _db.metadata.sorted_tables
    sql = " UNION ALL ".join(f"SELECT '{t.name}', COUNT(*) FROM \"{t.name}\"" for t in tables)
    sql += " UNION ALL SELECT 'change_seq', COALESCE(SUM(change_seq), 0) FROM site"
    _db.session.rollback()
    rows = dict(_db.session.execute(_db.text(sql)).all())
    _db.session.rollback()
    return rows


# ---------------------------------------------------------------- the routes and their fields

class _Forms(HTMLParser):
    """{post URL: {field: the value the page fills in}} of the forms (and hx-post elements) of a
    page: what a person would send, so that one hostile field at a time reaches its reader."""

    def __init__(self):
        super().__init__()
        self.found, self._stack, self._select = {}, [], None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        target = a.get("hx-post") or (a.get("action") if tag == "form" else None)
        if target:
            self.found.setdefault(target.split("?")[0], {})
            if tag == "form":
                self._stack.append(target.split("?")[0])
        if not self._stack:
            return
        fields = self.found[self._stack[-1]]
        if tag == "option" and self._select and fields.get(self._select) in (None, ""):
            fields[self._select] = a.get("value", "")
        name = a.get("name")
        if not name or tag not in ("input", "select", "textarea", "button"):
            return
        if tag == "select":
            self._select = name
        kind = a.get("type", "text")
        if kind in ("radio", "checkbox") and "checked" not in a:
            fields.setdefault(name, "")
            if not fields[name]:
                fields[name] = a.get("value", "1")
            return
        if not fields.get(name):
            fields[name] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form" and self._stack:
            self._stack.pop()
        if tag == "select":
            self._select = None


def _view_fields(view) -> set[str]:
    source = inspect.getsource(inspect.unwrap(view))
    return set(re.findall(r"""(?:form|args|values|f)\.get\(\s*["']([a-z_]+)["']""", source)) | set(
        re.findall(r"""read_(?:id|money)\(\s*["']([a-z_]+)["']""", source))


def _url_args(rule, ids):
    values = {}
    for arg in rule.arguments:
        if arg in ids:
            values[arg] = ids[arg]
        else:
            values[arg] = 1
    if rule.endpoint.startswith("cashier.") and "visit_id" in values:
        values["visit_id"] = ids["cashier_visit_id"]
    if "bill_id" in values:
        values["bill_id"] = ids["bill_for"].get(rule.endpoint, ids["bill_id"])
    if rule.endpoint == "workshop.wash_done":
        values["visit_id"] = ids["cashier_visit_id"]
    return values


def _role(endpoint):
    if endpoint.startswith(("kiosk.", "status.", "auth.", "i18n.")):
        return None
    return "manager"


def post_routes(app, ids):
    """[(endpoint, url, fields)] for every POST rule, one per known action."""
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "POST" not in rule.methods:
            continue
        for action in ACTIONS.get(rule.endpoint, [None]):
            args = _url_args(rule, ids)
            for name in ("action", "catalogue"):
                if name in rule.arguments:
                    args[name] = action
            url = rule.build(args, append_unknown=False)[1]
            routes.append((rule.endpoint, url, _view_fields(app.view_functions[rule.endpoint])))
    return routes


def page_fields(client, app, ids):
    """{post URL: {field: value}} from the staff pages of the seeded shop."""
    pages = [f"/advisor/visits/{ids['visit_id']}", f"/advisor/visits/{ids['cashier_visit_id']}", "/advisor",
             f"/cashier?bill={ids['bill_id']}", f"/cashier/bills/{ids['bill_id']}", "/workshop", "/workshop/qc", "/admin/site", "/admin/shifts",
             "/admin/catalogue/operations", "/admin/catalogue/parts", "/admin/catalogue/rates",
             "/admin/catalogue/maintenance", f"/followup/{ids['follow_up_id']}",
             f"/complaints/{ids['complaint_id']}", "/admin/catalogue/import/operations"]
    found = {}
    for page in pages:
        parser = _Forms()
        parser.feed(client.get(page).get_data(as_text=True))
        for url, fields in parser.found.items():
            known = found.setdefault(url, {})
            known.update({k: v for k, v in fields.items() if v or k not in known})
    return found


@pytest.fixture(scope="module")
def clients(seeded_shop):
    app, seeded = seeded_shop
    staff = app.test_client()
    login(staff, seeded["users"]["manager"])
    anonymous = app.test_client()
    return {"manager": staff, None: anonymous}, csrf_token(staff, "/advisor"), csrf_token(anonymous, "/kiosk")


@pytest.fixture(scope="module")
def routes(seeded_shop, clients):
    app, seeded = seeded_shop
    forms = page_fields(clients[0]["manager"], app, seeded["ids"])
    out = []
    for endpoint, url, fields in post_routes(app, seeded["ids"]):
        base = {name: "1" for name in fields} | forms.get(url, {}) | BASE_OVERRIDES.get(endpoint, {})
        base.pop("csrf_token", None)
        out.append((endpoint, url, base or {"id": "1"}))
    return out


# ---------------------------------------------------------------- the sweep

def _send(client, token, url, data=None, **kw):
    return client.post(url, data=data, headers={"X-CSRFToken": token, "HX-Request": "true"}, **kw)


class Sweep:
    """Sends the requests and keeps the last known snapshot: a refused request is compared with
    it, an accepted one (which may write) takes a new one. One query per request, not two."""

    def __init__(self):
        self.state, self.problems = snapshot(), []

    def check(self, what, send):
        try:
            resp = send()
        except Exception as exc:  # noqa: BLE001 - every crash is reported, not just the first
            _db.session.rollback()
            self.problems.append(f"{what}: raised {type(exc).__name__}: {str(exc)[:120]}")
            self.state = snapshot()
            return
        after = snapshot()
        if resp.status_code >= 500:
            self.problems.append(f"{what}: {resp.status_code}")
        elif resp.status_code >= 400:
            changed = {k: (self.state[k], after.get(k)) for k in self.state if self.state[k] != after.get(k)}
            if changed:
                self.problems.append(f"{what}: refused with {resp.status_code} but changed {changed}")
        self.state = after


def _assert_none(problems):
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


def _values():
    names = PG_SUBSET if USE_PG else tuple(HOSTILE)
    return [(name, HOSTILE[name]) for name in names]


def test_every_post_route_answers_hostile_values_without_a_500_and_refusals_change_nothing(seeded_shop, clients, routes):
    by_role, staff_token, public_token = clients
    assert len(routes) >= 60, "the URL map lost its POST routes?"
    with_fields = sum(1 for _e, _u, base in routes if base != {"id": "1"})
    assert with_fields >= 50, f"only {with_fields} routes with known fields: the field discovery broke"
    sweep = Sweep()
    for endpoint, url, base in routes:
        role = _role(endpoint)
        client, token = by_role[role], (staff_token if role else public_token)
        for name, value in _values():
            sweep.check(f"{endpoint} {url} {name} in every field", lambda: _send(
                client, token, url, {f: value for f in base}))
    _assert_none(sweep.problems)


def test_one_hostile_field_among_sensible_ones_is_refused_without_a_500_or_a_change(seeded_shop, clients, routes):
    """The form as the page fills it, with one field hostile: the reader of that very field meets it
    (with every field hostile, the first check refuses the request before the others are read)."""
    by_role, staff_token, public_token = clients
    sweep = Sweep()
    for endpoint, url, base in routes:
        role = _role(endpoint)
        client, token = by_role[role], (staff_token if role else public_token)
        for field in base:
            for name in ONE_FIELD_VALUES:
                data = {**base, field: HOSTILE[name]}
                if "key" in base and field != "key":
                    data["key"] = uuid.uuid4().hex   # a new request, not the replay of an earlier one
                sweep.check(f"{endpoint} {url} {name} in {field}", lambda: _send(client, token, url, data))
    _assert_none(sweep.problems)


def test_every_post_route_survives_duplicated_missing_and_json_bodies(seeded_shop, clients, routes):
    by_role, staff_token, public_token = clients
    sweep = Sweep()
    for endpoint, url, base in routes:
        fields = list(base)
        role = _role(endpoint)
        client, token = by_role[role], (staff_token if role else public_token)
        duplicated = MultiDict([(f, v) for f in fields for v in ("1", HUGE_ID)])
        sweep.check(f"{endpoint} {url} duplicated", lambda: _send(client, token, url, duplicated))
        sweep.check(f"{endpoint} {url} missing", lambda: _send(client, token, url))
        body = {f: [HUGE_ID, {"$gt": ""}] for f in fields}
        sweep.check(f"{endpoint} {url} json", lambda: _send(client, token, url, json=body))
    _assert_none(sweep.problems)
