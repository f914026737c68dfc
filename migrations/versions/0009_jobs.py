"""side effects in a task queue: notifications claimed before sending, follow-up due reminders

Revision ID: 0009_jobs
Revises: 72fc4d9dfbd4
Create Date: 2026-12-05 19:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_jobs'
down_revision = '72fc4d9dfbd4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('claim_key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_status'), ['status'], unique=False)
    # Rows written before the queue were sent (or not) in the request: their time is the send time.
    op.execute("UPDATE notification SET sent_at = created_at WHERE status = 'sent'")

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_status'))
        batch_op.drop_column('sent_at')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claim_key')
        batch_op.drop_column('attempts')
