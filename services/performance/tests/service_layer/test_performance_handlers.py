"""Service layer: events through the dispatcher into a migrated database, checked in tables and the outbox."""

from decimal import Decimal

import pytest

from ipm_common.events import AlertChanged, BatchEvaluated, EventData, StrategyReviewRequested
from ipm_common.storage import Database
from ipm_performance.service_layer.rules import update_rule

from .performance_scenario import (
    BIRT_YTD_ALERT,
    ENTITY,
    FY,
    TAX_TARGET_ALERT,
    WAGE_TARGET_ALERT,
    Feed,
    actuals,
    budget,
    first_half,
    forecast,
    hierarchy,
    period,
    run_first_batch,
    targets,
)

# --- alerts --------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_target_breach_raises_alert_once(database: Database) -> None:
    feed = Feed(database)

    await run_first_batch(feed)

    # Wage tax: 36,000,000 actual + 36,000,000 forecast = 72,000,000 against 80,000,000.
    alerts = await feed.published(AlertChanged)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.alert_id == WAGE_TARGET_ALERT
    assert alert.status == "raised"
    assert alert.rule == "strategic_target_band"
    assert alert.comparison == "outlook_vs_target"
    assert alert.period == "FY2024"
    assert alert.value == Decimal("72000000")
    assert alert.comparator == Decimal("80000000")
    assert alert.variance == Decimal("-8000000")
    assert alert.variance_pct == Decimal("-0.1")
    assert alert.threshold == "5% and 1000000 either direction"
    assert alert.phasing == "full_period"
    assert alert.severity == "critical"
    assert alert.figures_version == 1
    assert alert.opens_review is True


@pytest.mark.asyncio
async def test_alert_events_carry_correlation_id(database: Database) -> None:
    feed = Feed(database)

    await run_first_batch(feed)

    correlations = {envelope.correlationid for envelope in await feed.outbox()}
    assert correlations == {"batch-1"}


@pytest.mark.asyncio
async def test_review_requested_once_when_raised(database: Database) -> None:
    feed = Feed(database)
    await run_first_batch(feed)

    reviews = await feed.published(StrategyReviewRequested)

    assert len(reviews) == 1
    assert reviews[0].alert_id == WAGE_TARGET_ALERT
    assert reviews[0].fiscal_year == FY
    assert reviews[0].outlook == Decimal("72000000")
    assert reviews[0].target == Decimal("80000000")
    assert reviews[0].threshold == "5% and 1000000 either direction"


@pytest.mark.asyncio
async def test_new_figures_update_same_alert(database: Database) -> None:
    feed = Feed(database)
    await run_first_batch(feed)

    # The re-rolled wage tax forecast drops to 5,000,000 a month: 36,000,000 + 30,000,000 = 66,000,000.
    await feed.send(forecast("WAGE", "5000000", version=2, batch_id="batch-2", series_count=1), "batch-2")

    wage = [alert for alert in await feed.published(AlertChanged) if alert.alert_id == WAGE_TARGET_ALERT]
    assert [alert.status for alert in wage] == ["raised", "updated"]
    assert wage[1].value == Decimal("66000000")
    assert wage[1].variance == Decimal("-14000000")
    assert wage[1].variance_pct == Decimal("-0.175")
    assert wage[1].figures_version == 2
    reviews = [review.alert_id for review in await feed.published(StrategyReviewRequested)]
    assert reviews.count(WAGE_TARGET_ALERT) == 1


@pytest.mark.asyncio
async def test_alert_resolves_and_raises_again(database: Database) -> None:
    feed = Feed(database)
    await run_first_batch(feed)

    # 7,200,000 a month brings the outlook to 79,200,000: 800,000 short stays inside 1,000,000.
    await feed.send(forecast("WAGE", "7200000", version=2, batch_id="batch-2", series_count=1), "batch-2")
    await feed.send(forecast("WAGE", "5000000", version=3, batch_id="batch-3", series_count=1), "batch-3")

    wage = [alert for alert in await feed.published(AlertChanged) if alert.alert_id == WAGE_TARGET_ALERT]
    assert [alert.status for alert in wage] == ["raised", "resolved", "raised"]
    assert wage[1].value == Decimal("79200000")
    assert wage[2].value == Decimal("66000000")
    reviews = [review.alert_id for review in await feed.published(StrategyReviewRequested)]
    assert reviews.count(WAGE_TARGET_ALERT) == 1
    rows = {row.alert_id: row for row in await feed.rows("alerts")}
    assert rows[WAGE_TARGET_ALERT].status == "raised"
    assert rows[WAGE_TARGET_ALERT].changes == 3
    assert rows[WAGE_TARGET_ALERT].review_requested is True


@pytest.mark.asyncio
async def test_redelivered_envelope_changes_nothing(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()
    await feed.send(actuals("WAGE", first_half("6000000")), "batch-1")
    await feed.send(actuals("BIRT", first_half("3000000")), "batch-1")
    await feed.send(forecast("WAGE", "6000000"), "batch-1")
    last = await feed.send(forecast("BIRT", "3000000"), "batch-1")
    outbox_before = await feed.outbox()
    variances_before = sorted((row.line, row.comparison, row.period, row.evaluations)
                              for row in await feed.rows("variance_lines"))

    await feed.deliver(last)

    assert await feed.outbox() == outbox_before
    assert sorted((row.line, row.comparison, row.period, row.evaluations)
                  for row in await feed.rows("variance_lines")) == variances_before


@pytest.mark.asyncio
async def test_same_figures_again_publish_nothing(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()
    # BIRT collects 1,000,000 against 3,000,000 in P01: -2,000,000 and -66.7 % year to date.
    await feed.send(actuals("BIRT", {1: "1000000"}, ledger_version=5, series_count=1))
    raised = await feed.published(AlertChanged)

    # The ERP re-sends the balance under a newer ledger version with the same amount.
    await feed.send(actuals("BIRT", {1: "1000000"}, ledger_version=6, series_count=1, source_prefix="resend"))

    assert [alert.alert_id for alert in raised] == [BIRT_YTD_ALERT]
    assert raised[0].severity == "warning"
    assert raised[0].opens_review is False
    assert await feed.published(AlertChanged) == raised
    assert await feed.published(StrategyReviewRequested) == []
    row = await feed.variance("BIRT", "actual_vs_budget_ytd", period(1))
    assert row.evaluations == 2
    assert row.figures_version == 6


# --- inputs --------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_stale_balance_is_ignored(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()

    await feed.send(actuals("BIRT", {1: "1000000"}, ledger_version=10, series_count=1))
    await feed.send(actuals("BIRT", {1: "5000000"}, ledger_version=9, series_count=1, source_prefix="late"))

    balances = await feed.rows("balances")
    assert [(row.amount, row.ledger_version) for row in balances] == [(Decimal("1000000"), 10)]
    # The stale event's postings are still kept for reconciliation, once per source id.
    assert len(await feed.rows("postings")) == 2


@pytest.mark.asyncio
async def test_replayed_posting_is_stored_once(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()

    await feed.send(actuals("BIRT", {1: "1000000"}, ledger_version=1, series_count=1))
    await feed.send(actuals("BIRT", {1: "1000000"}, ledger_version=2, series_count=1))

    assert [row.source_id for row in await feed.rows("postings")] == ["batch-1-BIRT-1"]


@pytest.mark.asyncio
async def test_newer_budget_replaces_older(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()

    await feed.send(budget(version=2, wage_monthly="7000000"))
    await feed.send(budget(version=1, wage_monthly="1"))

    wage = [row.amount for row in await feed.rows("budget_lines") if row.line == "WAGE"]
    assert wage == [Decimal("7000000")] * 12
    assert [row.version for row in await feed.rows("budgets")] == [2]


@pytest.mark.asyncio
async def test_newer_targets_replace_and_resolve(database: Database) -> None:
    feed = Feed(database)
    await run_first_batch(feed)

    # A revised plan lowers the wage tax target to 72,000,000, the outlook itself.
    await feed.send(targets(version=2, wage_target="72000000"), "plan-revision")
    await feed.send(targets(version=1, wage_target="1"), "late-plan")

    wage = [alert for alert in await feed.published(AlertChanged) if alert.alert_id == WAGE_TARGET_ALERT]
    assert [alert.status for alert in wage] == ["raised", "resolved"]
    stored = {row.line: row for row in await feed.rows("targets")}
    assert stored["WAGE"].amount == Decimal("72000000")
    assert stored["WAGE"].version == 2


# --- the batch barrier ---------------------------------------------------------------------------


MONTHLY = {"WAGE": "6000000", "BIRT": "3000000"}
ARRIVAL_ORDERS = {
    "actuals first, wage first": [("actuals", "WAGE"), ("actuals", "BIRT"), ("forecast", "WAGE"),
                                  ("forecast", "BIRT")],
    "actuals first, birt first": [("actuals", "BIRT"), ("actuals", "WAGE"), ("forecast", "BIRT"),
                                  ("forecast", "WAGE")],
    "forecasts first": [("forecast", "WAGE"), ("forecast", "BIRT"), ("actuals", "BIRT"), ("actuals", "WAGE")],
    "interleaved": [("forecast", "BIRT"), ("actuals", "WAGE"), ("actuals", "BIRT"), ("forecast", "WAGE")],
}


def batch_event(kind: str, account: str) -> EventData:
    """Build the on-budget actuals or forecast of one series of batch-1."""
    if kind == "actuals":
        return actuals(account, first_half(MONTHLY[account]))
    return forecast(account, MONTHLY[account])


@pytest.mark.asyncio
@pytest.mark.parametrize("order", list(ARRIVAL_ORDERS.values()), ids=list(ARRIVAL_ORDERS))
async def test_batch_evaluated_after_last_series(database: Database, order: list[tuple[str, str]]) -> None:
    feed = Feed(database)
    await feed.seed()

    for kind, account in order[:-1]:
        await feed.send(batch_event(kind, account), "batch-1")
    assert await feed.published(BatchEvaluated) == []
    assert await feed.variance("TAX", "outlook_vs_target", "FY2024") is None

    await feed.send(batch_event(*order[-1]), "batch-1")

    evaluated = await feed.published(BatchEvaluated)
    assert len(evaluated) == 1
    assert evaluated[0].batch_id == "batch-1"
    assert evaluated[0].entity_id == ENTITY
    assert evaluated[0].series == 2
    # WAGE 6 + 6 + 2, BIRT 6 + 6 + 1, TAX 6 + 6 + 2 variance lines.
    assert evaluated[0].variance_lines == 41
    assert evaluated[0].alerts_changed == 1
    # Only the true breach is ever published, whatever arrived first: wage tax 72,000,000 against 80,000,000.
    alerts = await feed.published(AlertChanged)
    assert [(alert.alert_id, alert.status, alert.value) for alert in alerts] == [
        (WAGE_TARGET_ALERT, "raised", Decimal("72000000"))]

    tax = await feed.variance("TAX", "outlook_vs_target", "FY2024")
    assert tax.value == Decimal("108000000")
    assert tax.variance == Decimal("-2000000")
    tax_ytd = await feed.variance("TAX", "actual_vs_budget_ytd", period(6))
    assert tax_ytd.value == Decimal("54000000")
    assert tax_ytd.comparator == Decimal("54000000")


@pytest.mark.asyncio
async def test_forecast_waits_for_its_actuals(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()

    await feed.send(forecast("WAGE", "6000000", series_count=1), "batch-1")
    waiting = await feed.variance("WAGE", "outlook_vs_target", "FY2024")
    await feed.send(actuals("WAGE", first_half("6000000"), series_count=1), "batch-1")

    assert waiting is None
    outlook = await feed.variance("WAGE", "outlook_vs_target", "FY2024")
    assert outlook.value == Decimal("72000000")
    assert [item.batch_id for item in await feed.published(BatchEvaluated)] == ["batch-1"]


@pytest.mark.asyncio
async def test_benefit_reroll_needs_no_new_actuals(database: Database) -> None:
    feed = Feed(database)
    await run_first_batch(feed)

    # A planned benefit re-rolls wage tax on the same ledger version, as a batch of its own.
    await feed.send(forecast("WAGE", "7200000", version=2, batch_id="benefits-1", series_count=1), "benefits-1")

    wage = [alert.status for alert in await feed.published(AlertChanged) if alert.alert_id == WAGE_TARGET_ALERT]
    assert wage == ["raised", "resolved"]
    assert [item.batch_id for item in await feed.published(BatchEvaluated)] == ["batch-1", "benefits-1"]


@pytest.mark.asyncio
async def test_batch_counts_each_forecast_once(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()
    await feed.send(actuals("WAGE", first_half("6000000")), "batch-1")

    first = await feed.send(forecast("WAGE", "6000000", version=1), "batch-1")
    await feed.deliver(first)

    assert await feed.published(BatchEvaluated) == []
    assert [row.forecasts_received for row in await feed.rows("batches")] == [1]


@pytest.mark.asyncio
async def test_split_series_completes_batch(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()

    # Wage tax had too many postings for one event: P01-P03 and P04-P06 come as two actuals events,
    # so the batch has three events and three re-rolled forecasts for two series.
    await feed.send(actuals("WAGE", {number: "6000000" for number in (1, 2, 3)}, series_count=3), "batch-1")
    await feed.send(actuals("WAGE", {number: "6000000" for number in (4, 5, 6)}, series_count=3), "batch-1")
    await feed.send(actuals("BIRT", first_half("3000000"), series_count=3), "batch-1")
    await feed.send(forecast("WAGE", "6000000", version=1, series_count=3), "batch-1")
    await feed.send(forecast("BIRT", "3000000", series_count=3), "batch-1")
    waiting = await feed.published(BatchEvaluated)
    await feed.send(forecast("WAGE", "6000000", version=2, series_count=3), "batch-1")

    assert waiting == []
    evaluated = await feed.published(BatchEvaluated)
    assert [(item.batch_id, item.series) for item in evaluated] == [("batch-1", 2)]
    assert (await feed.variance("TAX", "outlook_vs_target", "FY2024")).value == Decimal("108000000")


@pytest.mark.asyncio
async def test_parent_breach_raised_at_barrier(database: Database) -> None:
    feed = Feed(database)
    await run_first_batch(feed)

    # Wage tax drops to 66,000,000, so TAX is 102,000,000 against 110,000,000: -7.3 % and -8,000,000.
    await feed.send(forecast("WAGE", "5000000", version=2, batch_id="batch-2", series_count=1), "batch-2")

    tax = [alert for alert in await feed.published(AlertChanged) if alert.alert_id == TAX_TARGET_ALERT]
    assert [alert.status for alert in tax] == ["raised"]
    assert tax[0].value == Decimal("102000000")
    assert tax[0].threshold == "5% and 1000000 either direction"
    reviews = [review.alert_id for review in await feed.published(StrategyReviewRequested)]
    assert reviews == [WAGE_TARGET_ALERT, TAX_TARGET_ALERT]
    second = [item for item in await feed.published(BatchEvaluated) if item.batch_id == "batch-2"]
    # The WAGE update and the TAX raise.
    assert second[0].alerts_changed == 2


@pytest.mark.asyncio
async def test_reparented_leaf_moves_into_parent(database: Database) -> None:
    feed = Feed(database)
    await run_first_batch(feed)
    await feed.send(actuals("PARKING", first_half("1000000"), batch_id="batch-2", series_count=1), "batch-2")
    await feed.send(forecast("PARKING", "1000000", batch_id="batch-2", series_count=1), "batch-2")
    before = await feed.variance("TAX", "outlook_vs_target", "FY2024")

    await feed.send(hierarchy({"WAGE": "TAX", "BIRT": "TAX", "PARKING": "TAX"}, version=2), "tree-2")

    after = await feed.variance("TAX", "outlook_vs_target", "FY2024")
    assert before.value == Decimal("108000000")
    assert after.value == Decimal("120000000")
    assert after.variance == Decimal("10000000")


# --- rules ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_configured_rule_band_applies(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()
    await update_rule(database, "budget_variance", pct=Decimal("0.01"), absolute=Decimal("100000"), scope="both",
                      severity="critical", opens_review=True)

    # 200,000 (6.7 %) short of the BIRT budget breaches 1 % and 100,000 but not the default 10 % and 1,000,000.
    await feed.send(actuals("BIRT", {1: "2800000"}, series_count=1))

    alerts = await feed.published(AlertChanged)
    assert [(alert.alert_id, alert.severity) for alert in alerts] == [(BIRT_YTD_ALERT, "critical")]
    assert alerts[0].threshold == "1% and 100000 either direction"
    reviews = await feed.published(StrategyReviewRequested)
    assert [review.alert_id for review in reviews] == [BIRT_YTD_ALERT]


@pytest.mark.asyncio
async def test_cost_centres_compared_at_barrier(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()
    await feed.send(budget(), "budget-1")

    # BIRT's 3,000,000 a month arrives as two cost centres of 1,500,000 each. Judged on the first
    # alone, the line would be 50 % under its budget.
    await feed.send(actuals("BIRT", first_half("1500000"), cost_centre="CC1"), "batch-1")
    partial = await feed.variance("BIRT", "actual_vs_budget_ytd", period(6))
    await feed.send(actuals("BIRT", first_half("1500000"), cost_centre="CC2"), "batch-1")
    await feed.send(forecast("BIRT", "1500000", cost_centre="CC1"), "batch-1")
    await feed.send(forecast("BIRT", "1500000", cost_centre="CC2"), "batch-1")

    assert partial is None
    ytd = await feed.variance("BIRT", "actual_vs_budget_ytd", period(6))
    assert ytd.value == Decimal("18000000")
    assert ytd.comparator == Decimal("18000000")
    assert [alert.period for alert in await feed.published(AlertChanged)
            if alert.line == "BIRT" and alert.comparison == "actual_vs_budget_ytd"] == []
    assert [item.series for item in await feed.published(BatchEvaluated)] == [2]
