"""The projects service's tables (SQLAlchemy Core). Money columns use ``MoneyType``."""

from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, MetaData, String, Table, Text

from ipm_common.reference import define_reference_tables
from ipm_common.storage import MoneyType, define_inbox, define_outbox

metadata = MetaData()
outbox = define_outbox(metadata)
inbox = define_inbox(metadata)

# Local copies of the strategy service's entities, accounts and hierarchies.
reference = define_reference_tables(metadata)

projects = Table(
    "projects",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("sponsor", String(128), nullable=False, server_default=""),
    Column("problem", Text, nullable=False, server_default=""),
    Column("goal", Text, nullable=False, server_default=""),
    Column("scope", Text, nullable=False, server_default=""),
    Column("start_date", Date, nullable=True),
    Column("status_set", String(16), nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
)

project_targets = Table(
    "project_targets",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.project_id"), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
)

project_benefits = Table(
    "project_benefits",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.project_id"), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),  # a period key such as FY2024-P03
    Column("amount", MoneyType(), nullable=False),
)

# One row per entity and account a project plans benefits on: its type and its stage.
project_benefit_lines = Table(
    "project_benefit_lines",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.project_id"), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("benefit_type", String(32), nullable=False),
    Column("stage", String(16), nullable=False),  # expected, validated or realised
    Column("validated_by", String(128), nullable=True),
    Column("validated_at", DateTime(timezone=True), nullable=True),
    Column("realisation_version", Integer, nullable=False),
)

gate_reviews = Table(
    "gate_reviews",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.project_id"), primary_key=True),
    Column("sequence", Integer, primary_key=True),
    Column("phase", String(16), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("decided_by", String(128), nullable=False),
    Column("comment", Text, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

milestones = Table(
    "milestones",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.project_id"), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("due_date", Date, nullable=False),
    Column("done_date", Date, nullable=True),
)

kpis = Table(
    "kpis",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.project_id"), primary_key=True),
    Column("kpi_id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("baseline", MoneyType(), nullable=False),
    Column("target", MoneyType(), nullable=False),
    Column("direction", String(32), nullable=False),
)

kpi_measurements = Table(
    "kpi_measurements",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("kpi_id", String(64), primary_key=True),
    Column("measured_on", Date, primary_key=True),
    Column("value", MoneyType(), nullable=False),
)

# A baseline set by hand for one project's line; it replaces the frozen forecast period by period.
manual_baselines = Table(
    "manual_baselines",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.project_id"), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("amount", MoneyType(), nullable=False),
    Column("set_by", String(128), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)

realisations = Table(
    "realisations",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.project_id"), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("planned", MoneyType(), nullable=False),
    Column("baseline", MoneyType(), nullable=False),
    Column("actual", MoneyType(), nullable=False),
    Column("realised", MoneyType(), nullable=False),
)

# The newest forecast version per series and origin, from ``ipm.forecast.forecast.rerolled``:
# ``baseline`` is a JSON object of period key to decimal string (the statistical baseline, which
# leaves out every project's benefit layer). It keeps every origin, so it grows by one row per
# series and month of actuals.
line_forecasts = Table(
    "line_forecasts",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True),  # "" for a series without cost centre
    Column("origin", String(16), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("baseline", Text, nullable=False),
)

# Period balances in natural sign from ``ipm.forecast.actuals.posted``; the newest ledger version wins.
line_actuals = Table(
    "line_actuals",
    metadata,
    Column("entity_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("cost_centre", String(64), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("amount", MoneyType(), nullable=False),
    Column("ledger_version", Integer, nullable=False),
)
