from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio

from ipm_common.errors import Conflict, InvalidInput
from ipm_common.events import Topics
from ipm_common.storage import Database
from ipm_strategy.adapters import repository
from ipm_strategy.domain.hierarchies import Edge
from ipm_strategy.domain.plans import PlanLine, TargetRequest
from ipm_strategy.service_layer.organisation import AccountRequest, put_accounts, put_entity, put_hierarchy
from ipm_strategy.service_layer.plans import list_current_targets, submit_plan

OutboxReader = Callable[[], Awaitable[list[dict[str, Any]]]]

# 18 digits before the decimal point and 20 after it, the most that an amount may have.
AMOUNT_AT_LIMITS = "123456789012345678.12345678901234567890"

FIVE_YEAR_LINES = [PlanLine("wage_tax", 2025, Decimal("2203000000")), PlanLine("wage_tax", 2026, Decimal("2291100000"))]
FIVE_YEAR_TARGETS = [
    TargetRequest("wage_tax", 2025, Decimal("2203000000")),
    TargetRequest("bit", 2025, Decimal("567890123.45"), band_pct=Decimal("0.03"), band_absolute=Decimal("250000"),
                  band_scope="unfavourable"),
]


async def submit(database: Database, plan_id: str = "fyp-2025", *, kind: str = "adopted",
                 lines: list[PlanLine] | None = None, targets: list[TargetRequest] | None = None,
                 entity_id: str = "PHL") -> Any:
    return await submit_plan(
        database, plan_id=plan_id, entity_id=entity_id, name=f"Plan {plan_id}", kind=kind,  # type: ignore[arg-type]
        adopted_for_fiscal_year=2025, lines=FIVE_YEAR_LINES if lines is None else lines,
        targets=FIVE_YEAR_TARGETS if targets is None else targets, correlation_id=f"corr-{plan_id}",
    )


@pytest_asyncio.fixture
async def philadelphia(database: Database) -> Database:
    await put_entity(database, "PHL", "Philadelphia", "USD", {"start_month": 7, "year_named_by": "end"},
                     correlation_id="setup")
    await put_accounts(database, [AccountRequest("wage_tax", "Wage tax", "revenue"),
                                  AccountRequest("bit", "Business income and receipts tax", "revenue")],
                       correlation_id="setup")
    return database


async def plan_rows(read_outbox: OutboxReader) -> list[dict[str, Any]]:
    return [row for row in await read_outbox() if row["event_type"] == "ipm.strategy.targets.set"]


@pytest.mark.asyncio
async def test_adopted_plan_publishes_targets(philadelphia: Database, read_outbox: OutboxReader) -> None:
    stored = await submit(philadelphia)

    assert stored.created is True
    assert stored.targets_version == 1
    (row,) = await plan_rows(read_outbox)
    assert (row["topic"], row["key"]) == (Topics.TARGETS, "PHL")
    assert row["payload"]["correlationid"] == "corr-fyp-2025"
    assert row["payload"]["data"] == {
        "entity_id": "PHL", "plan_id": "fyp-2025", "plan_name": "Plan fyp-2025", "version": 1,
        "targets": [
            {"line": "bit", "fiscal_year": 2025, "amount": "567890123.45", "band_pct": "0.03",
             "band_absolute": "250000", "band_scope": "unfavourable", "kind": "line"},
            {"line": "wage_tax", "fiscal_year": 2025, "amount": "2203000000", "band_pct": "0.05",
             "band_absolute": "1000000", "band_scope": "both", "kind": "line"},
        ],
    }


@pytest.mark.asyncio
async def test_identical_replay_changes_nothing(philadelphia: Database, read_outbox: OutboxReader) -> None:
    await submit(philadelphia)
    replay = await submit(philadelphia, lines=list(reversed(FIVE_YEAR_LINES)))

    assert replay.created is False
    assert replay.targets_version == 1
    assert len(await plan_rows(read_outbox)) == 1


@pytest.mark.asyncio
async def test_other_content_same_id_conflicts(philadelphia: Database, read_outbox: OutboxReader) -> None:
    await submit(philadelphia)

    with pytest.raises(Conflict) as raised:
        await submit(philadelphia, lines=[PlanLine("wage_tax", 2025, Decimal("1"))])

    assert raised.value.reason == "plan_exists"
    assert len(await plan_rows(read_outbox)) == 1


@pytest.mark.asyncio
async def test_later_plan_replaces_target(philadelphia: Database, read_outbox: OutboxReader) -> None:
    await submit(philadelphia)
    revised = await submit(philadelphia, "fyp-2025-rev", kind="revised", lines=[],
                           targets=[TargetRequest("wage_tax", 2025, Decimal("2150000000"))])

    current = {(item.target.line, item.target.fiscal_year): item
               for item in await list_current_targets(philadelphia, "PHL", 2025)}

    assert revised.targets_version == 2
    assert current[("wage_tax", 2025)].target.amount == Decimal("2150000000")
    assert (current[("wage_tax", 2025)].plan_id, current[("wage_tax", 2025)].version) == ("fyp-2025-rev", 2)
    assert current[("bit", 2025)].plan_id == "fyp-2025"
    rows = await plan_rows(read_outbox)
    assert [row["payload"]["data"]["version"] for row in rows] == [1, 2]
    assert rows[1]["payload"]["data"]["targets"] == [
        {"line": "wage_tax", "fiscal_year": 2025, "amount": "2150000000", "band_pct": "0.05",
         "band_absolute": "1000000", "band_scope": "both", "kind": "line"},
    ]


@pytest.mark.asyncio
async def test_plan_without_targets_publishes_nothing(philadelphia: Database, read_outbox: OutboxReader) -> None:
    stored = await submit(philadelphia, "proposal", kind="proposed", targets=[])

    assert stored.targets_version is None
    assert await plan_rows(read_outbox) == []


@pytest.mark.asyncio
async def test_unknown_entity_names_field(database: Database, read_outbox: OutboxReader) -> None:
    with pytest.raises(InvalidInput) as raised:
        await submit(database, entity_id="NYC")

    assert raised.value.field == "entity_id"
    assert await read_outbox() == []


@pytest.mark.asyncio
async def test_stored_money_keeps_every_digit(philadelphia: Database) -> None:
    await submit(philadelphia, targets=[TargetRequest("wage_tax", 2025, Decimal(AMOUNT_AT_LIMITS))])

    async with philadelphia.reading() as connection:
        stored = await repository.plan(connection, "fyp-2025")

    assert stored is not None
    assert stored[0].targets[0].amount == Decimal(AMOUNT_AT_LIMITS)
    assert str(stored[0].targets[0].amount) == AMOUNT_AT_LIMITS


@pytest.mark.asyncio
async def test_unknown_target_line_stores_nothing(philadelphia: Database, read_outbox: OutboxReader) -> None:
    targets = [TargetRequest("wage_tax", 2025, Decimal(1)), TargetRequest("parking_fines", 2025, Decimal(1))]

    with pytest.raises(InvalidInput) as raised:
        await submit(philadelphia, targets=targets)

    assert raised.value.field == "targets[1].line"
    assert await plan_rows(read_outbox) == []
    async with philadelphia.reading() as connection:
        assert await repository.plan(connection, "fyp-2025") is None


@pytest.mark.asyncio
async def test_account_hierarchy_node_is_line(philadelphia: Database) -> None:
    await put_hierarchy(philadelphia, "revenue", "account", [Edge("wage_tax", "taxes"), Edge("bit", "taxes")],
                        correlation_id="tree")

    stored = await submit(philadelphia, targets=[TargetRequest("taxes", 2025, Decimal("2800000000"))])

    assert stored.plan.targets[0].line == "taxes"


@pytest.mark.asyncio
async def test_cost_centre_node_is_no_line(philadelphia: Database) -> None:
    await put_hierarchy(philadelphia, "departments", "cost_centre", [Edge("revenue_dept", "finance")],
                        correlation_id="tree")

    with pytest.raises(InvalidInput) as raised:
        await submit(philadelphia, targets=[TargetRequest("finance", 2025, Decimal(1))])

    assert raised.value.field == "targets[0].line"


@pytest.mark.asyncio
@pytest.mark.parametrize(("target", "field"), [
    (TargetRequest("wage_tax", 2025, Decimal(1), band_pct=Decimal(5)), "targets[0].band_pct"),
    (TargetRequest("wage_tax", 2035, Decimal(1)), "targets[0].fiscal_year"),
])
async def test_invalid_target_stores_nothing(philadelphia: Database, read_outbox: OutboxReader,
                                             target: TargetRequest, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        await submit(philadelphia, targets=[target])

    assert raised.value.field == field
    assert await plan_rows(read_outbox) == []
