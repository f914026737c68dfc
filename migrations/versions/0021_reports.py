"""reports (issue 14, /reports): the manager's targets per site, and indexes led by the site on the
timestamps a period report reads, so a month of one shop is a range scan at any table size

Revision ID: 0021_reports
Revises: 0020_onlinematch
Create Date: 2026-12-06 15:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_reports'
down_revision = '0020_onlinematch'
branch_labels = None
depends_on = None

TARGETS = (("target_on_time", "95"), ("target_same_day", "80"), ("target_utilisation", "80"),
           ("target_efficiency", "100"), ("target_parts_fill", "90"))

INDEXES = (
    ("ix_visit_site_delivered", "visit", ["site_id", "delivered_at"]),
    ("ix_visit_site_created", "visit", ["site_id", "created_at"]),
    ("ix_bill_site_issued", "bill", ["site_id", "issued_at"]),
    ("ix_payment_site_at", "payment", ["site_id", "at"]),
    ("ix_survey_response_site_at", "survey_response", ["site_id", "at"]),
    ("ix_complaint_site_created", "complaint", ["site_id", "created_at"]),
    ("ix_qc_check_site_at", "qc_check", ["site_id", "at"]),
    ("ix_appointment_site_scheduled", "appointment", ["site_id", "scheduled_at"]),
    ("ix_technician_shift_site_day", "technician_shift", ["site_id", "day"]),
)


def upgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        for name, default in TARGETS:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default=default, nullable=False))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('site', schema=None) as batch_op:
        for name, _default in reversed(TARGETS):
            batch_op.drop_column(name)
