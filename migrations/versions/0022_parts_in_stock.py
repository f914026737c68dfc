"""parts fill rate (issue 14, 备件满足率): each estimate line keeps when it was first shown to the
customer and, for a catalogue part, whether the stock covered it then; the report reads a period
of a site by that time

Revision ID: 0022_parts_in_stock
Revises: 0021_reports
Create Date: 2026-12-06 19:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_parts_in_stock'
down_revision = '0021_reports'
branch_labels = None
depends_on = None


def upgrade():
    # Lines shown before this migration stay NULL: nobody looked at the stock for them, and the
    # report counts only lines whose stock was recorded.
    with op.batch_alter_table('estimate_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('presented_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('in_stock', sa.Boolean(), nullable=True))
    op.create_index('ix_estimate_line_site_presented', 'estimate_line', ['site_id', 'presented_at'])


def downgrade():
    op.drop_index('ix_estimate_line_site_presented', table_name='estimate_line')
    with op.batch_alter_table('estimate_line', schema=None) as batch_op:
        batch_op.drop_column('in_stock')
        batch_op.drop_column('presented_at')
