"""Migration 0024 fills the stage milestones (Visit.first_*_at, Job.first_*_at) of the visits
already recorded from their event logs, on SQLite and PostgreSQL: the first time of each, a QC
failure leaving the first inspection, a visit without the stage left empty."""
from datetime import datetime

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from tests.support import make_app, pg_database, reset_pg_schema
from webapp.extensions import db

FILLER = {"INTEGER": 1, "BIGINT": 1, "SMALLINT": 1, "BOOLEAN": False, "NUMERIC": 0, "DATETIME": datetime(2026, 1, 1),
          "TIMESTAMP": datetime(2026, 1, 1), "DATE": "2026-01-01"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app_before_milestones(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'milestones.db'}"
    else:
        url = pg_database("servicelane_milestones")
        reset_pg_schema(url)
    app = make_app(url)
    with app.app_context():
        flask_migrate.upgrade(revision="0023_approvalhead")
        yield app
        db.session.remove()
        db.engine.dispose()


def insert(table, **values):
    """A row with the given values and a plain value in every other required column (the 0023
    schema, which the models no longer describe)."""
    for col in inspect(db.engine).get_columns(table):
        if col["name"] in values or col["nullable"] or col.get("default") is not None or col.get("autoincrement") is True:
            continue
        kind = str(col["type"]).split("(")[0].upper()
        values[col["name"]] = FILLER.get(kind, "x")
    names = ", ".join(f'"{k}"' for k in values)
    marks = ", ".join(f":{k}" for k in values)
    db.session.execute(text(f'INSERT INTO "{table}" ({names}) VALUES ({marks})'), values)


def at(hhmm):
    return datetime(2026, 11, 10, int(hhmm[:2]), int(hhmm[3:]))


def test_the_milestones_of_recorded_visits_come_from_their_events(app_before_milestones):
    insert("site", id=1, code="bj01", name_zh="店", name_en="Shop", timezone="Asia/Shanghai")
    insert("visit", id=1, site_id=1, state="delivered", plate="京A10001", reason="repair", created_at=at("09:00"))
    insert("visit", id=2, site_id=1, state="reception", plate="京A10002", reason="repair", created_at=at("09:30"))
    moves = [(1, "called", "reception", "09:05"), (1, "reception", "inspection", "09:06"),
             (1, "interview", "estimate", "09:20"), (1, "estimate", "authorisation", "09:30"),
             (1, "authorisation", "dispatch", "09:40"), (1, "dispatch", "repair", "10:00"),
             (1, "repair", "qc", "11:00"), (1, "qc", "repair", "11:10"), (1, "repair", "qc", "11:30"),
             (1, "qc", "ready", "11:40"), (1, "ready", "delivered", "12:00"),
             (2, "called", "reception", "09:35")]
    for n, (visit, a, b, hhmm) in enumerate(moves, start=1):
        insert("visit_event", id=n, site_id=1, visit_id=visit, actor_kind="staff", action="advance", from_state=a,
               to_state=b, at=at(hhmm))
    insert("job", id=1, site_id=1, visit_id=1, status="passed")
    for n, (kind, hhmm) in enumerate((("assign", "09:50"), ("start", "10:00"), ("start", "11:15")), start=1):
        insert("job_event", id=n, site_id=1, job_id=1, kind=kind, at=at(hhmm))
    db.session.commit()

    flask_migrate.upgrade()

    def row(sql):
        """The row's timestamps as datetimes (SQLite hands raw SQL its stored text)."""
        return tuple(v if v is None or isinstance(v, datetime) else datetime.fromisoformat(v)
                     for v in db.session.execute(text(sql)).one())
    first = row("SELECT first_reception_at, first_estimate_at, first_presented_at, first_decided_at, first_qc_at, "
                "first_qc_left_at, first_wash_at, first_wash_left_at, first_ready_at FROM visit WHERE id = 1")
    assert tuple(first) == (at("09:05"), at("09:20"), at("09:30"), at("09:40"), at("11:00"), at("11:10"), None, None,
                            at("11:40"))
    assert tuple(row("SELECT first_reception_at, first_qc_at FROM visit WHERE id = 2")) == (at("09:35"), None)
    assert tuple(row("SELECT first_assigned_at, first_started_at FROM job WHERE id = 1")) == (at("09:50"), at("10:00"))
