"""Statuses are types: a misspelt status is refused by the model before the flush and by the
database's CHECK constraint even from raw SQL, while members still read as their strings."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from webapp.extensions import db
from webapp.models import Ticket
from webapp.statuses import LineDecision, TicketStatus


def test_a_status_reads_as_its_string():
    assert LineDecision.APPROVED == "approved" and f"{TicketStatus.WAITING}" == "waiting"


def test_a_misspelt_status_is_refused_by_the_model_and_by_the_database(factory):
    site = factory.site(code="st1")
    ticket = factory.walkin(site, plate="京A40001", mobile="13800138401")
    assert db.session.get(Ticket, ticket.id).status == TicketStatus.WAITING

    ticket.status = "aproved"
    with pytest.raises((StatementError, LookupError)):
        db.session.commit()
    db.session.rollback()

    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE ticket SET status = 'aproved' WHERE id = :id"), {"id": ticket.id})
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Ticket, ticket.id).status == "waiting"
