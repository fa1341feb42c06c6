"""Queries that judging an alert needs: earlier periods of a variance line and an entity's latest period."""

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_performance.adapters import tables
from ipm_performance.adapters.statements import AnyRow


async def earlier_variances(connection: AsyncConnection, entity_id: str, line: str, comparison: str,
                            periods: Sequence[str]) -> list[tuple[Decimal, Decimal]]:
    """Return (variance, comparator) of ``periods`` in their order, stopping at the first period without a line."""
    table = tables.variance_lines
    rows = (await connection.execute(select(table.c.period, table.c.variance, table.c.comparator).where(
        table.c.entity_id == entity_id, table.c.line == line, table.c.comparison == comparison,
        table.c.period.in_(list(periods))))).all()
    found = {row.period: (row.variance, row.comparator) for row in rows}

    earlier: list[tuple[Decimal, Decimal]] = []
    for period in periods:
        if period not in found:
            break
        earlier.append(found[period])
    return earlier


async def latest_period(connection: AsyncConnection, entity_id: str) -> str | None:
    """Return the entity's latest period with stored actuals, such as ``FY2024-P03``."""
    balances = tables.balances
    latest = (await connection.execute(select(func.max(balances.c.period)).where(
        balances.c.entity_id == entity_id))).scalar()
    return None if latest is None else str(latest)


async def list_alerts(connection: AsyncConnection, filters: dict[str, str | None], limit: int, *,
                      open_only: bool = False) -> Sequence[AnyRow]:
    """List alerts, the most recently changed first, keeping only rows equal to every filter that is not None."""
    table = tables.alerts
    statement = select(table).order_by(table.c.updated_at.desc(), table.c.alert_id).limit(limit)
    if open_only:
        statement = statement.where(table.c.status != "resolved")
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(table.c[name] == value)
    return (await connection.execute(statement)).all()


async def get_alert(connection: AsyncConnection, alert_id: str) -> AnyRow | None:
    return (await connection.execute(select(tables.alerts).where(tables.alerts.c.alert_id == alert_id))).first()


async def lock_change_log(connection: AsyncConnection) -> None:
    """Serialise writers of the alert change log until commit, on PostgreSQL; SQLite has one writer anyway.

    Readers follow the log by sequence, so a sequence number must never commit after a higher one.
    The lock does not block plain reads.
    """
    if connection.dialect.name == "postgresql":
        await connection.execute(text("LOCK TABLE alert_changes IN SHARE ROW EXCLUSIVE MODE"))
