"""Years of history do not slow the screens: each screen's queries stay the same in number when
the site's visits grow from a couple of hundred to 10,000, and on SQLite none of the history
search or board statements walks a whole table (EXPLAIN QUERY PLAN: every visit, vehicle,
customer and concern read goes through an index).

Measured on SQLite with /tmp-built databases (exact plate search / board state, median):
100k visits 26.5 → 1.5 ms and 13.4 → 1.4 ms after the site-led indexes (migration 0015) and the
query shapes (no OR across columns, no ORDER BY that leads down another index)."""
import re
from datetime import datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import event, func, insert, select

from tests.factories import visit_at_estimate, workshop_cars
from tests.support import login
from webapp.extensions import db
from webapp.models import Customer, Job, Vehicle, Visit
from webapp.readmodels import board_state
from webapp.services import history

BOARD_TOKEN = "scale-board-" + "y" * 20


@pytest.fixture
def big_shop(app, factory):
    site = factory.site(code="big1", board_token=BOARD_TOKEN)
    people = {r: factory.user(site, r, username=f"{r}-big", desk="2" if r == "advisor" else None)
              for r in ("advisor", "dispatcher", "manager")}
    visit_at_estimate(factory, site, people["advisor"], plate="京B77777", mobile="13900000001")
    return site, people


def add_history(site_id: int, total_visits: int):
    """Delivered visits of earlier years by bulk SQL (five visits per car), up to ``total_visits``."""
    have = db.session.scalar(select(func.count(Visit.id)).where(Visit.site_id == site_id))
    start_car = db.session.scalar(select(func.count(Vehicle.id)).where(Vehicle.site_id == site_id))
    cars = (total_visits - have) // 5
    when = datetime(2024, 1, 1)
    db.session.execute(insert(Customer), [
        dict(site_id=site_id, name=f"老客户{start_car + i}", mobile=f"137{start_car + i:08d}", created_at=when)
        for i in range(cars)])
    first_customer = db.session.scalar(select(func.max(Customer.id))) - cars + 1
    db.session.execute(insert(Vehicle), [
        dict(site_id=site_id, customer_id=first_customer + i, plate=f"京C{start_car + i:05d}", created_at=when)
        for i in range(cars)])
    first_vehicle = db.session.scalar(select(func.max(Vehicle.id))) - cars + 1
    db.session.execute(insert(Visit), [
        dict(site_id=site_id, customer_id=first_customer + i % cars, vehicle_id=first_vehicle + i % cars,
             state="followed_up", plate=f"京C{start_car + i % cars:05d}", reason="maintenance",
             created_at=when + timedelta(hours=i), updated_at=when + timedelta(hours=i))
        for i in range(cars * 5)])
    db.session.commit()


class Statements:
    def __init__(self):
        self.seen = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append((statement, parameters))


def screen_counts(client, site, people) -> dict[str, int]:
    counts = {}
    current_app.extensions.pop("servicelane.dispatch_cache", None)   # bulk SQL moves no change sequence
    pages = {
        "advisor": ["/advisor/panel"],
        "dispatcher": ["/workshop/panel"],
        "manager": ["/history/?q=京C00007", "/history/?q=13700000007", "/history/?q=京B77777"],
    }
    for role, paths in pages.items():
        login(client, people[role])
        for path in paths:
            with Statements() as s:
                assert client.get(path).status_code == 200, path
            counts[path] = len(s.seen)
    current_app.extensions.pop("servicelane.board_cache", None)   # bulk SQL moves no change sequence
    for path in (f"/board/state?token={BOARD_TOKEN}", "/lobby/board?site=big1"):
        with Statements() as s:
            assert client.get(path).status_code == 200, path
        counts[path] = len(s.seen)
    return counts


def test_screen_query_counts_do_not_grow_with_the_history(app, client, big_shop):
    site, people = big_shop
    add_history(site.id, 200)
    small = screen_counts(client, site, people)
    add_history(site.id, 10_000)
    assert db.session.scalar(select(func.count(Visit.id)).where(Visit.site_id == site.id)) >= 9_990
    assert screen_counts(client, site, people) == small


def test_an_exact_lookup_and_the_board_take_few_round_trips(app, client, big_shop):
    """At 1M visits on PostgreSQL every indexed statement costs about a millisecond of round trip
    and ORM work, so the counter's exact lookup and the TV board are held to a few: the staff
    session with its user and site (1), the exact keys (1), the cars (1), the people (1) and their
    cars (1); the board: its site by token, change sequence, lanes and pending requests."""
    site, people = big_shop
    add_history(site.id, 200)
    counts = screen_counts(client, site, people)
    assert counts["/history/?q=京C00007"] == 5
    assert counts["/history/?q=13700000007"] == 5
    assert counts[f"/board/state?token={BOARD_TOKEN}"] <= 5   # and the signed-in session of this client


def test_history_search_and_board_read_through_indexes(app, big_shop):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans follow its statistics")
    site, _people = big_shop
    add_history(site.id, 2_000)
    with Statements() as s:
        history.search(site.id, "京C00042")
        history.search(site.id, "13700000042")
        history.search(site.id, "C0004")        # fragments: FTS5 trigram tables
        history.search(site.id, "00000042")
        history.search(site.id, "老客户4")
        history.search(site.id, "老客")         # two characters: a prefix on the site-led index
        board_state(site)
    assert len(s.seen) >= 6
    assert walks(s.seen) == []


def walks(statements) -> list[tuple[str, str]]:
    """The statements whose SQLite plan reads a whole big table, or all of one site's rows."""
    found = []
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all():
                detail = row[-1]
                on_big_table = re.match(r"(SCAN|SEARCH) (visit|vehicle|customer|concern|job|estimate_line)\b", detail)
                # A scan, or an index used by the site alone: in a one-site shop both read every row.
                if on_big_table and (detail.startswith("SCAN") or detail.endswith("(site_id=?)")):
                    found.append((detail, statement[:160]))
    return found


def test_the_dispatch_page_reads_only_the_active_jobs(app, client, big_shop):
    """At 1M visits /workshop took 800 ms: its jobs were found by the job's site (every job ever)
    and the parts to issue sorted by visit id in SQL (every visit); now both go by (site, state)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans follow its statistics")
    site, people = big_shop
    add_history(site.id, 2_000)
    db.session.execute(insert(Job), [dict(site_id=site.id, visit_id=v, status="passed") for v in db.session.scalars(
        select(Visit.id).where(Visit.site_id == site.id, Visit.state == "followed_up"))])
    db.session.commit()
    login(client, people["dispatcher"])
    with Statements() as s:
        assert client.get("/workshop/panel").status_code == 200
    assert len(s.seen) >= 4
    assert walks(s.seen) == []


def test_fragment_search_follows_every_change_of_plate_and_name(app, factory, big_shop):
    site, _people = big_shop
    customer, vehicle = factory.customer_vehicle(site, plate="京E13579", mobile="13612345678", name="欧阳娜娜")
    assert [r.vehicle.plate for r in history.search(site.id, "1357").vehicles] == ["京E13579"]
    assert [r.customer.name for r in history.search(site.id, "阳娜娜").customers] == ["欧阳娜娜"]
    assert [r.customer.name for r in history.search(site.id, "欧阳").customers] == ["欧阳娜娜"]

    vehicle.plate, customer.name = "京E24680", "欧阳娜"
    db.session.commit()
    assert history.search(site.id, "1357").vehicles == []
    assert [r.vehicle.plate for r in history.search(site.id, "2468").vehicles] == ["京E24680"]
    assert history.search(site.id, "阳娜娜").customers == []
    other = factory.site(code="big2")
    factory.customer_vehicle(other, plate="京E24681", mobile="13612345679", name="欧阳娜")
    assert [r.vehicle.plate for r in history.search(site.id, "2468").vehicles] == ["京E24680"]   # this site only


def test_the_dispatch_page_costs_the_same_queries_for_two_jobs_or_twelve(app, client, factory):
    """The bench's 200 active jobs cost /workshop 614 queries (three lazy loads and a manufacturer
    check per row) before its rows were loaded with the jobs; now a fixed handful at any count."""
    counts = {}
    for code, n in (("few1", 2), ("many1", 12)):
        _visits, dispatcher, _tech, _bay = workshop_cars(factory.site(code=code), n, factory, plate_base=30000 + n * 100)
        login(client, dispatcher)
        with Statements() as s:
            body = client.get("/workshop/panel").get_data(as_text=True)
        assert body.count(f"京A{30000 + n * 100}") == 1 and body.count(f"京A{30000 + n * 100 + n - 1}") == 1
        counts[n] = len(s.seen)
        client.post("/logout")
    assert counts[12] == counts[2]
