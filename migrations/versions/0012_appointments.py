"""appointments (issue 13): booking capacity settings on the site, booked appointments with a
number, hours, who booked/moved/cancelled and why, and the operations booked with them, and the notices sent about them

Revision ID: 0012_appointments
Revises: 0011_status_checks
Create Date: 2026-12-06 05:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_appointments'
down_revision = '0011_status_checks'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot_minutes', sa.Integer(), server_default='30', nullable=False))
        batch_op.add_column(sa.Column('slot_customers', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('utilisation_percent', sa.Integer(), server_default='85', nullable=False))
        batch_op.add_column(sa.Column('reserve_percent', sa.Integer(), server_default='20', nullable=False))
        batch_op.add_column(sa.Column('cap_maintenance_hours', sa.Numeric(precision=6, scale=1), nullable=True))
        batch_op.add_column(sa.Column('cap_diagnosis_hours', sa.Numeric(precision=6, scale=1), nullable=True))
        batch_op.add_column(sa.Column('closed_weekdays', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('holidays', sa.Text(), server_default='', nullable=False))

    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('hours', sa.Numeric(precision=6, scale=2), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('cap_kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('overbook_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key('fk_appointment_created_by_id_user', 'user', ['created_by_id'], ['id'])
        batch_op.create_unique_constraint('uq_appointment_site_id_number', ['site_id', 'number'])
        batch_op.create_unique_constraint('uq_appointment_idempotency_key', ['idempotency_key'])

    op.create_table('appointment_operation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ),
    sa.ForeignKeyConstraint(['operation_id'], ['labour_operation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appointment_operation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_operation_appointment_id'), ['appointment_id'], unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appointment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_foreign_key('fk_notification_appointment_id_appointment', 'appointment',
                                    ['appointment_id'], ['id'])


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint('fk_notification_appointment_id_appointment', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_appointment_id'))
        batch_op.drop_column('appointment_id')

    with op.batch_alter_table('appointment_operation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_operation_appointment_id'))
    op.drop_table('appointment_operation')

    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_constraint('uq_appointment_idempotency_key', type_='unique')
        batch_op.drop_constraint('uq_appointment_site_id_number', type_='unique')
        batch_op.drop_constraint('fk_appointment_created_by_id_user', type_='foreignkey')
        for column in ('idempotency_key', 'updated_at', 'created_by_id', 'cancelled_at', 'cancel_reason',
                       'overbook_reason', 'note', 'cap_kind', 'hours', 'number'):
            batch_op.drop_column(column)

    with op.batch_alter_table('site', schema=None) as batch_op:
        for column in ('holidays', 'closed_weekdays', 'cap_diagnosis_hours', 'cap_maintenance_hours',
                       'reserve_percent', 'utilisation_percent', 'slot_customers', 'slot_minutes'):
            batch_op.drop_column(column)
