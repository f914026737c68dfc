"""indexes led by the site for the history and the screens of active visits: a dealer group's
years of visits are searched by (site, plate/mobile/VIN/name) and read by (site, state/vehicle/
customer), so nothing walks the whole table (issue 15)

Revision ID: 0015_scale_indexes
Revises: 0013_valuables
Create Date: 2026-12-06 06:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015_scale_indexes'
down_revision = '0013_valuables'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_customer_site_mobile", "customer", ["site_id", "mobile"]),
    ("ix_customer_site_name", "customer", ["site_id", "name"]),
    ("ix_vehicle_site_plate", "vehicle", ["site_id", "plate"]),
    ("ix_vehicle_site_vin", "vehicle", ["site_id", "vin"]),
    ("ix_vehicle_site_customer", "vehicle", ["site_id", "customer_id"]),
    ("ix_visit_site_state", "visit", ["site_id", "state"]),
    ("ix_visit_site_vehicle", "visit", ["site_id", "vehicle_id"]),
    ("ix_visit_site_customer", "visit", ["site_id", "customer_id"]),
    ("ix_manufacturer_request_site_status", "manufacturer_request", ["site_id", "status"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
