"""the walk-around records an explicit valuables answer: valuables_left is NULL until the advisor
asks (not answered), false for an explicit "none", true when the customer left items (listed in
``valuables``); the handover then confirms exactly that list

Revision ID: 0013_valuables
Revises: 0012_appointments
Create Date: 2026-12-06 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_valuables'
down_revision = '0012_appointments'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('intake_form', schema=None) as batch_op:
        batch_op.add_column(sa.Column('valuables_left', sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table('intake_form', schema=None) as batch_op:
        batch_op.drop_column('valuables_left')
