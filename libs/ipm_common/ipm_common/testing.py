"""Pytest fixtures shared by every test suite: a real Tansu broker and fresh PostgreSQL databases.

PostgreSQL tests use ``IPM_TEST_POSTGRES_URL`` (an account that may create databases). When the
server is unreachable they are skipped, except under CI (``CI`` set), where that is a failure.
"""

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

from ipm_common.broker import TansuBroker

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Start one Tansu broker for the test session and return its bootstrap address."""
    external = os.environ.get("IPM_TEST_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    with TansuBroker() as broker:
        yield broker.bootstrap


def _admin_dsn() -> str:
    url = os.environ.get("IPM_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _execute(dsn: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_postgres_database() -> tuple[str, str]:
    """Create a uniquely named database; return (SQLAlchemy URL, its name)."""
    admin = _admin_dsn()
    name = f"ipm_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_execute(admin, f'CREATE DATABASE "{name}"'))
    except (OSError, ConnectionError) as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL unreachable at {admin}: {error}; set IPM_TEST_POSTGRES_URL")
    base, _, _ = admin.rpartition("/")
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}", name


def drop_postgres_database(name: str) -> None:
    asyncio.run(_execute(_admin_dsn(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """Create a fresh, empty PostgreSQL database for one test and drop it afterwards."""
    url, name = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """Run a test once on a SQLite file and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/test.db"
        return
    url, name = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(name)
