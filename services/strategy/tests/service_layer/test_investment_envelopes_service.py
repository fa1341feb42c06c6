"""Envelopes stored on SQLite and PostgreSQL; the figures are those of tests/unit/test_investment_envelopes.py."""

from decimal import Decimal

import pytest
import pytest_asyncio

from ipm_common.errors import Conflict
from ipm_common.storage import Database
from ipm_strategy.service_layer import investments
from ipm_strategy.service_layer.operating_plans import LineRequest, create_plan, replace_lines
from ipm_strategy.service_layer.organisation import put_entity


@pytest_asyncio.fixture
async def plan(database: Database) -> Database:
    await put_entity(database, "ACME", "Acme", "USD", {}, correlation_id="setup")
    await create_plan(database, plan_id="op", entity_id="ACME", name="Plan", lines=[
        LineRequest("capital_expenditure", 2025, Decimal(100)), LineRequest("capital_expenditure", 2026, Decimal(120)),
        LineRequest("operating_expenses", 2025, Decimal(500))])
    return database


async def ask(database: Database, envelope_id: str, amounts: list[tuple[int, object]]) -> None:
    await investments.request(database, envelope_id=envelope_id, plan_id="op", initiative="new line",
                              kind="capital", amounts=amounts, requested_by="pm")


@pytest.mark.asyncio
async def test_approvals_stay_within_budget(plan: Database) -> None:
    await ask(plan, "A", [(2025, "60"), (2026, "50")])
    await ask(plan, "B", [(2025, "50")])
    await ask(plan, "C", [(2025, "40"), (2026, "70")])

    await investments.approve(plan, "A", by="cfo")
    with pytest.raises(Conflict):
        await investments.approve(plan, "B", by="cfo")
    await investments.reject(plan, "B", by="cfo", reason="over budget")
    await investments.approve(plan, "C", by="cfo")

    items, uses = await investments.plan_envelopes(plan, "op")
    capital = {use.fiscal_year: (use.budget, use.approved, use.requested) for use in uses if use.kind == "capital"}
    assert [(item.envelope_id, item.status) for item in items] == [("A", "approved"), ("B", "rejected"),
                                                                   ("C", "approved")]
    assert capital == {2025: (Decimal(100), Decimal(100), Decimal(0)), 2026: (Decimal(120), Decimal(120), Decimal(0))}


@pytest.mark.asyncio
async def test_budget_below_approved_conflicts(plan: Database) -> None:
    await ask(plan, "A", [(2025, "60"), (2026, "50")])
    await investments.approve(plan, "A", by="cfo")
    lines = [LineRequest("capital_expenditure", 2026, Decimal(120)),
             LineRequest("operating_expenses", 2025, Decimal(500))]

    with pytest.raises(Conflict) as raised:
        await replace_lines(plan, "op", [LineRequest("capital_expenditure", 2025, Decimal("59.99")), *lines])
    # Exactly the approved 60 still covers envelope A.
    kept = await replace_lines(plan, "op", [LineRequest("capital_expenditure", 2025, Decimal(60)), *lines])

    assert raised.value.reason == "budget_below_approved"
    assert "FY2025" in str(raised.value)
    assert kept.version == 2
