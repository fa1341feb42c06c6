"""add budget versions and versioned period balances

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
    # Drafts have no approval number, approver or approval time yet.
    with op.batch_alter_table('budgets') as batch:
        batch.alter_column('version', existing_type=sa.Integer(), nullable=True)
        batch.alter_column('approved_by', existing_type=sa.String(length=128), nullable=True)
        batch.alter_column('approved_at', existing_type=sa.DateTime(timezone=True), nullable=True)
    with op.batch_alter_table('budget_lines') as batch:
        batch.add_column(sa.Column('spread_driver', sa.String(length=64), nullable=True))

    # Before this revision every version stayed approved; only the highest one of each entity and
    # fiscal year remains approved.
    op.execute(
        "UPDATE budgets SET status = 'superseded' WHERE status = 'approved' AND version < "
        "(SELECT MAX(newer.version) FROM budgets AS newer WHERE newer.entity_id = budgets.entity_id "
        "AND newer.fiscal_year = budgets.fiscal_year)"
    )
    op.create_index('uq_budgets_one_approved', 'budgets', ['entity_id', 'fiscal_year'], unique=True,
                    sqlite_where=sa.text("status = 'approved'"), postgresql_where=sa.text("status = 'approved'"))

    op.create_table('budget_history',
    sa.Column('budget_id', sa.String(length=64), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.String(length=1000), nullable=True),
    sa.PrimaryKeyConstraint('budget_id', 'step')
    )
    op.execute(
        "INSERT INTO budget_history (budget_id, step, action, actor, at, comment) "
        "SELECT budget_id, 1, 'approved', approved_by, approved_at, NULL FROM budgets"
    )

    op.create_table('period_balances',
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('cost_centre', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=8), nullable=False),
    sa.Column('amount', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entity_id', 'account_id', 'cost_centre', 'period', 'version')
    )


def downgrade() -> None:
    op.drop_table('period_balances')
    op.drop_table('budget_history')
    op.drop_index('uq_budgets_one_approved', table_name='budgets')
    op.execute("DELETE FROM budget_lines WHERE budget_id IN (SELECT budget_id FROM budgets WHERE status <> "
               "'approved' AND status <> 'superseded')")
    op.execute("DELETE FROM budgets WHERE status <> 'approved' AND status <> 'superseded'")
    op.execute("UPDATE budgets SET status = 'approved'")
    with op.batch_alter_table('budget_lines') as batch:
        batch.drop_column('spread_driver')
    with op.batch_alter_table('budgets') as batch:
        batch.alter_column('approved_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.alter_column('approved_by', existing_type=sa.String(length=128), nullable=False)
        batch.alter_column('version', existing_type=sa.Integer(), nullable=False)
