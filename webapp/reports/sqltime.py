"""Time arithmetic the reports hand to the database, compiled for SQLite and PostgreSQL: whole
seconds since the epoch (a duration is the difference of two, so stage times are computed, bucketed
and counted where the rows are; a local day is the epoch seconds moved by the period's offset,
divided by 86,400).

Whole seconds on purpose: SQLite's julianday() is a float, and a difference of two such floats
lands a 300-second wait at 299.99999 s, one minute short once bucketed by minute."""
from sqlalchemy import BigInteger, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class epoch_seconds(FunctionElement):
    """Whole seconds since 1970-01-01 of a naive UTC timestamp (NULL stays NULL)."""
    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    # unixepoch() (SQLite 3.38+) parses a timestamp in less than half the time of strftime('%s'):
    # a month's report converts some 200,000 of them.
    at = compiler.process(element.clauses, **kw)
    if _has_unixepoch(compiler.dialect):
        return f"unixepoch({at})"
    return f"CAST(strftime('%s', {at}) AS INTEGER)"


def _has_unixepoch(dialect) -> bool:
    version = getattr(getattr(dialect, "loaded_dbapi", None), "sqlite_version_info", None)
    return version is not None and tuple(version) >= (3, 38)


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    return f"CAST(floor(extract(epoch from {compiler.process(element.clauses, **kw)})) AS BIGINT)"


def seconds_between(start, end):
    """Whole seconds from ``start`` to ``end`` (NULL when either is NULL)."""
    return epoch_seconds(end) - epoch_seconds(start)


def minutes_of(seconds):
    """A duration of zero seconds or more to the nearest whole minute (half a minute up), by integer
    division on both databases (SQLAlchemy's own ``/`` would divide exactly on PostgreSQL). Nearest,
    not floor: a job clocked 7,199 s is two hours on the page, as the seconds rounded would show."""
    return (seconds + literal_column("30")).self_group().op("/")(literal_column("60"))


__all__ = ("epoch_seconds", "seconds_between", "minutes_of")
