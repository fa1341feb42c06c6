"""add scoped alert rules, subscriptions and departmental figures

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

SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('alert_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('definition', sa.Text(), nullable=True))
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restated', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('correlation_id', sa.String(length=64), server_default='', nullable=False))
        batch_op.alter_column('threshold', existing_type=sa.String(length=128), type_=sa.String(length=255),
                              existing_nullable=False)

    op.create_table('alert_changes',
    sa.Column('sequence', SEQUENCE, autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sequence')
    )
    op.create_index('ix_alert_changes_entity', 'alert_changes', ['entity_id', 'sequence'], unique=False)

    op.create_table('webhooks',
    sa.Column('webhook_id', sa.String(length=36), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('secret', sa.String(length=256), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('min_severity', sa.String(length=16), nullable=False),
    sa.Column('cursor', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('webhook_id')
    )
    op.create_table('webhook_deliveries',
    sa.Column('delivery_id', SEQUENCE, autoincrement=True, nullable=False),
    sa.Column('webhook_id', sa.String(length=36), nullable=False),
    sa.Column('change_sequence', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('delivery_id')
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_webhook_deliveries_webhook', 'webhook_deliveries', ['webhook_id', 'delivery_id'],
                    unique=False)
    op.create_table('webhook_attempts',
    sa.Column('delivery_id', sa.BigInteger(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.String(length=36), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=512), nullable=True),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('delivery_id', 'attempt')
    )
    op.create_table('projections',
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('line', sa.String(length=64), nullable=False),
    sa.Column('cost_centre', sa.String(length=64), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('projection', ipm_common.storage.MoneyType(length=64), nullable=False),
    sa.Column('as_of', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entity_id', 'line', 'cost_centre', 'fiscal_year')
    )


def downgrade() -> None:
    op.drop_table('projections')
    op.drop_table('webhook_attempts')
    op.drop_index('ix_webhook_deliveries_webhook', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhooks')
    op.drop_index('ix_alert_changes_entity', table_name='alert_changes')
    op.drop_table('alert_changes')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.alter_column('threshold', existing_type=sa.String(length=255), type_=sa.String(length=128),
                              existing_nullable=False)
        batch_op.drop_column('correlation_id')
        batch_op.drop_column('restated')
    with op.batch_alter_table('alert_rules', schema=None) as batch_op:
        batch_op.drop_column('definition')
