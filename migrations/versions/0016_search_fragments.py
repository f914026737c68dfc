"""indexes for part of a plate, VIN, mobile or name (FTS5 trigram tables on SQLite, pg_trgm GIN
indexes on PostgreSQL), so a fragment search does not read every vehicle or customer (issue 15)

Revision ID: 0016_search_fragments
Revises: 0015_scale_indexes
Create Date: 2026-12-06 06:40:00

"""
from alembic import op

from webapp.search_index import postgresql_drop, postgresql_statements, sqlite_drop, sqlite_statements

# revision identifiers, used by Alembic.
revision = '0016_search_fragments'
down_revision = '0015_scale_indexes'
branch_labels = None
depends_on = None

# As they stand at this revision (a later change of what is searched is a new migration).
SEARCHED = (("vehicle", ("plate", "vin")), ("customer", ("name", "mobile")))


def upgrade():
    dialect = op.get_bind().dialect.name
    for table, columns in SEARCHED:
        for statement in (sqlite_statements(table, columns) if dialect == "sqlite"
                          else postgresql_statements(table, columns) if dialect == "postgresql" else []):
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table, columns in SEARCHED:
        for statement in (sqlite_drop(table) if dialect == "sqlite"
                          else postgresql_drop(table, columns) if dialect == "postgresql" else []):
            op.execute(statement)
