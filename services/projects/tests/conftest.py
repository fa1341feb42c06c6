"""Databases for the projects tests, migrated to the latest revision.

``database`` runs a test once on a SQLite file and once on a fresh PostgreSQL database, through
the shared ``database_url`` fixture of ``ipm_common.testing`` (see IPM_TEST_POSTGRES_URL there).
"""

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from ipm_common.calendar import FiscalCalendar
from ipm_common.dispatch import new_event
from ipm_common.envelope import encode
from ipm_common.events import AccountDefined, EntityRegistered, EventData, Topics
from ipm_common.messaging import ConsumedMessage
from ipm_common.migrations import upgrade
from ipm_common.storage import Database, create_engine
from ipm_projects.adapters import tables
from ipm_projects.entrypoints.cli import MIGRATIONS
from ipm_projects.entrypoints.subscriptions import reference_dispatcher

OutboxReader = Callable[[], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'projects.db'}"
    upgrade(MIGRATIONS, url)
    return url


@pytest.fixture
def migrated_url(database_url: str) -> str:
    upgrade(MIGRATIONS, database_url)
    return database_url


@pytest_asyncio.fixture
async def database(migrated_url: str) -> AsyncIterator[Database]:
    """A migrated database on SQLite and on PostgreSQL."""
    opened = Database(create_engine(migrated_url), tables.outbox, tables.inbox)
    yield opened
    await opened.dispose()


@pytest_asyncio.fixture
async def sqlite_database(sqlite_url: str) -> AsyncIterator[Database]:
    opened = Database(create_engine(sqlite_url), tables.outbox, tables.inbox)
    yield opened
    await opened.dispose()


@pytest.fixture
def read_outbox(database: Database) -> OutboxReader:
    """Return a reader of the outbox rows in order, each with its payload parsed from JSON."""

    async def read() -> list[dict[str, Any]]:
        async with database.reading() as connection:
            rows = await connection.execute(select(tables.outbox).order_by(tables.outbox.c.position))
            return [{**row._asdict(), "payload": json.loads(row.payload)} for row in rows]

    return read


async def apply_reference_events(database: Database, events: list[EventData]) -> None:
    """Feed reference events to the projects service's consumer, as the strategy service publishes them."""
    dispatcher = reference_dispatcher(database)
    for offset, data in enumerate(events):
        envelope = new_event("ipm-strategy", data, correlation_id="reference-load")
        await dispatcher(ConsumedMessage(Topics.REFERENCE, 0, offset, None, encode(envelope)))


def reference_events() -> list[EventData]:
    """Return three entities (July year named by its end, calendar year, 4-4-5 weeks) and two accounts."""
    return [
        EntityRegistered(entity_id="PHL", name="City of Philadelphia", currency="USD", version=1,
                         calendar=dict(FiscalCalendar(start_month=7, year_named_by="end").to_dict())),
        EntityRegistered(entity_id="SHOP", name="Souvenir shop", currency="AUD", version=1,
                         calendar=dict(FiscalCalendar().to_dict())),
        EntityRegistered(entity_id="RETAIL", name="Retail chain", currency="USD", version=1,
                         calendar=dict(FiscalCalendar(week_pattern="4-4-5").to_dict())),
        AccountDefined(account_id="4100", name="Wage tax", account_type="revenue", statement="income_statement",
                       normal_balance="credit", direction="higher_is_better", version=1),
        AccountDefined(account_id="5100", name="Salaries", account_type="expense", statement="income_statement",
                       normal_balance="debit", direction="lower_is_better", version=1),
    ]


@pytest.fixture
def feed_reference(database: Database) -> Callable[[list[EventData]], Awaitable[None]]:
    """Return a function that feeds reference events to the consumer of ``database``."""

    async def feed(events: list[EventData]) -> None:
        await apply_reference_events(database, events)

    return feed


@pytest_asyncio.fixture
async def referenced(database: Database) -> Database:
    """A migrated database, on every configured backend, that holds the reference data copy."""
    await apply_reference_events(database, reference_events())
    return database


@pytest_asyncio.fixture
async def sqlite_referenced(sqlite_database: Database) -> Database:
    await apply_reference_events(sqlite_database, reference_events())
    return sqlite_database
