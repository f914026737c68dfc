"""the day-before confirmation calls (issue 13): when a booking was confirmed by phone, and every
call made about a booking (to confirm it the day before, or to rebook a no-show), append-only

Revision ID: 0018_appointment_calls
Revises: 0017_online_booking
Create Date: 2026-12-06 15:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_appointment_calls'
down_revision = '0017_online_booking'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
    op.create_table(
        'appointment_call',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('purpose', sa.String(length=12), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('appointment_call', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_call_appointment_id', ['appointment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('appointment_call', schema=None) as batch_op:
        batch_op.drop_index('ix_appointment_call_appointment_id')
    op.drop_table('appointment_call')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_column('confirmed_at')
