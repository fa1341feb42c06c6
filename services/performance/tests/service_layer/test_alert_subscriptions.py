"""Cost centre rules, the alert event stream and webhooks, on a migrated database.

Payroll (lower is better) has two cost centres, CC1 and CC2, each budgeted at 1,000,000 a month
(12,000,000 a year). CC1 spends 1,200,000 a month in P01-P03, so its year to date is 20 % over
budget at each period end: 200,000, 400,000 and 600,000. The department rule warns at 5 %, is
critical at 10 %, ignores variances under 100,000 and watches only unfavourable ones.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from ipm_common.events import ActualsPosted, BudgetApproved, BudgetLine, BudgetPeriod, PeriodBalance, PostedLine
from ipm_common.http import install_error_handlers
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_performance.entrypoints import alerts_api
from ipm_performance.service_layer.webhooks import RetryPolicy, WebhookWorker, verify

from .performance_scenario import ENTITY, Feed, period

pytestmark = pytest.mark.asyncio

RULE = {"comparisons": ["actual_vs_budget_ytd", "projection_vs_budget"], "cost_centre": "*",
        "direction": "unfavourable", "pct": "0.05", "severity": "warning",
        "tiers": [{"severity": "critical", "pct": "0.10"}], "floor": "100000", "opens_review": False}
SECRET = "s3cret-key-for-tests-only"


@pytest_asyncio.fixture
async def client(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(alerts_api.router)
    install_error_handlers(app)
    app.dependency_overrides[get_database] = lambda: database
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://performance") as client:
        yield client


def cost_centre_budget() -> BudgetApproved:
    periods = tuple(BudgetPeriod(period=period(number), amount=Decimal("1000000")) for number in range(1, 13))
    lines = tuple(BudgetLine(line="PAYROLL", cost_centre=centre, annual=Decimal("12000000"), spread_method="even",
                             periods=periods) for centre in ("CC1", "CC2"))
    return BudgetApproved(entity_id=ENTITY, budget_id="budget-cc", fiscal_year=2024, version=2,
                          approved_by="budget office", lines=lines)


def cc1_payroll() -> ActualsPosted:
    postings = tuple(PostedLine(source_id=f"pay-{number}", period=period(number), posting_date=date(2023, 7, 31),
                                amount=Decimal("1200000"), ledger_amount=Decimal("1200000"), currency="USD")
                     for number in (1, 2, 3))
    balances = tuple(PeriodBalance(period=period(number), amount=Decimal("1200000"), ledger_version=number)
                     for number in (1, 2, 3))
    return ActualsPosted(entity_id=ENTITY, account_id="PAYROLL", cost_centre="CC1", currency="USD", batch_id="pay",
                         batch_series_count=1, postings=postings, balances=balances)


def projections(cc1: str, cc2: str) -> dict[str, Any]:
    return {"entity_id": ENTITY, "line": "PAYROLL", "fiscal_year": 2024, "as_of": "2023-09-30",
            "projections": [{"cost_centre": "CC1", "projection": cc1}, {"cost_centre": "CC2", "projection": cc2}]}


async def seed_departments(database: Database, client: httpx.AsyncClient) -> None:
    feed = Feed(database)
    await feed.seed()
    await feed.send(cc1_payroll())
    assert (await client.put("/v1/rules/department_spending", json=RULE)).status_code == 200
    await feed.send(cost_centre_budget())


async def department_alerts(client: httpx.AsyncClient) -> dict[tuple[str, str], dict[str, Any]]:
    response = await client.get("/v1/alerts", params={"rule": "department_spending"})
    return {(alert["line"], alert["period"]): alert for alert in response.json()}


# --- cost centre rules ---------------------------------------------------------------------------


async def test_department_rule_raises_per_cost_centre(database: Database, client: httpx.AsyncClient) -> None:
    await seed_departments(database, client)

    alerts = await department_alerts(client)
    p03 = alerts[("PAYROLL@CC1", "FY2024-P03")]
    assert set(alerts) == {("PAYROLL@CC1", period(number)) for number in (1, 2, 3)}
    # 3,600,000 spent against 3,000,000: 600,000 over, 20 % of the budget to date.
    assert Decimal(p03["value"]) == Decimal("3600000")
    assert Decimal(p03["comparator"]) == Decimal("3000000")
    assert Decimal(p03["variance"]) == Decimal("-600000")
    assert Decimal(p03["variance_pct"]) == Decimal("-0.2")
    assert p03["severity"] == "critical"
    assert p03["threshold"] == "warning at 5%, critical at 10%, floor 100000, unfavourable only"
    assert p03["figures_version"] == 3
    assert p03["review_requested"] is False
    every = (await client.get("/v1/alerts")).json()
    assert not [alert for alert in every if alert["rule"] == "budget_variance" and "@" in alert["line"]]


async def test_projection_breach_raises_then_resolves(database: Database, client: httpx.AsyncClient) -> None:
    await seed_departments(database, client)

    # CC1: 12,500,000 against 12,000,000 is 4.2 %, within tolerance. CC2: 12,900,000 is 7.5 % over.
    first = await client.put("/v1/projections", json=projections("12500000", "12900000"))
    replayed = await client.put("/v1/projections", json=projections("12500000", "12900000"))
    cc2 = (await department_alerts(client))[("PAYROLL@CC2", "FY2024")]
    back = await client.put("/v1/projections", json=projections("12500000", "12000000"))

    assert first.status_code == 200
    assert first.json()["variance_lines"] == 5
    assert first.json()["alerts_changed"] == 1
    assert replayed.json()["alerts_changed"] == 0
    assert cc2["severity"] == "warning"
    assert Decimal(cc2["variance"]) == Decimal("-900000")
    assert back.json()["alerts_changed"] == 1
    assert (await department_alerts(client))[("PAYROLL@CC2", "FY2024")]["status"] == "resolved"


async def test_revised_past_period_marks_alert_restated(database: Database, client: httpx.AsyncClient) -> None:
    await seed_departments(database, client)
    # A later posting raises CC1's P01 to 1,500,000 (ledger version 4) while P03 is the latest
    # period: P01's year to date becomes 500,000 over budget, a restatement of a past period.
    revised = PostedLine(source_id="pay-1-late", period=period(1), posting_date=date(2023, 7, 31),
                         amount=Decimal("300000"), ledger_amount=Decimal("300000"), currency="USD", late=True)
    await Feed(database).send(ActualsPosted(
        entity_id=ENTITY, account_id="PAYROLL", cost_centre="CC1", currency="USD", batch_id="late",
        batch_series_count=1, postings=(revised,),
        balances=(PeriodBalance(period=period(1), amount=Decimal("1500000"), ledger_version=4),)),
        correlation_id="late-batch")
    await client.put("/v1/projections", json=projections("12500000", "12500000"))

    alerts = await department_alerts(client)
    p01, p03 = alerts[("PAYROLL@CC1", period(1))], alerts[("PAYROLL@CC1", period(3))]
    assert p01["status"] == "updated"
    assert Decimal(p01["variance"]) == Decimal("-500000")
    assert p01["figures_version"] == 4
    assert p01["restated"] is True
    # P03's year to date moves from 3,600,000 to 3,900,000 too, but P03 is the latest period.
    assert Decimal(p03["variance"]) == Decimal("-900000")
    assert p03["restated"] is False
    # Ten changes: five raises at seeding, the entity's P02 and P03 updated by the late posting
    # (P02 restated), and CC1's three periods updated by the re-evaluation (P01 and P02 restated).
    changes = await read_stream(client, {"after": 0, "limit": 10, "entity_id": ENTITY})
    restated = [(data["data"]["line"], data["data"]["period"]) for _, data in changes if data["data"]["restated"]]
    assert restated == [("PAYROLL", period(2)), ("PAYROLL@CC1", period(1)), ("PAYROLL@CC1", period(2))]


async def test_rule_tier_error_names_field(client: httpx.AsyncClient) -> None:
    body = {**RULE, "tiers": [{"severity": "critical", "pct": "1.5"}]}

    response = await client.put("/v1/rules/department_spending", json=body)

    assert response.status_code == 422
    assert response.json()["field"] == "tiers[0].pct"


async def test_projection_repeated_cost_centre_is_422(client: httpx.AsyncClient) -> None:
    body = projections("1", "2")
    body["projections"][1]["cost_centre"] = "CC1"

    response = await client.put("/v1/projections", json=body)

    assert response.status_code == 422
    assert response.json()["field"] == "projections[1].cost_centre"


async def test_rule_round_trip_and_delete(client: httpx.AsyncClient) -> None:
    stored = await client.put("/v1/rules/department_spending", json={**RULE, "persistence": 2})
    shown = await client.get("/v1/rules/department_spending")
    deleted = await client.delete("/v1/rules/department_spending")
    gone = await client.get("/v1/rules/department_spending")

    assert stored.status_code == 200
    assert shown.json()["tiers"] == [{"severity": "warning", "pct": "0.05", "absolute": None},
                                     {"severity": "critical", "pct": "0.10", "absolute": None}]
    assert shown.json()["persistence"] == 2
    assert shown.json()["cost_centre"] == "*"
    assert shown.json()["builtin"] is False
    assert deleted.status_code == 204
    assert gone.status_code == 404


# --- the event stream ----------------------------------------------------------------------------


def events_of(text: str) -> list[tuple[int, dict[str, Any]]]:
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if "id" in fields:
            found.append((int(fields["id"]), json.loads(fields["data"])))
    return found


async def read_stream(client: httpx.AsyncClient, params: dict[str, Any],
                      headers: dict[str, str] | None = None) -> list[tuple[int, dict[str, Any]]]:
    response = await asyncio.wait_for(client.get("/v1/alerts/stream", params=params, headers=headers), 10)
    assert response.headers["content-type"].startswith("text/event-stream")
    return events_of(response.text)


async def test_stream_resumes_from_last_event_id(database: Database, client: httpx.AsyncClient) -> None:
    await seed_departments(database, client)
    await client.put("/v1/projections", json=projections("12500000", "12900000"))

    # Six changes: the entity's payroll 40 % under budget at P02 and P03 (favourable, but the
    # built-in budget rule watches both directions), CC1 at P01-P03, and CC2's projection.
    everything = await read_stream(client, {"after": 0, "limit": 6})
    resumed = await read_stream(client, {"limit": 1}, {"Last-Event-ID": str(everything[4][0])})
    critical = await read_stream(client, {"after": 0, "limit": 3, "severity": "critical"})
    of_entity = await read_stream(client, {"after": 0, "limit": 1, "entity_id": ENTITY})

    assert [data["data"]["line"] for _, data in everything] == ["PAYROLL"] * 2 + ["PAYROLL@CC1"] * 3 + [
        "PAYROLL@CC2"]
    assert [identifier for identifier, _ in everything] == sorted(identifier for identifier, _ in everything)
    assert everything[0][1]["type"] == "ipm.performance.alert.changed"
    assert resumed == [everything[5]]
    assert [data["data"]["line"] for _, data in critical] == ["PAYROLL@CC1"] * 3
    assert of_entity == [everything[0]]


async def test_stream_waits_for_new_changes(database: Database, client: httpx.AsyncClient,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alerts_api, "STREAM_POLL_SECONDS", 0.05)
    monkeypatch.setattr(alerts_api, "STREAM_HEARTBEAT_SECONDS", 0.1)
    await seed_departments(database, client)

    # Without Last-Event-ID the stream starts after the latest change and waits for the next one.
    listening = asyncio.create_task(client.get("/v1/alerts/stream", params={"limit": 1}))
    await asyncio.sleep(0.5)
    await client.put("/v1/projections", json=projections("12500000", "12900000"))
    response = await asyncio.wait_for(listening, 10)

    assert ": heartbeat" in response.text
    assert [data["data"]["line"] for _, data in events_of(response.text)] == ["PAYROLL@CC2"]


async def test_stream_rejects_zero_limit(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/alerts/stream", params={"limit": 0})

    assert response.status_code == 422


# --- webhooks ------------------------------------------------------------------------------------


class Receiver:
    """A loopback HTTP server that responds with the queued status codes, then 200, and records each request."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> "Receiver":
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hooks/alerts"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in head[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


async def register(client: httpx.AsyncClient, url: str, **filters: str) -> str:
    response = await client.post("/v1/webhooks", json={"url": url, "secret": SECRET, **filters})
    assert response.status_code == 201
    return str(response.json()["webhook_id"])


async def test_webhook_deliveries_are_signed_and_retried(database: Database, client: httpx.AsyncClient,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="ipm_performance")
    await seed_departments(database, client)
    async with Receiver([500]) as receiver, httpx.AsyncClient() as http:
        webhook_id = await register(client, receiver.url, entity_id=ENTITY)
        await client.put("/v1/projections", json=projections("12500000", "12900000"))
        await client.put("/v1/projections", json=projections("12500000", "12000000"))
        worker = WebhookWorker(database, http, retry=RetryPolicy(first=0.0))

        await worker.run_once()
        after_failure = (await client.get(f"/v1/webhooks/{webhook_id}/deliveries")).json()
        await worker.run_once()
        after_retry = (await client.get(f"/v1/webhooks/{webhook_id}/deliveries")).json()

    # Two changes after registration: CC2 raised, then resolved. The first POST got 500.
    assert [(item["status"], item["attempts"], item["last_status_code"]) for item in after_failure] == [
        ("delivered", 1, 200), ("pending", 1, 500)]
    assert after_failure[1]["last_error"] == "HTTP 500"
    assert [(item["status"], item["attempts"]) for item in after_retry] == [("delivered", 1), ("delivered", 2)]
    for headers, body in receiver.requests:
        assert verify(SECRET, headers["ipm-signature"], body)
        assert not verify("another-secret-entirely", headers["ipm-signature"], body)
    statuses = [json.loads(body)["data"]["status"] for _, body in receiver.requests]
    assert statuses == ["raised", "resolved", "raised"]
    listed = await client.get("/v1/webhooks")
    assert SECRET not in listed.text
    assert SECRET not in caplog.text


async def test_webhook_gives_up_after_max_attempts(database: Database, client: httpx.AsyncClient) -> None:
    await seed_departments(database, client)
    async with Receiver([503, 503, 503]) as receiver, httpx.AsyncClient() as http:
        webhook_id = await register(client, receiver.url, min_severity="warning")
        await client.put("/v1/projections", json=projections("12500000", "12900000"))
        worker = WebhookWorker(database, http, retry=RetryPolicy(first=0.0, attempts=2))
        for _ in range(3):
            await worker.run_once()

    deliveries = (await client.get(f"/v1/webhooks/{webhook_id}/deliveries")).json()
    assert [(item["status"], item["attempts"], item["last_status_code"]) for item in deliveries] == [
        ("failed", 2, 503)]
    assert len(receiver.requests) == 2


async def test_webhook_filters_and_delete(database: Database, client: httpx.AsyncClient) -> None:
    await seed_departments(database, client)
    async with Receiver([]) as receiver, httpx.AsyncClient() as http:
        other = await register(client, receiver.url, entity_id="SOMEWHERE-ELSE")
        critical = await register(client, receiver.url, min_severity="critical")
        await client.put("/v1/projections", json=projections("12500000", "12900000"))
        await WebhookWorker(database, http).run_once()
        deleted = await client.delete(f"/v1/webhooks/{other}")
        missing = await client.get(f"/v1/webhooks/{other}/deliveries")

    # The only change after registration is a warning for CC2: neither filter lets it through.
    assert (await client.get(f"/v1/webhooks/{critical}/deliveries")).json() == []
    assert receiver.requests == []
    assert deleted.status_code == 204
    assert missing.status_code == 404


async def test_webhook_invalid_url_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/webhooks", json={"url": "ftp://127.0.0.1/x", "secret": SECRET})
    short = await client.post("/v1/webhooks", json={"url": "http://127.0.0.1/x", "secret": "short"})

    assert response.status_code == 422
    assert response.json()["field"] == "url"
    assert short.status_code == 422
