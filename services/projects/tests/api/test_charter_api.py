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
    "project_id": "collections", "name": "Faster wage tax collection", "owner": "revenue office",
    "sponsor": "finance director", "problem": "wage tax arrives late", "goal": "collect within 30 days",
    "scope": "wage tax only", "start_date": "2023-07-01",
    "milestones": [{"name": "pilot", "due": "2024-03-15"}, {"name": "charter", "due": "2023-07-15",
                                                            "done": "2023-07-10"}],
    "linked_targets": [{"entity_id": "PHL", "line": "4100", "fiscal_year": 2024}],
    "benefits": [{"entity_id": "PHL", "account_id": "4100", "period": "FY2024-P01", "amount": "1000000"}],
}


@pytest_asyncio.fixture
async def client(sqlite_referenced: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(api.router)
    install_error_handlers(app)
    app.dependency_overrides[get_database] = lambda: sqlite_referenced
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://projects") as http:
        await http.post("/v1/projects", json=PROJECT)
        yield http


def fields(response: httpx.Response) -> list[str]:
    body = response.json()
    if isinstance(body["detail"], list):
        return [item["field"] for item in body["detail"]]
    return [body["field"]]


async def review(client: httpx.AsyncClient, phase: str, decision: str = "approved",
                 decided_by: str = "sponsor") -> httpx.Response:
    return await client.post("/v1/projects/collections/gates",
                             json={"phase": phase, "decision": decision, "decided_by": decided_by, "comment": "ok"})


@pytest.mark.asyncio
async def test_new_project_starts_in_define(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/projects/collections", params={"as_of": "2024-01-10"})).json()

    assert (body["phase"], body["completed"], body["gates"]) == ("define", False, [])
    assert (body["sponsor"], body["start_date"]) == ("finance director", "2023-07-01")
    assert [item["name"] for item in body["milestones"]] == ["charter", "pilot"]
    assert (body["status"], body["status_set"]) == ("on_track", None)


@pytest.mark.asyncio
@pytest.mark.parametrize(("as_of", "status"), [("2024-03-01", "at_risk"), ("2024-03-16", "late")])
async def test_status_derived_for_day(client: httpx.AsyncClient, as_of: str, status: str) -> None:
    body = (await client.get("/v1/projects/collections", params={"as_of": as_of})).json()

    assert body["status"] == status
    assert body["status_derived"] == status


@pytest.mark.asyncio
async def test_status_set_by_hand(client: httpx.AsyncClient) -> None:
    await client.put("/v1/projects/collections", json={"status": "at_risk", "benefits": PROJECT["benefits"]})

    body = (await client.get("/v1/projects/collections", params={"as_of": "2024-01-10"})).json()

    assert (body["status"], body["status_derived"], body["status_set"]) == ("at_risk", "on_track", "at_risk")
    assert body["milestones"] != []


@pytest.mark.asyncio
async def test_gates_advance_in_order(client: httpx.AsyncClient) -> None:
    approved = await review(client, "define")
    rejected = await review(client, "measure", "rejected")
    again = await review(client, "measure")

    body = (await client.get("/v1/projects/collections")).json()
    assert [response.status_code for response in (approved, rejected, again)] == [201, 201, 201]
    assert body["phase"] == "analyse"
    assert [(gate["sequence"], gate["phase"], gate["decision"]) for gate in body["gates"]] == [
        (1, "define", "approved"), (2, "measure", "rejected"), (3, "measure", "approved")]
    assert body["version"] == 4


@pytest.mark.asyncio
@pytest.mark.parametrize(("decision", "phase"), [("approved", "measure"), ("rejected", "define")])
async def test_replayed_gate_review_changes_nothing(client: httpx.AsyncClient, decision: str, phase: str) -> None:
    first = await review(client, "define", decision)
    replay = await review(client, "define", decision)

    body = (await client.get("/v1/projects/collections")).json()
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json() == first.json()
    assert body["phase"] == phase
    assert [(gate["sequence"], gate["decision"]) for gate in body["gates"]] == [(1, decision)]
    assert body["version"] == 2


@pytest.mark.asyncio
async def test_gate_out_of_order_409(client: httpx.AsyncClient) -> None:
    response = await review(client, "improve")

    assert response.status_code == 409
    assert response.json()["reason"] == "gate_out_of_order"


@pytest.mark.asyncio
async def test_completed_project_gate_409(client: httpx.AsyncClient) -> None:
    for phase in ("define", "measure", "analyse", "improve", "control"):
        assert (await review(client, phase)).status_code == 201

    response = await review(client, "control", decided_by="steering committee")
    body = (await client.get("/v1/projects/collections")).json()

    assert response.status_code == 409
    assert response.json()["reason"] == "project_completed"
    assert (body["phase"], body["completed"]) == ("control", True)


@pytest.mark.asyncio
async def test_phase_change_by_put_409(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/projects/collections", json={"phase": "improve", "benefits": []})

    assert response.status_code == 409
    assert response.json()["reason"] == "phase_needs_gate"


@pytest.mark.asyncio
@pytest.mark.parametrize(("body", "field"), [
    ({"phase": "deploy", "decision": "approved", "decided_by": "x"}, "phase"),
    ({"phase": "define", "decision": "maybe", "decided_by": "x"}, "decision"),
    ({"phase": "define", "decision": "approved", "decided_by": ""}, "decided_by"),
    ({"phase": "define", "decision": "approved", "decided_by": "   "}, "decided_by"),
])
async def test_invalid_gate_review_422(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    response = await client.post("/v1/projects/collections/gates", json=body)

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_gate_of_unknown_project_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/projects/none/gates",
                                 json={"phase": "define", "decision": "approved", "decided_by": "x"})

    assert response.status_code == 404


@pytest.mark.asyncio
@pytest.mark.parametrize(("change", "field"), [
    ({"milestones": [{"name": "a", "due": "2024-01-01"}, {"name": "a", "due": "2024-02-01"}]}, "milestones"),
    ({"milestones": [{"name": "a", "due": "2024-02-30"}]}, "milestones[0].due"),
    ({"status": "fine"}, "status"),
    ({"start_date": "July"}, "start_date"),
])
async def test_invalid_charter_422(client: httpx.AsyncClient, change: dict[str, Any], field: str) -> None:
    response = await client.post("/v1/projects", json={**PROJECT, "project_id": "other", **change})

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_mixed_benefit_types_on_line_422(client: httpx.AsyncClient) -> None:
    benefits = [{"entity_id": "PHL", "account_id": "4100", "period": "FY2024-P01", "amount": "1"},
                {"entity_id": "PHL", "account_id": "4100", "period": "FY2024-P02", "amount": "1",
                 "benefit_type": "cost_avoidance"}]

    response = await client.post("/v1/projects", json={**PROJECT, "project_id": "other", "benefits": benefits})

    assert response.status_code == 422
    assert fields(response) == ["benefits[1].benefit_type"]
