"""Budget versions over HTTP: the workflow, edits only in draft, file uploads and period balances."""

import asyncio
import io
import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import polars as pl
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select

from ipm_common.http import install_error_handlers
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_forecast.adapters import tables
from ipm_forecast.entrypoints import api, budgets_api
from ipm_forecast.entrypoints.budget_files import XLSX_TYPE
from ipm_forecast.settings import ForecastSettings

pytestmark = pytest.mark.asyncio

DRAFT: dict[str, Any] = {"budget_id": "fy2024-v1", "entity_id": "ACME", "fiscal_year": 2024, "by": "planner",
                         "lines": [{"line": "tax", "annual": "1200.00"}]}
WORKING_DAYS = {f"FY2024-P{month:02d}": days for month, days in
                zip(range(1, 13), ("22", "21", "21", "22", "23", "20", "22", "22", "21", "23", "20", "21"),
                    strict=True)}


@pytest_asyncio.fixture
async def http(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """Serve both forecast routers, as the app does, without the lifespan that needs a broker."""
    app = FastAPI()
    app.include_router(api.router)
    app.include_router(budgets_api.router)
    install_error_handlers(app)
    app.dependency_overrides[get_database] = lambda: database
    app.state.runtime = SimpleNamespace(settings=ForecastSettings(fx_base_currency="USD"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://forecast") as client:
        yield client


def fields(response: httpx.Response) -> list[str]:
    body = response.json()
    if isinstance(body["detail"], list):
        return [item["field"] for item in body["detail"]]
    return [body["field"]]


async def outbox(database: Database, event_type: str) -> list[dict[str, Any]]:
    async with database.reading() as connection:
        rows = await connection.execute(select(tables.outbox.c.payload).where(
            tables.outbox.c.event_type == event_type).order_by(tables.outbox.c.position))
        return [json.loads(row.payload) for row in rows]


async def approved_draft(http: httpx.AsyncClient, budget_id: str, annual: str) -> httpx.Response:
    await http.post("/v1/budgets/drafts", json={**DRAFT, "budget_id": budget_id,
                                                 "lines": [{"line": "tax", "annual": annual}]})
    await http.post(f"/v1/budgets/{budget_id}/submit", json={"by": "planner"})
    return await http.post(f"/v1/budgets/{budget_id}/approve", json={"by": "cfo"})


async def test_draft_submit_approve_publishes(http: httpx.AsyncClient, database: Database) -> None:
    created = await http.post("/v1/budgets/drafts", json=DRAFT)
    submitted = await http.post("/v1/budgets/fy2024-v1/submit", json={"by": "planner"})
    approved = await http.post("/v1/budgets/fy2024-v1/approve", json={"by": "cfo"})

    assert created.status_code == 201
    assert (created.json()["status"], created.json()["version"]) == ("draft", None)
    assert submitted.json()["status"] == "submitted"
    body = approved.json()
    assert (body["status"], body["version"], body["approved_by"]) == ("approved", 1, "cfo")
    assert [(step["action"], step["by"]) for step in body["history"]] == [
        ("created", "planner"), ("submitted", "planner"), ("approved", "cfo")]
    events = await outbox(database, "ipm.forecast.budget.approved")
    assert len(events) == 1
    assert events[0]["data"]["lines"][0]["periods"][0] == {"period": "FY2024-P01", "amount": "100.00"}


async def test_newer_approval_supersedes(http: httpx.AsyncClient) -> None:
    await approved_draft(http, "v1", "1200.00")
    second = await approved_draft(http, "v2", "2400.00")

    listed = await http.get("/v1/budgets", params={"entity_id": "ACME", "fiscal_year": 2024})
    first = await http.get("/v1/budgets/v1")

    assert second.json()["version"] == 2
    assert [(item["budget_id"], item["status"], item["version"]) for item in listed.json()] == [
        ("v2", "approved", 2), ("v1", "superseded", 1)]
    assert first.json()["history"][-1]["action"] == "superseded"
    assert first.json()["history"][-1]["comment"] == "superseded by version 2"


async def test_concurrent_approvals_keep_one_approved(http: httpx.AsyncClient, database: Database) -> None:
    for budget_id in ("a", "b", "c"):
        await http.post("/v1/budgets/drafts", json={**DRAFT, "budget_id": budget_id})
        await http.post(f"/v1/budgets/{budget_id}/submit", json={"by": "planner"})

    responses = await asyncio.gather(*(http.post(f"/v1/budgets/{budget_id}/approve", json={"by": "cfo"})
                                       for budget_id in ("a", "b", "c")))
    listed = (await http.get("/v1/budgets", params={"entity_id": "ACME"})).json()

    assert {response.status_code for response in responses} == {200}
    assert sorted(response.json()["version"] for response in responses) == [1, 2, 3]
    assert [item["status"] for item in listed] == ["approved", "superseded", "superseded"]
    assert len(await outbox(database, "ipm.forecast.budget.approved")) == 3


async def test_direct_approval_supersedes_draft_approval(http: httpx.AsyncClient) -> None:
    await approved_draft(http, "v1", "1200.00")

    direct = await http.post("/v1/budgets", json={"budget_id": "direct", "entity_id": "ACME", "fiscal_year": 2024,
                                                  "approved_by": "board", "lines": [{"line": "tax", "annual": "1"}]})
    first = await http.get("/v1/budgets/v1")

    assert direct.json()["version"] == 2
    assert first.json()["status"] == "superseded"


@pytest.mark.parametrize("step", ["submit", "approve"])
async def test_lines_locked_after_submit(http: httpx.AsyncClient, step: str) -> None:
    await http.post("/v1/budgets/drafts", json=DRAFT)
    await http.post("/v1/budgets/fy2024-v1/submit", json={"by": "planner"})
    if step == "approve":
        await http.post("/v1/budgets/fy2024-v1/approve", json={"by": "cfo"})

    response = await http.put("/v1/budgets/fy2024-v1/lines", json={"by": "planner",
                                                                   "lines": [{"line": "tax", "annual": "1"}]})

    assert response.status_code == 409
    assert response.json()["reason"] == "budget_not_draft"


async def test_rejected_version_editable_again(http: httpx.AsyncClient) -> None:
    await http.post("/v1/budgets/drafts", json=DRAFT)
    await http.post("/v1/budgets/fy2024-v1/submit", json={"by": "planner"})

    rejected = await http.post("/v1/budgets/fy2024-v1/reject", json={"by": "cfo", "reason": "tax too low"})
    edited = await http.put("/v1/budgets/fy2024-v1/lines", json={"by": "planner",
                                                                 "lines": [{"line": "tax", "annual": "1320.00"}]})

    assert rejected.json()["status"] == "draft"
    assert rejected.json()["history"][-1] == {**rejected.json()["history"][-1], "action": "rejected",
                                              "by": "cfo", "comment": "tax too low"}
    assert edited.status_code == 200
    assert edited.json()["lines"][0]["periods"][0]["amount"] == "110.00"


async def test_approve_draft_without_submit_conflicts(http: httpx.AsyncClient) -> None:
    await http.post("/v1/budgets/drafts", json=DRAFT)

    response = await http.post("/v1/budgets/fy2024-v1/approve", json={"by": "cfo"})

    assert response.status_code == 409
    assert response.json()["reason"] == "invalid_transition"


async def test_empty_draft_cannot_be_submitted(http: httpx.AsyncClient) -> None:
    await http.post("/v1/budgets/drafts", json={**DRAFT, "lines": []})

    response = await http.post("/v1/budgets/fy2024-v1/submit", json={"by": "planner"})

    assert response.status_code == 409
    assert response.json()["reason"] == "no_lines"


async def test_driver_spread_records_method(http: httpx.AsyncClient) -> None:
    # 25,800.00 over 258 working days is 100.00 a day: January's 22 days get 2,200.00.
    body = {**DRAFT, "drivers": {"working_days": WORKING_DAYS},
            "lines": [{"line": "tax", "annual": "25800.00", "spread": "driver", "driver": "working_days"}]}

    response = await http.post("/v1/budgets/drafts", json=body)

    line = response.json()["lines"][0]
    assert (line["spread_method"], line["driver"]) == ("driver", "working_days")
    assert [point["amount"] for point in line["periods"][:2]] == ["2200.00", "2100.00"]


@pytest.mark.parametrize(("change", "field"), [
    ({"lines": [{"line": "tax", "annual": "1", "spread": "driver"}]}, "lines[0].driver"),
    ({"lines": [{"line": "tax", "annual": "1", "spread": "driver", "driver": "fx"}]}, "lines[0].driver"),
    ({"drivers": {"fx": {"FY2024-P01": "1"}}}, "drivers.fx.FY2024-P02"),
    ({"lines": [{"line": "tax", "annual": "1", "spread": "weekly"}]}, "lines[0].spread"),
    ({"lines": [{"line": "tax", "annual": "0.001"}]}, "lines[0].annual"),
    ({"fiscal_year": 1800}, "fiscal_year"),
    ({"by": ""}, "by"),
])
async def test_invalid_draft_names_field(http: httpx.AsyncClient, change: dict[str, Any], field: str) -> None:
    response = await http.post("/v1/budgets/drafts", json={**DRAFT, **change})

    assert response.status_code == 422
    assert fields(response) == [field]


async def test_taken_budget_id_conflicts(http: httpx.AsyncClient) -> None:
    await http.post("/v1/budgets/drafts", json=DRAFT)

    response = await http.post("/v1/budgets/drafts", json=DRAFT)

    assert response.status_code == 409


async def test_unknown_budget_not_found(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/budgets/nope")

    assert response.status_code == 404


async def test_csv_upload_raw_body(http: httpx.AsyncClient) -> None:
    await http.post("/v1/budgets/drafts", json={**DRAFT, "lines": []})
    content = b"line,annual,spread,P01,P02\ntax,1200.00,even,,\nfees,,,10.00,20.00\n"

    response = await http.put("/v1/budgets/fy2024-v1/lines/file", params={"by": "planner"}, content=content,
                              headers={"content-type": "text/csv"})

    lines = {line["line"]: line for line in response.json()["lines"]}
    assert response.status_code == 200
    assert lines["fees"]["annual"] == "30.00"
    assert lines["fees"]["spread_method"] == "monthly"
    assert lines["tax"]["periods"][11]["amount"] == "100.00"


async def test_xlsx_upload_multipart(http: httpx.AsyncClient) -> None:
    await http.post("/v1/budgets/drafts", json={**DRAFT, "lines": []})
    buffer = io.BytesIO()
    pl.DataFrame({"line": ["tax"], "annual": ["1200.00"], "spread": ["days"]}).write_excel(buffer)

    response = await http.put("/v1/budgets/fy2024-v1/lines/file", params={"by": "planner"},
                              files={"file": ("budget.xlsx", buffer.getvalue(), XLSX_TYPE)})

    # 1,200.00 over the 366 days of 2024: January's 31 days get 101.639...; February's 29 get 95.08.
    periods = response.json()["lines"][0]["periods"]
    assert response.status_code == 200
    assert response.json()["lines"][0]["spread_method"] == "days"
    assert periods[1]["amount"] == "95.08"


async def test_upload_lists_invalid_rows(http: httpx.AsyncClient) -> None:
    await http.post("/v1/budgets/drafts", json={**DRAFT, "lines": []})
    content = b"line,annual\ntax,12.5.0\nfees,\ntaxes,1\n"

    response = await http.put("/v1/budgets/fy2024-v1/lines/file", params={"by": "planner"}, content=content,
                              headers={"content-type": "text/csv"})

    details = response.json()["detail"]
    assert response.status_code == 422
    assert [(item["row"], item["column"]) for item in details] == [("2", "annual"), ("3", "annual")]


async def test_upload_unknown_lines_named_by_row(http: httpx.AsyncClient) -> None:
    await http.post("/v1/budgets/drafts", json={**DRAFT, "lines": []})
    content = b"line,annual\ntax,1\ntaxes,1\nfee,1\n"

    response = await http.put("/v1/budgets/fy2024-v1/lines/file", params={"by": "planner"}, content=content,
                              headers={"content-type": "text/csv"})

    assert response.status_code == 422
    assert fields(response) == ["rows[3].line", "rows[4].line"]


async def test_upload_after_submit_conflicts(http: httpx.AsyncClient) -> None:
    await http.post("/v1/budgets/drafts", json=DRAFT)
    await http.post("/v1/budgets/fy2024-v1/submit", json={"by": "planner"})

    response = await http.put("/v1/budgets/fy2024-v1/lines/file", params={"by": "planner"},
                              content=b"line,annual\ntax,1\n", headers={"content-type": "text/csv"})

    assert response.status_code == 409


async def test_upload_of_other_type_rejected(http: httpx.AsyncClient) -> None:
    await http.post("/v1/budgets/drafts", json={**DRAFT, "lines": []})

    response = await http.put("/v1/budgets/fy2024-v1/lines/file", params={"by": "planner"}, content=b"%PDF",
                              headers={"content-type": "application/pdf"})

    assert response.status_code == 422
    assert fields(response) == ["file"]


BALANCES: dict[str, Any] = {"batch_id": "tb-2024-02", "entity_id": "ACME", "lines": [
    {"account_id": "tax", "period": "FY2024-P01", "basis": "ytd", "amount": "-100.00", "version": 1},
    {"account_id": "tax", "period": "FY2024-P02", "basis": "ytd", "amount": "-250.00", "version": 1},
]}


async def test_balances_posted_and_replayed(http: httpx.AsyncClient) -> None:
    first = await http.post("/v1/balances", json=BALANCES)
    replay = await http.post("/v1/balances", json=BALANCES)
    actuals = await http.get("/v1/actuals/ACME/tax")

    assert first.json() == {"batch_id": "tb-2024-02", "accepted": 2, "replayed": 0, "stale": 0, "series": 1,
                            "periods": 2}
    assert (replay.json()["accepted"], replay.json()["replayed"]) == (0, 2)
    # Credit-normal tax: YTD -100 and -250 are flows of 100 and 150 in natural sign.
    assert actuals.json()["periods"] == [{"period": "FY2024-P01", "amount": "100.00"},
                                         {"period": "FY2024-P02", "amount": "150.00"}]


async def test_balance_versions_listed(http: httpx.AsyncClient) -> None:
    await http.post("/v1/balances", json=BALANCES)
    revised = {**BALANCES["lines"][0], "amount": "-120.00", "version": 2}
    await http.post("/v1/balances", json={**BALANCES, "batch_id": "tb-2024-02-r", "lines": [revised]})

    response = await http.get("/v1/balances/ACME/tax")

    listed = [(item["period"], item["version"], item["amount"]) for item in response.json()]
    assert listed == [("FY2024-P01", 2, "-120.00"), ("FY2024-P01", 1, "-100.00"), ("FY2024-P02", 1, "-250.00")]


@pytest.mark.parametrize(("change", "field"), [
    ({"basis": "monthly"}, "lines[0].basis"),
    ({"version": 0}, "lines[0].version"),
    ({"amount": "1e3"}, "lines[0].amount"),
    ({"currency": "EUR"}, "lines[0].currency"),
    ({"period": "FY2024-P13"}, "lines[0].period"),
    ({"account_id": "nope"}, "lines[0].account_id"),
])
async def test_invalid_balance_names_field(http: httpx.AsyncClient, change: dict[str, Any], field: str) -> None:
    line = {**BALANCES["lines"][0], **change}

    response = await http.post("/v1/balances", json={**BALANCES, "lines": [line]})

    assert response.status_code == 422
    assert fields(response) == [field]


async def test_balance_into_closed_period_conflicts(http: httpx.AsyncClient) -> None:
    await http.post("/v1/periods/ACME/FY2024-P01/close", json={"by": "controller"})

    response = await http.post("/v1/balances", json=BALANCES)

    assert response.status_code == 409
    assert response.json()["reason"] == "period_closed"


async def test_balance_of_unknown_entity_named(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/balances", json={**BALANCES, "entity_id": "NOPE"})

    assert response.status_code == 422
    assert fields(response) == ["entity_id"]
