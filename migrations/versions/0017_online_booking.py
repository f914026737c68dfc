"""online booking (issue 13, /book): where a booking came from, the customer's capability token
for the manage page (/book/<token>), the day-before reminder and the no-show with its call to rebook

Revision ID: 0017_online_booking
Revises: 0016_search_fragments
Create Date: 2026-12-06 06:35:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_online_booking'
down_revision = '0016_search_fragments'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=12), server_default='staff', nullable=False))
        batch_op.add_column(sa.Column('manage_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('no_show_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('call_outcome', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('called_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint('uq_appointment_manage_token', ['manage_token'])
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('no_show_minutes', sa.Integer(), server_default='30', nullable=False))


def downgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('no_show_minutes')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_constraint('uq_appointment_manage_token', type_='unique')
        batch_op.drop_column('called_at')
        batch_op.drop_column('call_outcome')
        batch_op.drop_column('no_show_at')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('manage_token')
        batch_op.drop_column('source')
