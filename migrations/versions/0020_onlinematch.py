"""online booking hours by kind (issue 13): the workshop hours an online booking holds for
maintenance and repairs, bodywork and anything else become site settings

Revision ID: 0020_onlinematch
Revises: 0019_prep
Create Date: 2026-12-06 15:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_onlinematch'
down_revision = '0019_prep'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('online_hours_maintenance', sa.Numeric(precision=4, scale=2),
                                      server_default='1', nullable=False))
        batch_op.add_column(sa.Column('online_hours_bodywork', sa.Numeric(precision=4, scale=2),
                                      server_default='2', nullable=False))
        batch_op.add_column(sa.Column('online_hours_other', sa.Numeric(precision=4, scale=2),
                                      server_default='0.5', nullable=False))


def downgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('online_hours_other')
        batch_op.drop_column('online_hours_bodywork')
        batch_op.drop_column('online_hours_maintenance')
