"""statuses are types: CHECK constraints on ticket, estimate, estimate line, job, bill, follow-up
and complaint statuses (webapp/statuses.py), so no code path can store a misspelt status

Revision ID: 0011_status_checks
Revises: 0010_auth
Create Date: 2026-12-06 03:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_status_checks'
down_revision = '0010_auth'
branch_labels = None
depends_on = None

# (table, column, allowed values) as they stand at this revision: a later status is a new migration.
CHECKS = (
    ("ticket", "status", ("waiting", "called", "served", "skipped", "done", "cancelled")),
    ("estimate", "status", ("draft", "presented", "decided")),
    ("estimate_line", "decision", ("pending", "approved", "declined")),
    ("job", "status", ("waiting", "assigned", "in_progress", "paused", "done", "passed")),
    ("bill", "status", ("draft", "issued", "paid", "company", "void")),
    ("follow_up", "status", ("due", "reached", "unreachable", "wrong_number")),
    ("complaint", "status", ("open", "resolved")),
)


def upgrade():
    for table, column, values in CHECKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=16 if column == "status" else 12),
                                  type_=sa.String(length=16), existing_nullable=False)
            allowed = ", ".join(f"'{v}'" for v in values)
            batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"), f"{column} IN ({allowed})")


def downgrade():
    for table, column, _values in reversed(CHECKS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
            if column == "decision":
                batch_op.alter_column(column, existing_type=sa.String(length=16), type_=sa.String(length=12),
                                      existing_nullable=False)
