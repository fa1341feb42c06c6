"""Queries of versioned period balances and the ledger adjustments that carry their flows."""

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.periods import PeriodKey
from ipm_common.reference import Entity
from ipm_common.storage import utcnow
from ipm_forecast.adapters import repository, tables
from ipm_forecast.domain.balances import AcceptedBalance, BalanceContext, BalanceLine, FlowChange, HeldBalance

# The postings table's channel of the adjustments that carry balance flows into the ledger.
BALANCE_CHANNEL = "balance"
POSTING_CHANNELS = ("http", "kafka")


async def lock_entity(connection: AsyncConnection, entity_id: str) -> None:
    """Hold the entity's reference row until the transaction ends, so its balance batches apply one at a time.

    A batch's flows are differences to the balances held, so two batches computed from the same held
    versions would both adjust the ledger. PostgreSQL blocks the second batch here until the first
    commits; SQLite ignores FOR UPDATE but runs one write transaction at a time anyway.
    """
    entities = repository.reference.tables.entities
    await connection.execute(select(entities.c.entity_id).where(entities.c.entity_id == entity_id).with_for_update())


async def load_context(connection: AsyncConnection, entity: Entity, lines: Sequence[BalanceLine]) -> BalanceContext:
    """Load what a batch of one entity's balances is checked against."""
    account_ids = sorted({line.account_id for line in lines})
    closed = await repository.closed_periods(connection, [entity.entity_id])
    return BalanceContext(
        entity=entity,
        accounts=await repository.reference.accounts(connection),
        closed_periods={period for _, period in closed},
        held=await held_balances(connection, entity.entity_id, account_ids),
        posting_series=await posting_series(connection, entity.entity_id, account_ids),
        latest_period=await repository.latest_period(connection, entity.entity_id),
    )


async def held_balances(connection: AsyncConnection, entity_id: str,
                        account_ids: Sequence[str]) -> dict[tuple[str, str], dict[PeriodKey, HeldBalance]]:
    """Return the highest stored version of every period balance of the entity's given accounts."""
    table = tables.period_balances
    rows = await connection.execute(select(table).where(table.c.entity_id == entity_id,
                                                        table.c.account_id.in_(account_ids)))
    held: dict[tuple[str, str], dict[PeriodKey, HeldBalance]] = defaultdict(dict)
    for row in rows:
        periods = held[(row.account_id, row.cost_centre)]
        period = PeriodKey.parse(row.period)
        current = periods.get(period)
        if current is None or row.version > current.version:
            periods[period] = HeldBalance(row.basis, row.amount, row.version)
    return dict(held)


async def posting_series(connection: AsyncConnection, entity_id: str,
                         account_ids: Sequence[str]) -> set[tuple[str, str]]:
    """Return the (account, cost centre) series of the entity that ERP postings feed."""
    table = tables.postings
    rows = await connection.execute(select(table.c.account_id, table.c.cost_centre).distinct().where(
        table.c.entity_id == entity_id, table.c.account_id.in_(account_ids), table.c.channel.in_(POSTING_CHANNELS)))
    return {(row.account_id, row.cost_centre) for row in rows}


async def insert_balances(connection: AsyncConnection, entity_id: str, accepted: Sequence[AcceptedBalance], *,
                          batch_id: str, channel: str) -> None:
    if not accepted:
        return
    received_at = utcnow()
    await connection.execute(insert(tables.period_balances), [
        {"entity_id": entity_id, "account_id": item.series[0], "cost_centre": item.series[1],
         "period": str(item.period), "version": item.balance.version, "basis": item.balance.basis,
         "amount": item.balance.amount, "batch_id": batch_id, "channel": channel, "received_at": received_at}
        for item in accepted
    ])


async def insert_flow_adjustments(connection: AsyncConnection, entity: Entity, changes: Sequence[FlowChange], *,
                                  batch_id: str) -> None:
    """Add one ledger row per changed period flow, dated the period's last day.

    The rows take ledger versions from the postings table, so a series' ledger version grows with
    balances as it does with postings.
    """
    if not changes:
        return
    received_at = utcnow()
    await connection.execute(insert(tables.postings), [
        {"source_id": f"balance:{uuid.uuid4()}", "entity_id": entity.entity_id, "account_id": change.series[0],
         "cost_centre": change.series[1], "period": str(change.period),
         "posting_date": entity.calendar.period_bounds(change.period)[1], "amount": change.amount,
         "ledger_amount": change.ledger_amount, "currency": entity.currency, "reverses": None, "late": change.late,
         "batch_id": batch_id, "channel": BALANCE_CHANNEL, "received_at": received_at}
        for change in changes
    ])


async def stored_versions(connection: AsyncConnection, entity_id: str, account_id: str,
                          cost_centre: str) -> list[dict[str, object]]:
    """List every stored balance version of one series, by period and newest version first."""
    table = tables.period_balances
    rows = await connection.execute(select(table).where(
        table.c.entity_id == entity_id, table.c.account_id == account_id, table.c.cost_centre == cost_centre,
    ).order_by(table.c.period, table.c.version.desc()))
    return [dict(row._mapping) for row in rows]
