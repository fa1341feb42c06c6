"""Which fiscal year has a full-year outlook: only the year of the latest forecast origin, and only when covered."""

import logging
from decimal import Decimal

import pytest

from ipm_common.events import AlertChanged, BatchEvaluated, StrategyReviewRequested
from ipm_common.storage import Database
from ipm_performance.domain.alerts import alert_id

from .performance_scenario import (
    ENTITY,
    WAGE_TARGET_ALERT,
    Feed,
    actuals,
    first_half,
    forecast,
    run_first_batch,
    targets,
)

WAGE_2025_ALERT = alert_id(ENTITY, "WAGE", "FY2025", "outlook_vs_target", "strategic_target_band")


def whole_year(amount: str) -> dict[int, str]:
    return {number: amount for number in range(1, 13)}


async def close_fy2024(feed: Feed) -> None:
    """Post all twelve months of FY2024 on budget; the forecasts start at FY2024-P12 and reach 18 months ahead."""
    await feed.seed()
    await feed.send(actuals("WAGE", whole_year("6000000")), "close-2024")
    await feed.send(actuals("BIRT", whole_year("3000000")), "close-2024")
    await feed.send(forecast("WAGE", "6000000", origin=12, horizon=18), "close-2024")
    await feed.send(forecast("BIRT", "3000000", origin=12, horizon=18), "close-2024")


@pytest.mark.asyncio
async def test_later_year_target_raises_nothing(database: Database) -> None:
    feed = Feed(database)
    await run_first_batch(feed)

    # The forecasts end at FY2024-P12, so FY2025 would read 0 against 80,000,000: -100 %, a false
    # critical alert and a review. FY2024-P06 is the latest origin, so only FY2024 has an outlook.
    await feed.send(targets(version=2, fiscal_year=2025), "plan-2025")

    assert await feed.variance("WAGE", "outlook_vs_target", "FY2025") is None
    assert await feed.variance("TAX", "outlook_vs_target", "FY2025") is None
    alerts = await feed.published(AlertChanged)
    assert [(alert.alert_id, alert.status) for alert in alerts] == [(WAGE_TARGET_ALERT, "raised")]
    assert [review.fiscal_year for review in await feed.published(StrategyReviewRequested)] == [2024]


@pytest.mark.asyncio
async def test_origin_at_p12_evaluates_year_end(database: Database) -> None:
    feed = Feed(database)

    await close_fy2024(feed)

    # Wage tax collected 12 x 6,000,000 = 72,000,000 against its target of 80,000,000.
    wage = await feed.variance("WAGE", "outlook_vs_target", "FY2024")
    assert wage.value == Decimal("72000000")
    assert wage.variance == Decimal("-8000000")
    tax = await feed.variance("TAX", "outlook_vs_target", "FY2024")
    assert tax.value == Decimal("108000000")
    assert [(alert.alert_id, alert.value) for alert in await feed.published(AlertChanged)] == [
        (WAGE_TARGET_ALERT, Decimal("72000000"))]


@pytest.mark.asyncio
async def test_targets_wait_for_their_year(database: Database) -> None:
    feed = Feed(database)
    await close_fy2024(feed)

    # From FY2024-P12 the forecasts cover FY2025 and half of FY2026: 6 x 6,000,000 = 36,000,000 of wage
    # tax against 80,000,000 would be -55 %. Neither year has actuals yet, so neither is compared.
    await feed.send(targets(version=2, fiscal_year=2025), "plan-2025")
    await feed.send(targets(version=3, fiscal_year=2026), "plan-2026")
    before = await feed.published(AlertChanged)

    # The first month of FY2025 arrives: 6,000,000 actual + 11 x 6,000,000 forecast = 72,000,000.
    for account, amount in (("WAGE", "6000000"), ("BIRT", "3000000")):
        await feed.send(actuals(account, {1: amount}, fiscal_year=2025, ledger_version=2, batch_id="2025-01"),
                        "2025-01")
    for account, amount in (("WAGE", "6000000"), ("BIRT", "3000000")):
        await feed.send(forecast(account, amount, version=2, origin=1, fiscal_year=2025, horizon=18,
                                 ledger_version=2, batch_id="2025-01"), "2025-01")

    assert [alert.alert_id for alert in before] == [WAGE_TARGET_ALERT]
    wage = await feed.variance("WAGE", "outlook_vs_target", "FY2025")
    assert wage.value == Decimal("72000000")
    assert wage.variance_pct == Decimal("-0.1")
    assert await feed.variance("WAGE", "outlook_vs_target", "FY2026") is None
    raised = [alert for alert in await feed.published(AlertChanged) if alert.alert_id == WAGE_2025_ALERT]
    assert [(alert.status, alert.value) for alert in raised] == [("raised", Decimal("72000000"))]
    assert [review.fiscal_year for review in await feed.published(StrategyReviewRequested)] == [2024, 2025]


@pytest.mark.asyncio
async def test_partly_covered_line_is_skipped(database: Database, caplog: pytest.LogCaptureFixture) -> None:
    feed = Feed(database)
    await feed.seed()
    caplog.set_level(logging.INFO, logger="ipm_performance")

    # BIRT's forecast stops at P09, three months short of the year: TAX would miss 9,000,000 and read
    # 99,000,000 against 110,000,000, a false -10 %. Wage tax alone is covered: 72,000,000.
    await feed.send(actuals("WAGE", first_half("6000000")), "batch-1")
    await feed.send(actuals("BIRT", first_half("3000000")), "batch-1")
    await feed.send(forecast("WAGE", "6000000"), "batch-1")
    await feed.send(forecast("BIRT", "3000000", horizon=3), "batch-1")

    assert len(await feed.published(BatchEvaluated)) == 1
    assert await feed.variance("TAX", "outlook_vs_target", "FY2024") is None
    assert await feed.variance("BIRT", "outlook_vs_budget", "FY2024") is None
    assert (await feed.variance("WAGE", "outlook_vs_target", "FY2024")).value == Decimal("72000000")
    assert [alert.alert_id for alert in await feed.published(AlertChanged)] == [WAGE_TARGET_ALERT]
    assert ("outlook of PHL TAX FY2024 not evaluated: no forecast covers the rest of the year for BIRT"
            in caplog.messages)
