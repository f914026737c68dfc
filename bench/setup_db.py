"""The benchmark's database: a temporary SQLite file with the schema and three sites.

- ``status``: 20 waiting walk-ins; the status page measured is the 11th's (10 people ahead);
- ``lobby``: empty; the latency run checks in here, watched by a lobby client;
- ``rush``: empty; the throughput run checks in here, then its numbers are checked.
"""
import uuid

from sqlalchemy import select

from webapp import create_app
from webapp.extensions import db
from webapp.models import Site, Ticket
from webapp.services.checkin import check_in_walkin

SITES = ("status", "lobby", "rush")


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
            db.session.add(Site(code=code, name_zh=f"基准门店 {code}", name_en=f"Bench site {code}"))
        db.session.commit()
        site = db.session.scalar(select(Site).where(Site.code == "status"))
        tickets = [check_in_walkin(site, plate(i), mobile(i), "repair", "异响", True, str(uuid.uuid4()))
                   for i in range(20)]
        token = tickets[10].token
        db.session.remove()
        db.engine.dispose()
    return token


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
