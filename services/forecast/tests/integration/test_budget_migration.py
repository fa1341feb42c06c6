"""The budget-version migration keeps approved budgets and leaves one approved version per year."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert, select

from ipm_common.migrations import alembic_config, upgrade
from ipm_common.storage import create_engine
from ipm_forecast.adapters import tables
from ipm_forecast.entrypoints.cli import MIGRATIONS

pytestmark = pytest.mark.integration

APPROVED_AT = datetime(2024, 1, 5, tzinfo=UTC)


def test_older_approvals_become_superseded(database_url: str) -> None:
    upgrade(MIGRATIONS, database_url, "0001")
    rows = [("b1", 2024, 1), ("b2", 2024, 2), ("c1", 2025, 1)]
    execute(database_url, [insert(tables.budgets).values(
        budget_id=budget_id, entity_id="ACME", fiscal_year=year, version=version, status="approved",
        approved_by="board", approved_at=APPROVED_AT) for budget_id, year, version in rows])

    upgrade(MIGRATIONS, database_url)

    statuses = dict(fetch(database_url, select(tables.budgets.c.budget_id, tables.budgets.c.status)))
    history = fetch(database_url, select(tables.budget_history.c.budget_id, tables.budget_history.c.action))
    assert statuses == {"b1": "superseded", "b2": "approved", "c1": "approved"}
    assert sorted(history) == [("b1", "approved"), ("b2", "approved"), ("c1", "approved")]


def test_downgrade_then_upgrade_again(database_url: str) -> None:
    upgrade(MIGRATIONS, database_url)

    command.downgrade(alembic_config(MIGRATIONS, database_url), "0001")
    upgrade(MIGRATIONS, database_url)

    assert fetch(database_url, select(tables.period_balances.c.entity_id)) == []


def execute(database_url: str, statements: list[Any]) -> None:
    async def main() -> None:
        engine = create_engine(database_url)
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(statement)
        await engine.dispose()

    asyncio.run(main())


def fetch(database_url: str, query: Any) -> list[tuple[Any, ...]]:
    async def main() -> list[tuple[Any, ...]]:
        engine = create_engine(database_url)
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        await engine.dispose()
        return [tuple(row) for row in rows]

    return asyncio.run(main())
