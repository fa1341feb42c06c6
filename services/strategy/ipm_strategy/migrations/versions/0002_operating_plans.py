"""add three-statement operating plans, cash-flow comparisons, investment envelopes and review workflow columns

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
    op.create_table('operating_plans',
    sa.Column('plan_id', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('revises', sa.String(length=64), nullable=True),
    sa.Column('drivers', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('targets_version', sa.Integer(), nullable=True),
    sa.Column('adopted_by', sa.String(length=128), nullable=True),
    sa.Column('adopted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.entity_id'], ),
    sa.PrimaryKeyConstraint('plan_id'),
    sa.UniqueConstraint('entity_id', 'targets_version')
    )
    op.create_index(op.f('ix_operating_plans_entity_id'), 'operating_plans', ['entity_id'], unique=False)
    op.create_table('operating_plan_lines',
    sa.Column('plan_id', sa.String(length=64), nullable=False),
    sa.Column('line', sa.String(length=64), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('statement', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('amount', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['operating_plans.plan_id'], ),
    sa.PrimaryKeyConstraint('plan_id', 'line', 'fiscal_year')
    )
    op.create_table('operating_plan_targets',
    sa.Column('plan_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('line', sa.String(length=64), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('amount', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('band_pct', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('band_absolute', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('band_scope', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['operating_plans.plan_id'], ),
    sa.PrimaryKeyConstraint('plan_id', 'kind', 'line', 'fiscal_year')
    )
    op.create_table('cash_flow_comparisons',
    sa.Column('plan_id', sa.String(length=64), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('net_income', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('non_cash_items', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('increase_in_working_capital_assets', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('increase_in_working_capital_liabilities', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('reported', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('missing_lines', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['operating_plans.plan_id'], ),
    sa.PrimaryKeyConstraint('plan_id', 'fiscal_year')
    )

    op.create_table('investment_envelopes',
    sa.Column('envelope_id', sa.String(length=64), nullable=False),
    sa.Column('plan_id', sa.String(length=64), nullable=False),
    sa.Column('initiative', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=128), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=128), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['operating_plans.plan_id'], ),
    sa.PrimaryKeyConstraint('envelope_id')
    )
    op.create_index(op.f('ix_investment_envelopes_plan_id'), 'investment_envelopes', ['plan_id'], unique=False)
    op.create_table('investment_envelope_amounts',
    sa.Column('envelope_id', sa.String(length=64), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('amount', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.ForeignKeyConstraint(['envelope_id'], ['investment_envelopes.envelope_id'], ),
    sa.PrimaryKeyConstraint('envelope_id', 'fiscal_year')
    )
    op.add_column('reviews', sa.Column('owner', sa.String(length=128), nullable=True))
    op.add_column('reviews', sa.Column('due_date', sa.Date(), nullable=True))
    op.add_column('reviews', sa.Column('analysis', sa.Text(), nullable=True))
    op.add_column('reviews', sa.Column('revised_plan_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reviews') as batch:
        batch.drop_column('revised_plan_id')
        batch.drop_column('analysis')
        batch.drop_column('due_date')
        batch.drop_column('owner')
    op.drop_table('investment_envelope_amounts')
    op.drop_index(op.f('ix_investment_envelopes_plan_id'), table_name='investment_envelopes')
    op.drop_table('investment_envelopes')
    op.drop_table('cash_flow_comparisons')
    op.drop_table('operating_plan_targets')
    op.drop_table('operating_plan_lines')
    op.drop_index(op.f('ix_operating_plans_entity_id'), table_name='operating_plans')
    op.drop_table('operating_plans')
