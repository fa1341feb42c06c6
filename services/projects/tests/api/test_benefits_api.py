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
    "phase": "improve", "start_date": "2023-07-01",
    "linked_targets": [{"entity_id": "PHL", "line": "4100", "fiscal_year": 2024}],
    "benefits": [{"entity_id": "PHL", "account_id": "4100", "period": "FY2024-P01", "amount": "1000000"},
                 {"entity_id": "PHL", "account_id": "5100", "period": "FY2024-P01", "amount": "-75000",
                  "benefit_type": "hard_savings"}],
}
LINE = "/v1/projects/collections/benefits/PHL/4100"


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


@pytest.mark.asyncio
async def test_validation_sets_stage(client: httpx.AsyncClient) -> None:
    first = await client.post(f"{LINE}/validation", json={"validated_by": "controller"})
    repeat = await client.post(f"{LINE}/validation", json={"validated_by": "controller"})

    assert first.status_code == 200
    assert (first.json()["stage"], first.json()["validated_by"], first.json()["changed"]) == (
        "validated", "controller", True)
    assert repeat.json()["changed"] is False


@pytest.mark.asyncio
async def test_validation_of_unplanned_line_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/projects/collections/benefits/SHOP/4100/validation",
                                 json={"validated_by": "controller"})

    assert response.status_code == 404
    assert "plans no benefits on SHOP/4100" in response.json()["detail"]


@pytest.mark.asyncio
async def test_validation_by_blank_name_422(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{LINE}/validation", json={"validated_by": " \t "})
    baseline = await client.put(f"{LINE}/baseline", json={"set_by": "  ", "points": []})

    assert (response.status_code, fields(response)) == (422, ["validated_by"])
    assert (baseline.status_code, fields(baseline)) == (422, ["set_by"])
    assert (await client.get("/v1/projects/collections/benefits")).json()[0]["stage"] == "expected"


@pytest.mark.asyncio
async def test_manual_baseline_reported(client: httpx.AsyncClient) -> None:
    response = await client.put(f"{LINE}/baseline",
                                json={"set_by": "finance", "points": [{"period": "2023-07", "amount": "10500000"}]})

    body = response.json()
    assert response.status_code == 200
    assert (body["start_period"], body["direction"], body["currency"]) == ("FY2024-P01", "higher_is_better", "USD")
    assert body["periods"] == [{"period": "FY2024-P01", "planned": "1000000", "baseline": "10500000",
                                "actual": None, "realised": None}]


@pytest.mark.asyncio
@pytest.mark.parametrize(("points", "field"), [
    ([{"period": "2023-13", "amount": "1"}], "points[0].period"),
    ([{"period": "2023-07", "amount": "1"}, {"period": "FY2024-P01", "amount": "2"}], "points[1].period"),
    ([{"period": "2023-07", "amount": "NaN"}], "points[0].amount"),
])
async def test_invalid_baseline_422(client: httpx.AsyncClient, points: list[dict[str, Any]], field: str) -> None:
    response = await client.put(f"{LINE}/baseline", json={"set_by": "finance", "points": points})

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_project_benefits_report(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/projects/collections/benefits")

    lines = response.json()
    assert [(line["account_id"], line["benefit_type"], line["stage"]) for line in lines] == [
        ("4100", "revenue_uplift", "expected"), ("5100", "hard_savings", "expected")]
    # The saving of −75,000 on a cost line is a benefit of +75,000 in the favourable sign.
    assert lines[1]["amounts"]["expected"] == "75000"


@pytest.mark.asyncio
async def test_portfolio_totals_exact(client: httpx.AsyncClient) -> None:
    await client.post("/v1/projects", json={
        "project_id": "shop", "name": "Shop", "owner": "o", "phase": "define",
        "benefits": [{"entity_id": "SHOP", "account_id": "4100", "period": "2024-01", "amount": "0.10"},
                     {"entity_id": "SHOP", "account_id": "4100", "period": "2024-02", "amount": "0.20"}]})
    await client.post(f"{LINE}/validation", json={"validated_by": "controller"})

    body = (await client.get("/v1/portfolio")).json()

    # AUD: 0.10 + 0.20 = 0.30 exactly. USD: 1,000,000 + 75,000 expected, 1,000,000 validated.
    assert [(item["currency"], item["expected"], item["validated"], item["realised"]) for item in body["totals"]] == [
        ("AUD", "0.30", "0", "0"), ("USD", "1075000", "1000000", "0")]
    assert [item["project_id"] for item in body["projects"]] == ["collections", "shop"]
    assert [(item["line"], item["project_ids"], item["amounts"][0]["expected"]) for item in body["targets"]] == [
        ("4100", ["collections"], "1000000")]


@pytest.mark.asyncio
async def test_portfolio_of_one_entity(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/portfolio", params={"entity_id": "SHOP"})).json()

    assert body == {"projects": [], "targets": [], "totals": []}


@pytest.mark.asyncio
async def test_kpi_progress(client: httpx.AsyncClient) -> None:
    defined = await client.put("/v1/projects/collections/kpis/days", json={
        "name": "Days to collect", "unit": "days", "baseline": "45", "target": "30", "direction": "lower_is_better"})
    measured = await client.post("/v1/projects/collections/kpis/days/measurements", json={"measurements": [
        {"date": "2024-02-29", "value": "36"}, {"date": "2024-01-31", "value": "40"}]})

    assert defined.status_code == 200
    assert defined.json()["progress"] is None
    # Latest is 36 on 29 February: (36 − 45) / (30 − 45) = 0.6.
    assert measured.json()["progress"] == "0.600000"
    assert measured.json()["latest"] == {"date": "2024-02-29", "value": "36"}
    listed = (await client.get("/v1/projects/collections/kpis")).json()
    assert [(item["kpi_id"], len(item["measurements"])) for item in listed] == [("days", 2)]


@pytest.mark.asyncio
@pytest.mark.parametrize(("body", "field"), [
    ({"baseline": "45", "target": "50", "direction": "lower_is_better"}, "target"),
    ({"baseline": "forty", "target": "30", "direction": "lower_is_better"}, "baseline"),
    ({"baseline": "45", "target": "30", "direction": "down"}, "direction"),
])
async def test_invalid_kpi_422(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    response = await client.put("/v1/projects/collections/kpis/days", json={"name": "d", "unit": "days", **body})

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_invalid_measurements_422(client: httpx.AsyncClient) -> None:
    await client.put("/v1/projects/collections/kpis/days", json={
        "name": "d", "unit": "days", "baseline": "45", "target": "30", "direction": "lower_is_better"})

    repeated = await client.post("/v1/projects/collections/kpis/days/measurements", json={"measurements": [
        {"date": "2024-02-29", "value": "36"}, {"date": "2024-02-29", "value": "35"}]})
    empty = await client.post("/v1/projects/collections/kpis/days/measurements", json={"measurements": []})

    assert (repeated.status_code, fields(repeated)) == (422, ["measurements"])
    assert (empty.status_code, fields(empty)) == (422, ["measurements"])


@pytest.mark.asyncio
async def test_measurement_of_unknown_kpi_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/projects/collections/kpis/none/measurements",
                                 json={"measurements": [{"date": "2024-02-29", "value": "1"}]})

    assert response.status_code == 404


@pytest.mark.asyncio
async def test_benefits_of_unknown_project_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/projects/none/benefits")

    assert response.status_code == 404
