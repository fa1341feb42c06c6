"""The performance service's tables (SQLAlchemy Core). Money columns use ``MoneyType``.

A missing cost centre is stored as the empty string, so that it can be part of a primary key.
"""

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Integer, MetaData, String, Table

from ipm_common.reference import define_reference_tables
from ipm_common.storage import MoneyType, define_inbox, define_outbox

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)

reference = define_reference_tables(metadata)

# --- inputs: targets, budgets, actuals and forecasts -----------------------------------------

targets = Table(
    "targets",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("plan_id", String(64), nullable=False),
    Column("plan_name", String(255), nullable=False),
    Column("amount", MoneyType(), nullable=False),
    Column("band_pct", MoneyType(), nullable=False),
    Column("band_absolute", MoneyType(), nullable=False),
    Column("band_scope", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

budgets = Table(
    "budgets",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("budget_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("approved_by", String(128), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

budget_lines = Table(
    "budget_lines",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("amount", MoneyType(), nullable=False),
    Column("budget_id", String(64), nullable=False),
)

balances = Table(
    "balances",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("fiscal_year", Integer, nullable=False),
    Column("amount", MoneyType(), nullable=False),
    Column("ledger_version", Integer, nullable=False),
    Column("batch_id", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_balances_entity_year", "entity_id", "fiscal_year"),
)

postings = Table(
    "postings",
    metadata,
    Column("source_id", String(128), primary_key=True),
    Column("entity_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("cost_centre", String(64), nullable=False),
    Column("period", String(16), nullable=False),
    Column("posting_date", Date, nullable=False),
    Column("amount", MoneyType(), nullable=False),
    Column("ledger_amount", MoneyType(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reverses", String(128), nullable=True),
    Column("late", Boolean, nullable=False),
    Column("batch_id", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_postings_series", "entity_id", "account_id", "cost_centre", "period"),
)

forecasts = Table(
    "forecasts",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True),
    Column("forecast_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("origin", String(16), nullable=False),
    Column("method", String(64), nullable=False),
    Column("clamped", Boolean, nullable=False),
    Column("ledger_version", Integer, nullable=False),
    Column("batch_id", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

forecast_points = Table(
    "forecast_points",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("fiscal_year", Integer, nullable=False),
    Column("baseline", MoneyType(), nullable=False),
    Column("benefits", MoneyType(), nullable=False),
    Column("value", MoneyType(), nullable=False),
    Column("p10", MoneyType(), nullable=False),
    Column("p90", MoneyType(), nullable=False),
    Index("ix_forecast_points_entity_year", "entity_id", "fiscal_year"),
)

# --- the batch barrier -----------------------------------------------------------------------

# ``series_count`` is the events' ``batch_series_count``: the number of actuals events of the ERP
# batch, one per series or more for a series with many postings. Each leads to one re-rolled
# forecast, so the batch is complete when ``forecasts_received`` reaches it.
batches = Table(
    "batches",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("series_count", Integer, nullable=False),
    Column("forecasts_received", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("evaluated_at", DateTime(timezone=True), nullable=True),
)

# A re-rolled series waits for actuals while this service has stored an older ledger version of
# the series than the forecast was built on. The batch is evaluated only when no series waits.
batch_series = Table(
    "batch_series",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True),
    Column("ledger_version", Integer, nullable=False),
    Column("waiting_for_actuals", Boolean, nullable=False),
    # Few rows ever wait, and every unit of actuals looks for them.
    Index("ix_batch_series_waiting", "waiting_for_actuals"),
)

batch_entities = Table(
    "batch_entities",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("alerts_changed", Integer, nullable=False),
)

batch_years = Table(
    "batch_years",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
)

# --- results: variance lines, alerts and their rules -----------------------------------------

variance_lines = Table(
    "variance_lines",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("comparison", String(32), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("fiscal_year", Integer, nullable=False),
    Column("value", MoneyType(), nullable=False),
    Column("comparator", MoneyType(), nullable=False),
    Column("variance", MoneyType(), nullable=False),
    Column("variance_pct", MoneyType(), nullable=True),
    Column("favourable", Boolean, nullable=False),
    Column("direction", String(32), nullable=False),
    Column("phasing", String(16), nullable=False),
    Column("figures_version", Integer, nullable=False),
    Column("evaluations", Integer, nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("first_evaluated_at", DateTime(timezone=True), nullable=False),
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("entity_id", String(64), nullable=False),
    Column("line", String(64), nullable=False),
    Column("period", String(16), nullable=False),
    Column("comparison", String(32), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("value", MoneyType(), nullable=False),
    Column("comparator", MoneyType(), nullable=False),
    Column("variance", MoneyType(), nullable=False),
    Column("variance_pct", MoneyType(), nullable=True),
    Column("threshold", String(128), nullable=False),
    Column("phasing", String(16), nullable=False),
    Column("figures_version", Integer, nullable=False),
    Column("opens_review", Boolean, nullable=False),
    Column("review_requested", Boolean, nullable=False),
    Column("changes", Integer, nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Index("ix_alerts_entity_status", "entity_id", "status"),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("rule", String(64), primary_key=True),
    Column("band_pct", MoneyType(), nullable=False),
    Column("band_absolute", MoneyType(), nullable=False),
    Column("band_scope", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("opens_review", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
