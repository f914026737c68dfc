"""Indexes that serve a search for part of a plate, VIN, mobile number or name.

An exact entry is found on the ordinary site-led indexes (webapp/models.py). A fragment ("12345"
of 京A12345, the last digits of a mobile, a surname) needs an index of pieces of words:
- PostgreSQL: pg_trgm's GIN trigram indexes; ``LIKE '%…%'`` uses them as it is;
- SQLite: FTS5 tables with the trigram tokenizer kept in step by triggers; a fragment of three
  characters or more is looked up there (``LIKE`` on an FTS5 trigram column is served by it),
  a shorter one as a prefix on the ordinary index.

The same statements serve the migration (0016) and ``db.create_all()`` (tests, first run), so the
two ways of making a database cannot differ."""
from sqlalchemy import DDL, event

# (table, columns): what the history search matches by fragment.
SEARCHED = (("vehicle", ("plate", "vin")), ("customer", ("name", "mobile")))


def fts_table(table: str) -> str:
    return f"{table}_fts"


def sqlite_statements(table: str, columns: tuple[str, ...]) -> list[str]:
    fts, cols = fts_table(table), ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def sqlite_drop(table: str) -> list[str]:
    fts = fts_table(table)
    return [f"DROP TRIGGER IF EXISTS {fts}_{k}" for k in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {fts}"]


def postgresql_statements(table: str, columns: tuple[str, ...]) -> list[str]:
    return ["CREATE EXTENSION IF NOT EXISTS pg_trgm"] + [
        f"CREATE INDEX IF NOT EXISTS ix_{table}_{c}_trgm ON {table} USING gin ({c} gin_trgm_ops)" for c in columns]


def postgresql_drop(table: str, columns: tuple[str, ...]) -> list[str]:
    return [f"DROP INDEX IF EXISTS ix_{table}_{c}_trgm" for c in columns]


def install(metadata) -> None:
    """Create the fragment indexes with their tables in ``create_all`` (and drop them with them)."""
    for table_name, columns in SEARCHED:
        table = metadata.tables[table_name]
        for statement in sqlite_statements(table_name, columns):
            event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
        for statement in sqlite_drop(table_name):
            event.listen(table, "before_drop", DDL(statement).execute_if(dialect="sqlite"))
        for statement in postgresql_statements(table_name, columns):
            event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))


def made_here(name: str | None) -> bool:
    """The FTS5 tables (and their shadow tables) and trigram indexes this module makes: outside
    the models' metadata, so Alembic's autogenerate must leave them alone."""
    return bool(name) and (any(name.startswith(fts_table(t)) for t, _ in SEARCHED) or name.endswith("_trgm"))


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic's ``include_object``: skip what this module made, compare everything else."""
    return not (reflected and compare_to is None and made_here(name))
