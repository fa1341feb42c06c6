"""The main job end to end: four service processes on a real broker, actuals in, a review out."""

import asyncio
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from ipm_cli.stack import LocalStack
from ipm_common.events import Topics

pytestmark = pytest.mark.e2e

ENTITY = "ACME"


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(Path(tmp_path_factory.mktemp("stack")), bootstrap=kafka_bootstrap) as running:
        yield running


def call(stack: LocalStack, method: str, service: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{stack.url(service)}{path}", timeout=30, **kwargs)


def wait_until(check: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def posting(month: int, amount: str) -> dict[str, str]:
    return {"source_id": f"acme-sales-2024-{month:02d}", "entity_id": ENTITY, "account_id": "sales",
            "posting_date": f"2024-{month:02d}-28", "amount": amount, "currency": "USD"}


def set_up_organisation(stack: LocalStack) -> None:
    entity = {"name": "Acme Ltd", "currency": "USD", "calendar": {"start_month": 1, "start_day": 1}}
    assert call(stack, "PUT", "strategy", f"/v1/entities/{ENTITY}", json=entity).status_code == 200
    accounts = [{"account_id": "sales", "name": "Sales", "account_type": "revenue", "non_negative": True},
                {"account_id": "services", "name": "Services", "account_type": "revenue"}]
    assert call(stack, "PUT", "strategy", "/v1/accounts", json=accounts).status_code == 200
    tree = {"dimension": "account", "edges": [{"child": "sales", "parent": "revenue"},
                                              {"child": "services", "parent": "revenue"}]}
    assert call(stack, "PUT", "strategy", "/v1/hierarchies/income", json=tree).status_code == 200
    plan = {"plan_id": "acme-2024", "entity_id": ENTITY, "name": "Plan 2024", "kind": "adopted",
            "adopted_for_fiscal_year": 2024, "lines": [{"line": "sales", "fiscal_year": 2024, "amount": "12000000"}],
            "targets": [{"line": "sales", "fiscal_year": 2024, "amount": "12000000"}]}
    assert call(stack, "POST", "strategy", "/v1/plans", json=plan).status_code in (200, 201)

    wait_until(lambda: call(stack, "GET", "forecast", "/v1/reference").json()["accounts"] >= 2,
               "accounts in the forecast service")


async def publish_erp_batch(bootstrap: str, batch: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(Topics.ERP_POSTINGS, json.dumps(batch).encode(), key=ENTITY.encode())
    finally:
        await producer.stop()


def test_actuals_over_http_and_kafka_open_review(stack: LocalStack, kafka_bootstrap: str) -> None:
    set_up_organisation(stack)

    for month in (1, 2, 3):
        response = call(stack, "POST", "forecast", "/v1/actuals",
                        json={"batch_id": f"http-{month}", "postings": [posting(month, "-2000000.00")]})
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == 1
    for month in (4, 5, 6):
        asyncio.run(publish_erp_batch(kafka_bootstrap, {"batch_id": f"kafka-{month}",
                                                        "postings": [posting(month, "-2000000.00")]}))

    wait_until(lambda: call(stack, "GET", "forecast", "/v1/stats").json()["postings"] == 6,
               "six postings in the ledger")
    reviews = wait_until(lambda: call(stack, "GET", "strategy", "/v1/reviews").json(), "a strategy review")

    assert len(reviews) == 1
    assert reviews[0]["line"] == "sales"
    assert reviews[0]["fiscal_year"] == 2024
    assert reviews[0]["target"] == "12000000"


def test_replayed_batch_is_not_counted_twice(stack: LocalStack) -> None:
    before = call(stack, "GET", "forecast", "/v1/stats").json()["postings"]
    batch = {"batch_id": "http-1", "postings": [posting(1, "-2000000.00")]}

    response = call(stack, "POST", "forecast", "/v1/actuals", json=batch)

    assert response.status_code == 200
    assert response.json()["accepted"] == 0
    assert response.json()["replayed"] == 1
    assert call(stack, "GET", "forecast", "/v1/stats").json()["postings"] == before


def test_invalid_line_is_rejected_with_field(stack: LocalStack) -> None:
    bad = posting(7, "NaN")

    response = call(stack, "POST", "forecast", "/v1/actuals", json={"postings": [posting(8, "-1.00"), bad]})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "postings[1].amount"


def test_metrics_report_backlog_and_lag(stack: LocalStack) -> None:
    def drained() -> str | None:
        text = call(stack, "GET", "forecast", "/metrics").text
        return text if 'ipm_outbox_backlog{service="forecast"} 0' in text else None

    text = wait_until(drained, "the forecast outbox to drain")

    assert 'ipm_consumer_processed_total{service="forecast",group="ipm-forecast-reroll"}' in text
    assert 'ipm_consumer_lag{service="forecast",group="ipm-forecast-erp",topic="ipm.erp.postings"' in text
    assert "ipm_dead_letters_total" in text


def sales_outlook(stack: LocalStack) -> dict[str, Any] | None:
    body = call(stack, "GET", "performance", "/v1/outlooks", params={"entity_id": ENTITY, "fiscal_year": 2024}).json()
    return next((line for line in body["lines"] if line["line"] == "sales"), None)


def target_alert(stack: LocalStack) -> dict[str, Any] | None:
    alerts = call(stack, "GET", "performance", "/v1/alerts",
                  params={"entity_id": ENTITY, "rule": "strategic_target_band"}).json()
    return next((alert for alert in alerts if alert["line"] == "sales" and alert["period"] == "FY2024"), None)


def test_project_benefits_and_revised_plan_move_outlook(stack: LocalStack) -> None:
    before = wait_until(lambda: sales_outlook(stack), "the sales outlook")
    raised_alert = wait_until(lambda: target_alert(stack), "the sales target alert")

    # Six months of 500,000 uplift after the last actual (P06) add 3,000,000 to the outlook.
    project = {"project_id": "acme-upsell", "name": "Upsell drive", "owner": "sales operations",
               "benefits": [{"entity_id": ENTITY, "account_id": "sales", "period": f"FY2024-P{month:02d}",
                             "amount": "500000"} for month in range(7, 13)]}
    assert call(stack, "POST", "projects", "/v1/projects", json=project).status_code == 201
    expected = Decimal(before["outlook"]) + Decimal("3000000")
    after = wait_until(lambda: (line := sales_outlook(stack)) and Decimal(line["outlook"]) == expected and line,
                       "the project benefits in the outlook")
    forecast = call(stack, "GET", "forecast", f"/v1/forecasts/{ENTITY}/sales").json()
    assert sum(Decimal(point["benefits"]) for point in forecast["points"]) == Decimal("3000000")

    # A revised plan whose target is the new outlook brings the line back inside its band.
    revised = {"plan_id": "acme-2024-revised", "entity_id": ENTITY, "name": "Plan 2024 revised", "kind": "revised",
               "adopted_for_fiscal_year": 2024,
               "lines": [{"line": "sales", "fiscal_year": 2024, "amount": after["outlook"]}],
               "targets": [{"line": "sales", "fiscal_year": 2024, "amount": after["outlook"]}]}
    assert call(stack, "POST", "strategy", "/v1/plans", json=revised).status_code in (200, 201)
    retargeted = wait_until(lambda: (line := sales_outlook(stack)) and line["target_plan_id"] == "acme-2024-revised"
                            and line, "the revised target in performance")
    resolved = wait_until(lambda: (alert := target_alert(stack)) and alert["status"] == "resolved" and alert,
                          "the target alert to resolve")

    assert raised_alert["status"] in ("raised", "updated")
    assert Decimal(retargeted["target"]) == expected
    assert resolved["alert_id"] == raised_alert["alert_id"]
