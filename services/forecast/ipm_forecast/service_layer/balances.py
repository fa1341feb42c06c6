"""Ingest versioned period balances from HTTP or the ERP topic and publish ``actuals posted`` per series."""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ipm_common.dispatch import publish_event
from ipm_common.errors import InvalidInput, NotFound, PeriodClosed
from ipm_common.events import ActualsPosted, PeriodBalance
from ipm_common.periods import PeriodKey
from ipm_common.reference import Entity
from ipm_common.storage import Database, Transaction
from ipm_forecast.adapters import balance_store, repository
from ipm_forecast.domain.balances import BalanceLine, BalancePlan, FlowChange, SeriesLine, plan_balances

logger = logging.getLogger(__name__)

SOURCE = "ipm-forecast"


@dataclass(frozen=True)
class BalanceResult:
    batch_id: str
    accepted: int
    replayed: int
    stale: int
    series: int
    periods: int


async def ingest_balances(database: Database, lines: Sequence[BalanceLine], *, batch_id: str, entity_id: str,
                          channel: str) -> BalanceResult:
    """Apply the newer balance versions of a batch atomically; publish the changed period figures.

    Raises ``InvalidInput`` (every invalid line listed) or ``PeriodClosed`` when every invalid line
    touches a closed period; nothing of a rejected batch is stored. Stale versions are logged and
    ignored.
    """
    async with database.transaction() as transaction:
        connection = transaction.connection
        entity = await _entity(transaction, entity_id)
        await balance_store.lock_entity(connection, entity_id)
        context = await balance_store.load_context(connection, entity, lines)
        plan = plan_balances(lines, context)
        _raise_for_errors(plan, batch_id)

        await balance_store.insert_balances(connection, entity_id, plan.accepted, batch_id=batch_id, channel=channel)
        await balance_store.insert_flow_adjustments(connection, entity, plan.changes, batch_id=batch_id)
        series = await _publish_series(transaction, entity, plan.changes, batch_id)

    for stale in plan.stale:
        logger.warning("batch %s: ignored stale balance %s/%s/%s %s version %s; version %s is held", batch_id,
                       entity_id, stale.series[0], stale.series[1] or "-", stale.period, stale.version,
                       stale.held_version)
    logger.info("balance batch %s of %s via %s: %s accepted, %s replayed, %s stale, %s series, %s periods changed",
                batch_id, entity_id, channel, len(plan.accepted), len(plan.replayed), len(plan.stale), series,
                len(plan.changes))
    return BalanceResult(batch_id, len(plan.accepted), len(plan.replayed), len(plan.stale), series,
                         len(plan.changes))


async def _entity(transaction: Transaction, entity_id: str) -> Entity:
    try:
        return await repository.reference.entity(transaction.connection, entity_id)
    except NotFound as error:
        raise InvalidInput(f"entity_id: {error}", field="entity_id") from None


def _raise_for_errors(plan: BalancePlan, batch_id: str) -> None:
    if not plan.errors:
        return
    details = [error.as_detail() for error in plan.errors]
    first = plan.errors[0]
    summary = (f"balance batch {batch_id} rejected: {len(details)} invalid line(s), first "
               f"lines[{first.index}].{first.field}")
    if all(error.type == "period_closed" for error in plan.errors):
        raise PeriodClosed(f"{summary}: {first.message}", details=details)
    raise InvalidInput(f"{summary}: {first.message}", field=f"lines[{first.index}].{first.field}", details=details)


async def _publish_series(transaction: Transaction, entity: Entity, changes: Sequence[FlowChange],
                          batch_id: str) -> int:
    """Publish one ``actuals posted`` event per series with the new figures of its changed periods."""
    by_series: dict[SeriesLine, set[PeriodKey]] = defaultdict(set)
    for change in changes:
        by_series[change.series].add(change.period)

    for (account_id, cost_centre), periods in sorted(by_series.items()):
        totals, ledger_version = await repository.period_totals(transaction.connection, entity.entity_id, account_id,
                                                                cost_centre)
        event = ActualsPosted(
            entity_id=entity.entity_id, account_id=account_id, cost_centre=cost_centre or None,
            currency=entity.currency, batch_id=batch_id, batch_series_count=len(by_series), postings=(),
            balances=tuple(PeriodBalance(period=str(period), amount=totals[period], ledger_version=ledger_version)
                           for period in sorted(periods)),
        )
        await publish_event(transaction, SOURCE, event, correlation_id=batch_id,
                            subject=f"{entity.entity_id}/{account_id}")
    return len(by_series)
