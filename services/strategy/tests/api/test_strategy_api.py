from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from ipm_common.dispatch import new_event
from ipm_common.envelope import encode
from ipm_common.events import StrategyReviewRequested, Topics
from ipm_common.http import install_error_handlers
from ipm_common.messaging import ConsumedMessage
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_strategy.adapters import repository
from ipm_strategy.entrypoints import api
from ipm_strategy.entrypoints.subscriptions import reviews_dispatcher

PHILADELPHIA = {"name": "City of Philadelphia", "currency": "USD",
                "calendar": {"start_month": 7, "year_named_by": "end"}}
ADOPTED_PLAN = {
    "plan_id": "fyp-2025", "entity_id": "PHL", "name": "Five-year plan FY2025-2029", "kind": "adopted",
    "adopted_for_fiscal_year": 2025,
    "lines": [{"line": "wage_tax", "fiscal_year": 2025, "amount": "2203000000"}],
    "targets": [{"line": "wage_tax", "fiscal_year": 2025, "amount": "2203000000"}],
}


@pytest_asyncio.fixture
async def client(sqlite_database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(api.router)
    install_error_handlers(app)
    app.dependency_overrides[get_database] = lambda: sqlite_database
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://strategy") as http:
        yield http


@pytest_asyncio.fixture
async def registered(client: httpx.AsyncClient) -> httpx.AsyncClient:
    response = await client.put("/v1/entities/PHL", json=PHILADELPHIA)
    assert response.status_code == 200
    account = await client.put("/v1/accounts/wage_tax", json={"name": "Wage tax", "account_type": "revenue"})
    assert account.status_code == 200
    return client


def fields(response: httpx.Response) -> list[str]:
    body = response.json()
    if isinstance(body["detail"], list):
        return [item["field"] for item in body["detail"]]
    return [body["field"]]


# --- entities and accounts ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_entity_put_and_get(client: httpx.AsyncClient) -> None:
    first = await client.put("/v1/entities/PHL", json=PHILADELPHIA)
    again = await client.put("/v1/entities/PHL", json=PHILADELPHIA)
    fetched = await client.get("/v1/entities/PHL")
    listed = await client.get("/v1/entities")

    assert first.json()["version"] == 1
    assert first.json()["changed"] is True
    assert again.json()["changed"] is False
    assert fetched.json() == {"entity_id": "PHL", "name": "City of Philadelphia", "currency": "USD", "version": 1,
                              "calendar": {"start_month": 7, "start_day": 1, "year_named_by": "end",
                                           "week_year_end": "last", "year_end_weekday": 5}}
    assert [entity["entity_id"] for entity in listed.json()] == ["PHL"]


@pytest.mark.asyncio
@pytest.mark.parametrize(("change", "field"), [
    ({"currency": "usd"}, "currency"),
    ({"currency": "ZZZ"}, "currency"),
    ({"calendar": {"start_month": 13}}, "calendar.start_month"),
    ({"calendar": {"start_day": 29}}, "calendar.start_day"),
    ({"calendar": {"year_named_by": "middle"}}, "calendar.year_named_by"),
    ({"calendar": {"start_month": "7"}}, "calendar.start_month"),
    ({"name": ""}, "name"),
])
async def test_invalid_entity_names_field(client: httpx.AsyncClient, change: dict[str, Any], field: str) -> None:
    response = await client.put("/v1/entities/PHL", json={**PHILADELPHIA, **change})

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_entity_currency_change_conflicts(client: httpx.AsyncClient) -> None:
    await client.put("/v1/entities/ACME", json={"name": "Acme Ltd", "currency": "USD", "calendar": {}})

    response = await client.put("/v1/entities/ACME", json={"name": "Acme Ltd", "currency": "EUR", "calendar": {}})
    fetched = await client.get("/v1/entities/ACME")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "currency: entity 'ACME' is registered with 'USD', which cannot change to 'EUR', because its "
                  "booked amounts and fiscal periods depend on it; send 'USD', or register a new entity such as "
                  "'ACME-2' with 'EUR'",
        "reason": "immutable_field",
    }
    assert fetched.json()["currency"] == "USD"


@pytest.mark.asyncio
async def test_entity_calendar_change_conflicts(client: httpx.AsyncClient) -> None:
    january = {"name": "Acme Ltd", "currency": "USD", "calendar": {"start_month": 1}}
    await client.put("/v1/entities/ACME", json=january)

    response = await client.put("/v1/entities/ACME", json={**january, "calendar": {"start_month": 7}})
    renamed = await client.put("/v1/entities/ACME", json={**january, "name": "Acme Group"})

    assert response.status_code == 409
    assert response.json()["reason"] == "immutable_field"
    assert response.json()["detail"].startswith("calendar.start_month: entity 'ACME' is registered with 1,")
    assert renamed.status_code == 200
    assert renamed.json()["version"] == 2


@pytest.mark.asyncio
async def test_unknown_entity_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/entities/NYC")

    assert response.status_code == 404
    assert response.json()["detail"] == "entity 'NYC' not found; register it with PUT /v1/entities/NYC"


@pytest.mark.asyncio
async def test_asset_account_needs_direction(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/accounts/1200", json={"name": "Receivables", "account_type": "asset"})

    assert response.status_code == 422
    assert response.json()["field"] == "direction"
    assert "'asset'" in response.json()["detail"]


@pytest.mark.asyncio
async def test_account_defaults_from_type(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/accounts/4100", json={"name": "Wage tax", "account_type": "revenue"})

    assert response.status_code == 200
    assert response.json() == {"account_id": "4100", "name": "Wage tax", "account_type": "revenue",
                               "statement": "income_statement", "normal_balance": "credit",
                               "direction": "higher_is_better", "non_negative": False, "version": 1,
                               "changed": True}


@pytest.mark.asyncio
async def test_bulk_accounts_name_item_field(client: httpx.AsyncClient) -> None:
    body = [{"account_id": "4100", "name": "Wage tax", "account_type": "revenue"},
            {"account_id": "2100", "name": "Payables", "account_type": "liability"}]

    rejected = await client.put("/v1/accounts", json=body)
    body[1]["direction"] = "lower_is_better"
    accepted = await client.put("/v1/accounts", json=body)
    listed = await client.get("/v1/accounts")

    assert rejected.status_code == 422
    assert fields(rejected) == ["[1].direction"]
    assert [(item["account_id"], item["version"]) for item in accepted.json()] == [("4100", 1), ("2100", 1)]
    assert [item["account_id"] for item in listed.json()] == ["2100", "4100"]


@pytest.mark.asyncio
async def test_account_type_change_conflicts(client: httpx.AsyncClient) -> None:
    await client.put("/v1/accounts/4100", json={"name": "Sales", "account_type": "revenue"})

    response = await client.put("/v1/accounts/4100", json={"name": "Sales", "account_type": "expense"})
    fetched = await client.get("/v1/accounts/4100")

    assert response.status_code == 409
    assert response.json()["reason"] == "immutable_field"
    assert response.json()["detail"].startswith(
        "account_type: account '4100' is defined with account_type 'revenue', which cannot change to 'expense'")
    assert fetched.json()["account_type"] == "revenue"


@pytest.mark.asyncio
async def test_bulk_account_change_stores_nothing(client: httpx.AsyncClient) -> None:
    await client.put("/v1/accounts", json=[{"account_id": "4100", "name": "Sales", "account_type": "revenue"}])
    body = [{"account_id": "5100", "name": "Salaries", "account_type": "expense"},
            {"account_id": "4100", "name": "Sales", "account_type": "revenue", "normal_balance": "debit"}]

    response = await client.put("/v1/accounts", json=body)
    listed = await client.get("/v1/accounts")

    assert response.status_code == 409
    assert response.json()["reason"] == "immutable_field"
    assert response.json()["detail"].startswith("[1].normal_balance: account '4100'")
    assert [item["account_id"] for item in listed.json()] == ["4100"]


@pytest.mark.asyncio
async def test_bulk_account_type_invalid(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/accounts", json=[{"account_id": "1", "name": "x", "account_type": "income"}])

    assert response.status_code == 422
    assert fields(response) == ["[0].account_type"]


# --- hierarchies -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_hierarchy_tree_lists_leaves(client: httpx.AsyncClient) -> None:
    edges = [{"child": "taxes", "parent": "general_fund"}, {"child": "wage_tax", "parent": "taxes"},
             {"child": "bit", "parent": "taxes"}, {"child": "licenses", "parent": "general_fund"}]
    put = await client.put("/v1/hierarchies/revenue", json={"dimension": "account", "edges": edges})
    response = await client.get("/v1/hierarchies/revenue")

    assert put.status_code == 200
    body = response.json()
    assert body["version"] == 1
    assert body["edges"] == edges
    (root,) = body["tree"]
    assert root["node"] == "general_fund"
    assert root["leaves"] == ["licenses", "bit", "wage_tax"]
    assert [child["node"] for child in root["children"]] == ["licenses", "taxes"]
    assert root["children"][1]["leaves"] == ["bit", "wage_tax"]


@pytest.mark.asyncio
async def test_hierarchy_cycle_names_edge(client: httpx.AsyncClient) -> None:
    edges = [{"child": "a", "parent": "b"}, {"child": "b", "parent": "c"}, {"child": "c", "parent": "a"}]

    response = await client.put("/v1/hierarchies/loop", json={"dimension": "entity", "edges": edges})

    assert response.status_code == 422
    assert response.json()["field"] == "edges[2]"
    assert "c -> a -> b -> c" in response.json()["detail"]
    assert (await client.get("/v1/hierarchies/loop")).status_code == 404


# --- plans and targets -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_plan_created_then_replayed(registered: httpx.AsyncClient) -> None:
    created = await registered.post("/v1/plans", json=ADOPTED_PLAN)
    replayed = await registered.post("/v1/plans", json=ADOPTED_PLAN)

    assert created.status_code == 201
    assert replayed.status_code == 200
    assert created.json()["targets"] == [{"line": "wage_tax", "fiscal_year": 2025, "amount": "2203000000",
                                          "band_pct": "0.05", "band_absolute": "1000000", "band_scope": "both"}]
    assert replayed.json()["targets_version"] == 1


@pytest.mark.asyncio
async def test_changed_plan_conflicts(registered: httpx.AsyncClient) -> None:
    await registered.post("/v1/plans", json=ADOPTED_PLAN)

    response = await registered.post("/v1/plans", json={**ADOPTED_PLAN, "name": "Renamed"})

    assert response.status_code == 409
    assert response.json()["reason"] == "plan_exists"


@pytest.mark.asyncio
async def test_proposed_plan_targets_rejected(registered: httpx.AsyncClient) -> None:
    response = await registered.post("/v1/plans", json={**ADOPTED_PLAN, "kind": "proposed"})

    assert response.status_code == 422
    assert response.json()["field"] == "targets"


@pytest.mark.asyncio
@pytest.mark.parametrize(("change", "field"), [
    ({"entity_id": "NYC"}, "entity_id"),
    ({"targets": [{"line": "wage_tax", "fiscal_year": 2025, "amount": "abc"}]}, "targets[0].amount"),
    ({"targets": [{"line": "wage_tax", "fiscal_year": 2025, "amount": 1.5e300}]}, "targets[0].amount"),
    ({"targets": [{"line": "wage_tax", "fiscal_year": 2025, "amount": "1", "band_pct": "-0.01"}]},
     "targets[0].band_pct"),
    ({"lines": [{"line": "wage_tax", "fiscal_year": 1800, "amount": "1"}]}, "lines[0].fiscal_year"),
    ({"targets": [{"line": "wage_tax", "fiscal_year": 2025, "amount": "1", "band_pct": "5"}]},
     "targets[0].band_pct"),
    ({"targets": [{"line": "wage_tax", "fiscal_year": 2025, "amount": "1", "band_pct": "0"}]},
     "targets[0].band_pct"),
    ({"targets": [{"line": "wage_tax", "fiscal_year": 2025, "amount": "1", "band_absolute": "-1"}]},
     "targets[0].band_absolute"),
    ({"targets": [{"line": "wage_tax", "fiscal_year": 2035, "amount": "1"}]}, "targets[0].fiscal_year"),
    ({"lines": [{"line": "wage_tax", "fiscal_year": 2024, "amount": "1"}]}, "lines[0].fiscal_year"),
    ({"targets": [{"line": "wage_tax", "fiscal_year": 2025, "amount": "1"},
                  {"line": "no_such_account", "fiscal_year": 2025, "amount": "1"}]}, "targets[1].line"),
    ({"kind": "final"}, "kind"),
])
async def test_invalid_plan_names_field(registered: httpx.AsyncClient, change: dict[str, Any], field: str) -> None:
    response = await registered.post("/v1/plans", json={**ADOPTED_PLAN, **change})

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_band_pct_five_explains_fraction(registered: httpx.AsyncClient) -> None:
    target = {"line": "wage_tax", "fiscal_year": 2025, "amount": "1", "band_pct": "5"}

    response = await registered.post("/v1/plans", json={**ADOPTED_PLAN, "targets": [target]})

    assert response.status_code == 422
    assert "would mean 500 %" in response.json()["detail"]
    assert "write 5 % as 0.05" in response.json()["detail"]


@pytest.mark.asyncio
async def test_json_number_amount_kept_exact(registered: httpx.AsyncClient) -> None:
    body = ('{"plan_id": "p", "entity_id": "PHL", "name": "Plan", "kind": "adopted", "adopted_for_fiscal_year": 2025,'
            ' "targets": [{"line": "wage_tax", "fiscal_year": 2025, "amount": 2203000000.10, "band_pct": 0.1}]}')

    response = await registered.post("/v1/plans", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 201
    assert response.json()["targets"][0]["amount"] == "2203000000.10"
    assert response.json()["targets"][0]["band_pct"] == "0.1"


@pytest.mark.asyncio
async def test_nan_amount_rejected(registered: httpx.AsyncClient) -> None:
    body = ('{"plan_id": "p", "entity_id": "PHL", "name": "Plan", "kind": "adopted", "adopted_for_fiscal_year": 2025,'
            ' "targets": [{"line": "wage_tax", "fiscal_year": 2025, "amount": NaN}]}')

    response = await registered.post("/v1/plans", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 422


@pytest.mark.asyncio
async def test_targets_show_setting_plan(registered: httpx.AsyncClient) -> None:
    await registered.post("/v1/plans", json=ADOPTED_PLAN)
    revised = {**ADOPTED_PLAN, "plan_id": "fyp-2025-rev", "kind": "revised", "lines": [],
               "targets": [{"line": "wage_tax", "fiscal_year": 2025, "amount": "2150000000", "band_pct": "0.03"}]}
    await registered.post("/v1/plans", json=revised)

    targets = await registered.get("/v1/targets", params={"entity_id": "PHL", "fiscal_year": 2025})
    plans = await registered.get("/v1/plans", params={"entity_id": "PHL"})
    plan = await registered.get("/v1/plans/fyp-2025")

    assert targets.json() == [{"entity_id": "PHL", "line": "wage_tax", "fiscal_year": 2025, "amount": "2150000000",
                               "band_pct": "0.03", "band_absolute": "1000000", "band_scope": "both",
                               "plan_id": "fyp-2025-rev", "plan_name": "Five-year plan FY2025-2029", "version": 2}]
    assert [item["plan_id"] for item in plans.json()] == ["fyp-2025-rev", "fyp-2025"]
    assert plan.json()["lines"] == [{"line": "wage_tax", "fiscal_year": 2025, "amount": "2203000000"}]


@pytest.mark.asyncio
async def test_unknown_plan_not_found(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/plans/none")).status_code == 404


@pytest.mark.asyncio
async def test_targets_need_entity_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/targets")

    assert response.status_code == 422
    assert fields(response) == ["query.entity_id"]


# --- reviews -----------------------------------------------------------------------------------


async def open_review(database: Database, alert_id: str = "PHL|wage_tax|FY2025") -> str:
    request = StrategyReviewRequested(alert_id=alert_id, entity_id="PHL", line="wage_tax", fiscal_year=2025,
                                      outlook=Decimal("2090000000"), target=Decimal("2203000000"),
                                      variance=Decimal("-113000000"), variance_pct=Decimal("-0.051294"),
                                      threshold="5% and 1000000")
    envelope = new_event("ipm-performance", request, correlation_id="batch-1")
    await reviews_dispatcher(database)(ConsumedMessage(Topics.REVIEW_REQUESTS, 0, 0, b"PHL", encode(envelope)))
    async with database.reading() as connection:
        return next(review.review_id for review in await repository.reviews(connection, None, None)
                    if review.breach.alert_id == alert_id)


@pytest.mark.asyncio
async def test_review_lifecycle_over_http(client: httpx.AsyncClient, sqlite_database: Database) -> None:
    review_id = await open_review(sqlite_database)

    acknowledged = await client.post(f"/v1/reviews/{review_id}/acknowledge", json={"by": "controller"})
    again = await client.post(f"/v1/reviews/{review_id}/acknowledge", json={"by": "controller"})
    decided = await client.post(f"/v1/reviews/{review_id}/decision",
                                json={"decision": "keep_plan", "by": "cfo", "reason": "one-off refund"})
    decided_again = await client.post(f"/v1/reviews/{review_id}/decision",
                                      json={"decision": "revise_plan", "by": "cfo", "reason": "second look"})
    detail = await client.get(f"/v1/reviews/{review_id}")

    assert acknowledged.json()["status"] == "acknowledged"
    assert again.status_code == 409
    assert decided.json()["status"] == "decided"
    assert decided_again.status_code == 409
    assert decided_again.json()["reason"] == "review_decided"
    body = detail.json()
    assert body["outlook"] == "2090000000"
    assert body["variance_pct"] == "-0.051294"
    assert [(entry["action"], entry["by"]) for entry in body["audit"]] == [
        ("opened", "ipm-performance"), ("acknowledged", "controller"), ("decided", "cfo")]
    assert body["audit"][2]["note"] == "keep_plan: one-off refund"


@pytest.mark.asyncio
async def test_repeated_decision_returns_review(client: httpx.AsyncClient, sqlite_database: Database) -> None:
    review_id = await open_review(sqlite_database)
    decision = {"decision": "keep_plan", "by": "cfo", "reason": "one-off refund"}

    first = await client.post(f"/v1/reviews/{review_id}/decision", json=decision)
    retry = await client.post(f"/v1/reviews/{review_id}/decision", json=decision)
    detail = await client.get(f"/v1/reviews/{review_id}")

    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert [entry["action"] for entry in detail.json()["audit"]] == ["opened", "decided"]


@pytest.mark.asyncio
@pytest.mark.parametrize(("body", "field"), [
    ({"decision": "keep_plan", "by": "cfo", "reason": ""}, "reason"),
    ({"decision": "keep_plan", "by": "cfo", "reason": "   "}, "reason"),
    ({"decision": "keep_plan", "by": "cfo"}, "reason"),
    ({"decision": "shrug", "by": "cfo", "reason": "x"}, "decision"),
])
async def test_invalid_decision_names_field(client: httpx.AsyncClient, sqlite_database: Database,
                                            body: dict[str, str], field: str) -> None:
    review_id = await open_review(sqlite_database)

    response = await client.post(f"/v1/reviews/{review_id}/decision", json=body)

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_reviews_filter_newest_first(client: httpx.AsyncClient, sqlite_database: Database) -> None:
    first = await open_review(sqlite_database, "alert-1")
    second = await open_review(sqlite_database, "alert-2")
    await client.post(f"/v1/reviews/{first}/acknowledge", json={"by": "controller"})

    everything = await client.get("/v1/reviews")
    opened = await client.get("/v1/reviews", params={"status": "opened", "entity_id": "PHL"})
    other_entity = await client.get("/v1/reviews", params={"entity_id": "NYC"})
    bad_status = await client.get("/v1/reviews", params={"status": "closed"})

    assert [review["review_id"] for review in everything.json()] == [second, first]
    assert [review["review_id"] for review in opened.json()] == [second]
    assert other_entity.json() == []
    assert bad_status.status_code == 422
    assert fields(bad_status) == ["query.status"]


@pytest.mark.asyncio
async def test_unknown_review_is_404(client: httpx.AsyncClient) -> None:
    detail = await client.get("/v1/reviews/none")
    decision = await client.post("/v1/reviews/none/decision", json={"decision": "keep_plan", "by": "cfo",
                                                                    "reason": "x"})

    assert detail.status_code == 404
    assert decision.status_code == 404
