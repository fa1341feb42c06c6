from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import Conflict, InvalidInput, NotFound
from ipm_common.events import EntityRegistered, EventData, Topics
from ipm_common.storage import Database
from ipm_projects.adapters import repository
from ipm_projects.domain.projects import BenefitRequest, LinkedTarget
from ipm_projects.service_layer.projects import create_project, update_project

OutboxReader = Callable[[], Awaitable[list[dict[str, Any]]]]
ReferenceFeed = Callable[[list[EventData]], Awaitable[None]]

COLLECTION_BENEFITS = [
    BenefitRequest("PHL", "4100", "FY2024-P03", Decimal("1250000.50")),
    BenefitRequest("PHL", "4100", "2023-08", Decimal("400000")),  # August is FY2024-P02 for a July year
    BenefitRequest("PHL", "5100", "FY2024-P02", Decimal("-75000.25")),
]


async def create(database: Database, benefits: list[BenefitRequest] | None = None, **changes: Any) -> Any:
    arguments: dict[str, Any] = {
        "project_id": "collections", "name": "Faster wage tax collection", "owner": "revenue office",
        "phase": "improve", "linked_targets": [LinkedTarget("PHL", "4100", 2024)],
        "benefits": COLLECTION_BENEFITS if benefits is None else benefits, "correlation_id": "create-1",
    }
    return await create_project(database, **{**arguments, **changes})


@pytest.mark.asyncio
async def test_reference_copy_keeps_newest_version(database: Database, feed_reference: ReferenceFeed) -> None:
    newer = EntityRegistered(entity_id="PHL", name="Philadelphia v2", currency="USD", version=2,
                             calendar=dict(FiscalCalendar(start_month=7).to_dict()))
    older = EntityRegistered(entity_id="PHL", name="Philadelphia v1", currency="USD", version=1,
                             calendar=dict(FiscalCalendar().to_dict()))

    await feed_reference([newer, older])
    await feed_reference([newer])

    async with database.reading() as connection:
        entity = await repository.reference.entity(connection, "PHL")
    assert entity.name == "Philadelphia v2"
    assert entity.calendar.start_month == 7


@pytest.mark.asyncio
async def test_create_publishes_benefits_per_line(referenced: Database, read_outbox: OutboxReader) -> None:
    stored = await create(referenced)

    assert (stored.header.version, stored.changed) == (1, True)
    rows = await read_outbox()
    assert [(row["event_type"], row["topic"], row["key"]) for row in rows] == [
        ("ipm.projects.benefits.planned", Topics.BENEFITS, "PHL|4100"),
        ("ipm.projects.benefits.planned", Topics.BENEFITS, "PHL|5100"),
    ]
    assert rows[0]["payload"]["correlationid"] == "create-1"
    assert rows[0]["payload"]["data"] == {
        "project_id": "collections", "name": "Faster wage tax collection", "entity_id": "PHL", "account_id": "4100",
        "version": 1, "benefits": [{"period": "FY2024-P02", "amount": "400000"},
                                   {"period": "FY2024-P03", "amount": "1250000.50"}],
        "benefit_type": "revenue_uplift", "stage": "expected",
    }
    assert rows[1]["payload"]["data"]["benefits"] == [{"period": "FY2024-P02", "amount": "-75000.25"}]


@pytest.mark.asyncio
async def test_update_publishes_changed_and_new_lines(referenced: Database, read_outbox: OutboxReader) -> None:
    await create(referenced)

    updated = await update_project(referenced, "collections", name=None, owner=None, phase=None,
                                   linked_targets=None, correlation_id="update-1", reason="wage tax line dropped",
                                   benefits=[BenefitRequest("SHOP", "4100", "2024-03", Decimal("10.10"))])

    assert updated.header.version == 2
    assert updated.project.linked_targets == (LinkedTarget("PHL", "4100", 2024),)
    rows = (await read_outbox())[2:]
    assert [(row["event_type"], row["key"], row["payload"]["data"]["version"], row["payload"]["data"]["benefits"])
            for row in rows] == [
        ("ipm.projects.benefits.changed", "PHL|4100", 2, []),
        ("ipm.projects.benefits.changed", "PHL|5100", 2, []),
        ("ipm.projects.benefits.planned", "SHOP|4100", 2, [{"period": "FY2024-P03", "amount": "10.10"}]),
    ]
    assert rows[0]["payload"]["data"]["reason"] == "wage tax line dropped"
    assert {row["payload"]["correlationid"] for row in rows} == {"update-1"}


@pytest.mark.asyncio
async def test_update_publishes_only_changed_lines(referenced: Database, read_outbox: OutboxReader) -> None:
    await create(referenced)
    replanned = [*COLLECTION_BENEFITS[:2], BenefitRequest("PHL", "5100", "FY2024-P02", Decimal("-80000"))]

    await update_project(referenced, "collections", name=None, owner=None, phase="improve", linked_targets=None,
                         correlation_id="update-2", benefits=replanned)

    rows = (await read_outbox())[2:]
    assert [(row["event_type"], row["key"]) for row in rows] == [("ipm.projects.benefits.changed", "PHL|5100")]
    assert rows[0]["payload"]["data"]["reason"] == "re-planned in project version 2"


@pytest.mark.asyncio
async def test_phase_change_by_update_conflicts(referenced: Database) -> None:
    await create(referenced)

    with pytest.raises(Conflict) as raised:
        await update_project(referenced, "collections", name=None, owner=None, phase="control",
                             linked_targets=None, correlation_id="c", benefits=COLLECTION_BENEFITS)

    assert raised.value.reason == "phase_needs_gate"


@pytest.mark.asyncio
async def test_repeated_update_changes_nothing(referenced: Database, read_outbox: OutboxReader) -> None:
    await create(referenced)

    repeated = await update_project(referenced, "collections", name=None, owner=None, phase="improve",
                                    linked_targets=None, benefits=list(reversed(COLLECTION_BENEFITS)),
                                    correlation_id="update-1")

    assert (repeated.header.version, repeated.changed) == (1, False)
    assert len(await read_outbox()) == 2


@pytest.mark.asyncio
async def test_create_replay_and_conflict(referenced: Database, read_outbox: OutboxReader) -> None:
    await create(referenced)

    replay = await create(referenced)
    with pytest.raises(Conflict) as raised:
        await create(referenced, phase="control")

    assert replay.changed is False
    assert raised.value.reason == "project_exists"
    assert len(await read_outbox()) == 2


@pytest.mark.asyncio
async def test_generated_project_id_is_uuid(referenced: Database) -> None:
    stored = await create(referenced, project_id=None)

    assert len(stored.project.project_id) == 36


@pytest.mark.asyncio
async def test_unknown_entity_stores_nothing(referenced: Database, read_outbox: OutboxReader) -> None:
    with pytest.raises(InvalidInput) as raised:
        await create(referenced, [BenefitRequest("NYC", "4100", "FY2024-P01", Decimal(1))])

    assert raised.value.field == "benefits[0].entity_id"
    assert await read_outbox() == []
    async with referenced.reading() as connection:
        assert await repository.project(connection, "collections") is None


@pytest.mark.asyncio
async def test_update_unknown_project_not_found(referenced: Database) -> None:
    with pytest.raises(NotFound):
        await update_project(referenced, "none", name=None, owner=None, phase="define", linked_targets=None,
                             benefits=[], correlation_id="c")


@pytest.mark.asyncio
async def test_benefit_amounts_stored_exactly(referenced: Database) -> None:
    await create(referenced, [BenefitRequest("SHOP", "4100", "2024-01", Decimal("0.000000000000000001"))])

    async with referenced.reading() as connection:
        stored = await repository.project(connection, "collections")

    assert stored is not None
    assert str(stored[0].benefits[0].amount) == "1E-18"
    assert stored[0].total_benefits() == {("SHOP", "4100"): Decimal("0.000000000000000001")}
