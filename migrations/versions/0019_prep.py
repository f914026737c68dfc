"""appointment preparation (issue 13, 接待准备): a booking's parts are held by StockMovement rows
whose reference is the booking number, summed on every day view and console render: index them

Revision ID: 0019_prep
Revises: 0018_appointment_calls
Create Date: 2026-12-06 15:25:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019_prep'
down_revision = '0018_appointment_calls'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index('ix_stock_movement_site_reference', ['site_id', 'reference'], unique=False)


def downgrade():
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_movement_site_reference')
