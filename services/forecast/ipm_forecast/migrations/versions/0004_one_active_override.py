"""allow at most one active override per series and period

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Concurrent overrides of one period could each stay active; the newest one is the one that counts.
    op.execute(
        "UPDATE overrides SET active = false WHERE active AND EXISTS (SELECT 1 FROM overrides AS newer "
        "WHERE newer.active AND newer.entity_id = overrides.entity_id AND newer.account_id = overrides.account_id "
        "AND newer.cost_centre = overrides.cost_centre AND newer.period = overrides.period "
        "AND (newer.created_at > overrides.created_at OR (newer.created_at = overrides.created_at "
        "AND newer.override_id > overrides.override_id)))"
    )
    op.create_index('uq_overrides_one_active', 'overrides', ['entity_id', 'account_id', 'cost_centre', 'period'],
                    unique=True, sqlite_where=sa.text("active"), postgresql_where=sa.text("active"))


def downgrade() -> None:
    op.drop_index('uq_overrides_one_active', table_name='overrides')
