"""Storage of the subscriptions: the alert change log read by sequence, webhooks, deliveries and attempts."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_performance.adapters import tables
from ipm_performance.adapters.statements import AnyRow
from ipm_performance.domain.rules import SEVERITY_RANK


def severities_from(min_severity: str) -> list[str]:
    """Return the severities at or above ``min_severity``."""
    return [name for name, rank in SEVERITY_RANK.items() if rank >= SEVERITY_RANK[min_severity]]


# --- the alert change log ------------------------------------------------------------------------


async def last_change_sequence(connection: AsyncConnection) -> int:
    return int((await connection.execute(select(func.coalesce(func.max(tables.alert_changes.c.sequence), 0))))
               .scalar_one())


async def changes_after(connection: AsyncConnection, after: int, *, entity_id: str | None, min_severity: str | None,
                        limit: int) -> Sequence[AnyRow]:
    """Read the alert changes after sequence ``after`` in order, filtered by entity and minimum severity."""
    table = tables.alert_changes
    statement = select(table).where(table.c.sequence > after).order_by(table.c.sequence).limit(limit)
    if entity_id is not None:
        statement = statement.where(table.c.entity_id == entity_id)
    if min_severity is not None:
        statement = statement.where(table.c.severity.in_(severities_from(min_severity)))
    return (await connection.execute(statement)).all()


# --- webhooks ------------------------------------------------------------------------------------


async def add_webhook(connection: AsyncConnection, row: dict[str, object]) -> None:
    await connection.execute(insert(tables.webhooks).values(**row))


async def list_webhooks(connection: AsyncConnection) -> Sequence[AnyRow]:
    table = tables.webhooks
    return (await connection.execute(select(table).order_by(table.c.created_at, table.c.webhook_id))).all()


async def get_webhook(connection: AsyncConnection, webhook_id: str, *, lock: bool = False) -> AnyRow | None:
    """Read one webhook; ``lock`` locks its row until the transaction ends (on PostgreSQL)."""
    table = tables.webhooks
    statement = select(table).where(table.c.webhook_id == webhook_id)
    if lock:
        statement = statement.with_for_update()
    return (await connection.execute(statement)).first()


async def delete_webhook(connection: AsyncConnection, webhook_id: str) -> bool:
    """Delete a webhook and its pending deliveries; the delivery log of earlier attempts goes with it."""
    result = await connection.execute(delete(tables.webhooks).where(tables.webhooks.c.webhook_id == webhook_id))
    await connection.execute(delete(tables.webhook_deliveries).where(
        tables.webhook_deliveries.c.webhook_id == webhook_id))
    await connection.execute(delete(tables.webhook_attempts).where(
        tables.webhook_attempts.c.webhook_id == webhook_id))
    return result.rowcount > 0


async def fan_out(connection: AsyncConnection, webhook: AnyRow, now: datetime, limit: int) -> int:
    """Queue a delivery for each new alert change that the webhook's filters match; return the changes read."""
    changes = await changes_after(connection, webhook.cursor, entity_id=None, min_severity=None, limit=limit)
    if not changes:
        return 0

    matching = [change for change in changes
                if (webhook.entity_id is None or change.entity_id == webhook.entity_id)
                and change.severity in severities_from(webhook.min_severity)]
    if matching:
        await connection.execute(insert(tables.webhook_deliveries), [
            {"webhook_id": webhook.webhook_id, "change_sequence": change.sequence, "status": "pending",
             "attempts": 0, "next_attempt_at": now, "created_at": now}
            for change in matching
        ])
    await connection.execute(update(tables.webhooks).where(tables.webhooks.c.webhook_id == webhook.webhook_id)
                             .values(cursor=changes[-1].sequence))
    return len(changes)


# --- deliveries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueDelivery:
    delivery_id: int
    webhook_id: str
    url: str
    secret: str
    attempts: int
    payload: str


async def due_deliveries(connection: AsyncConnection, now: datetime, limit: int) -> list[DueDelivery]:
    deliveries, hooks, changes = tables.webhook_deliveries, tables.webhooks, tables.alert_changes
    statement = (
        select(deliveries.c.delivery_id, deliveries.c.webhook_id, deliveries.c.attempts, hooks.c.url, hooks.c.secret,
               changes.c.payload)
        .join(hooks, hooks.c.webhook_id == deliveries.c.webhook_id)
        .join(changes, changes.c.sequence == deliveries.c.change_sequence)
        .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now)
        .order_by(deliveries.c.delivery_id)
        .limit(limit)
    )
    return [DueDelivery(row.delivery_id, row.webhook_id, row.url, row.secret, row.attempts, row.payload)
            for row in (await connection.execute(statement)).all()]


async def record_attempt(connection: AsyncConnection, delivery: DueDelivery, *, status: str, status_code: int | None,
                         error: str | None, next_attempt_at: datetime, now: datetime) -> None:
    attempt = delivery.attempts + 1
    await connection.execute(insert(tables.webhook_attempts).values(
        delivery_id=delivery.delivery_id, attempt=attempt, webhook_id=delivery.webhook_id, status_code=status_code,
        error=None if error is None else error[:512], attempted_at=now))
    await connection.execute(update(tables.webhook_deliveries).where(
        tables.webhook_deliveries.c.delivery_id == delivery.delivery_id).values(
        status=status, attempts=attempt, next_attempt_at=next_attempt_at,
        delivered_at=now if status == "delivered" else None))


async def list_deliveries(connection: AsyncConnection, webhook_id: str, limit: int) -> list[dict[str, object]]:
    """List a webhook's deliveries, the newest first, each with its last attempt's status code and error."""
    deliveries, attempts = tables.webhook_deliveries, tables.webhook_attempts
    rows = (await connection.execute(select(deliveries).where(deliveries.c.webhook_id == webhook_id)
                                     .order_by(deliveries.c.delivery_id.desc()).limit(limit))).all()
    ids = [row.delivery_id for row in rows]
    last: dict[int, AnyRow] = {}
    if ids:
        for attempt in (await connection.execute(select(attempts).where(
                attempts.c.delivery_id.in_(ids)).order_by(attempts.c.attempt))).all():
            last[attempt.delivery_id] = attempt
    return [
        {**row._asdict(), "next_attempt_at": row.next_attempt_at if row.status == "pending" else None,
         "last_status_code": last[row.delivery_id].status_code if row.delivery_id in last else None,
         "last_error": last[row.delivery_id].error if row.delivery_id in last else None}
        for row in rows
    ]
