"""add the variance engine, KPI and scorecard tables

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import ipm_common.storage


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    money = ipm_common.storage.MoneyType
    op.create_table('forecast_history',
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('cost_centre', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('value', money(length=64), nullable=False),
    sa.Column('benefits', money(length=64), nullable=False),
    sa.PrimaryKeyConstraint('entity_id', 'account_id', 'cost_centre', 'version', 'period')
    )
    with op.batch_alter_table('forecast_history', schema=None) as batch_op:
        batch_op.create_index('ix_forecast_history_entity', ['entity_id'], unique=False)

    op.create_table('report_fx_rates',
    sa.Column('from_currency', sa.String(length=3), nullable=False),
    sa.Column('to_currency', sa.String(length=3), nullable=False),
    sa.Column('rate_type', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('rate', money(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('from_currency', 'to_currency', 'rate_type', 'period')
    )
    op.create_table('kpi_definitions',
    sa.Column('kpi_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('formula', sa.String(length=1000), nullable=False),
    sa.Column('direction', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kpi_id')
    )
    op.create_table('kpi_targets',
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('kpi_id', sa.String(length=64), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('target', money(length=64), nullable=False),
    sa.Column('band_pct', money(length=64), nullable=False),
    sa.Column('band_absolute', money(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entity_id', 'kpi_id', 'fiscal_year')
    )
    op.create_table('project_benefits',
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('amount', money(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('project_id', 'entity_id', 'account_id', 'kind', 'period')
    )
    with op.batch_alter_table('project_benefits', schema=None) as batch_op:
        batch_op.create_index('ix_project_benefits_entity', ['entity_id'], unique=False)

    op.create_table('volume_drivers',
    sa.Column('line', sa.String(length=64), nullable=False),
    sa.Column('volume_account', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('line')
    )


def downgrade() -> None:
    op.drop_table('volume_drivers')
    with op.batch_alter_table('project_benefits', schema=None) as batch_op:
        batch_op.drop_index('ix_project_benefits_entity')
    op.drop_table('project_benefits')
    op.drop_table('kpi_targets')
    op.drop_table('kpi_definitions')
    op.drop_table('report_fx_rates')
    with op.batch_alter_table('forecast_history', schema=None) as batch_op:
        batch_op.drop_index('ix_forecast_history_entity')
    op.drop_table('forecast_history')
