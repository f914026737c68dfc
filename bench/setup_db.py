"""The benchmark's database: a temporary SQLite file with the schema and three sites.

- ``status``: 20 waiting walk-ins; the status page measured is the 11th's (10 people ahead);
- ``lobby``: empty; the latency run checks in here, watched by a lobby client;
- ``rush``: empty; the throughput run checks in here, then its numbers are checked;
- ``deploy``: empty; the same throughput run against the production setup (gunicorn processes);
- ``board``: the wall board's site (``BOARD_TOKEN``), ``BOARD_VISITS`` cars in the workshop: walk-ins
  checked in, then (cheaply, rows written directly) at dispatch with an approved one-line estimate
  and a promise time, then assigned and started through the real workshop services; the last
  ``BOARD_WAITING_PARTS`` are paused for parts. The board runs toggle the first one.
"""
import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from webapp import create_app
from webapp.extensions import db
from webapp.models import Bay, Estimate, EstimateLine, Job, Site, Ticket, User, Vehicle, Visit
from webapp.roles import DISPATCHER, TECHNICIAN
from webapp.services import workshop
from webapp.services.checkin import check_in_walkin
from webapp.timeutil import utcnow

SITES = ("status", "lobby", "rush", "deploy", "board")
BOARD_TOKEN = "bench-board-" + "0" * 20   # fixed: the bench server and the clients know it
BOARD_VISITS = 20
BOARD_WAITING_PARTS = 3
MODELS = (("大众", "帕萨特"), ("丰田", "凯美瑞"), ("本田", "雅阁"), ("别克", "君越"), ("日产", "天籁"))


def plate(i):
    """A valid standard plate per index (京A + 5 digits), recycled after 90 000."""
    return f"京A{10000 + i % 90000}"


def mobile(i):
    return f"139{i % 100_000_000:08d}"


def build(db_url, secret_key):
    """Create the schema and the sites; returns the token of the status page to measure."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": secret_key,
                      "RATELIMIT_ENABLED": False, "REDIS_URL": None, "TESTING": True})
    with app.app_context():
        db.create_all()
        for code in SITES:
            db.session.add(Site(code=code, name_zh=f"基准门店 {code}", name_en=f"Bench site {code}",
                                board_token=BOARD_TOKEN if code == "board" else None))
        db.session.commit()
        site = db.session.scalar(select(Site).where(Site.code == "status"))
        tickets = [check_in_walkin(site, plate(i), mobile(i), "repair", "异响", True, str(uuid.uuid4()))
                   for i in range(20)]
        token = tickets[10].token
        seed_board(db.session.scalar(select(Site).where(Site.code == "board")))
        db.session.remove()
        db.engine.dispose()
    return token


def _staff(site, role, n):
    # No login in the bench: a placeholder hash, not a real (slow) one.
    user = User(site_id=site.id, username=f"bench-{role}-{n}", display_name=f"{role.title()} {n}",
                password_hash="!", role=role)
    db.session.add(user)
    return user


def seed_board(site):
    """``BOARD_VISITS`` cars in the board site's workshop (see the module docstring)."""
    dispatcher = _staff(site, DISPATCHER, 1)
    techs = [_staff(site, TECHNICIAN, n) for n in range(1, 7)]
    bays = [Bay(site_id=site.id, name=f"B{n}") for n in range(1, 9)]
    db.session.add_all(bays)
    db.session.commit()
    now = utcnow()
    jobs = []
    for i in range(BOARD_VISITS):
        ticket = check_in_walkin(site, plate(50_000 + i), mobile(50_000 + i), "repair", "异响", True,
                                 str(uuid.uuid4()))
        visit = db.session.get(Visit, ticket.visit_id)
        make, model = MODELS[i % len(MODELS)]
        car = Vehicle(site_id=site.id, plate=visit.plate, make=make, model=model)
        db.session.add(car)
        db.session.flush()
        visit.vehicle_id, visit.state = car.id, "dispatch"
        est = Estimate(site_id=site.id, visit=visit, status="decided", promised_at=now + timedelta(hours=2 + i % 5))
        est.lines.append(EstimateLine(site_id=site.id, kind="labour", description="更换前刹车片",
                                      quantity=Decimal("1.5"), unit_price=Decimal("180.00"), decision="approved"))
        db.session.add(est)
        jobs.append(workshop.ensure_job(visit))
        db.session.commit()
    for i, job in enumerate(jobs):
        tech = techs[i % len(techs)]
        workshop.assign(dispatcher, job.id, tech.id, bays[i % len(bays)].id)
        workshop.start(tech, job.id)
        if i >= BOARD_VISITS - BOARD_WAITING_PARTS:
            workshop.pause(tech, job.id, "waiting_parts")


def board_job(session):
    """(job id, technician user id) of the job the board runs toggle: the board site's first."""
    site = session.scalar(select(Site).where(Site.board_token == BOARD_TOKEN))
    job = session.scalar(select(Job).where(Job.site_id == site.id).order_by(Job.visit_id).limit(1))
    return job.id, job.technician_id, job.visit_id


def ticket_numbers(db_url, site_code):
    """All ticket numbers of a site, for the gap and duplicate check."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "x", "REDIS_URL": None,
                      "TESTING": True})
    with app.app_context():
        numbers = list(db.session.scalars(
            select(Ticket.number).join(Site, Site.id == Ticket.site_id).where(Site.code == site_code)))
        db.session.remove()
        db.engine.dispose()
    return numbers


def gaps_and_duplicates(numbers, prefix="W"):
    """(missing numbers in 1..max, numbers issued more than once)."""
    seqs = [int(n[len(prefix):]) for n in numbers if n.startswith(prefix)]
    if not seqs:
        return 0, 0
    duplicates = len(seqs) - len(set(seqs))
    gaps = len(set(range(1, max(seqs) + 1)) - set(seqs))
    return gaps, duplicates


def recreate_pg_database(admin_url: str, name: str) -> str:
    """Drop (closing its connections) and create database ``name`` on the server of ``admin_url``;
    its URL. Every bench, and the stack tests, start from an empty database of their own."""
    import psycopg2
    conn = psycopg2.connect(admin_url, connect_timeout=3)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    from sqlalchemy.engine import make_url
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)
