"""Forecast layers, drivers, overrides, versions, diff and accuracy through the API on SQLite and PostgreSQL.

ACME keeps calendar months, so FY2024-P07 is July 2024 and reads the driver value of 2024-07.
"""

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from ipm_common.dispatch import new_event
from ipm_common.events import (
    AccountDefined,
    BenefitPoint,
    BenefitsChanged,
    BenefitsPlanned,
    BenefitsRealised,
    EventData,
    RealisedBenefitPoint,
)
from ipm_common.messaging import ConsumedMessage
from ipm_common.storage import Database
from ipm_forecast.adapters import tables
from ipm_forecast.entrypoints.subscriptions import Handlers
from ipm_forecast.settings import ForecastSettings

pytestmark = pytest.mark.asyncio


async def post_months(client: httpx.AsyncClient, account: str, amounts: dict[str, str], batch: str) -> None:
    """Post one revenue amount per month (``{"2024-01": "210"}``) on the last day of the month."""
    postings = [{"source_id": f"{batch}-{account}-{month}", "entity_id": "ACME", "account_id": account,
                 "posting_date": f"{month}-28", "amount": str(-Decimal(amount)), "currency": "USD"}
                for month, amount in amounts.items()]
    response = await client.post("/v1/actuals", json={"batch_id": batch, "postings": postings})
    assert response.status_code == 200, response.text


async def outbox(database: Database, event_type: str) -> list[dict[str, Any]]:
    async with database.reading() as connection:
        rows = await connection.execute(select(tables.outbox.c.payload).where(
            tables.outbox.c.event_type == event_type).order_by(tables.outbox.c.position))
        return [json.loads(row.payload) for row in rows]


async def apply_actuals(database: Database) -> None:
    """Feed every actuals-posted event of the outbox to the re-roll consumer; its inbox skips applied ones."""
    handlers = Handlers(database, ForecastSettings())
    async with database.reading() as connection:
        rows = (await connection.execute(select(tables.outbox.c.payload).where(
            tables.outbox.c.event_type == "ipm.forecast.actuals.posted").order_by(tables.outbox.c.position))).all()
    messages = [ConsumedMessage("ipm.forecast.actuals", 0, offset, None, row.payload.encode())
                for offset, row in enumerate(rows)]
    poisoned = await handlers.reroll_batch(messages)
    assert poisoned == []


async def deliver(database: Database, data: EventData) -> None:
    """Deliver one event to the reference consumer (reference data and project benefits)."""
    envelope = new_event("test", data, correlation_id="test")
    message = ConsumedMessage("ipm.projects.benefits", 0, 0, None, envelope.model_dump_json().encode())
    await Handlers(database, ForecastSettings()).reference(message)


def values(forecast: dict[str, Any], layer: str = "value") -> dict[str, str]:
    return {point["period"]: point[layer] for point in forecast["points"]}

FLAT = {f"2024-0{month}": "50" for month in range(1, 7)}
# The line is exactly 10 + 2 × driver in every month of history.
DRIVER = {"2024-01": "100", "2024-02": "102", "2024-03": "104", "2024-04": "106", "2024-05": "108",
          "2024-06": "110"}
LINE = {"2024-01": "210", "2024-02": "214", "2024-03": "218", "2024-04": "222", "2024-05": "226",
        "2024-06": "230"}


async def forecast(client: httpx.AsyncClient, account: str = "tax", **params: int) -> dict[str, Any]:
    response = await client.get(f"/v1/forecasts/ACME/{account}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_points_show_every_layer(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)

    body = await forecast(client)

    point = body["points"][0]
    # Six months of 50: naive gives 50.00 for every period, and no other layer adds anything.
    assert point == {"period": "FY2024-P07", "baseline": "50.00", "driver": "0", "benefits": "0", "override": None,
                     "value": "50.00", "p10": "50.00", "p90": "50.00"}
    assert body["methods"] == {"baseline": "naive", "driver": None}
    assert body["lineage"]["trigger"]["event_type"] == "ipm.forecast.actuals.posted"


async def test_driver_line_follows_scenario(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", LINE, "B1")
    await apply_actuals(database)
    assert (await client.put("/v1/drivers/cpi", json={"name": "CPI", "values": DRIVER})).status_code == 200
    scenario = await client.put("/v1/drivers/cpi/scenarios/shock", json={"values": {"2024-07": "150"}})
    assert scenario.status_code == 200

    configured = await client.put("/v1/driver-lines/ACME/tax", json={"driver_id": "cpi", "scenario": "shock",
                                                                     "configured_by": "analyst"})

    assert configured.status_code == 200, configured.text
    regression = configured.json()["regression"]
    assert (regression["intercept"], regression["slope"], regression["r_squared"]) == ("10", "2", "1")
    assert regression["observations"] == 6
    body = await forecast(client)
    july, august = body["points"][0], body["points"][1]
    # July: the scenario's 150 gives 10 + 2 × 150 = 310; the drift baseline is 234, so the driver adds 76.
    assert (july["baseline"], july["driver"], july["value"]) == ("234.00", "76.00", "310.00")
    # August has no scenario value: the driver's own drift forecast 114 gives 238, equal to the baseline.
    assert (august["baseline"], august["driver"], august["value"]) == ("238.00", "0.00", "238.00")
    assert body["methods"] == {"baseline": "drift", "driver": "ols"}
    published = (await outbox(database, "ipm.forecast.forecast.rerolled"))[-1]["data"]
    assert (published["driver_id"], published["driver_method"]) == ("cpi", "ols")
    assert published["trigger_type"] == "command.driver_line.configured"
    assert published["points"][0]["driver"] == "76.00"


async def test_driver_change_rerolls_line(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", LINE, "B1")
    await apply_actuals(database)
    await client.put("/v1/drivers/cpi", json={"values": DRIVER})
    await client.put("/v1/driver-lines/ACME/tax", json={"driver_id": "cpi", "configured_by": "analyst"})

    changed = await client.put("/v1/drivers/cpi", json={"values": {"2024-07": "120"}})

    assert changed.json()["lines"] == [{"entity_id": "ACME", "account_id": "tax", "cost_centre": None}]
    diff = (await client.get("/v1/forecasts/ACME/tax/diff")).json()
    # The published July value 120 replaces the driver's forecast 112: 10 + 2 × 120 = 250 instead of 234.
    assert diff["changes"][0] == {"period": "FY2024-P07", "old_value": "234.00", "new_value": "250.00",
                                  "change": "16.00", "reasons": ["driver_change"]}
    assert diff["reasons"] == ["driver_change"]
    assert diff["trigger"]["event_type"] == "command.driver.values"


async def test_override_replaces_value(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)

    response = await client.post("/v1/overrides", json={
        "entity_id": "ACME", "account_id": "tax", "period": "2024-08", "value": "80.00", "author": "cfo",
        "reason": "new contract"})

    assert response.status_code == 201, response.text
    body = await forecast(client)
    august = body["points"][1]
    assert (august["baseline"], august["override"], august["value"]) == ("50.00", "30.00", "80.00")
    assert body["version"] == 2
    diff = (await client.get("/v1/forecasts/ACME/tax/diff", params={"from_version": 1, "to_version": 2})).json()
    assert diff["changes"] == [{"period": "FY2024-P08", "old_value": "50.00", "new_value": "80.00",
                                "change": "30.00", "reasons": ["override"]}]
    listed = (await client.get("/v1/overrides", params={"entity_id": "ACME"})).json()
    assert [(item["author"], item["reason"], item["active"]) for item in listed] == [("cfo", "new contract", True)]


async def test_withdrawn_override_restores_value(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)
    created = (await client.post("/v1/overrides", json={
        "entity_id": "ACME", "account_id": "tax", "period": "FY2024-P08", "value": "80", "author": "cfo",
        "reason": "r"})).json()

    withdrawn = await client.delete(f"/v1/overrides/{created['override_id']}")

    assert withdrawn.status_code == 200
    assert values(await forecast(client))["FY2024-P08"] == "50.00"
    again = await client.delete(f"/v1/overrides/{created['override_id']}")
    assert again.status_code == 409


async def test_top_down_override_allocates_cents(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await post_months(client, "fees", {month: "25" for month in FLAT}, "B2")
    await apply_actuals(database)

    response = await client.post("/v1/overrides/top-down", json={
        "entity_id": "ACME", "hierarchy": "revenue", "node": "total", "period": "2024-07", "value": "100.01",
        "author": "cfo", "reason": "board guidance"})

    assert response.status_code == 201, response.text
    leaves = {leaf["account_id"]: leaf["value"] for leaf in response.json()["leaves"]}
    # Current values 25 (fees) and 50 (tax): exact shares 33.3366… and 66.6733…; the leftover cent goes to
    # fees, whose remainder 0.0066… is larger than tax's 0.0033…
    assert leaves == {"fees": "33.34", "tax": "66.67"}
    assert values(await forecast(client, "tax"))["FY2024-P07"] == "66.67"
    assert values(await forecast(client, "fees"))["FY2024-P07"] == "33.34"


async def test_top_down_on_leaf_rejected(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)

    response = await client.post("/v1/overrides/top-down", json={
        "entity_id": "ACME", "hierarchy": "revenue", "node": "tax", "period": "2024-07", "value": "1",
        "author": "cfo", "reason": "r"})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("node: 'tax' has no children in hierarchy 'revenue'")


async def test_override_without_forecast_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/overrides", json={
        "entity_id": "ACME", "account_id": "tax", "period": "2024-08", "value": "1", "author": "cfo", "reason": "r"})

    assert response.status_code == 404
    assert response.json()["detail"].startswith("no forecast of ACME/tax covers FY2024-P08")


async def test_benefits_changed_replaces_plan(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)
    planned = BenefitsPlanned(project_id="P1", name="Pricing", entity_id="ACME", account_id="tax", version=1,
                              benefits=(BenefitPoint(period="FY2024-P08", amount="5"),))
    changed = BenefitsChanged(project_id="P1", name="Pricing", entity_id="ACME", account_id="tax", version=2,
                              reason="bigger scope", benefits=(BenefitPoint(period="FY2024-P08", amount="7"),))

    await deliver(database, planned)
    await deliver(database, changed)
    await deliver(database, planned)  # version 1 again, late: ignored

    body = await forecast(client)
    assert values(body, "benefits")["FY2024-P08"] == "7"
    assert values(body)["FY2024-P08"] == "57.00"
    assert body["lineage"]["benefits"] == {"P1": 2}
    diff = (await client.get("/v1/forecasts/ACME/tax/diff", params={"from_version": 2, "to_version": 3})).json()
    assert diff["changes"][0]["reasons"] == ["benefit_change"]


async def test_realised_benefits_keep_forecast(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)
    realised = BenefitsRealised(project_id="P1", entity_id="ACME", account_id="tax", version=1, points=(
        RealisedBenefitPoint(period="FY2024-P06", planned="5", baseline="45", actual="50", realised="5"),))

    await deliver(database, realised)

    assert (await forecast(client))["version"] == 1
    assert len(await outbox(database, "ipm.forecast.forecast.rerolled")) == 1


async def test_entity_reroll_makes_new_versions(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await post_months(client, "fees", FLAT, "B2")
    await apply_actuals(database)

    response = await client.post("/v1/entities/ACME/reroll")

    assert response.json()["series"] == 2
    body = await forecast(client, "fees")
    assert body["version"] == 2
    assert body["lineage"]["trigger"]["event_type"] == "command.entity.reroll"
    diff = (await client.get("/v1/forecasts/ACME/fees/diff")).json()
    assert diff["changes"] == []


async def test_unknown_entity_reroll_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/entities/NOPE/reroll")

    assert response.status_code == 404


async def test_driver_month_validated(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/drivers/cpi", json={"values": {"2024-13": "1"}})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("values.2024-13: '2024-13' is not a calendar month")


async def test_driver_line_needs_driver(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/driver-lines/ACME/tax", json={"driver_id": "gdp", "configured_by": "a"})

    assert response.status_code == 404
    assert "PUT /v1/drivers/gdp" in response.json()["detail"]


async def test_new_actuals_score_earlier_versions(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)
    await client.post("/v1/overrides", json={"entity_id": "ACME", "account_id": "tax", "period": "2024-07",
                                             "value": "100", "author": "cfo", "reason": "r"})

    await post_months(client, "tax", {"2024-07": "80"}, "B2")
    await apply_actuals(database)

    # Version 1 forecast July at 50, version 2 (the override) at 100; July's actual is 80, lag 1 for both.
    # WAPE = (|80 − 50| + |80 − 100|) / (80 + 80) = 50 / 160 = 0.3125
    # bias = ((50 − 80) + (100 − 80)) / 160 = −10 / 160 = −0.0625
    report = (await client.get("/v1/accuracy", params={"entity_id": "ACME", "account_id": "tax"})).json()
    lag_one = report["series"][0]["measures"][0]
    assert (lag_one["lag"], lag_one["points"], lag_one["wape"], lag_one["bias"]) == (1, 2, "0.312500", "-0.062500")
    assert report["entity"][-1]["lag"] is None
    assert report["entity"][-1]["wape"] == "0.312500"
    assert [(point["version"], point["forecast"], point["actual"]) for point in report["series"][0]["points"]] == [
        (1, "50.00", "80"), (2, "100.00", "80")]
    events = await outbox(database, "ipm.forecast.accuracy.scored")
    assert len(events) == 1
    assert events[0]["data"]["periods"] == ["FY2024-P07"]
    assert events[0]["data"]["versions_scored"] == 2


async def test_late_posting_rescores_period(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)
    await post_months(client, "tax", {"2024-07": "40"}, "B2")
    await apply_actuals(database)

    await post_months(client, "tax", {"2024-07": "60"}, "B3")
    await apply_actuals(database)

    # July now totals 40 + 60 = 100 against version 1's 50: WAPE 50 / 100 = 0.5, bias −50 / 100 = −0.5.
    report = (await client.get("/v1/accuracy", params={"entity_id": "ACME", "lag": 1})).json()
    assert report["entity"] == [{"lag": 1, "points": 1, "wape": "0.500000", "bias": "-0.500000",
                                 "absolute_actual": "100", "absolute_error": "50.00"}]


async def test_zero_actuals_give_null_wape(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)
    await post_months(client, "tax", {"2024-07": "0"}, "B2")
    await apply_actuals(database)

    report = (await client.get("/v1/accuracy", params={"entity_id": "ACME", "lag": 1})).json()

    assert (report["entity"][0]["wape"], report["entity"][0]["bias"]) == (None, None)


async def test_accuracy_lag_out_of_range(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/accuracy", params={"entity_id": "ACME", "lag": 0})

    assert response.status_code == 422


async def test_negative_override_of_non_negative_line_rejected(client: httpx.AsyncClient,
                                                               database: Database) -> None:
    await deliver(database, AccountDefined(account_id="tax", name="Tax", account_type="revenue",
                                           statement="income_statement", normal_balance="credit",
                                           direction="higher_is_better", non_negative=True, version=2))
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)

    response = await client.post("/v1/overrides", json={
        "entity_id": "ACME", "account_id": "tax", "period": "2024-08", "value": "-5", "author": "cfo", "reason": "r"})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("value: -5 is negative, but account 'tax' is non-negative")


async def test_single_event_path_scores_too(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)
    await post_months(client, "tax", {"2024-07": "40"}, "B2")
    payload = (await outbox(database, "ipm.forecast.actuals.posted"))[-1]

    await Handlers(database, ForecastSettings()).reroll(
        ConsumedMessage("ipm.forecast.actuals", 0, 9, None, json.dumps(payload).encode()))

    # Version 1 forecast July at 50 against 40: WAPE 10 / 40 = 0.25, bias 10 / 40 = 0.25.
    report = (await client.get("/v1/accuracy", params={"entity_id": "ACME", "lag": 1})).json()
    assert (report["entity"][0]["wape"], report["entity"][0]["bias"]) == ("0.250000", "0.250000")
    assert (await forecast(client))["origin"] == "FY2024-P07"


async def test_removed_driver_line_drops_effect(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", LINE, "B1")
    await apply_actuals(database)
    await client.put("/v1/drivers/cpi", json={"values": {**DRIVER, "2024-07": "120"}})
    await client.put("/v1/driver-lines/ACME/tax", json={"driver_id": "cpi", "configured_by": "analyst"})

    removed = await client.delete("/v1/driver-lines/ACME/tax")

    assert removed.status_code == 200
    diff = (await client.get("/v1/forecasts/ACME/tax/diff")).json()
    # With the driver, July was 10 + 2 × 120 = 250; without it, the drift baseline 234.
    assert diff["changes"][0] == {"period": "FY2024-P07", "old_value": "250.00", "new_value": "234.00",
                                  "change": "-16.00", "reasons": ["driver_change"]}
    assert (await client.get("/v1/driver-lines/ACME/tax")).status_code == 404
    assert (await client.delete("/v1/driver-lines/ACME/tax")).status_code == 404


async def test_driver_line_of_unknown_entity_not_found(client: httpx.AsyncClient) -> None:
    await client.put("/v1/drivers/cpi", json={"values": DRIVER})

    response = await client.put("/v1/driver-lines/NOPE/tax", json={"driver_id": "cpi", "configured_by": "a"})

    assert response.status_code == 404
    assert response.json()["detail"] == "entity 'NOPE' is not registered; register it in the strategy service first"
    assert (await client.get("/v1/driver-lines/NOPE/tax")).status_code == 404


async def test_override_with_fraction_of_cent_rejected(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)

    response = await client.post("/v1/overrides", json={
        "entity_id": "ACME", "account_id": "tax", "period": "2024-08", "value": "80.005", "author": "cfo",
        "reason": "r"})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("value: 80.005 has fractions of a cent")
    assert (await forecast(client))["version"] == 1


async def test_top_down_on_unknown_node_rejected(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)

    response = await client.post("/v1/overrides/top-down", json={
        "entity_id": "ACME", "hierarchy": "revenue", "node": "totl", "period": "2024-07", "value": "1",
        "author": "cfo", "reason": "r"})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("node: 'totl' is not a node of hierarchy 'revenue'")


async def test_accuracy_of_unknown_entity_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/accuracy", params={"entity_id": "NOPE"})

    assert response.status_code == 404


async def test_concurrent_overrides_leave_one_active(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)

    responses = await asyncio.gather(*(client.post("/v1/overrides", json={
        "entity_id": "ACME", "account_id": "tax", "period": "2024-08", "value": f"{80 + number}.00", "author": "cfo",
        "reason": f"call {number}"}) for number in range(6)))

    # Each request either replaces the active override or, when another one commits first, gets 409.
    assert {response.status_code for response in responses} <= {201, 409}, [response.text for response in responses]
    listed = (await client.get("/v1/overrides", params={"entity_id": "ACME"})).json()
    active = [item for item in listed if item["active"]]
    assert len(active) == 1
    assert values(await forecast(client))["FY2024-P08"] == active[0]["value"]


async def test_concurrent_driver_updates_get_distinct_versions(client: httpx.AsyncClient) -> None:
    await client.put("/v1/drivers/cpi", json={"values": DRIVER})

    responses = await asyncio.gather(*(client.put("/v1/drivers/cpi", json={"values": {"2024-07": f"{120 + number}"}})
                                       for number in range(6)))

    # Version 1 came first, so the six updates are versions 2 to 7, one each.
    assert sorted(response.json()["version"] for response in responses) == [2, 3, 4, 5, 6, 7]
    assert (await client.get("/v1/drivers/cpi")).json()["version"] == 7


async def test_diff_in_reverse_order_rejected(client: httpx.AsyncClient, database: Database) -> None:
    await post_months(client, "tax", FLAT, "B1")
    await apply_actuals(database)
    await client.post("/v1/overrides", json={"entity_id": "ACME", "account_id": "tax", "period": "2024-08",
                                             "value": "80", "author": "cfo", "reason": "r"})

    response = await client.get("/v1/forecasts/ACME/tax/diff", params={"from_version": 2, "to_version": 1})

    # The diff names the trigger and reasons of the newer version, so a reversed pair would misattribute them.
    assert response.status_code == 422
    assert response.json()["detail"].startswith("from_version: version 2 is newer than to_version 1")
    same = (await client.get("/v1/forecasts/ACME/tax/diff", params={"from_version": 2, "to_version": 2})).json()
    assert same["changes"] == []
