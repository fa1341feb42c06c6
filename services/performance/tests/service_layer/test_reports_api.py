"""Reports API on a migrated database fed through the dispatcher: variances, bridge, KPIs, scorecard, rates.

PHL runs July to June. WAGE earns 6,000,000 a month in P01-P05 and 6,500,000 in P06 against a
budget of 6,000,000; BIRT earns and budgets 3,000,000. After P05 the forecast for WAGE was 5,800,000
a month, and after P06 it is 6,200,000. BIRT's forecasts say 3,000,000. WAGE's target is 80,000,000
(band 0), TAX's 110,000,000 (band 5 % and 1,000,000).
"""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from ipm_common.events import BenefitsRealised, RealisedBenefitPoint
from ipm_common.http import install_error_handlers
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_performance.entrypoints.reports_api import get_base_currency, router

from .performance_scenario import ENTITY, Feed, actuals, forecast, hierarchy, period


async def feed_two_months(feed: Feed) -> None:
    await feed.seed()
    five = {number: "6000000" for number in range(1, 6)}
    await feed.send(actuals("WAGE", five))
    await feed.send(actuals("BIRT", {number: "3000000" for number in range(1, 6)}))
    await feed.send(forecast("WAGE", "5800000", origin=5))
    await feed.send(forecast("BIRT", "3000000", origin=5))
    await feed.send(actuals("WAGE", {6: "6500000"}, ledger_version=2, batch_id="batch-2"))
    await feed.send(actuals("BIRT", {6: "3000000"}, ledger_version=2, batch_id="batch-2"))
    await feed.send(forecast("WAGE", "6200000", version=2, origin=6, ledger_version=2, batch_id="batch-2"))
    await feed.send(forecast("BIRT", "3000000", version=2, origin=6, ledger_version=2, batch_id="batch-2"))


@pytest_asyncio.fixture
async def client(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    await feed_two_months(Feed(database))
    app = FastAPI()
    app.include_router(router)
    install_error_handlers(app)
    app.dependency_overrides[get_database] = lambda: database
    app.dependency_overrides[get_base_currency] = lambda: "USD"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://performance") as client:
        yield client


async def report(client: httpx.AsyncClient, **params: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    response = await client.get("/v1/reports/variances", params={"entity_id": ENTITY, "period": period(6), **params})
    assert response.status_code == 200, response.text
    return {(line["line"], line["comparison"], line["span"]): line for line in response.json()}


@pytest.mark.asyncio
async def test_period_qtd_lag_and_drift(client: httpx.AsyncClient) -> None:
    found = await report(client)

    # P06: 6,500,000 against 6,000,000 is +500,000 and 500,000 / 6,000,000 = 0.083333.
    wage = found[("WAGE", "actual_vs_budget", "period")]
    assert wage["variance"] == "500000.00"
    assert wage["variance_pct"] == "0.083333"
    assert wage["phasing"] == "full_period"
    # QTD is P04-P06: 18,500,000 against 18,000,000.
    assert found[("WAGE", "actual_vs_budget", "qtd")]["comparator"] == "18000000.00"
    # The forecast made one period earlier was 5,800,000 for P06.
    assert found[("WAGE", "actual_vs_forecast_lag_1", "period")]["variance"] == "700000.00"
    # Outlook 5 × 6.0M + 6.5M + 6 × 6.2M = 73.7M; the previous version's 5 × 6.0M + 7 × 5.8M = 70.6M.
    drift = found[("WAGE", "forecast_drift", "full_year")]
    assert drift["value"] == "73700000.00"
    assert drift["comparator"] == "70600000.00"
    assert drift["variance"] == "3100000.00"
    # TAX 73.7M + 36M = 109.7M against its target of 110M: -300,000, -0.002727.
    tax = found[("TAX", "outlook_vs_target", "full_year")]
    assert tax["variance"] == "-300000.00"
    assert tax["variance_pct"] == "-0.002727"


@pytest.mark.asyncio
async def test_pro_rata_phasing_through_the_api(client: httpx.AsyncClient) -> None:
    # P06 is December 2023; on 10 December 10 of 31 days have passed: 6,000,000 × 10 / 31 = 1,935,483.87.
    found = await report(client, as_of="2023-12-10", phasing="pro_rata_days")

    wage = found[("WAGE", "actual_vs_budget", "period")]
    assert wage["comparator"] == "1935483.87"
    assert wage["phasing"] == "pro_rata_days"


@pytest.mark.asyncio
async def test_rates_translate_and_constant_currency(client: httpx.AsyncClient) -> None:
    rates = [{"from_currency": "USD", "to_currency": "EUR", "rate_type": rate_type, "period": period(number),
              "rate": rate} for number in range(1, 13) for rate_type, rate in (("average", "0.9"), ("budget", "0.8"))]
    stored = await client.put("/v1/fx-rates", json=rates)
    assert stored.json() == {"stored": 24}

    translated = await report(client, currency="EUR")
    constant = await report(client, currency="EUR", constant_currency="true")

    # 6,500,000 × 0.9 = 5,850,000 against 6,000,000 × 0.8 = 4,800,000.
    assert translated[("WAGE", "actual_vs_budget", "period")]["variance"] == "1050000.00"
    # At budget rates: 5,200,000 against 4,800,000, the same +500,000 USD in EUR.
    assert constant[("WAGE", "actual_vs_budget", "period")]["variance"] == "400000.00"
    listed = await client.get("/v1/fx-rates")
    assert len(listed.json()) == 24


@pytest.mark.asyncio
async def test_missing_rate_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/reports/variances", params={"entity_id": ENTITY, "period": period(6),
                                                                 "currency": "GBP"})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("rate: no average rate USD/GBP for FY2024-P06")


@pytest.mark.asyncio
async def test_bridge_sums_to_outlook_less_budget(client: httpx.AsyncClient, database: Database) -> None:
    realised = BenefitsRealised(project_id="P-1", entity_id=ENTITY, account_id="WAGE", version=1, points=(
        RealisedBenefitPoint(period=period(6), planned=Decimal("150000"), baseline=Decimal("6400000"),
                             actual=Decimal("6500000"), realised=Decimal("100000")),))
    await Feed(database).send(realised)

    response = await client.get("/v1/reports/bridge", params={"entity_id": ENTITY, "line": "TAX",
                                                              "period": period(6)})

    assert response.status_code == 200, response.text
    body = response.json()
    steps = {step["name"]: Decimal(step["amount"]) for step in body["steps"]}
    # Budget 12 × 9M = 108M; outlook 109.7M. To date: 54.5M - 54M = 500,000, of which 100,000 realised.
    assert body["budget"] == "108000000"
    assert body["outlook"] == "109700000"
    assert steps["actuals_to_date"] == Decimal("400000")
    assert steps["benefits_realised"] == Decimal("100000")
    # After P06: WAGE 6 × 6.2M + BIRT 6 × 3M = 55.2M against 54M.
    assert steps["forecast_change"] == Decimal("1200000")
    assert sum(steps.values()) == Decimal("1700000")


@pytest.mark.asyncio
async def test_kpi_formula_and_target(client: httpx.AsyncClient) -> None:
    defined = await client.put("/v1/kpis/wage_share", json={"name": "Wage share of tax", "formula": "WAGE / TAX"})
    assert defined.status_code == 200
    target = await client.put(f"/v1/kpi-targets/{ENTITY}/wage_share/2024", json={"target": "0.7"})
    assert target.status_code == 200

    response = await client.get("/v1/reports/kpis", params={"entity_id": ENTITY, "period": period(6)})

    values = {item["span"]: item for item in response.json() if item["kpi_id"] == "wage_share"}
    # 6.5M / 9.5M = 0.684211; against 0.7: -0.015789.
    assert values["period"]["value"] == "0.684211"
    assert values["period"]["variance"] == "-0.015789"


@pytest.mark.asyncio
async def test_invalid_formula_is_422(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/kpis/broken", json={"name": "Broken", "formula": "WAGE /"})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("formula: 'WAGE /' is invalid at position 6")


@pytest.mark.asyncio
async def test_built_in_kpi_kind(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/kpis/margin", json={"name": "Margin", "kind": "gross_margin",
                                                         "lines": {"revenue": "TAX", "cost_of_sales": "BIRT"}})

    assert response.status_code == 200
    assert response.json()["formula"] == "({TAX} - {BIRT}) / {TAX}"


@pytest.mark.asyncio
async def test_target_of_unknown_kpi_is_404(client: httpx.AsyncClient) -> None:
    response = await client.put(f"/v1/kpi-targets/{ENTITY}/nothing/2024", json={"target": "1"})

    assert response.status_code == 404


@pytest.mark.asyncio
async def test_scorecard_status_and_trend(client: httpx.AsyncClient) -> None:
    await client.put("/v1/kpis/wage_share", json={"name": "Wage share of tax", "formula": "WAGE / TAX"})
    await client.put(f"/v1/kpi-targets/{ENTITY}/wage_share/2024", json={"target": "0.6", "band_pct": "0.05"})

    response = await client.get("/v1/reports/scorecard", params={"entity_id": ENTITY, "period": period(6)})

    assert response.status_code == 200, response.text
    rows = {row["name"]: row for row in response.json()["rows"]}
    # TAX misses its target by 300,000, inside the band of 5 % and 1,000,000.
    assert rows["TAX"]["status"] == "on_track"
    assert rows["TAX"]["measure"] == "outlook_vs_target"
    # WAGE misses 80M by 6.3M with a band of zero: off track.
    assert rows["WAGE"]["status"] == "off_track"
    # BIRT has no target: actuals year to date against budget, exactly on budget.
    assert rows["BIRT"]["measure"] == "actual_vs_budget_ytd"
    assert rows["BIRT"]["status"] == "on_track"
    # The wage share YTD is 36.5M / 54.5M = 0.669725, above the target of 0.6.
    assert rows["wage_share"]["value"] == "0.669725"
    assert rows["wage_share"]["status"] == "on_track"
    # P04 and P05 had no outlook yet for TAX's target comparison, so no trend.
    assert rows["TAX"]["trend"] is None


@pytest.mark.asyncio
async def test_unknown_entity_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/reports/variances", params={"entity_id": "NOPE", "period": period(6)})

    assert response.status_code == 404


@pytest.mark.asyncio
async def test_bad_period_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/reports/variances", params={"entity_id": ENTITY, "period": "2024-13"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "query.period"


@pytest.mark.asyncio
async def test_named_hierarchy_and_unknown_one(client: httpx.AsyncClient) -> None:
    found = await report(client, hierarchy="revenue")
    missing = await client.get("/v1/reports/variances", params={"entity_id": ENTITY, "period": period(6),
                                                                "hierarchy": "regions"})

    # P06: TAX is 6.5M + 3M = 9.5M against 9M.
    assert found[("TAX", "actual_vs_budget", "period")]["variance"] == "500000.00"
    assert missing.status_code == 404
    assert missing.json()["detail"] == "hierarchy 'regions' is not an account hierarchy; known: revenue"


@pytest.mark.asyncio
async def test_reparenting_shows_at_once(client: httpx.AsyncClient, database: Database) -> None:
    await Feed(database).send(hierarchy({"WAGE": "TAX", "BIRT": "OTHER", "PARKING": "OTHER"}, version=2))
    moved = await report(client)
    await Feed(database).send(hierarchy({"WAGE": "TAX", "BIRT": "OTHER"}, version=3))

    found = await report(client)

    # PARKING has no budget, so OTHER has none while PARKING is under it.
    assert moved[("OTHER", "actual_vs_budget", "period")]["comparator"] is None
    # TAX now sums WAGE alone: 6.5M against 6M in P06; OTHER has BIRT: 3M against 3M.
    assert found[("TAX", "actual_vs_budget", "period")]["value"] == "6500000.00"
    assert found[("TAX", "actual_vs_budget", "period")]["comparator"] == "6000000.00"
    assert found[("OTHER", "actual_vs_budget", "period")]["variance"] == "0.00"
