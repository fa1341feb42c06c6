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
    Text,
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
    # The approval number within the entity and fiscal year; a draft has none until it is approved.
    Column("version", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("approved_by", String(128), nullable=True),
    Column("approved_at", DateTime(timezone=True), nullable=True),
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
    Column("spread_driver", String(64), nullable=True),
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
    # What produced the version: trigger, ledger, benefit, driver and override versions (JSON).
    Column("trigger_event_type", String(128), nullable=True),
    Column("lineage", Text, nullable=True),
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
    # Versions rolled before driver and override layers existed hold NULL here: read as no effect.
    Column("driver", MoneyType(), nullable=True),
    Column("override", MoneyType(), nullable=True),
)

# --- drivers, overrides, realised benefits, accuracy ------------------------------------------

drivers = Table(
    "drivers",
    metadata,
    Column("driver_id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    # Raised by every change of the driver's values or scenarios; lineage records it.
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

driver_values = Table(
    "driver_values",
    metadata,
    Column("driver_id", String(64), primary_key=True),
    Column("month", String(7), primary_key=True),  # calendar month YYYY-MM
    Column("value", MoneyType(), nullable=False),
)

driver_scenarios = Table(
    "driver_scenarios",
    metadata,
    Column("driver_id", String(64), primary_key=True),
    Column("scenario", String(64), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("value", MoneyType(), nullable=False),
)

driver_lines = Table(
    "driver_lines",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True),
    Column("driver_id", String(64), nullable=False, index=True),
    Column("scenario", String(64), nullable=True),
    Column("version", Integer, nullable=False),
    Column("configured_by", String(128), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

overrides = Table(
    "overrides",
    metadata,
    Column("override_id", String(64), primary_key=True),
    Column("entity_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("cost_centre", String(64), nullable=False),
    Column("period", String(16), nullable=False),
    Column("value", MoneyType(), nullable=False),
    Column("author", String(128), nullable=False),
    Column("reason", String(1000), nullable=False),
    # Set on the leaf overrides that a top-down override on a hierarchy node allocated.
    Column("top_down_id", String(64), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_overrides_series", "entity_id", "account_id", "cost_centre", "period"),
)

realised_benefits = Table(
    "realised_benefits",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("planned", MoneyType(), nullable=False),
    Column("baseline", MoneyType(), nullable=False),
    Column("actual", MoneyType(), nullable=False),
    Column("realised", MoneyType(), nullable=False),
    Column("version", Integer, nullable=False),
)

accuracy_points = Table(
    "accuracy_points",
    metadata,
    Column("forecast_id", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("entity_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("cost_centre", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("lag", Integer, nullable=False),
    Column("forecast", MoneyType(), nullable=False),
    Column("actual", MoneyType(), nullable=False),
    Column("scored_at", DateTime(timezone=True), nullable=False),
    Index("ix_accuracy_points_series", "entity_id", "account_id", "cost_centre"),
)

# At most one active override per series and period, so that concurrent overrides cannot both count.
Index("uq_overrides_one_active", overrides.c.entity_id, overrides.c.account_id, overrides.c.cost_centre,
      overrides.c.period, unique=True, sqlite_where=overrides.c.active.is_(True),
      postgresql_where=overrides.c.active.is_(True))

# --- budget workflow and period balances -------------------------------------------------------

# At most one approved budget version per entity and fiscal year; older approvals are superseded.
Index("uq_budgets_one_approved", budgets.c.entity_id, budgets.c.fiscal_year, unique=True,
      sqlite_where=budgets.c.status == "approved", postgresql_where=budgets.c.status == "approved")

budget_history = Table(
    "budget_history",
    metadata,
    Column("budget_id", String(64), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("action", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("comment", String(1000), nullable=True),
)

# Every accepted version of an ERP's period balance; the highest version of a key is the one that
# counts. Stale versions are logged and never stored. The ledger's postings table receives the
# resulting flow changes as adjustments with channel "balance".
period_balances = Table(
    "period_balances",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("basis", String(8), nullable=False),
    Column("amount", MoneyType(), nullable=False),
    Column("batch_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
