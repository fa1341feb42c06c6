"""Handlers of consumed events. Each runs inside the dispatcher's transaction, together with its inbox record."""

import logging
from collections import defaultdict

from ipm_common.envelope import Envelope
from ipm_common.events import ActualsPosted, BudgetApproved, ForecastRerolled, HierarchyChanged, TargetsSet
from ipm_common.periods import PeriodKey
from ipm_common.storage import Transaction, utcnow
from ipm_performance.adapters import batches, repository
from ipm_performance.domain.comparisons import ACTUAL_COMPARISONS, OUTLOOK_COMPARISONS, Comparison
from ipm_performance.service_layer.batches import evaluate_batch_if_complete
from ipm_performance.service_layer.evaluation import Outcome, Scope, evaluate

logger = logging.getLogger(__name__)

BUDGET_COMPARISONS = frozenset({*ACTUAL_COMPARISONS, Comparison.OUTLOOK_VS_BUDGET})


async def on_targets_set(transaction: Transaction, envelope: Envelope, data: TargetsSet) -> None:
    """Store the targets, then compare the outlook of each stored target line with its new target."""
    stored = await repository.store_targets(transaction.connection, data, utcnow())

    lines_by_year: dict[int, set[str]] = defaultdict(set)
    for target in stored:
        lines_by_year[target.fiscal_year].add(target.line)

    outcome = Outcome()
    for fiscal_year, lines in sorted(lines_by_year.items()):
        scope = Scope(data.entity_id, fiscal_year, frozenset(lines), frozenset({Comparison.OUTLOOK_VS_TARGET}))
        outcome.add(await evaluate(transaction, scope, envelope.correlationid))

    logger.info("targets of plan %s version %s for %s: %s of %s stored, %s alert changes", data.plan_id,
                data.version, data.entity_id, len(stored), len(data.targets), outcome.alerts_changed)


async def on_budget_approved(transaction: Transaction, envelope: Envelope, data: BudgetApproved) -> None:
    """Replace the fiscal year's budget with a newer version, then compare actuals and outlook with it."""
    if not await repository.store_budget(transaction.connection, data, utcnow()):
        return

    # NOTE: a line that the newer version drops keeps its last variance lines, and an open alert
    # on it stays open, because only lines that still have a budget are evaluated.
    scope = Scope(data.entity_id, data.fiscal_year, comparisons=BUDGET_COMPARISONS)
    outcome = await evaluate(transaction, scope, envelope.correlationid)
    logger.info("budget %s version %s of %s FY%s stored with %s lines, %s alert changes", data.budget_id,
                data.version, data.entity_id, data.fiscal_year, len(data.lines), outcome.alerts_changed)


async def on_actuals_posted(transaction: Transaction, envelope: Envelope, data: ActualsPosted) -> None:
    """Store postings and period balances, then compare the account's actuals with its budget.

    When a forecast of the series was waiting for these actuals, its outlook is compared now,
    and the batches that waited for them may be complete.
    """
    connection = transaction.connection
    now = utcnow()
    previous_version = await repository.series_ledger_version(connection, data.entity_id, data.account_id,
                                                              data.cost_centre)
    postings = await repository.store_postings(connection, data, now)
    changes = await repository.store_balances(connection, data, now)
    _log_stale_balances(data, changes.stale)
    ledger_version = await repository.series_ledger_version(connection, data.entity_id, data.account_id,
                                                            data.cost_centre)

    years = {PeriodKey.parse(balance.period).fiscal_year for balance in data.balances}
    await batches.note_batch(connection, data.batch_id, data.batch_series_count, data.entity_id, years, now)
    # Balances that arrive after their batch's barrier would leave the parents behind, so they
    # re-evaluate every node above the account as well.
    late_for_batch = await batches.is_evaluated(connection, data.batch_id)

    outcome = Outcome()
    for fiscal_year in sorted({period.fiscal_year for period in changes.applied}):
        scope = Scope(data.entity_id, fiscal_year, frozenset({data.account_id}), frozenset(ACTUAL_COMPARISONS),
                      with_ancestors=late_for_batch)
        outcome.add(await evaluate(transaction, scope, envelope.correlationid))
    outcome.add(await _evaluate_waiting_outlook(transaction, envelope, data, previous_version, ledger_version))
    await batches.add_alert_changes(connection, data.batch_id, data.entity_id, outcome.alerts_changed)

    logger.info("actuals of %s %s %s in batch %s: %s new postings, %s balances applied, %s stale, "
                "%s variance lines, %s alert changes", data.entity_id, data.account_id, data.cost_centre or "-",
                data.batch_id, postings, len(changes.applied), len(changes.stale), outcome.variance_lines,
                outcome.alerts_changed)

    series = (data.entity_id, data.account_id, repository.cost_centre_key(data.cost_centre))
    for batch_id in await batches.release_waiting_series(connection, series, ledger_version):
        await evaluate_batch_if_complete(transaction, batch_id, envelope.correlationid)


async def _evaluate_waiting_outlook(transaction: Transaction, envelope: Envelope, data: ActualsPosted,
                                    previous_version: int, ledger_version: int) -> Outcome:
    """Compare the outlook of a stored forecast that was built on actuals this event just delivered."""
    forecast = await repository.stored_forecast(transaction.connection, data.entity_id, data.account_id,
                                                data.cost_centre)
    if forecast is None or not previous_version < forecast.ledger_version <= ledger_version:
        return Outcome()

    scope = Scope(data.entity_id, forecast.origin.fiscal_year, frozenset({data.account_id}),
                  frozenset(OUTLOOK_COMPARISONS))
    return await evaluate(transaction, scope, envelope.correlationid)


def _log_stale_balances(data: ActualsPosted, stale: tuple[PeriodKey, ...]) -> None:
    versions = {str(PeriodKey.parse(balance.period)): balance.ledger_version for balance in data.balances}
    for period in stale:
        logger.info("ignored stale balance of %s %s %s %s: ledger version %s is not newer than the stored one",
                    data.entity_id, data.account_id, data.cost_centre or "-", period, versions[str(period)])


async def on_forecast_rerolled(transaction: Transaction, envelope: Envelope, data: ForecastRerolled) -> None:
    """Store a newer forecast, compare the account's full-year outlook, and count the series for its batch.

    The topics of actuals and forecasts are consumed in no fixed order, so a forecast can arrive
    before the actuals it was built on. Its outlook then waits for them (see ``on_actuals_posted``),
    because an outlook without those actuals would raise alerts that are false.
    """
    connection = transaction.connection
    now = utcnow()
    origin = PeriodKey.parse(data.origin)
    stored = await repository.store_forecast(connection, data, now)
    if not stored:
        logger.info("ignored stale forecast %s version %s of %s %s %s", data.forecast_id, data.version,
                    data.entity_id, data.account_id, data.cost_centre or "-")
    held_version = await repository.series_ledger_version(connection, data.entity_id, data.account_id,
                                                          data.cost_centre)
    waiting = held_version < data.ledger_version

    series = (data.entity_id, data.account_id, repository.cost_centre_key(data.cost_centre))
    await batches.note_batch(connection, data.batch_id, data.batch_series_count, data.entity_id,
                             [origin.fiscal_year], now)
    await batches.count_series(connection, data.batch_id, series, data.ledger_version, waiting)

    outcome = Outcome()
    if stored and not waiting:
        scope = Scope(data.entity_id, origin.fiscal_year, frozenset({data.account_id}),
                      frozenset(OUTLOOK_COMPARISONS))
        outcome = await evaluate(transaction, scope, envelope.correlationid)
    await batches.add_alert_changes(connection, data.batch_id, data.entity_id, outcome.alerts_changed)
    logger.info("forecast %s version %s of %s %s %s from %s in batch %s: %s variance lines, %s alert changes%s",
                data.forecast_id, data.version, data.entity_id, data.account_id, data.cost_centre or "-", origin,
                data.batch_id, outcome.variance_lines, outcome.alerts_changed,
                f"; waiting for actuals of ledger version {data.ledger_version} (held {held_version})"
                if waiting else "")

    await evaluate_batch_if_complete(transaction, data.batch_id, envelope.correlationid)


async def on_hierarchy_changed(transaction: Transaction, envelope: Envelope, data: HierarchyChanged) -> None:
    """Store the hierarchy, then re-evaluate each entity's latest fiscal year so that parents follow the tree."""
    await repository.reference_store.on_hierarchy_changed(transaction, envelope, data)
    if data.dimension != "account":
        return

    outcome = Outcome()
    latest = await repository.latest_fiscal_years(transaction.connection)
    for entity_id, fiscal_year in sorted(latest.items()):
        outcome.add(await evaluate(transaction, Scope(entity_id, fiscal_year), envelope.correlationid))
    logger.info("hierarchy %s version %s applied; re-evaluated %s entities: %s variance lines, %s alert changes",
                data.hierarchy, data.version, len(latest), outcome.variance_lines, outcome.alerts_changed)
