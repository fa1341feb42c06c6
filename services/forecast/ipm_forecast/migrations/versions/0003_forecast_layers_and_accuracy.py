"""add forecast layers, drivers, overrides and accuracy

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import ipm_common.storage


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('forecasts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trigger_event_type', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('lineage', sa.Text(), nullable=True))
    with op.batch_alter_table('forecast_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('driver', ipm_common.storage.MoneyType(length=64), nullable=True))
        batch_op.add_column(sa.Column('override', ipm_common.storage.MoneyType(length=64), nullable=True))

    op.create_table('drivers',
    sa.Column('driver_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('driver_id')
    )
    op.create_table('driver_values',
    sa.Column('driver_id', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('value', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.PrimaryKeyConstraint('driver_id', 'month')
    )
    op.create_table('driver_scenarios',
    sa.Column('driver_id', sa.String(length=64), nullable=False),
    sa.Column('scenario', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('value', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.PrimaryKeyConstraint('driver_id', 'scenario', 'month')
    )
    op.create_table('driver_lines',
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('cost_centre', sa.String(length=64), nullable=False),
    sa.Column('driver_id', sa.String(length=64), nullable=False),
    sa.Column('scenario', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('configured_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entity_id', 'account_id', 'cost_centre')
    )
    with op.batch_alter_table('driver_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_driver_lines_driver_id'), ['driver_id'], unique=False)

    op.create_table('overrides',
    sa.Column('override_id', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('cost_centre', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('value', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('author', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('top_down_id', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('override_id')
    )
    with op.batch_alter_table('overrides', schema=None) as batch_op:
        batch_op.create_index('ix_overrides_series', ['entity_id', 'account_id', 'cost_centre', 'period'],
                              unique=False)

    op.create_table('realised_benefits',
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('planned', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('baseline', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('actual', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('realised', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('project_id', 'entity_id', 'account_id', 'period')
    )
    op.create_table('accuracy_points',
    sa.Column('forecast_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('cost_centre', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('lag', sa.Integer(), nullable=False),
    sa.Column('forecast', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('actual', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('forecast_id', 'period')
    )
    with op.batch_alter_table('accuracy_points', schema=None) as batch_op:
        batch_op.create_index('ix_accuracy_points_series', ['entity_id', 'account_id', 'cost_centre'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('accuracy_points', schema=None) as batch_op:
        batch_op.drop_index('ix_accuracy_points_series')
    op.drop_table('accuracy_points')
    op.drop_table('realised_benefits')
    with op.batch_alter_table('overrides', schema=None) as batch_op:
        batch_op.drop_index('ix_overrides_series')
    op.drop_table('overrides')
    with op.batch_alter_table('driver_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_driver_lines_driver_id'))
    op.drop_table('driver_lines')
    op.drop_table('driver_scenarios')
    op.drop_table('driver_values')
    op.drop_table('drivers')
    with op.batch_alter_table('forecast_points', schema=None) as batch_op:
        batch_op.drop_column('override')
        batch_op.drop_column('driver')
    with op.batch_alter_table('forecasts', schema=None) as batch_op:
        batch_op.drop_column('lineage')
        batch_op.drop_column('trigger_event_type')
