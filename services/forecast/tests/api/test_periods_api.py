"""Closing and reopening periods over HTTP, with period texts read by the entity's calendar."""

import httpx
import pytest

pytestmark = pytest.mark.asyncio

BY = {"by": "controller"}


async def test_month_text_closes_calendar_period(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/periods/ACME/2024-03/close", json=BY)

    assert response.status_code == 200
    assert response.json()["period"] == "FY2024-P03"


async def test_month_text_follows_fiscal_year(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/periods/CITY/2024-03/close", json=BY)

    assert response.json()["period"] == "FY2024-P09"


async def test_closing_unknown_entity_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/periods/NOPE/FY2024-P03/close", json=BY)

    assert response.status_code == 404


async def test_reopening_unknown_entity_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/periods/NOPE/FY2024-P03/reopen", json=BY)

    assert response.status_code == 404


async def test_reopening_open_period_conflicts(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/periods/ACME/FY2024-P03/reopen", json=BY)

    assert response.status_code == 409
    assert response.json() == {"detail": "period FY2024-P03 of ACME is not closed", "reason": "not_closed"}


async def test_reopened_period_accepts_month_text(client: httpx.AsyncClient) -> None:
    await client.post("/v1/periods/ACME/FY2024-P03/close", json=BY)

    response = await client.post("/v1/periods/ACME/2024-03/reopen", json=BY)

    assert response.json() == {"entity_id": "ACME", "period": "FY2024-P03", "status": "open", "by": "controller"}


async def test_closed_periods_listed_with_closer(client: httpx.AsyncClient) -> None:
    await client.post("/v1/periods/ACME/FY2024-P04/close", json={"by": "auditor"})
    await client.post("/v1/periods/ACME/FY2024-P03/close", json=BY)
    await client.post("/v1/periods/CITY/FY2024-P03/close", json=BY)

    listed = (await client.get("/v1/periods/ACME/closed")).json()

    assert [(item["period"], item["closed_by"]) for item in listed] == [("FY2024-P03", "controller"),
                                                                         ("FY2024-P04", "auditor")]
    assert all(item["closed_at"].endswith("Z") for item in listed)


async def test_reopened_period_no_longer_listed(client: httpx.AsyncClient) -> None:
    await client.post("/v1/periods/ACME/FY2024-P03/close", json=BY)
    await client.post("/v1/periods/ACME/FY2024-P03/reopen", json=BY)

    listed = await client.get("/v1/periods/ACME/closed")

    assert listed.json() == []


async def test_closed_list_of_unknown_entity_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/periods/NOPE/closed")

    assert response.status_code == 404


@pytest.mark.parametrize("period", ["2024-13", "FY2024-P13", "March", "2024-3"])
async def test_invalid_period_text_rejected(client: httpx.AsyncClient, period: str) -> None:
    response = await client.post(f"/v1/periods/ACME/{period}/close", json=BY)

    assert response.status_code == 422
    assert response.json()["field"] == "period"
