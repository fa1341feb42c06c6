"""The performance service's tables (SQLAlchemy Core). Money columns use ``MoneyType``.

A missing cost centre is stored as the empty string, so that it can be part of a primary key.
"""

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text, false

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
    Column("threshold", String(255), nullable=False),
    Column("phasing", String(16), nullable=False),
    Column("figures_version", Integer, nullable=False),
    Column("opens_review", Boolean, nullable=False),
    Column("review_requested", Boolean, nullable=False),
    Column("changes", Integer, nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    # Set when new figures changed a period before the entity's latest one; cleared by a new raise.
    Column("restated", Boolean, nullable=False, server_default=false()),
    # The correlation id of the last change: new figures under another one (a later batch) restate.
    Column("correlation_id", String(64), nullable=False, server_default=""),
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
    # The whole rule as JSON (tiers, floor, direction, persistence, comparisons, scope); the columns
    # above hold its lowest tier. Null on rows stored before rules had more than one band.
    Column("definition", Text, nullable=True),
)

# --- subscriptions: the alert change log, webhooks and their deliveries ----------------------

_SEQUENCE = BigInteger().with_variant(Integer, "sqlite")

# Every alert change in commit order. The event stream and the webhook fan-out read it by sequence.
alert_changes = Table(
    "alert_changes",
    metadata,
    Column("sequence", _SEQUENCE, primary_key=True, autoincrement=True),
    Column("alert_id", String(36), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_alert_changes_entity", "entity_id", "sequence"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(36), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("secret", String(256), nullable=False),
    Column("entity_id", String(64), nullable=True),
    Column("min_severity", String(16), nullable=False),
    # The last alert change sequence fanned out into deliveries of this webhook.
    Column("cursor", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", _SEQUENCE, primary_key=True, autoincrement=True),
    Column("webhook_id", String(36), nullable=False),
    Column("change_sequence", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "delivery_id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", BigInteger, primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("webhook_id", String(36), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", String(512), nullable=True),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
)

# --- projections from outside: a cost centre's own full-year projection ----------------------

projections = Table(
    "projections",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("projection", MoneyType(), nullable=False),
    Column("as_of", String(16), nullable=False),
    Column("source", String(128), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# --- the variance engine's inputs: forecast versions, rates, KPIs, benefits, volume drivers ----

# Every received version of every series' forecast, so that a report can ask what the forecast
# made some periods earlier said, and how the latest version moved from the previous one.
forecast_history = Table(
    "forecast_history",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("origin", String(16), nullable=False),
    Column("value", MoneyType(), nullable=False),
    Column("benefits", MoneyType(), nullable=False),
    Index("ix_forecast_history_entity", "entity_id"),
)

report_fx_rates = Table(
    "report_fx_rates",
    metadata,
    Column("from_currency", String(3), primary_key=True),
    Column("to_currency", String(3), primary_key=True),
    Column("rate_type", String(16), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("rate", MoneyType(), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

kpi_definitions = Table(
    "kpi_definitions",
    metadata,
    Column("kpi_id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("formula", String(1000), nullable=False),
    Column("direction", String(32), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

kpi_targets = Table(
    "kpi_targets",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("kpi_id", String(64), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("target", MoneyType(), nullable=False),
    Column("band_pct", MoneyType(), nullable=False),
    Column("band_absolute", MoneyType(), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Planned rows come from ``benefits planned`` and ``benefits changed``, realised rows from
# ``benefits realised``; each kind of a project's line is replaced whole by a newer version.
project_benefits = Table(
    "project_benefits",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("amount", MoneyType(), nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_project_benefits_entity", "entity_id"),
)

volume_drivers = Table(
    "volume_drivers",
    metadata,
    Column("line", String(64), primary_key=True),
    Column("volume_account", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
