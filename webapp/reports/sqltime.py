"""Time arithmetic the reports hand to the database, one construct per need, compiled for SQLite
and PostgreSQL: whole seconds since the epoch (a duration is the difference of two, so stage times
are computed, bucketed and counted where the rows are) and the local day of a UTC timestamp.

Whole seconds on purpose: SQLite's julianday() is a float, and a difference of two such floats
lands a 300-second wait at 299.99999 s, one minute short once bucketed by minute."""
from sqlalchemy import BigInteger, Date, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class epoch_seconds(FunctionElement):
    """Whole seconds since 1970-01-01 of a naive UTC timestamp (NULL stays NULL)."""
    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    return f"CAST(floor(extract(epoch from {compiler.process(element.clauses, **kw)})) AS BIGINT)"


class local_day(FunctionElement):
    """The calendar day of a UTC timestamp moved by a fixed offset in minutes (the period's offset:
    reports.period.Period.utc_offset_minutes), as 'YYYY-MM-DD' on SQLite and a date on PostgreSQL."""
    type = Date()
    inherit_cache = True


@compiles(local_day, "sqlite")
def _day_sqlite(element, compiler, **kw):
    at, minutes = list(element.clauses)
    return f"date({compiler.process(at, **kw)}, ({compiler.process(minutes, **kw)}) || ' minutes')"


@compiles(local_day, "postgresql")
def _day_postgresql(element, compiler, **kw):
    at, minutes = list(element.clauses)
    return f"CAST({compiler.process(at, **kw)} + make_interval(mins => {compiler.process(minutes, **kw)}) AS DATE)"


def seconds_between(start, end):
    """Whole seconds from ``start`` to ``end`` (NULL when either is NULL)."""
    return epoch_seconds(end) - epoch_seconds(start)


def minutes_of(seconds):
    """A duration of zero seconds or more to the nearest whole minute (half a minute up), by integer
    division on both databases (SQLAlchemy's own ``/`` would divide exactly on PostgreSQL). Nearest,
    not floor: a job clocked 7,199 s is two hours on the page, as the seconds rounded would show."""
    return (seconds + literal_column("30")).self_group().op("/")(literal_column("60"))


def day_of(at, offset_minutes: int):
    """``local_day`` with the offset written into the statement: the same expression in SELECT and
    GROUP BY must be textually equal for PostgreSQL, which two bound parameters would not be."""
    return local_day(at, literal_column(str(int(offset_minutes))))


__all__ = ("epoch_seconds", "local_day", "seconds_between", "minutes_of", "day_of")
