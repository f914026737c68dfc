"""approval head (issue 15, short locks): the site row holds the hash of its newest approval, so a
customer's decision links to it and moves it in the one UPDATE that bumps the change sequence,
the last statement of its transaction, instead of locking the site row for the whole decision

Revision ID: 0023_approvalhead
Revises: 0022_parts_in_stock
Create Date: 2026-12-06 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_approvalhead'
down_revision = '0022_parts_in_stock'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval_head', sa.String(length=64), nullable=True))
    op.execute("UPDATE site SET approval_head = (SELECT approval.record_hash FROM approval"
               " WHERE approval.site_id = site.id ORDER BY approval.id DESC LIMIT 1)")


def downgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('approval_head')
