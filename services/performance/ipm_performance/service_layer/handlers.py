"""Handlers of consumed events. Each runs inside the dispatcher's transaction, together with its inbox record."""

import logging

from ipm_common.envelope import Envelope
from ipm_common.events import ActualsPosted, BudgetApproved, ForecastRerolled, HierarchyChanged, TargetsSet
from ipm_common.storage import Transaction, utcnow
from ipm_performance.adapters import ledger, repository
from ipm_performance.domain.comparisons import ACTUAL_COMPARISONS, Comparison
from ipm_performance.service_layer.actuals import apply_actuals
from ipm_performance.service_layer.evaluation import Evaluator, Outcome, Scope
from ipm_performance.service_layer.forecasts import apply_forecasts

logger = logging.getLogger(__name__)

BUDGET_COMPARISONS = frozenset({*ACTUAL_COMPARISONS, Comparison.OUTLOOK_VS_BUDGET})


async def on_targets_set(transaction: Transaction, envelope: Envelope, data: TargetsSet) -> None:
    """Store the targets, then compare the outlook of each stored target line of the outlook year with its target.

    Only the fiscal year of the entity's latest forecast origin has an outlook. Targets of later
    years are compared once that year's first actuals arrive, at the barrier of their batch.
    """
    connection = transaction.connection
    stored = await repository.store_targets(connection, data, utcnow())
    origin = await ledger.latest_origin(connection, data.entity_id)
    outlook_year = origin.fiscal_year if origin is not None else None

    outcome = Outcome()
    lines = {target.line for target in stored if target.fiscal_year == outlook_year}
    if outlook_year is not None and lines:
        scope = Scope(data.entity_id, outlook_year, frozenset(lines), frozenset({Comparison.OUTLOOK_VS_TARGET}))
        outcome = await Evaluator(transaction).evaluate(scope, envelope.correlationid)

    logger.info("targets of plan %s version %s for %s: %s of %s stored, %s compared in the outlook year %s, "
                "%s alert changes", data.plan_id, data.version, data.entity_id, len(stored), len(data.targets),
                len(lines), f"FY{outlook_year}" if outlook_year else "(no forecast yet)", outcome.alerts_changed)


async def on_budget_approved(transaction: Transaction, envelope: Envelope, data: BudgetApproved) -> None:
    """Replace the fiscal year's budget with a newer version, then compare actuals and outlook with it."""
    if not await repository.store_budget(transaction.connection, data, utcnow()):
        return

    # NOTE: a line that the newer version drops keeps its last variance lines, and an open alert
    # on it stays open, because only lines that still have a budget are evaluated.
    scope = Scope(data.entity_id, data.fiscal_year, comparisons=BUDGET_COMPARISONS)
    outcome = await Evaluator(transaction).evaluate(scope, envelope.correlationid)
    logger.info("budget %s version %s of %s FY%s stored with %s lines, %s alert changes", data.budget_id,
                data.version, data.entity_id, data.fiscal_year, len(data.lines), outcome.alerts_changed)


async def on_actuals_posted(transaction: Transaction, envelope: Envelope, data: ActualsPosted) -> None:
    """Apply one ``ActualsPosted`` as a unit of work of its own."""
    await apply_actuals(transaction, [(envelope, data)])


async def on_forecast_rerolled(transaction: Transaction, envelope: Envelope, data: ForecastRerolled) -> None:
    """Apply one ``ForecastRerolled`` as a unit of work of its own."""
    await apply_forecasts(transaction, [(envelope, data)])


async def on_hierarchy_changed(transaction: Transaction, envelope: Envelope, data: HierarchyChanged) -> None:
    """Store the hierarchy, then re-evaluate each entity's current years so that parents follow the tree.

    The current years are the latest year with actuals and the year of the latest forecast origin,
    which is the one with an outlook. They differ while a new year's actuals wait for their forecasts.
    """
    await repository.reference_store.on_hierarchy_changed(transaction, envelope, data)
    if data.dimension != "account":
        return

    connection = transaction.connection
    years = await repository.latest_fiscal_years(connection)
    origins = await ledger.latest_origins(connection)

    evaluator = Evaluator(transaction)
    outcome = Outcome()
    entities = sorted(set(years) | set(origins))
    for entity_id in entities:
        current = {years.get(entity_id), origins[entity_id].fiscal_year if entity_id in origins else None}
        for fiscal_year in sorted(year for year in current if year is not None):
            outcome.add(await evaluator.evaluate(Scope(entity_id, fiscal_year), envelope.correlationid))
    logger.info("hierarchy %s version %s applied; re-evaluated %s entities: %s variance lines, %s alert changes",
                data.hierarchy, data.version, len(entities), outcome.variance_lines, outcome.alerts_changed)
