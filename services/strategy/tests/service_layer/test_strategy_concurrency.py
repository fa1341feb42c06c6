import pytest
from sqlalchemy import insert

from ipm_common.errors import Conflict
from ipm_common.storage import Database, utcnow
from ipm_strategy.adapters import repository, tables
from ipm_strategy.service_layer.organisation import put_entity
from ipm_strategy.service_layer.unit_of_work import writing


@pytest.mark.asyncio
async def test_stale_version_update_conflicts(database: Database) -> None:
    await put_entity(database, "PHL", "Philadelphia", "USD", {}, correlation_id="c1")
    await put_entity(database, "PHL", "City of Philadelphia", "USD", {}, correlation_id="c2")

    with pytest.raises(Conflict) as raised:
        async with database.transaction() as transaction:
            await repository.save_versioned(transaction.connection, tables.entities, {"entity_id": "PHL"},
                                            {"name": "late writer", "version": 2}, previous_version=1)

    assert raised.value.reason == "concurrent_update"
    async with database.reading() as connection:
        stored = await repository.entity(connection, "PHL")
    assert stored is not None
    assert (stored[0].name, stored[1]) == ("City of Philadelphia", 2)


@pytest.mark.asyncio
async def test_duplicate_key_becomes_conflict(database: Database) -> None:
    row = {"entity_id": "PHL", "name": "Philadelphia", "currency": "USD", "calendar": "{}", "version": 1,
           "updated_at": utcnow()}
    async with writing(database) as transaction:
        await transaction.connection.execute(insert(tables.entities).values(row))

    with pytest.raises(Conflict) as raised:
        async with writing(database) as transaction:
            await transaction.connection.execute(insert(tables.entities).values(row))

    assert raised.value.reason == "concurrent_update"
