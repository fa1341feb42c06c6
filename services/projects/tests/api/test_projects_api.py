from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from ipm_common.http import install_error_handlers
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_projects.entrypoints import api

PROJECT = {
    "project_id": "collections", "name": "Faster wage tax collection", "owner": "revenue office", "phase": "measure",
    "linked_targets": [{"entity_id": "PHL", "line": "4100", "fiscal_year": 2024}],
    "benefits": [
        {"entity_id": "PHL", "account_id": "4100", "period": "FY2024-P03", "amount": "1250000.50"},
        {"entity_id": "PHL", "account_id": "4100", "period": "2023-08", "amount": "400000"},
        {"entity_id": "SHOP", "account_id": "5100", "period": "2024-02", "amount": "-75000.25"},
    ],
}


@pytest_asyncio.fixture
async def client(sqlite_referenced: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(api.router)
    install_error_handlers(app)
    app.dependency_overrides[get_database] = lambda: sqlite_referenced
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://projects") as http:
        yield http


def fields(response: httpx.Response) -> list[str]:
    body = response.json()
    if isinstance(body["detail"], list):
        return [item["field"] for item in body["detail"]]
    return [body["field"]]


@pytest.mark.asyncio
async def test_project_created_with_totals(client: httpx.AsyncClient) -> None:
    created = await client.post("/v1/projects", json=PROJECT)
    fetched = await client.get("/v1/projects/collections")

    assert created.status_code == 201
    body = fetched.json()
    assert body["version"] == 1
    assert body["totals"] == [{"entity_id": "PHL", "account_id": "4100", "total": "1650000.50"},
                              {"entity_id": "SHOP", "account_id": "5100", "total": "-75000.25"}]
    assert [benefit["period"] for benefit in body["benefits"]] == ["FY2024-P02", "FY2024-P03", "FY2024-P02"]
    assert body["linked_targets"] == [{"entity_id": "PHL", "line": "4100", "fiscal_year": 2024}]


@pytest.mark.asyncio
async def test_replay_200_and_conflict_409(client: httpx.AsyncClient) -> None:
    await client.post("/v1/projects", json=PROJECT)

    replay = await client.post("/v1/projects", json=PROJECT)
    conflict = await client.post("/v1/projects", json={**PROJECT, "owner": "someone else"})

    assert replay.status_code == 200
    assert replay.json()["changed"] is False
    assert conflict.status_code == 409
    assert conflict.json()["reason"] == "project_exists"


@pytest.mark.asyncio
async def test_update_bumps_version(client: httpx.AsyncClient) -> None:
    await client.post("/v1/projects", json=PROJECT)

    updated = await client.put("/v1/projects/collections", json={
        "phase": "measure", "benefits": [{"entity_id": "SHOP", "account_id": "5100", "period": "2024-02",
                                          "amount": "-80000", "benefit_type": "hard_savings"}]})
    listed = await client.get("/v1/projects", params={"phase": "measure"})

    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assert updated.json()["name"] == "Faster wage tax collection"
    assert updated.json()["totals"] == [{"entity_id": "SHOP", "account_id": "5100", "total": "-80000"}]
    assert updated.json()["benefit_lines"][0]["benefit_type"] == "hard_savings"
    assert [(item["project_id"], item["phase"]) for item in listed.json()] == [("collections", "measure")]


@pytest.mark.asyncio
async def test_unknown_project_is_404(client: httpx.AsyncClient) -> None:
    fetched = await client.get("/v1/projects/none")
    updated = await client.put("/v1/projects/none", json={"phase": "define", "benefits": []})

    assert fetched.status_code == 404
    assert updated.status_code == 404


@pytest.mark.asyncio
@pytest.mark.parametrize(("benefit", "field"), [
    ({"entity_id": "NYC"}, "benefits[0].entity_id"),
    ({"account_id": "9999"}, "benefits[0].account_id"),
    ({"period": "2024-13"}, "benefits[0].period"),
    ({"period": 202401}, "benefits[0].period"),
    ({"amount": "twelve"}, "benefits[0].amount"),
    ({"amount": True}, "benefits[0].amount"),
])
async def test_invalid_benefit_names_field(client: httpx.AsyncClient, benefit: dict[str, Any], field: str) -> None:
    body = {**PROJECT, "benefits": [{**PROJECT["benefits"][0], **benefit}]}  # type: ignore[dict-item]

    response = await client.post("/v1/projects", json=body)

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_unknown_entity_message_says_fix(client: httpx.AsyncClient) -> None:
    body = {**PROJECT, "benefits": [{**PROJECT["benefits"][0], "entity_id": "NYC"}]}  # type: ignore[dict-item]

    response = await client.post("/v1/projects", json=body)

    assert response.json()["detail"].startswith("benefits[0].entity_id: entity 'NYC' is not registered;")


@pytest.mark.asyncio
@pytest.mark.parametrize(("change", "field"), [({"phase": "deploy"}, "phase"), ({"owner": ""}, "owner"),
                                               ({"project_id": "has space"}, "project_id")])
async def test_invalid_project_names_field(client: httpx.AsyncClient, change: dict[str, Any], field: str) -> None:
    response = await client.post("/v1/projects", json={**PROJECT, **change})

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_update_requires_benefits(client: httpx.AsyncClient) -> None:
    await client.post("/v1/projects", json=PROJECT)

    response = await client.put("/v1/projects/collections", json={"phase": "measure"})

    assert response.status_code == 422
    assert fields(response) == ["benefits"]


@pytest.mark.asyncio
async def test_json_number_amount_kept_exact(client: httpx.AsyncClient) -> None:
    body = ('{"name": "n", "owner": "o", "phase": "define", "benefits": [{"entity_id": "SHOP", "account_id": "4100",'
            ' "period": "2024-01", "amount": 1234567890.123456789}]}')

    response = await client.post("/v1/projects", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 201
    assert response.json()["benefits"][0]["amount"] == "1234567890.123456789"
