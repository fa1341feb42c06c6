"""Databases for the strategy tests, migrated to the latest revision.

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

from ipm_common.migrations import upgrade
from ipm_common.storage import Database, create_engine
from ipm_strategy.adapters import tables
from ipm_strategy.entrypoints.cli import MIGRATIONS

OutboxReader = Callable[[], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'strategy.db'}"
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
