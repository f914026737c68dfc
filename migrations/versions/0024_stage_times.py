"""stage times (issue 14, /reports): the first time each visit reached the milestones of the
report's stage times, kept on the visit (and the job's first assignment and start on the job) as it
moves, so a month's report reads one row per visit instead of pivoting its event log; filled from
visit_event / job_event for the visits already recorded

Revision ID: 0024_stage_times
Revises: 0023_approvalhead
Create Date: 2026-12-06 20:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_stage_times'
down_revision = '0023_approvalhead'
branch_labels = None
depends_on = None

# column -> the events that reach it (the same rule as webapp.workflow.milestones; the migration
# keeps its own copy so later changes to the app do not rewrite history)
VISIT = (
    ("first_reception_at", "to_state = 'reception'"),
    ("first_estimate_at", "to_state = 'estimate'"),
    ("first_presented_at", "to_state = 'authorisation'"),
    ("first_decided_at", "from_state = 'authorisation' AND to_state IN ('dispatch', 'repair', 'ready')"),
    ("first_qc_at", "to_state = 'qc'"),
    ("first_qc_left_at", "from_state = 'qc' AND to_state <> 'qc'"),
    ("first_wash_at", "to_state = 'wash'"),
    ("first_wash_left_at", "from_state = 'wash' AND to_state <> 'wash'"),
    ("first_ready_at", "to_state = 'ready'"),
)
JOB = (("first_assigned_at", "kind = 'assign'"), ("first_started_at", "kind = 'start'"))


def _backfill(table, events, key, columns):
    """One pass over the event log grouped by visit (or job) into a scratch table, then one UPDATE
    ... FROM (SQLite 3.33+ and PostgreSQL): a column at a time would read the log nine times."""
    firsts = ", ".join(f"min(CASE WHEN {cond} THEN at END) AS {name}" for name, cond in columns)
    op.execute(f"CREATE TEMPORARY TABLE firsts_{table} AS SELECT {key} AS id, {firsts} FROM {events} GROUP BY {key}")
    sets = ", ".join(f"{name} = firsts_{table}.{name}" for name, _cond in columns)
    op.execute(f'UPDATE "{table}" SET {sets} FROM firsts_{table} WHERE firsts_{table}.id = "{table}".id')
    op.execute(f"DROP TABLE firsts_{table}")


def upgrade():
    for name, _cond in VISIT:
        op.add_column("visit", sa.Column(name, sa.DateTime(), nullable=True))
    for name, _cond in JOB:
        op.add_column("job", sa.Column(name, sa.DateTime(), nullable=True))
    _backfill("visit", "visit_event", "visit_id", VISIT)
    _backfill("job", "job_event", "job_id", JOB)


def downgrade():
    with op.batch_alter_table("job") as batch_op:
        for name, _cond in reversed(JOB):
            batch_op.drop_column(name)
    with op.batch_alter_table("visit") as batch_op:
        for name, _cond in reversed(VISIT):
            batch_op.drop_column(name)
