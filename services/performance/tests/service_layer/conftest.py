"""A migrated database per test, on SQLite and, when IPM_TEST_POSTGRES_URL is set, on a fresh PostgreSQL database."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from ipm_common.migrations import upgrade
from ipm_common.storage import Database, create_engine
from ipm_performance.adapters import tables
from ipm_performance.entrypoints.cli import MIGRATIONS

POSTGRES_URL = os.environ.get("IPM_TEST_POSTGRES_URL")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.skipif(
        not POSTGRES_URL, reason="set IPM_TEST_POSTGRES_URL, such as postgresql+asyncpg://postgres@127.0.0.1:5432/"
                                 "postgres, to run these tests on PostgreSQL too")),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Create an empty database, migrate it to the latest revision, and drop it after the test."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'performance.db'}"
        upgrade(MIGRATIONS, url)
        yield url
        return

    assert POSTGRES_URL is not None
    server = make_url(POSTGRES_URL)
    name = f"ipm_performance_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    asyncio.run(_run_admin(admin_dsn, f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(MIGRATIONS, url)
        yield url
    finally:
        asyncio.run(_run_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _run_admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(create_engine(database_url), tables.outbox, tables.inbox)
    try:
        yield database
    finally:
        await database.dispose()
