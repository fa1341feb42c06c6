"""Budgets over HTTP: invalid lines are named, and a budget id makes a retry safe."""

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ipm_common.storage import Database
from ipm_forecast.adapters import repository, tables

pytestmark = pytest.mark.asyncio

BUDGET: dict[str, Any] = {
    "budget_id": "fy2024-adopted", "entity_id": "ACME", "fiscal_year": 2024, "approved_by": "board",
    "lines": [{"line": "tax", "annual": "1200.00"}, {"line": "total", "cost_centre": "north", "annual": "120"}],
}


def budget(*lines: dict[str, Any], **change: Any) -> dict[str, Any]:
    return {**BUDGET, **({"lines": list(lines)} if lines else {}), **change}


def fields(response: httpx.Response) -> list[str]:
    body = response.json()
    if isinstance(body["detail"], list):
        return [item["field"] for item in body["detail"]]
    return [body["field"]]


async def approved_events(database: Database) -> list[dict[str, Any]]:
    async with database.reading() as connection:
        rows = await connection.execute(select(tables.outbox.c.payload).where(
            tables.outbox.c.event_type == "ipm.forecast.budget.approved"))
        return [json.loads(row.payload) for row in rows]


async def budget_versions(database: Database) -> int:
    async with database.reading() as connection:
        return int((await connection.execute(select(func.count()).select_from(tables.budgets))).scalar_one())


async def test_budget_spreads_annual_evenly(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/budgets", json=budget())

    periods = response.json()["lines"][0]["periods"]
    assert response.status_code == 200
    assert {period["amount"] for period in periods} == {"100.00"}


async def test_repeated_line_names_second(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/budgets", json=budget({"line": "tax", "annual": "1"}, {"line": "fees",
                                                             "annual": "2"}, {"line": "tax", "annual": "3"}))

    assert response.status_code == 422
    assert fields(response) == ["lines[2].line"]


async def test_same_line_other_cost_centre_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/budgets", json=budget({"line": "tax", "annual": "1"},
                                                            {"line": "tax", "cost_centre": "north", "annual": "2"}))

    assert response.status_code == 200


async def test_annual_beyond_money_limit_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/budgets", json=budget({"line": "tax",
                                                             "annual": "99999999999999999999999999999999999999"}))

    assert response.status_code == 422
    assert fields(response) == ["lines[0].annual"]


async def test_largest_annual_spreads_to_cent(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/budgets", json=budget({"line": "tax", "annual": "999999999999999999.99"}))

    amounts = [period["amount"] for period in response.json()["lines"][0]["periods"]]
    assert response.status_code == 200
    assert amounts[0] == "83333333333333333.34"


async def test_periods_summing_past_limit_rejected(client: httpx.AsyncClient) -> None:
    periods = {f"FY2024-P{month:02d}": "999999999999999999" for month in range(1, 13)}

    response = await client.post("/v1/budgets", json=budget({"line": "tax", "periods": periods}))

    assert response.status_code == 422
    assert fields(response) == ["lines[0].periods"]


@pytest.mark.parametrize(("line", "field"), [
    ({"line": "tax", "annual": "100.005"}, "lines[0].annual"),
    ({"line": "tax", "periods": {"FY2024-P02": "0.001"}}, "lines[0].periods.FY2024-P02"),
])
async def test_fraction_of_cent_rejected(client: httpx.AsyncClient, line: dict[str, Any], field: str) -> None:
    response = await client.post("/v1/budgets", json=budget(line))

    assert response.status_code == 422
    assert fields(response) == [field]


async def test_annual_and_disagreeing_periods_rejected(client: httpx.AsyncClient) -> None:
    line = {"line": "tax", "annual": "100", "periods": {"FY2024-P01": "60", "FY2024-P02": "30"}}

    response = await client.post("/v1/budgets", json=budget(line))

    assert response.status_code == 422
    assert fields(response) == ["lines[0].annual"]
    assert "give either annual or periods, not both" in response.json()["detail"]


async def test_annual_and_agreeing_periods_accepted(client: httpx.AsyncClient) -> None:
    line = {"line": "tax", "annual": "90", "periods": {"FY2024-P01": "60", "FY2024-P02": "30"}}

    response = await client.post("/v1/budgets", json=budget(line))

    assert response.status_code == 200
    assert response.json()["lines"][0]["spread_method"] == "monthly"


async def test_unknown_line_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/budgets", json=budget({"line": "tax", "annual": "1"},
                                                            {"line": "taxes", "annual": "1"}))

    assert response.status_code == 422
    assert fields(response) == ["lines[1].line"]
    assert "'taxes'" in response.json()["detail"]


@pytest.mark.parametrize("cost_centre", ["", " north", "north ", "no rth", "north\u0000", "n" * 65])
async def test_invalid_cost_centre_rejected(client: httpx.AsyncClient, cost_centre: str) -> None:
    response = await client.post("/v1/budgets", json=budget({"line": "tax", "cost_centre": cost_centre,
                                                             "annual": "1"}))

    assert response.status_code == 422
    assert fields(response) == ["lines[0].cost_centre"]


async def test_replay_returns_stored_budget(client: httpx.AsyncClient, database: Database) -> None:
    first = await client.post("/v1/budgets", json=budget())
    replay = await client.post("/v1/budgets", json=budget())

    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert await budget_versions(database) == 1
    assert len(await approved_events(database)) == 1


async def test_replay_with_equal_amounts_matches(client: httpx.AsyncClient) -> None:
    first = await client.post("/v1/budgets", json=budget())
    rewritten = budget({"line": "tax", "annual": "1200"}, {"line": "total", "cost_centre": "north",
                                                           "annual": "120.00", "spread": "even"})

    replay = await client.post("/v1/budgets", json=rewritten)

    assert replay.json() == first.json()


@pytest.mark.parametrize("change", [
    {"approved_by": "council"},
    {"fiscal_year": 2025},
    {"lines": [{"line": "tax", "annual": "1200.01"}]},
    {"lines": [{"line": "tax", "periods": {"FY2024-P01": "1200.00"}}]},
])
async def test_budget_id_reused_for_other_content(client: httpx.AsyncClient, database: Database,
                                                  change: dict[str, Any]) -> None:
    await client.post("/v1/budgets", json=budget({"line": "tax", "annual": "1200.00"}))

    response = await client.post("/v1/budgets", json=budget({"line": "tax", "annual": "1200.00"}, **change))

    assert response.status_code == 409
    assert response.json()["reason"] == "budget_id_reused"
    assert await budget_versions(database) == 1


async def test_profile_replay_after_even_fallback(client: httpx.AsyncClient, database: Database) -> None:
    line = {"line": "total", "annual": "1200.00", "spread": "profile"}
    first = await client.post("/v1/budgets", json=budget(line))

    replay = await client.post("/v1/budgets", json=budget(line))

    assert first.json()["lines"][0]["spread_method"] == "even"
    assert replay.status_code == 200
    assert await budget_versions(database) == 1


async def test_monthly_budget_replay_matches(client: httpx.AsyncClient, database: Database) -> None:
    line = {"line": "tax", "periods": {"FY2024-P01": "5", "FY2024-P12": "7.50"}}
    await client.post("/v1/budgets", json=budget(line))

    replay = await client.post("/v1/budgets", json=budget(line))

    assert replay.status_code == 200
    assert await budget_versions(database) == 1


async def test_budgets_without_id_get_versions(client: httpx.AsyncClient) -> None:
    first = await client.post("/v1/budgets", json=budget(budget_id=None))
    second = await client.post("/v1/budgets", json=budget(budget_id=None))

    assert (first.json()["version"], second.json()["version"]) == (1, 2)


async def test_concurrent_replays_create_one_version(client: httpx.AsyncClient, database: Database) -> None:
    responses = await asyncio.gather(*(client.post("/v1/budgets", json=budget()) for _ in range(8)))

    assert {response.status_code for response in responses} == {200}
    assert {response.json()["version"] for response in responses} == {1}
    assert await budget_versions(database) == 1
    assert len(await approved_events(database)) == 1


async def test_concurrent_budgets_get_distinct_versions(client: httpx.AsyncClient) -> None:
    bodies = [budget(budget_id=f"b{number}") for number in range(4)]

    responses = await asyncio.gather(*(client.post("/v1/budgets", json=body) for body in bodies))

    assert sorted(response.json()["version"] for response in responses) == [1, 2, 3, 4]


async def test_replay_race_without_lock_settles(client: httpx.AsyncClient, database: Database,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_lock(connection: object, entity_id: str) -> None:
        return None

    # Without the entity lock concurrent transactions collide on the unique budget id instead.
    monkeypatch.setattr(repository, "lock_entity", no_lock)

    responses = await asyncio.gather(*(client.post("/v1/budgets", json=budget()) for _ in range(8)))

    assert {response.status_code for response in responses} == {200}
    assert await budget_versions(database) == 1


async def test_line_without_amounts_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/budgets", json=budget({"line": "tax"}))

    assert response.status_code == 422
    assert fields(response) == ["lines[0].annual"]
