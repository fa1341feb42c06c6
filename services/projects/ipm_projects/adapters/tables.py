"""The projects service's tables (SQLAlchemy Core). Money columns use ``MoneyType``."""

from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String, Table

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
