"""Customers' decisions at one site at once, on PostgreSQL (issue 15, item 3: short locks).

``python -m bench.decisions [--workers 8] [--rounds 5] [--db-name NAME]`` builds a fresh database
(``bench_decisions`` on BENCH_PG_ADMIN_URL's server), seeds one site
with visits waiting for their customer's decision (a labour line and two part lines each, the parts
shared by every visit, a repair order, the estimate presented), ``workers`` of them at a time (a
busy shop: a decision refreshes the promise of every car still waiting), then:

- baseline: ``workers`` visits decided one after another by a single process (a lone decision);
- load, ``rounds`` times: ``workers`` processes each deciding one visit, all at once (the processes
  live across the rounds and a first round warms them up, as a server's would be);

and prints p50 / p95 of one ``estimates.decide`` call and decisions per second, next to each
other. If decisions held the site's row for their whole transaction, the load's p95 would grow
with the workers (each waits for all the others); with the shared rows taken last it stays near
the lone figure times the CPU share. Checks at the end: distinct approvals, one per visit, the
parts reserved exactly, the site's approval chain intact.
"""
import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from decimal import Decimal

from .load import percentile
from .setup_db import recreate_pg_database

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
PART_QTY = Decimal("1")


def app_for(db_url):
    from webapp import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "decisions-bench",
                       "RATELIMIT_ENABLED": False, "REDIS_URL": None, "WTF_CSRF_ENABLED": False})


def seed_site(db_url: str, visits: int) -> dict:
    """The tables, one site with a labour rate and two parts in stock for ``visits`` visits."""
    from webapp.extensions import db
    from webapp.models import LabourRate, Part, Site
    app = app_for(db_url)
    with app.app_context():
        db.create_all()
        site = Site(code="bench", name_zh="压测门店", name_en="Bench site")
        db.session.add(site)
        db.session.flush()
        db.session.add(LabourRate(site_id=site.id, kind="default", rate=Decimal("180.00")))
        parts = [Part(site_id=site.id, number=f"P-{i}", name_zh=f"配件{i}", name_en=f"Part {i}",
                      unit_price=Decimal("50"), on_hand=Decimal(visits * 2), reserved=Decimal("0"))
                 for i in range(2)]
        db.session.add_all(parts)
        db.session.commit()
        out = {"site": site.id, "parts": [p.id for p in parts], "visits": []}
        db.session.remove()
    return out


def seed_visits(db_url: str, seeded: dict, visits: int) -> list[int]:
    """``visits`` visits of the site with an estimate presented for decision."""
    from webapp.extensions import db
    from webapp.models import Estimate, EstimateLine, Part, RepairOrder, Site, Visit
    from webapp.statuses import EstimateStatus
    from webapp.timeutil import local_day
    app = app_for(db_url)
    with app.app_context():
        site = db.session.get(Site, seeded["site"])
        parts = [db.session.get(Part, p) for p in seeded["parts"]]
        day = local_day(site.timezone)
        ids = []
        for _ in range(visits):
            i = len(seeded["visits"]) + len(ids)
            visit = Visit(site_id=site.id, state="authorisation", plate=f"京B{10000 + i}", reason="maintenance")
            db.session.add(visit)
            db.session.flush()
            est = Estimate(site_id=site.id, visit_id=visit.id, version=1, status=EstimateStatus.PRESENTED,
                           tax_rate=Decimal("0.13"))
            db.session.add(est)
            db.session.flush()
            db.session.add(EstimateLine(site_id=site.id, estimate_id=est.id, position=0, kind="labour",
                                        description="保养", quantity=Decimal("1.0"), unit_price=Decimal("180")))
            for n, part in enumerate(parts):
                db.session.add(EstimateLine(site_id=site.id, estimate_id=est.id, position=n + 1, kind="part",
                                            part_id=part.id, description=part.name_zh, quantity=PART_QTY,
                                            unit_price=part.unit_price))
            db.session.add(RepairOrder(site_id=site.id, visit_id=visit.id, day=day, seq=i + 1,
                                       number=f"RO-{day:%Y%m%d}-{i + 1:04d}", payment_method="cash"))
            ids.append(visit.id)
        db.session.commit()
        db.session.remove()
    seeded["visits"] += ids
    return ids


def decide_one(visit_id: int) -> float:
    """One customer's decision (everything approved) through the service; its seconds."""
    from webapp.extensions import db
    from webapp.models import Visit
    from webapp.services import estimates
    visit = db.session.get(Visit, visit_id)
    est = visit.estimate
    decisions = {line.id: ("approved", None) for line in est.lines}
    version = est.version
    start = time.perf_counter()
    estimates.decide(visit, version, decisions, "remote")
    took = time.perf_counter() - start
    db.session.remove()
    return took


def _worker(db_url, inbox, barrier, out):
    """A deciding process kept across the rounds (warm, as a server's): each round it takes one
    visit id from ``inbox``, waits at the start line with the others, decides, reports."""
    app = app_for(db_url)
    with app.app_context():
        while (visit_id := inbox.get()) is not None:
            barrier.wait()
            out.put(decide_one(visit_id))


def load_rounds(db_url, seeded, workers, rounds) -> tuple[list[float], float]:
    """``rounds`` rounds of ``workers`` decisions at once (after one warm-up round not counted):
    each decision's seconds, and the rounds' wall seconds."""
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(workers + 1), ctx.Queue()
    inboxes = [ctx.Queue() for _ in range(workers)]
    procs = [ctx.Process(target=_worker, args=(db_url, inbox, barrier, out)) for inbox in inboxes]
    for p in procs:
        p.start()
    times, wall = [], 0.0
    for n in range(rounds + 1):
        for inbox, visit_id in zip(inboxes, seed_visits(db_url, seeded, workers)):
            inbox.put(visit_id)
        barrier.wait()
        start = time.perf_counter()
        took = [out.get() for _ in procs]
        if n:
            times += took
            wall += time.perf_counter() - start
    for inbox in inboxes:
        inbox.put(None)
    for p in procs:
        p.join()
    return times, wall


def run_alone(db_url, visit_ids) -> tuple[list[float], float]:
    """The visits decided one after another (the first a warm-up, not counted)."""
    app = app_for(db_url)
    with app.app_context():
        decide_one(visit_ids[0])
        start = time.perf_counter()
        times = [decide_one(v) for v in visit_ids[1:]]
        return times, time.perf_counter() - start


def check(db_url, seeded) -> list[str]:
    """What must hold after the run: one approval per visit, a linear chain, stock exact."""
    from sqlalchemy import func, select
    from webapp.extensions import db
    from webapp.models import Approval, Part
    from webapp.services import estimates
    problems = []
    app = app_for(db_url)
    with app.app_context():
        n = len(seeded["visits"])
        approvals = db.session.scalar(select(func.count(Approval.id)))
        visits = db.session.scalar(select(func.count(func.distinct(Approval.visit_id))))
        if approvals != n or visits != n:
            problems.append(f"{approvals} approvals for {visits} visits, expected {n}")
        if not estimates.verify_chain(seeded["site"]):
            problems.append("approval chain broken")
        for part in db.session.scalars(select(Part)):
            if part.reserved != PART_QTY * n:
                problems.append(f"part {part.number} reserved {part.reserved}, expected {PART_QTY * n}")
        db.session.remove()
    return problems


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decisions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=8, help="concurrent deciding processes (default 8)")
    parser.add_argument("--rounds", type=int, default=5, help="decisions per worker (default 5)")
    parser.add_argument("--db-name", default="bench_decisions",
                        help="the database created afresh on BENCH_PG_ADMIN_URL's server (default bench_decisions)")
    args = parser.parse_args(argv)
    url = recreate_pg_database(PG_ADMIN_URL, args.db_name)
    w, r = args.workers, args.rounds
    seeded = seed_site(url, w * (r + 2) + 1)
    alone, alone_wall = run_alone(url, seed_visits(url, seeded, w + 1))
    load, load_wall = load_rounds(url, seeded, w, r)
    alone.sort()
    load.sort()
    a50, a95 = statistics.median(alone), percentile(alone, 95)
    l50, l95 = statistics.median(load), percentile(load, 95)
    print(f"decisions of one site on PostgreSQL, {w} workers x {r} decisions")
    print(f"{'':28}{'p50':>10}{'p95':>10}{'per second':>12}")
    print(f"{'baseline: one at a time':28}{ms(a50):>10}{ms(a95):>10}{len(alone) / alone_wall:>12.1f}")
    print(f"{f'{w} at once':28}{ms(l50):>10}{ms(l95):>10}{len(load) / load_wall:>12.1f}")
    print(f"ratio p95 at once / p50 alone: {l95 / a50:.1f}x")
    problems = check(url, seeded)
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
