"""Queries of the investment envelope tables. Every function runs on a connection that its caller opened."""

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import Conflict
from ipm_strategy.adapters import tables
from ipm_strategy.adapters.repository import aware
from ipm_strategy.domain.investments import Envelope


async def lock_plan(connection: AsyncConnection, plan_id: str) -> None:
    """Lock the plan's row until the transaction ends, so that two approvals never check one budget at once.

    NOTE: SQLite ignores FOR UPDATE, but it lets only one write transaction run at a time.
    """
    table = tables.operating_plans
    await connection.execute(select(table.c.plan_id).where(table.c.plan_id == plan_id).with_for_update())


async def envelopes(connection: AsyncConnection, plan_id: str) -> list[Envelope]:
    table, amounts = tables.investment_envelopes, tables.investment_envelope_amounts
    rows = list(await connection.execute(select(table).where(table.c.plan_id == plan_id)
                                         .order_by(table.c.requested_at, table.c.envelope_id)))
    amount_rows = await connection.execute(
        select(amounts).join(table, table.c.envelope_id == amounts.c.envelope_id).where(table.c.plan_id == plan_id))
    by_envelope: dict[str, dict[int, Any]] = {}
    for row in amount_rows:
        by_envelope.setdefault(row.envelope_id, {})[row.fiscal_year] = row.amount
    return [_envelope(row, by_envelope.get(row.envelope_id, {})) for row in rows]


async def envelope(connection: AsyncConnection, envelope_id: str) -> Envelope | None:
    table, amounts = tables.investment_envelopes, tables.investment_envelope_amounts
    row = (await connection.execute(select(table).where(table.c.envelope_id == envelope_id))).first()
    if row is None:
        return None
    amount_rows = await connection.execute(select(amounts).where(amounts.c.envelope_id == envelope_id))
    return _envelope(row, {item.fiscal_year: item.amount for item in amount_rows})


async def insert_envelope(connection: AsyncConnection, item: Envelope) -> None:
    await connection.execute(insert(tables.investment_envelopes).values(
        envelope_id=item.envelope_id, plan_id=item.plan_id, initiative=item.initiative, kind=item.kind,
        status=item.status, requested_by=item.requested_by, requested_at=item.requested_at))
    await connection.execute(insert(tables.investment_envelope_amounts), [
        {"envelope_id": item.envelope_id, "fiscal_year": year, "amount": amount}
        for year, amount in item.amounts.items()])


async def save_decision(connection: AsyncConnection, item: Envelope) -> None:
    """Store an envelope's decision. A concurrent decision of the same envelope is a conflict."""
    table = tables.investment_envelopes
    result = await connection.execute(
        update(table).where(table.c.envelope_id == item.envelope_id, table.c.status == "requested")
        .values(status=item.status, decided_by=item.decided_by, decided_at=item.decided_at, reason=item.reason))
    if result.rowcount != 1:
        raise Conflict(f"envelope {item.envelope_id} was decided while this request ran; reload it",
                       reason="concurrent_update")


def _envelope(row: Any, amounts: dict[int, Any]) -> Envelope:
    return Envelope(row.envelope_id, row.plan_id, row.initiative, row.kind, dict(sorted(amounts.items())),
                    row.status, row.requested_by, aware(row.requested_at), row.decided_by,
                    None if row.decided_at is None else aware(row.decided_at), row.reason)
