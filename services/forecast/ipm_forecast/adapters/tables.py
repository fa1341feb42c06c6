"""The forecast service's tables (SQLAlchemy Core). Money columns use ``MoneyType``."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from ipm_common.reference import define_reference_tables
from ipm_common.storage import MoneyType, define_inbox, define_outbox

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)

reference = define_reference_tables(metadata)

postings = Table(
    "postings",
    metadata,
    Column("ledger_version", Integer, primary_key=True, autoincrement=True),
    Column("source_id", String(128), nullable=False, unique=True),
    Column("entity_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("cost_centre", String(64), nullable=False, default=""),
    Column("period", String(16), nullable=False),
    Column("posting_date", Date, nullable=False),
    Column("amount", MoneyType(), nullable=False),
    Column("ledger_amount", MoneyType(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reverses", String(128), nullable=True, unique=True),
    Column("late", Boolean, nullable=False),
    Column("batch_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_postings_series", "entity_id", "account_id", "cost_centre", "period"),
)

closed_periods = Table(
    "closed_periods",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("closed_at", DateTime(timezone=True), nullable=False),
    Column("closed_by", String(128), nullable=False),
)

fx_rates = Table(
    "fx_rates",
    metadata,
    Column("from_currency", String(3), primary_key=True),
    Column("to_currency", String(3), primary_key=True),
    Column("rate_type", String(16), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("rate", MoneyType(), nullable=False),
)

budgets = Table(
    "budgets",
    metadata,
    Column("budget_id", String(64), primary_key=True),
    Column("entity_id", String(64), nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("approved_by", String(128), nullable=False),
    Column("approved_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("entity_id", "fiscal_year", "version"),
)

budget_lines = Table(
    "budget_lines",
    metadata,
    Column("budget_id", String(64), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True, default=""),
    Column("period", String(16), primary_key=True),
    Column("amount", MoneyType(), nullable=False),
    Column("annual", MoneyType(), nullable=False),
    Column("spread_method", String(16), nullable=False),
)

planned_benefits = Table(
    "planned_benefits",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("amount", MoneyType(), nullable=False),
    Column("version", Integer, nullable=False),
)

forecasts = Table(
    "forecasts",
    metadata,
    Column("forecast_id", String(64), primary_key=True),
    Column("entity_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("cost_centre", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("origin", String(16), nullable=False),
    Column("method", String(64), nullable=False),
    Column("clamped", Boolean, nullable=False),
    Column("ledger_version", Integer, nullable=False),
    Column("trigger_event_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("entity_id", "account_id", "cost_centre", "version"),
)

forecast_points = Table(
    "forecast_points",
    metadata,
    Column("forecast_id", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("baseline", MoneyType(), nullable=False),
    Column("benefits", MoneyType(), nullable=False),
    Column("value", MoneyType(), nullable=False),
    Column("p10", MoneyType(), nullable=False),
    Column("p90", MoneyType(), nullable=False),
)
