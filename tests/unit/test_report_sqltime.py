"""The reports' time arithmetic gives the same whole seconds whichever SQLite function computes
them: unixepoch() where the library has it (3.38+, faster), strftime('%s') before."""
import sqlite3
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, literal, select

from webapp.reports.sqltime import epoch_seconds, minutes_of, seconds_between

STAMPS = ["2026-11-10 01:25:00.014050", "2026-11-10 01:25:59.999999", "1999-12-31 23:59:59", "2026-03-01 00:00:00"]


@pytest.mark.parametrize("stamp", STAMPS)
def test_unixepoch_and_strftime_agree(stamp):
    if sqlite3.sqlite_version_info < (3, 38):
        pytest.skip("this SQLite has no unixepoch(): the report uses strftime('%s')")
    fast, old = sqlite3.connect(":memory:").execute(
        "SELECT unixepoch(?), CAST(strftime('%s', ?) AS INTEGER)", (stamp, stamp)).fetchone()
    exact = datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc).timestamp()
    assert fast == old and abs(fast - exact) < 1     # both keep milliseconds: .999999 s is the next second


def test_durations_and_minutes_in_the_database():
    engine = create_engine("sqlite://")
    start, end = literal("2026-11-10 09:00:00"), literal("2026-11-10 11:59:29")
    with engine.connect() as conn:
        seconds, minutes = conn.execute(select(seconds_between(start, end),
                                               minutes_of(seconds_between(start, end)))).one()
    assert (seconds, minutes) == (10769, 179)     # 2 h 59 min 29 s: to the nearest minute, 179
    assert "unixepoch" in str(select(epoch_seconds(start)).compile(engine)) or sqlite3.sqlite_version_info < (3, 38)
