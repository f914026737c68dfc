"""stage times (issue 14, /reports): covering indexes to read when each visit first entered each
state (visit_event) and when its job was first assigned and started (job_event), so the month
report pivots a period's visits by index seeks instead of reading every event row's page

Revision ID: 0022_stage_times
Revises: 0021_reports
Create Date: 2026-12-06 19:45:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022_stage_times'
down_revision = '0021_reports'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_visit_event_visit_state_at", "visit_event", ["visit_id", "to_state", "from_state", "at"]),
    ("ix_job_event_job_kind_at", "job_event", ["job_id", "kind", "at"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
