"""The operating plan API over HTTP, on SQLite. The figures are those of tests/unit/test_operating_statements.py."""

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
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
from ipm_strategy.entrypoints import api, plans_api
from ipm_strategy.entrypoints.subscriptions import reviews_dispatcher

DATA_DIR = Path(__file__).parents[4] / "examples" / "data"
APPLE = "sec/companyfacts-CIK0000320193.json"

OPENING = {"cash": "100", "receivables": "50", "inventory": "30", "ppe": "200", "payables": "40",
           "long_term_debt": "100", "share_capital": "150", "retained_earnings": "90"}
YEAR = {"revenue": "1000", "cost_of_sales": "600", "operating_expenses": "200", "depreciation": "20",
        "income_tax": "45", "cash": "150", "receivables": "70", "inventory": "25", "ppe": "230", "payables": "55",
        "long_term_debt": "80", "share_capital": "150", "retained_earnings": "190"}
LINES = [*({"line": line, "fiscal_year": 2024, "amount": amount} for line, amount in OPENING.items()),
         *({"line": line, "fiscal_year": 2025, "amount": amount} for line, amount in YEAR.items())]
DRIVERS = {"revenue_growth": "0.10", "gross_margin": "0.40", "operating_margin": "0.15", "receivable_days": "36.5",
           "payable_days": "73", "inventory_days": "36.5", "capex_to_revenue": "0.05", "depreciation_rate": "0.10",
           "tax_rate": "0.25", "dividend_payout": "0.5"}


@pytest_asyncio.fixture
async def client(sqlite_database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(api.router)
    app.include_router(plans_api.router)
    install_error_handlers(app)
    app.dependency_overrides[get_database] = lambda: sqlite_database
    app.dependency_overrides[plans_api.data_dir] = lambda: (lambda: DATA_DIR)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://strategy") as http:
        response = await http.put("/v1/entities/ACME", json={"name": "Acme", "currency": "USD", "calendar": {}})
        assert response.status_code == 200
        yield http


def fields(response: httpx.Response) -> list[str]:
    body = response.json()
    if isinstance(body["detail"], list):
        return [item["field"] for item in body["detail"]]
    return [body["field"]]


async def create(client: httpx.AsyncClient, plan_id: str = "op-2025", lines: list[dict[str, Any]] | None = None,
                 ) -> httpx.Response:
    return await client.post("/v1/operating-plans", json={"plan_id": plan_id, "entity_id": "ACME",
                                                          "name": "Operating plan", "lines": LINES if lines is None
                                                          else lines})


@pytest.mark.asyncio
async def test_statements_of_entered_plan(client: httpx.AsyncClient) -> None:
    created = await create(client)
    statements = (await client.get("/v1/operating-plans/op-2025/statements")).json()
    year = statements["years"][1]

    assert created.status_code == 201
    assert created.json()["status"] == "proposed"
    assert statements["checks_passed"] is True
    assert statements["currency"] == "USD"
    assert year["net_income"] == "135"
    assert year["cash_flow"]["operating"] == "155"
    assert year["cash_flow"]["investing"] == "-50"
    assert year["cash_flow"]["financing"] == "-55"
    assert year["cash_flow"]["closing_cash"] == "150"
    assert year["kpis"]["gross_margin"] == "0.400000"
    assert statements["years"][0]["cash_flow"] is None


@pytest.mark.asyncio
async def test_unbalanced_plan_reports_difference(client: httpx.AsyncClient) -> None:
    lines = [{**line, "amount": "149"} if (line["line"], line["fiscal_year"]) == ("cash", 2025) else line
             for line in LINES]
    await create(client, lines=lines)

    statements = (await client.get("/v1/operating-plans/op-2025/statements")).json()
    checks = {check["name"]: check for check in statements["years"][1]["checks"]}

    assert statements["checks_passed"] is False
    assert checks["balance_sheet_balances"]["difference"] == "1"
    assert checks["closing_cash_equals_balance_sheet_cash"]["difference"] == "1"


@pytest.mark.asyncio
async def test_entered_cash_flow_reports_difference(client: httpx.AsyncClient) -> None:
    # Operating cash flow entered as 150 against 155 derived, so closing cash is 145 against 150.
    await create(client, lines=[*LINES, {"line": "operating_cash_flow", "fiscal_year": 2025, "amount": "150"}])

    year = (await client.get("/v1/operating-plans/op-2025/statements")).json()["years"][1]
    checks = {check["name"]: check["difference"] for check in year["checks"]}

    assert year["cash_flow"]["entered"] == {"operating": "150"}
    assert year["cash_flow"]["derived"]["operating"] == "155"
    assert checks["entered_operating_cash_flow_equals_derived"] == "-5"
    assert checks["closing_cash_equals_balance_sheet_cash"] == "-5"


@pytest.mark.asyncio
@pytest.mark.parametrize(("line", "field"), [
    ({"line": "goodwill", "fiscal_year": 2024, "amount": "1"}, "lines[0].line"),
    ({"line": "cash", "fiscal_year": 2024, "amount": "NaN"}, "lines[0].amount"),
    ({"line": "cash", "fiscal_year": 1800, "amount": "1"}, "lines[0].fiscal_year"),
    ({"line": "cash", "fiscal_year": 2024, "amount": "1", "role": "investing"}, "lines[0].role"),
])
async def test_invalid_line_names_field(client: httpx.AsyncClient, line: dict[str, Any], field: str) -> None:
    response = await create(client, lines=[line])

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
@pytest.mark.parametrize(("lines", "field"), [
    # Each amount fits in 18 integer digits, but the assets of FY2024 come to 999999999999999999 × 2.
    ([{"line": "cash", "fiscal_year": 2024, "amount": "999999999999999999"},
      {"line": "receivables", "fiscal_year": 2024, "amount": "999999999999999999"}], "lines"),
    # Receivable days of 10^15 / 10^-20 × 365 = 3.65E+37 are far beyond any amount.
    ([{"line": "revenue", "fiscal_year": 2024, "amount": "0.00000000000000000001"},
      {"line": "receivables", "fiscal_year": 2024, "amount": "1000000000000000"}], "lines"),
])
async def test_statement_overflow_rejected(client: httpx.AsyncClient, lines: list[dict[str, Any]], field: str) -> None:
    response = await create(client, lines=lines)

    assert response.status_code == 422
    assert fields(response) == [field]
    assert "FY2024" in response.json()["detail"]
    assert (await client.get("/v1/operating-plans/op-2025/statements")).status_code == 404


@pytest.mark.asyncio
async def test_target_variance_overflow_rejected(client: httpx.AsyncClient) -> None:
    await create(client, lines=[{"line": "revenue", "fiscal_year": 2024, "amount": "-999999999999999999"}])

    response = await client.put("/v1/operating-plans/op-2025/targets", json={"targets": [
        {"line": "revenue", "fiscal_year": 2024, "amount": "999999999999999999"}]})

    assert response.status_code == 422
    assert fields(response) == ["targets"]
    assert (await client.get("/v1/operating-plans/op-2025/statements")).status_code == 200


@pytest.mark.asyncio
async def test_account_line_takes_statement_from_chart(client: httpx.AsyncClient) -> None:
    account = {"name": "Marketable securities", "account_type": "asset", "direction": "higher_is_better"}
    await client.put("/v1/accounts/securities", json=account)

    response = await create(client, lines=[{"line": "securities", "fiscal_year": 2024, "amount": "10",
                                            "role": "investing"}])

    assert response.status_code == 201
    assert response.json()["lines"][0] | {"amount": None} == {
        "line": "securities", "fiscal_year": 2024, "amount": None, "statement": "balance_sheet",
        "role": "investing", "origin": "entered"}


@pytest.mark.asyncio
async def test_drivers_project_and_recompute(client: httpx.AsyncClient) -> None:
    await create(client, lines=[line for line in LINES if line["fiscal_year"] == 2024]
                 + [{"line": "revenue", "fiscal_year": 2024, "amount": "1000"}])

    first = await client.put("/v1/operating-plans/op-2025/drivers",
                             json={"base_year": 2024, "years": 3, "drivers": DRIVERS})
    changed = await client.put("/v1/operating-plans/op-2025/drivers",
                               json={"base_year": 2024, "years": 3, "drivers": {**DRIVERS, "revenue_growth": "0.2"}})
    statements = (await client.get("/v1/operating-plans/op-2025/statements")).json()

    assert first.status_code == 200
    assert {(line["line"], line["amount"]) for line in first.json()["lines"] if line["fiscal_year"] == 2025} >= {
        ("cash", "122.87"), ("revenue", "1100.00")}
    assert changed.json()["version"] == 3
    assert [year["fiscal_year"] for year in statements["years"]] == [2024, 2025, 2026, 2027]
    assert statements["years"][1]["revenue"] == "1200.00"
    assert statements["checks_passed"] is True


@pytest.mark.asyncio
@pytest.mark.parametrize(("body", "field"), [
    ({"base_year": 2024, "years": 3, "drivers": {**DRIVERS, "tax_rate": "1.2"}}, "drivers.tax_rate"),
    ({"base_year": 2024, "years": 0, "drivers": DRIVERS}, "years"),
    ({"base_year": 2024, "years": 3, "drivers": {k: v for k, v in DRIVERS.items() if k != "gross_margin"}},
     "drivers.gross_margin"),
    ({"base_year": 2023, "years": 3, "drivers": DRIVERS}, "base_year"),
])
async def test_invalid_drivers_name_field(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    await create(client)

    response = await client.put("/v1/operating-plans/op-2025/drivers", json=body)

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_adopted_plan_is_frozen_and_revised(client: httpx.AsyncClient) -> None:
    await create(client)
    targets = await client.put("/v1/operating-plans/op-2025/targets", json={"targets": [
        {"line": "revenue", "fiscal_year": 2025, "amount": "1000"},
        {"kind": "kpi", "line": "gross_margin", "fiscal_year": 2025, "amount": "0.4", "band_pct": "0.05"}]})
    statements = (await client.get("/v1/operating-plans/op-2025/statements")).json()
    adopted = await client.post("/v1/operating-plans/op-2025/adopt", json={"by": "cfo"})
    frozen = await client.put("/v1/operating-plans/op-2025/lines", json={"lines": LINES})
    revision = await client.post("/v1/operating-plans/op-2025/revise", json={"plan_id": "op-2025-r1",
                                                                              "name": "Revised plan"})
    revised = await client.post("/v1/operating-plans/op-2025-r1/adopt", json={"by": "cfo"})
    listed = await client.get("/v1/operating-plans", params={"entity_id": "ACME"})

    assert targets.status_code == 200
    assert targets.json()["targets"][0]["kind"] == "kpi"
    assert targets.json()["targets"][0]["band_absolute"] == "0"
    assert [(item["line"], item["planned"], item["within_band"]) for item in statements["targets"]] == [
        ("gross_margin", "0.400000", True), ("revenue", "1000", True)]
    assert adopted.json()["status"] == "adopted"
    assert frozen.status_code == 409
    assert revision.json()["revises"] == "op-2025"
    assert revised.json()["status"] == "revised"
    assert {item["plan_id"]: item["status"] for item in listed.json()} == {"op-2025": "adopted",
                                                                            "op-2025-r1": "revised"}


@pytest.mark.asyncio
@pytest.mark.parametrize(("target", "field"), [
    ({"kind": "kpi", "line": "ebitda_margin", "fiscal_year": 2025, "amount": "0.3"}, "targets[0].line"),
    ({"line": "revenue", "fiscal_year": 2031, "amount": "1"}, "targets[0].fiscal_year"),
    ({"line": "revenue", "fiscal_year": 2025, "amount": "1", "band_pct": "5"}, "targets[0].band_pct"),
    ({"kind": "ratio", "line": "revenue", "fiscal_year": 2025, "amount": "1"}, "targets[0].kind"),
])
async def test_invalid_target_names_field(client: httpx.AsyncClient, target: dict[str, Any], field: str) -> None:
    await create(client)

    response = await client.put("/v1/operating-plans/op-2025/targets", json={"targets": [target]})

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_sec_import_and_comparison(client: httpx.AsyncClient) -> None:
    imported = await client.post("/v1/operating-plans/imports/sec",
                                 json={"plan_id": "aapl-history", "entity_id": "ACME", "path": APPLE})
    comparison = (await client.get("/v1/operating-plans/aapl-history/cash-flow-comparison")).json()
    adopt = await client.post("/v1/operating-plans/aapl-history/adopt", json={"by": "cfo"})

    gaps = [abs(float(year["gap"])) for year in comparison["years"]]  # floats only to pick the largest here
    assert imported.status_code == 201
    assert imported.json()["status"] == "history"
    assert comparison["periods_compared"] == len(comparison["years"]) > 10
    assert abs(float(comparison["largest_gap"])) == max(gaps)
    assert comparison["currency"] == "USD"
    assert adopt.status_code == 409


@pytest.mark.asyncio
@pytest.mark.parametrize(("body", "field"), [
    ({"plan_id": "h", "entity_id": "ACME", "path": "../../etc/passwd"}, "path"),
    ({"plan_id": "h", "entity_id": "ACME", "path": "sec/missing.json"}, "path"),
    ({"plan_id": "h", "entity_id": "ACME"}, "path"),
    ({"plan_id": "h", "entity_id": "NOPE", "path": APPLE}, "entity_id"),
    ({"plan_id": "h", "entity_id": "ACME", "companyfacts": {"facts": {}}}, "companyfacts"),
    ({"plan_id": "h", "entity_id": "ACME", "companyfacts": {"facts": {"us-gaap": {"Revenues": {"units": {"USD": [
        {"start": "2022-10-01", "end": "2023-09-30", "val": "abc", "form": "10-K"}]}}}}}},
     "companyfacts.facts.us-gaap.Revenues.units.USD[0].val"),
])
async def test_invalid_import_names_field(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    response = await client.post("/v1/operating-plans/imports/sec", json=body)

    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.asyncio
async def test_unknown_operating_plan_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/operating-plans/none/statements")

    assert response.status_code == 404


# --- review workflow ---------------------------------------------------------------------------


async def open_review(database: Database) -> str:
    request = StrategyReviewRequested(alert_id="ACME|revenue|FY2025", entity_id="ACME", line="revenue",
                                      fiscal_year=2025, outlook=Decimal("900"), target=Decimal("1000"),
                                      variance=Decimal("-100"), variance_pct=Decimal("-0.1"), threshold="5% and 0")
    envelope = new_event("ipm-performance", request, correlation_id="batch-1")
    await reviews_dispatcher(database)(ConsumedMessage(Topics.REVIEW_REQUESTS, 0, 0, b"ACME", encode(envelope)))
    async with database.reading() as connection:
        (review,) = await repository.reviews(connection, None, None)
    return review.review_id


@pytest.mark.asyncio
async def test_review_workflow_keeps_audit_trail(client: httpx.AsyncClient, sqlite_database: Database) -> None:
    review_id = await open_review(sqlite_database)
    await create(client, plan_id="op-r1")

    assigned = await client.put(f"/v1/reviews/{review_id}/assignment",
                                json={"by": "cfo", "owner": "controller", "due_date": "2025-03-15"})
    comment = await client.post(f"/v1/reviews/{review_id}/comments", json={"by": "controller", "text": "checking"})
    await client.post(f"/v1/reviews/{review_id}/acknowledge", json={"by": "controller"})
    analysed = await client.post(f"/v1/reviews/{review_id}/analysis",
                                 json={"by": "controller", "analysis": "lost a customer"})
    decided = await client.post(f"/v1/reviews/{review_id}/decision", json={
        "decision": "revise_plan", "by": "cfo", "reason": "demand fell", "revised_plan_id": "op-r1"})
    detail = (await client.get(f"/v1/reviews/{review_id}")).json()
    plan = (await client.get("/v1/operating-plans/op-r1")).json()

    assert (assigned.json()["owner"], assigned.json()["due_date"]) == ("controller", "2025-03-15")
    assert comment.status_code == 201
    assert analysed.json()["status"] == "analysed"
    assert decided.json()["revised_plan_id"] == "op-r1"
    assert plan["status"] == "adopted"
    assert [(entry["action"], entry["by"]) for entry in detail["audit"]] == [
        ("opened", "ipm-performance"), ("assigned", "cfo"), ("commented", "controller"),
        ("acknowledged", "controller"), ("analysed", "controller"), ("decided", "cfo")]


@pytest.mark.asyncio
@pytest.mark.parametrize(("path", "body", "field"), [
    ("assignment", {"by": "cfo", "owner": "controller", "due_date": "15/03/2025"}, "due_date"),
    ("assignment", {"by": "cfo"}, "owner"),
    ("analysis", {"by": "cfo", "analysis": ""}, "analysis"),
    ("comments", {"by": "cfo", "text": "   "}, "text"),
    ("decision", {"decision": "keep_plan", "by": "cfo", "reason": "x", "revised_plan_id": "op"},
     "revised_plan_id"),
])
async def test_invalid_review_step_names_field(client: httpx.AsyncClient, sqlite_database: Database, path: str,
                                               body: dict[str, Any], field: str) -> None:
    review_id = await open_review(sqlite_database)
    method = client.put if path == "assignment" else client.post

    response = await method(f"/v1/reviews/{review_id}/{path}", json=body)

    assert response.status_code == 422
    assert fields(response) == [field]


# --- investment envelopes ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_envelope_approval_over_http(client: httpx.AsyncClient) -> None:
    await create(client, lines=[{"line": "capital_expenditure", "fiscal_year": 2025, "amount": "100"}])
    body = {"initiative": "new line", "kind": "capital", "requested_by": "pm"}

    first = await client.post("/v1/operating-plans/op-2025/envelopes",
                              json={**body, "envelope_id": "A", "amounts": [{"fiscal_year": 2025, "amount": "60"}]})
    await client.post("/v1/operating-plans/op-2025/envelopes",
                      json={**body, "envelope_id": "B", "amounts": [{"fiscal_year": 2025, "amount": "50"}]})
    approved = await client.post("/v1/envelopes/A/approve", json={"by": "cfo"})
    over = await client.post("/v1/envelopes/B/approve", json={"by": "cfo"})
    listed = (await client.get("/v1/operating-plans/op-2025/envelopes")).json()

    assert first.status_code == 201
    assert approved.json()["status"] == "approved"
    assert over.status_code == 409
    assert over.json()["reason"] == "envelope_exceeds_budget"
    assert listed["budget"] == [{"kind": "capital", "fiscal_year": 2025, "budget": "100", "approved": "60",
                                 "requested": "50", "available": "40"}]


@pytest.mark.asyncio
@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "land"}, "kind"),
    ({"amounts": []}, "amounts"),
    ({"amounts": [{"fiscal_year": 2025, "amount": "-5"}]}, "amounts[0].amount"),
    ({"requested_by": ""}, "requested_by"),
])
async def test_invalid_envelope_names_field(client: httpx.AsyncClient, change: dict[str, Any], field: str) -> None:
    await create(client)
    body = {"envelope_id": "A", "initiative": "new line", "kind": "capital", "requested_by": "pm",
            "amounts": [{"fiscal_year": 2025, "amount": "1"}]}

    response = await client.post("/v1/operating-plans/op-2025/envelopes", json={**body, **change})

    assert response.status_code == 422
    assert fields(response) == [field]
