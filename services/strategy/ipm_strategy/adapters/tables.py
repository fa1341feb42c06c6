"""The strategy service's tables (SQLAlchemy Core). Money columns use ``MoneyType``.

The service owns the organisation model, so ``entities``, ``accounts`` and ``hierarchies`` are
the masters that the other services copy from the reference events.
"""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ipm_common.storage import MoneyType, define_inbox, define_outbox

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)

entities = Table(
    "entities",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("calendar", Text, nullable=False),  # FiscalCalendar.to_dict() as JSON
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("account_type", String(32), nullable=False),
    Column("statement", String(32), nullable=False),
    Column("normal_balance", String(8), nullable=False),
    Column("direction", String(32), nullable=False),
    Column("non_negative", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

hierarchies = Table(
    "hierarchies",
    metadata,
    Column("hierarchy", String(64), primary_key=True),
    Column("dimension", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

hierarchy_edges = Table(
    "hierarchy_edges",
    metadata,
    Column("hierarchy", String(64), ForeignKey("hierarchies.hierarchy"), primary_key=True),
    Column("child", String(64), primary_key=True),
    Column("parent", String(64), nullable=False),
    Column("position", Integer, nullable=False),  # order as submitted
)

plans = Table(
    "plans",
    metadata,
    Column("plan_id", String(64), primary_key=True),
    Column("entity_id", String(64), ForeignKey("entities.entity_id"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("adopted_for_fiscal_year", Integer, nullable=False),
    # The entity's targets version that this plan's targets were published with, null without targets.
    Column("targets_version", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("entity_id", "targets_version"),
)

plan_lines = Table(
    "plan_lines",
    metadata,
    Column("plan_id", String(64), ForeignKey("plans.plan_id"), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("amount", MoneyType(), nullable=False),
)

plan_targets = Table(
    "plan_targets",
    metadata,
    Column("plan_id", String(64), ForeignKey("plans.plan_id"), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("amount", MoneyType(), nullable=False),
    Column("band_pct", MoneyType(), nullable=False),  # a fraction: 0.05 is 5 %
    Column("band_absolute", MoneyType(), nullable=False),
    Column("band_scope", String(16), nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", String(64), primary_key=True),
    Column("alert_id", String(255), nullable=False, unique=True),
    Column("entity_id", String(64), nullable=False),
    Column("line", String(64), nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("outlook", MoneyType(), nullable=False),
    Column("target", MoneyType(), nullable=False),
    Column("variance", MoneyType(), nullable=False),
    Column("variance_pct", MoneyType(), nullable=True),
    Column("threshold", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("decision", String(16), nullable=True),
    Column("decided_by", String(128), nullable=True),
    Column("reason", Text, nullable=True),
    Column("owner", String(128), nullable=True),
    Column("due_date", Date, nullable=True),
    Column("analysis", Text, nullable=True),
    # The operating plan vintage that a revise_plan decision adopted.
    Column("revised_plan_id", String(64), nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("correlation_id", String(128), nullable=False),
    Index("ix_reviews_entity_status", "entity_id", "status"),
)

review_audit = Table(
    "review_audit",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("review_id", String(64), ForeignKey("reviews.review_id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("by", String(128), nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("note", Text, nullable=True),
)

# --- operating plans: three statements, drivers, targets and investment envelopes ---------------

operating_plans = Table(
    "operating_plans",
    metadata,
    Column("plan_id", String(64), primary_key=True),
    Column("entity_id", String(64), ForeignKey("entities.entity_id"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("revises", String(64), nullable=True),
    Column("drivers", Text, nullable=True),  # DriverSettings as JSON with decimal strings
    Column("source", Text, nullable=True),  # where reported history came from
    # The entity's targets version that adopting this plan published, null before adoption.
    Column("targets_version", Integer, nullable=True),
    Column("adopted_by", String(128), nullable=True),
    Column("adopted_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("entity_id", "targets_version"),
)

operating_plan_lines = Table(
    "operating_plan_lines",
    metadata,
    Column("plan_id", String(64), ForeignKey("operating_plans.plan_id"), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("statement", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("role", String(32), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("amount", MoneyType(), nullable=False),
)

operating_plan_targets = Table(
    "operating_plan_targets",
    metadata,
    Column("plan_id", String(64), ForeignKey("operating_plans.plan_id"), primary_key=True),
    Column("kind", String(8), primary_key=True),  # line or kpi
    Column("line", String(64), primary_key=True),  # a plan line, or the KPI's name
    Column("fiscal_year", Integer, primary_key=True),
    Column("amount", MoneyType(), nullable=False),
    Column("band_pct", MoneyType(), nullable=False),
    Column("band_absolute", MoneyType(), nullable=False),
    Column("band_scope", String(16), nullable=False),
)

# The operating cash flow derived from reported statements against the reported one, per year of a history plan.
cash_flow_comparisons = Table(
    "cash_flow_comparisons",
    metadata,
    Column("plan_id", String(64), ForeignKey("operating_plans.plan_id"), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("net_income", MoneyType(), nullable=False),
    Column("non_cash_items", MoneyType(), nullable=False),
    Column("increase_in_working_capital_assets", MoneyType(), nullable=False),
    Column("increase_in_working_capital_liabilities", MoneyType(), nullable=False),
    Column("reported", MoneyType(), nullable=False),
    Column("missing_lines", Text, nullable=False),  # comma-separated line names, empty when none
)

investment_envelopes = Table(
    "investment_envelopes",
    metadata,
    Column("envelope_id", String(64), primary_key=True),
    Column("plan_id", String(64), ForeignKey("operating_plans.plan_id"), nullable=False, index=True),
    Column("initiative", String(255), nullable=False),  # a project id or an initiative's name
    Column("kind", String(16), nullable=False),  # capital or operating
    Column("status", String(16), nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(128), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("reason", Text, nullable=True),
)

investment_envelope_amounts = Table(
    "investment_envelope_amounts",
    metadata,
    Column("envelope_id", String(64), ForeignKey("investment_envelopes.envelope_id"), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("amount", MoneyType(), nullable=False),
)
