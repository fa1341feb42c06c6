from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from ipm_common.migrations import upgrade
from ipm_common.storage import Database, create_engine
from ipm_projects.adapters import tables
from ipm_projects.entrypoints.cli import MIGRATIONS


@pytest.mark.asyncio
async def test_migration_keeps_planned_lines(database_url: str) -> None:
    upgrade(MIGRATIONS, database_url, "0001")
    database = Database(create_engine(database_url), tables.outbox, tables.inbox)
    now = datetime(2024, 1, 2, tzinfo=UTC)
    async with database.transaction() as transaction:
        connection = transaction.connection
        # Only the columns of revision 0001.
        await connection.execute(insert(tables.projects).values(
            project_id="p1", name="n", owner="o", phase="improve", version=1, created_at=now, updated_at=now))
        await connection.execute(insert(tables.project_benefits), [
            {"project_id": "p1", "entity_id": "PHL", "account_id": "4100", "period": period, "amount": Decimal(1)}
            for period in ("FY2024-P01", "FY2024-P02")])
    await database.dispose()

    upgrade(MIGRATIONS, database_url)

    database = Database(create_engine(database_url), tables.outbox, tables.inbox)
    async with database.reading() as connection:
        lines = (await connection.execute(select(tables.project_benefit_lines))).all()
        project = (await connection.execute(select(tables.projects))).one()
    await database.dispose()
    assert [(line.project_id, line.entity_id, line.account_id, line.benefit_type, line.stage)
            for line in lines] == [("p1", "PHL", "4100", "revenue_uplift", "expected")]
    assert (project.sponsor, project.start_date, project.completed_at) == ("", None, None)
