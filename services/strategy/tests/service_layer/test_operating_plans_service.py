"""Operating plans stored on SQLite and PostgreSQL, with the events that adoption publishes."""

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ipm_common.errors import Conflict
from ipm_common.events import Topics
from ipm_common.storage import Database
from ipm_strategy.domain.drivers import Drivers
from ipm_strategy.domain.operating_plans import DriverSettings
from ipm_strategy.domain.plans import PlanLine, TargetRequest
from ipm_strategy.domain.sec import compare_operating_cash_flow, parse_company_facts
from ipm_strategy.service_layer import history
from ipm_strategy.service_layer.operating_plans import (
    LineRequest,
    adopt_plan,
    create_plan,
    plan_statements,
    replace_lines,
    revise_plan,
    set_drivers,
    set_targets,
)
from ipm_strategy.service_layer.operating_plans import TargetRequest as OperatingTargetRequest
from ipm_strategy.service_layer.organisation import AccountRequest, put_accounts, put_entity
from ipm_strategy.service_layer.plans import submit_plan

OutboxReader = Callable[[], Awaitable[list[dict[str, Any]]]]
APPLE = Path(__file__).parents[4] / "examples" / "data" / "sec" / "companyfacts-CIK0000320193.json"

# The base year of tests/unit/test_operating_drivers.py: projecting it gives cash 122.87 in FY2025.
BASE = [LineRequest(line, 2024, Decimal(amount)) for line, amount in {
    "revenue": "1000", "cash": "100", "receivables": "50", "inventory": "30", "ppe": "200", "payables": "40",
    "long_term_debt": "100", "share_capital": "150", "retained_earnings": "90"}.items()]
DRIVERS = DriverSettings(2024, 2, Drivers(
    revenue_growth=Decimal("0.10"), gross_margin=Decimal("0.40"), operating_margin=Decimal("0.15"),
    receivable_days=Decimal("36.5"), payable_days=Decimal("73"), inventory_days=Decimal("36.5"),
    capex_to_revenue=Decimal("0.05"), depreciation_rate=Decimal("0.10"), tax_rate=Decimal("0.25"),
    dividend_payout=Decimal("0.5")))


@pytest_asyncio.fixture
async def acme(database: Database) -> Database:
    await put_entity(database, "ACME", "Acme", "USD", {}, correlation_id="setup")
    await put_accounts(database, [AccountRequest("sales", "Sales", "revenue")], correlation_id="setup")
    return database


async def events(read_outbox: OutboxReader, event_type: str) -> list[dict[str, Any]]:
    return [row for row in await read_outbox() if row["event_type"] == event_type]


@pytest.mark.asyncio
async def test_driver_plan_round_trips_exactly(acme: Database) -> None:
    await create_plan(acme, plan_id="op", entity_id="ACME", name="Plan", lines=BASE)
    await set_drivers(acme, "op", DRIVERS)

    built = await plan_statements(acme, "op")
    cash = {year.fiscal_year: year.cash for year in built.years}

    assert cash[2025] == Decimal("122.87")
    assert built.plan.drivers == DRIVERS
    assert all(check.passed for year in built.years for check in year.checks)


@pytest.mark.asyncio
async def test_adoption_publishes_plan_and_targets(acme: Database, read_outbox: OutboxReader) -> None:
    # A plan of the older kind already published targets version 1 for the entity.
    await submit_plan(acme, plan_id="fyp", entity_id="ACME", name="Five-year plan", kind="adopted",
                      adopted_for_fiscal_year=2025, lines=[PlanLine("sales", 2025, Decimal(1))],
                      targets=[TargetRequest("sales", 2025, Decimal(1))], correlation_id="corr-fyp")
    await create_plan(acme, plan_id="op", entity_id="ACME", name="Plan", lines=BASE)
    await set_drivers(acme, "op", DRIVERS)
    await set_targets(acme, "op", [OperatingTargetRequest("kpi", "gross_margin", 2025, Decimal("0.4")),
                                   OperatingTargetRequest("line", "revenue", 2025, Decimal("1100"))])

    adopted = await adopt_plan(acme, "op", by="cfo", correlation_id="corr-op")

    (plan_event,) = await events(read_outbox, "ipm.strategy.plan.adopted")
    targets_event = (await events(read_outbox, "ipm.strategy.targets.set"))[-1]
    data = plan_event["payload"]["data"]
    assert adopted.status == "adopted"
    assert (plan_event["topic"], plan_event["key"]) == (Topics.TARGETS, "ACME")
    assert (data["status"], data["targets_version"]) == ("adopted", 2)
    assert {"line": "cash", "statement": "balance_sheet", "fiscal_year": 2025, "amount": "122.87"} in data["lines"]
    assert targets_event["payload"]["data"]["version"] == 2
    assert [(item["kind"], item["line"]) for item in targets_event["payload"]["data"]["targets"]] == [
        ("kpi", "gross_margin"), ("line", "revenue")]


@pytest.mark.asyncio
async def test_revision_is_adopted_as_revised(acme: Database, read_outbox: OutboxReader) -> None:
    await create_plan(acme, plan_id="op", entity_id="ACME", name="Plan", lines=BASE)
    await adopt_plan(acme, "op", by="cfo", correlation_id="corr")

    with pytest.raises(Conflict):
        await replace_lines(acme, "op", BASE)
    await revise_plan(acme, "op", new_plan_id="op-r1", name="Revised plan")
    await set_drivers(acme, "op-r1", DRIVERS)
    revised = await adopt_plan(acme, "op-r1", by="board", correlation_id="corr")

    last = (await events(read_outbox, "ipm.strategy.plan.adopted"))[-1]["payload"]["data"]
    assert revised.status == "revised"
    assert (last["plan_id"], last["status"], last["revises"]) == ("op-r1", "revised", "op")


@pytest.mark.asyncio
async def test_plan_without_lines_is_not_adopted(acme: Database, read_outbox: OutboxReader) -> None:
    await create_plan(acme, plan_id="empty", entity_id="ACME", name="Plan", lines=[])

    with pytest.raises(Conflict) as raised:
        await adopt_plan(acme, "empty", by="cfo", correlation_id="corr")

    assert raised.value.reason == "plan_empty"
    assert await events(read_outbox, "ipm.strategy.plan.adopted") == []


@pytest.mark.asyncio
async def test_sec_history_stored_exactly(acme: Database) -> None:
    document = json.loads(APPLE.read_text(encoding="utf-8"))

    plan, compared = await history.import_company_facts(acme, plan_id="aapl", entity_id="ACME", name=None,
                                                        document=document, source="test")
    _, stored = await history.cash_flow_comparison(acme, "aapl")
    built = await plan_statements(acme, "aapl")

    assert plan.status == "history"
    assert stored == compare_operating_cash_flow(parse_company_facts(document))
    assert compared == len(stored)
    assert all(check.passed for year in built.years for check in year.checks if year.fiscal_year >= 2009)
