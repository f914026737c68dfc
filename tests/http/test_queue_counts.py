"""The database's count of people ahead agrees with the pure queue rule, on random queues."""
import random
from datetime import datetime, timedelta

from webapp import queueing
from webapp.models import Ticket
from webapp.readmodels import count_ahead
from webapp.services.calling import waiting_entries


def test_count_ahead_matches_the_rule(factory, db):
    site = factory.site()
    rng = random.Random(7)
    base = datetime(2026, 11, 30, 1, 0)
    tickets = [factory.walkin(site, plate=f"京A{10000 + i}") for i in range(40)]
    for t in tickets:
        t.queued_at = base + timedelta(minutes=rng.choice([0, 1, 2, 3, 5, 8]))  # ties on purpose
        if rng.random() < 0.4:
            t.on_time_appointment = True
            t.appointment_at = base + timedelta(minutes=rng.choice([0, 10, 20]))
        if rng.random() < 0.15:
            t.status = "called"
    db.session.commit()
    entries = waiting_entries(site.id)
    for t in Ticket.query.filter_by(status="waiting"):
        assert count_ahead(t) == queueing.people_ahead(entries, t.id), t.number
