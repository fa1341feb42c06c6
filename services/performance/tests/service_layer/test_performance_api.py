"""HTTP API on a migrated database: the router with the shared error map, the database dependency overridden."""

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from ipm_common.http import install_error_handlers
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_performance.entrypoints import alerts_api
from ipm_performance.entrypoints.api import router

from .performance_scenario import ENTITY, WAGE_TARGET_ALERT, Feed, actuals, first_half, forecast, run_first_batch


@pytest_asyncio.fixture
async def client(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(router)
    app.include_router(alerts_api.router)
    install_error_handlers(app)
    app.dependency_overrides[get_database] = lambda: database
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://performance") as client:
        yield client


# --- rules ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_rules_list_defaults(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/rules")

    assert response.status_code == 200
    rules = {rule["rule"]: rule for rule in response.json()}
    assert Decimal(rules["budget_variance"]["pct"]) == Decimal("0.10")
    assert rules["budget_variance"]["threshold"] == "10% and 1000000 either direction"
    assert rules["budget_variance"]["severity"] == "warning"
    assert rules["budget_variance"]["opens_review"] is False
    assert rules["budget_variance"]["updated_at"] is None
    assert rules["strategic_target_band"]["threshold"] == "5% and 1000000 either direction"
    assert rules["strategic_target_band"]["severity"] == "critical"
    assert rules["strategic_target_band"]["opens_review"] is True


@pytest.mark.asyncio
async def test_rule_update_keeps_json_numbers_exact(client: httpx.AsyncClient) -> None:
    body = b'{"pct": 0.15, "absolute": 250000.10, "scope": "unfavourable", "severity": "info", "opens_review": false}'

    response = await client.put("/v1/rules/budget_variance", content=body,
                                headers={"content-type": "application/json"})

    assert response.status_code == 200
    assert response.json()["pct"] == "0.15"
    assert response.json()["absolute"] == "250000.10"
    assert response.json()["threshold"] == "15% and 250000.1 unfavourable only"
    listed = {rule["rule"]: rule for rule in (await client.get("/v1/rules")).json()}
    assert listed["budget_variance"]["scope"] == "unfavourable"
    assert listed["budget_variance"]["updated_at"] is not None


@pytest.mark.asyncio
async def test_unknown_rule_is_404(client: httpx.AsyncClient) -> None:
    shown = await client.get("/v1/rules/spending_spike")
    deleted = await client.delete("/v1/rules/spending_spike")

    assert shown.status_code == 404
    assert shown.json()["detail"] == "rule 'spending_spike' does not exist; list the rules with GET /v1/rules"
    assert deleted.status_code == 404


@pytest.mark.asyncio
async def test_new_rule_without_comparisons_is_422(client: httpx.AsyncClient) -> None:
    body = {"pct": "0.1", "absolute": "1", "severity": "info", "opens_review": False}

    response = await client.put("/v1/rules/spending_spike", json=body)

    assert response.status_code == 422
    assert response.json()["field"] == "comparisons"
    assert "actual_vs_budget_ytd" in response.json()["detail"]


@pytest.mark.asyncio
async def test_rule_pct_above_one_is_422(client: httpx.AsyncClient) -> None:
    body = {"pct": "5", "absolute": "1000000", "severity": "warning", "opens_review": False}

    response = await client.put("/v1/rules/budget_variance", json=body)

    assert response.status_code == 422
    assert response.json()["field"] == "pct"
    assert "0.05 for 5 %" in response.json()["detail"]


@pytest.mark.asyncio
async def test_rule_negative_absolute_is_422(client: httpx.AsyncClient) -> None:
    body = {"pct": "0.05", "absolute": "-1", "severity": "warning", "opens_review": False}

    response = await client.put("/v1/rules/budget_variance", json=body)

    assert response.status_code == 422
    assert response.json()["field"] == "absolute"


@pytest.mark.asyncio
async def test_rule_nan_and_missing_fields_are_422(client: httpx.AsyncClient) -> None:
    nan = await client.put("/v1/rules/budget_variance", content=b'{"pct": NaN, "absolute": 1}',
                           headers={"content-type": "application/json"})
    missing = await client.put("/v1/rules/budget_variance", json={"severity": "info"})

    assert nan.status_code == 422
    assert missing.status_code == 422
    assert missing.json()["field"] == "tiers"


# --- results -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_alerts_filtered_by_status_and_rule(client: httpx.AsyncClient, database: Database) -> None:
    await run_first_batch(Feed(database))

    raised = (await client.get("/v1/alerts", params={"entity_id": ENTITY, "status": "raised",
                                                     "rule": "strategic_target_band"})).json()
    resolved = (await client.get("/v1/alerts", params={"status": "resolved"})).json()

    assert [alert["alert_id"] for alert in raised] == [WAGE_TARGET_ALERT]
    assert Decimal(raised[0]["value"]) == Decimal("72000000")
    assert raised[0]["review_requested"] is True
    assert resolved == []


@pytest.mark.asyncio
async def test_alert_by_id_and_missing(client: httpx.AsyncClient, database: Database) -> None:
    await run_first_batch(Feed(database))

    found = await client.get(f"/v1/alerts/{WAGE_TARGET_ALERT}")
    missing = await client.get("/v1/alerts/00000000-0000-0000-0000-000000000000")

    assert found.status_code == 200
    assert found.json()["line"] == "WAGE"
    assert missing.status_code == 404


@pytest.mark.asyncio
async def test_variances_filtered(client: httpx.AsyncClient, database: Database) -> None:
    await run_first_batch(Feed(database))

    response = await client.get("/v1/variances", params={"entity_id": ENTITY, "line": "TAX",
                                                         "comparison": "outlook_vs_target"})
    ytd = await client.get("/v1/variances", params={"line": "WAGE", "comparison": "actual_vs_budget_ytd",
                                                    "period": "FY2024-P06"})

    assert response.status_code == 200
    lines = response.json()
    assert len(lines) == 1
    assert Decimal(lines[0]["value"]) == Decimal("108000000")
    assert Decimal(lines[0]["variance_pct"]) == Decimal("-0.018182")
    assert lines[0]["favourable"] is False
    assert Decimal(ytd.json()[0]["comparator"]) == Decimal("36000000")


@pytest.mark.asyncio
async def test_variances_reject_unknown_comparison(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/variances", params={"comparison": "actual_vs_forecast"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "query.comparison"


@pytest.mark.asyncio
async def test_outlooks_per_line(client: httpx.AsyncClient, database: Database) -> None:
    await run_first_batch(Feed(database))

    response = await client.get("/v1/outlooks", params={"entity_id": ENTITY, "fiscal_year": 2024})

    assert response.status_code == 200
    lines = {line["line"]: line for line in response.json()["lines"]}
    assert sorted(lines) == ["BIRT", "TAX", "WAGE"]
    wage = lines["WAGE"]
    assert Decimal(wage["actuals_to_date"]) == Decimal("36000000")
    assert Decimal(wage["remaining_forecast"]) == Decimal("36000000")
    assert Decimal(wage["outlook"]) == Decimal("72000000")
    assert Decimal(wage["budget"]) == Decimal("72000000")
    assert Decimal(wage["target"]) == Decimal("80000000")
    assert wage["last_origin"] == "FY2024-P06"
    assert Decimal(wage["versus_target"]["variance"]) == Decimal("-8000000")
    assert Decimal(wage["versus_budget"]["variance"]) == Decimal("0")
    assert lines["TAX"]["leaves"] == ["BIRT", "WAGE"]
    assert lines["BIRT"]["target"] is None
    assert lines["BIRT"]["versus_target"] is None


@pytest.mark.asyncio
async def test_inputs_count_what_arrived(client: httpx.AsyncClient, database: Database) -> None:
    feed = Feed(database)
    await feed.seed()
    before = (await client.get("/v1/inputs", params={"entity_id": ENTITY})).json()
    await feed.send(actuals("WAGE", first_half("6000000")))
    await feed.send(forecast("WAGE", "6000000"))

    after = (await client.get("/v1/inputs", params={"entity_id": ENTITY})).json()

    assert before["targets"] == {"2024": 2}
    assert before["budgets"] == [{"fiscal_year": 2024, "budget_id": "budget-1", "version": 1, "lines": 2}]
    assert before["latest_ledger_period"] is None
    assert before["series_with_forecasts"] == 0
    assert after["latest_ledger_period"] == "FY2024-P06"
    assert after["latest_ledger_version"] == 1
    assert after["postings"] == 6
    assert after["series_with_actuals"] == 1
    assert after["series_with_forecasts"] == 1


@pytest.mark.asyncio
async def test_inputs_need_entity(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/inputs")

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "query.entity_id"


@pytest.mark.asyncio
async def test_summary_counts_results(client: httpx.AsyncClient, database: Database) -> None:
    await run_first_batch(Feed(database))

    summary = (await client.get("/v1/summary", params={"entity_id": ENTITY})).json()

    assert summary["variance_lines"] == 41
    assert summary["variance_lines_by_comparison"]["outlook_vs_target"] == 2
    assert summary["evaluations"] > summary["variance_lines"]
    assert summary["alerts_by_status"] == {"raised": 1}
    assert summary["alerts_by_rule"] == {"strategic_target_band": {"raised": 1}}
    assert summary["reviews_requested"] == 1
    assert summary["batches_evaluated"] == 1
