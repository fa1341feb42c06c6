from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ipm_common.dispatch import new_event
from ipm_common.envelope import Envelope, encode
from ipm_common.events import ActualsPosted, EventData, ForecastPoint, ForecastRerolled, PeriodBalance, Topics
from ipm_common.messaging import ConsumedMessage
from ipm_common.storage import Database
from ipm_projects.domain.charter import Charter
from ipm_projects.domain.projects import BenefitRequest, LinkedTarget
from ipm_projects.entrypoints.subscriptions import measurement_dispatcher
from ipm_projects.service_layer.benefits import set_baseline, validate_line
from ipm_projects.service_layer.portfolio import portfolio, project_benefits
from ipm_projects.service_layer.projects import create_project, update_project

OutboxReader = Callable[[], Awaitable[list[dict[str, Any]]]]

REALISED = "ipm.projects.benefits.realised"

# PHL's fiscal year starts in July and is named by its end: 1 July 2023 opens FY2024-P01.
BENEFITS = [
    BenefitRequest("PHL", "4100", "FY2024-P01", Decimal("1000000"), "revenue_uplift"),
    BenefitRequest("PHL", "4100", "FY2024-P02", Decimal("1000000"), "revenue_uplift"),
    BenefitRequest("PHL", "5100", "FY2024-P01", Decimal("-75000"), "hard_savings"),
]


async def start_project(database: Database) -> None:
    await create_project(database, project_id="collections", name="Faster wage tax collection",
                         owner="revenue office", phase="improve",
                         linked_targets=[LinkedTarget("PHL", "4100", 2024)], benefits=BENEFITS,
                         correlation_id="create-1", charter=Charter(start_date=date(2023, 7, 1)))


def forecast(account_id: str, origin: str, version: int, baseline: dict[str, str]) -> ForecastRerolled:
    points = tuple(ForecastPoint(period=period, baseline=Decimal(amount), value=Decimal(amount),
                                 p10=Decimal(amount), p90=Decimal(amount)) for period, amount in baseline.items())
    return ForecastRerolled(entity_id="PHL", account_id=account_id, forecast_id=f"f-{account_id}-{version}",
                            version=version, origin=origin, method="ets", clamped=False, ledger_version=version,
                            batch_id=f"b-{version}", batch_series_count=1, points=points)


def actuals(account_id: str, balances: dict[str, str], ledger_version: int = 1) -> ActualsPosted:
    return ActualsPosted(entity_id="PHL", account_id=account_id, currency="USD", batch_id="close",
                         batch_series_count=1, postings=(),
                         balances=tuple(PeriodBalance(period=period, amount=Decimal(amount),
                                                      ledger_version=ledger_version)
                                        for period, amount in balances.items()))


async def deliver(database: Database, *events: EventData | Envelope) -> list[Envelope]:
    """Feed forecast-service events to the measurement consumer, as the broker would deliver them."""
    dispatcher = measurement_dispatcher(database)
    envelopes = []
    for offset, event in enumerate(events):
        envelope = event if isinstance(event, Envelope) else new_event("ipm-forecast", event, correlation_id="close")
        await dispatcher(ConsumedMessage(Topics.FORECASTS, 0, offset, None, encode(envelope)))
        envelopes.append(envelope)
    return envelopes


async def realised_events(read_outbox: OutboxReader) -> list[dict[str, Any]]:
    return [row["payload"]["data"] for row in await read_outbox() if row["event_type"] == REALISED]


FORECASTS = [
    forecast("4100", "FY2023-P11", 6, {"FY2024-P01": "9000000", "FY2024-P02": "9000000"}),
    forecast("4100", "FY2023-P12", 7, {"FY2024-P01": "10000000.00", "FY2024-P02": "9500000"}),
    # Made after the project started: never the baseline.
    forecast("4100", "FY2024-P01", 8, {"FY2024-P02": "12000000"}),
    forecast("5100", "FY2023-P12", 3, {"FY2024-P01": "2000000"}),
]


@pytest.mark.asyncio
async def test_revenue_and_cost_lines_realised(referenced: Database, read_outbox: OutboxReader) -> None:
    await start_project(referenced)

    await deliver(referenced, *FORECASTS, actuals("4100", {"FY2024-P01": "10750000.50"}),
                  actuals("5100", {"FY2024-P01": "1940000.25"}))

    events = await realised_events(read_outbox)
    # Revenue: 10,750,000.50 − 10,000,000.00 = 750,000.50. Cost: 2,000,000 − 1,940,000.25 = 59,999.75,
    # with the planned saving of −75,000 in natural sign shown as 75,000.
    assert events == [
        {"project_id": "collections", "entity_id": "PHL", "account_id": "4100", "version": 1,
         "benefit_type": "revenue_uplift",
         "points": [{"period": "FY2024-P01", "planned": "1000000", "baseline": "10000000.00",
                     "actual": "10750000.50", "realised": "750000.50"}]},
        {"project_id": "collections", "entity_id": "PHL", "account_id": "5100", "version": 1,
         "benefit_type": "hard_savings",
         "points": [{"period": "FY2024-P01", "planned": "75000", "baseline": "2000000", "actual": "1940000.25",
                     "realised": "59999.75"}]},
    ]


@pytest.mark.asyncio
async def test_next_period_republishes_all_points(referenced: Database, read_outbox: OutboxReader) -> None:
    await start_project(referenced)
    await deliver(referenced, *FORECASTS, actuals("4100", {"FY2024-P01": "10750000.50"}))

    await deliver(referenced, actuals("4100", {"FY2024-P02": "9400000"}))

    latest = (await realised_events(read_outbox))[-1]
    assert latest["version"] == 2
    # P02: 9,400,000 − 9,500,000 = −100,000 against the frozen FY2023-P12 forecast, not version 8.
    assert [(point["period"], point["realised"]) for point in latest["points"]] == [
        ("FY2024-P01", "750000.50"), ("FY2024-P02", "-100000")]
    reports = {report.line.account_id: report for report in await project_benefits(referenced, "collections")}
    assert reports["4100"].line.stage == "realised"
    assert reports["5100"].line.stage == "expected"


@pytest.mark.asyncio
async def test_redelivered_actuals_change_nothing(referenced: Database, read_outbox: OutboxReader) -> None:
    await start_project(referenced)
    envelopes = await deliver(referenced, *FORECASTS, actuals("4100", {"FY2024-P01": "10750000.50"}))

    await deliver(referenced, envelopes[-1])
    await deliver(referenced, actuals("4100", {"FY2024-P01": "10750000.50"}))  # same balance, new event

    assert len(await realised_events(read_outbox)) == 1


@pytest.mark.asyncio
async def test_forecast_after_actuals_measures(referenced: Database, read_outbox: OutboxReader) -> None:
    await start_project(referenced)
    await deliver(referenced, actuals("4100", {"FY2024-P01": "10750000.50"}))
    assert await realised_events(read_outbox) == []

    await deliver(referenced, FORECASTS[1])

    assert [point["realised"] for point in (await realised_events(read_outbox))[0]["points"]] == ["750000.50"]


@pytest.mark.asyncio
async def test_manual_baseline_replaces_forecast(referenced: Database, read_outbox: OutboxReader) -> None:
    await start_project(referenced)
    await deliver(referenced, *FORECASTS, actuals("4100", {"FY2024-P01": "10750000.50"}))

    await set_baseline(referenced, "collections", ("PHL", "4100"), points=[("2023-07", "10500000")],
                       set_by="finance", correlation_id="baseline-1")

    latest = (await realised_events(read_outbox))[-1]
    # 10,750,000.50 − 10,500,000 = 250,000.50
    assert (latest["version"], latest["points"][0]["realised"]) == (2, "250000.50")


@pytest.mark.asyncio
async def test_validation_publishes_changed_stage(referenced: Database, read_outbox: OutboxReader) -> None:
    await start_project(referenced)

    first = await validate_line(referenced, "collections", ("PHL", "4100"), validated_by="controller",
                                comment="checked against FY2023 collections", correlation_id="validate-1")
    repeat = await validate_line(referenced, "collections", ("PHL", "4100"), validated_by="someone else",
                                 comment="", correlation_id="validate-2")

    rows = [row for row in await read_outbox() if row["event_type"] == "ipm.projects.benefits.changed"]
    assert len(rows) == 1
    data = rows[0]["payload"]["data"]
    assert (data["stage"], data["version"], data["benefit_type"]) == ("validated", 2, "revenue_uplift")
    assert data["reason"] == "validated by controller: checked against FY2023 collections"
    assert (first.changed, first.line.stage, first.line.validated_by) == (True, "validated", "controller")
    assert (repeat.changed, repeat.line.validated_by) == (False, "controller")


@pytest.mark.asyncio
async def test_portfolio_expected_validated_realised(referenced: Database) -> None:
    await start_project(referenced)
    await validate_line(referenced, "collections", ("PHL", "4100"), validated_by="controller", comment="",
                        correlation_id="validate-1")
    await deliver(referenced, *FORECASTS, actuals("4100", {"FY2024-P01": "10750000.50"}),
                  actuals("5100", {"FY2024-P01": "1940000.25"}))

    result = await portfolio(referenced)

    usd = result.totals[0]
    # Expected 1,000,000 + 1,000,000 + 75,000; validated: the 4100 line, 2,000,000.
    # Measured: P01 of both lines, planned 1,075,000, realised 750,000.50 + 59,999.75 = 810,000.25.
    assert (usd.currency, usd.expected, usd.validated) == ("USD", Decimal("2075000"), Decimal("2000000"))
    assert (usd.planned_measured, usd.realised, usd.gap) == (Decimal("1075000"), Decimal("810000.25"),
                                                             Decimal("-264999.75"))
    target = result.targets[0]
    # The target is line 4100 in FY2024: the 5100 saving does not count toward it.
    assert (target.target, target.project_ids) == (LinkedTarget("PHL", "4100", 2024), ["collections"])
    assert (target.amounts[0].expected, target.amounts[0].realised) == (Decimal("2000000"), Decimal("750000.50"))


@pytest.mark.asyncio
async def test_replanned_measured_line_stays_realised(referenced: Database, read_outbox: OutboxReader) -> None:
    await start_project(referenced)
    await deliver(referenced, *FORECASTS, actuals("4100", {"FY2024-P01": "10750000.50", "FY2024-P02": "9400000"}))
    retyped = [BenefitRequest(item.entity_id, item.account_id, item.period, item.amount,
                              "cost_avoidance" if item.account_id == "4100" else item.benefit_type)
               for item in BENEFITS]

    await update_project(referenced, "collections", name=None, owner=None, phase=None, linked_targets=None,
                         benefits=retyped, correlation_id="retype", reason="counted as avoided loss")

    reports = {report.line.account_id: report for report in await project_benefits(referenced, "collections")}
    assert (reports["4100"].line.benefit_type, reports["4100"].line.stage) == ("cost_avoidance", "realised")
    changed = [row["payload"]["data"] for row in await read_outbox()
               if row["event_type"] == "ipm.projects.benefits.changed"]
    assert [(data["account_id"], data["reason"]) for data in changed] == [("4100", "counted as avoided loss")]


@pytest.mark.asyncio
async def test_project_registered_late_measured_at_once(referenced: Database, read_outbox: OutboxReader) -> None:
    await deliver(referenced, *FORECASTS, actuals("4100", {"FY2024-P01": "10750000.50"}))

    await start_project(referenced)

    events = await realised_events(read_outbox)
    assert [(data["account_id"], data["points"][0]["realised"]) for data in events] == [("4100", "750000.50")]
