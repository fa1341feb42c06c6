"""Queries of the forecast service's tables."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.events import BudgetApproved, BudgetLine, BudgetPeriod
from ipm_common.fx import Rate, RateTable
from ipm_common.periods import PeriodKey
from ipm_common.reference import ReferenceStore
from ipm_common.storage import utcnow
from ipm_forecast.adapters import tables
from ipm_forecast.domain.ledger import LedgerContext, LedgerPosting, PostingRequest, StoredPosting

reference = ReferenceStore(tables.reference)

# NOTE: SQLite limits bound parameters per statement (32,766 since 3.32); chunks stay well below.
CHUNK = 500


async def load_ledger_context(connection: AsyncConnection, lines: Sequence[PostingRequest],
                              base_currency: str) -> LedgerContext:
    """Load what a batch must be checked against: reference data, closed periods, earlier postings."""
    entity_ids = {line.entity_id for line in lines}
    source_ids = {line.source_id for line in lines} | {line.reverses for line in lines if line.reverses}
    return LedgerContext(
        entities=await reference.entities(connection),
        accounts=await reference.accounts(connection),
        closed_periods=await closed_periods(connection, entity_ids),
        stored=await stored_postings(connection, source_ids),
        latest_period=await latest_periods(connection, entity_ids),
        rates=await rate_table(connection, base_currency),
        balance_series=await balance_series(connection, entity_ids),
    )


async def balance_series(connection: AsyncConnection, entity_ids: Iterable[str]) -> set[tuple[str, str, str]]:
    """Return the (entity, account, cost centre) series of the given entities that period balances feed."""
    table = tables.period_balances
    rows = await connection.execute(select(table.c.entity_id, table.c.account_id, table.c.cost_centre).distinct()
                                    .where(table.c.entity_id.in_(list(entity_ids))))
    return {(row.entity_id, row.account_id, row.cost_centre) for row in rows}


async def closed_periods(connection: AsyncConnection, entity_ids: Iterable[str]) -> set[tuple[str, PeriodKey]]:
    table = tables.closed_periods
    rows = await connection.execute(select(table.c.entity_id, table.c.period).where(
        table.c.entity_id.in_(list(entity_ids))))
    return {(row.entity_id, PeriodKey.parse(row.period)) for row in rows}


async def stored_postings(connection: AsyncConnection, source_ids: Iterable[str]) -> dict[str, StoredPosting]:
    table = tables.postings
    wanted = list(source_ids)
    found: dict[str, StoredPosting] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        rows = await connection.execute(select(table).where(table.c.source_id.in_(chunk)))
        for row in rows:
            found[row.source_id] = StoredPosting(row.source_id, row.entity_id, row.account_id, row.cost_centre,
                                                 row.posting_date, row.ledger_amount, row.currency, row.reverses,
                                                 None)
        reversals = await connection.execute(select(table.c.source_id, table.c.reverses).where(
            table.c.reverses.in_(chunk)))
        for reversal in reversals:
            original = found.get(reversal.reverses)
            if original is not None:
                found[reversal.reverses] = StoredPosting(**{**original.__dict__, "reversed_by": reversal.source_id})
    return found


async def latest_periods(connection: AsyncConnection, entity_ids: Iterable[str]) -> dict[str, PeriodKey]:
    table = tables.postings
    rows = await connection.execute(select(table.c.entity_id, func.max(table.c.period)).where(
        table.c.entity_id.in_(list(entity_ids))).group_by(table.c.entity_id))
    return {entity_id: PeriodKey.parse(period) for entity_id, period in rows}


async def latest_period(connection: AsyncConnection, entity_id: str) -> PeriodKey | None:
    return (await latest_periods(connection, [entity_id])).get(entity_id)


async def rate_table(connection: AsyncConnection, base_currency: str) -> RateTable:
    rows = await connection.execute(select(tables.fx_rates))
    rates = [Rate(row.from_currency, row.to_currency, row.rate_type, row.period, row.rate) for row in rows]
    return RateTable(base_currency, rates)


async def insert_postings(connection: AsyncConnection, postings: Sequence[LedgerPosting], *, batch_id: str,
                          channel: str) -> None:
    received_at = utcnow()
    rows = [
        {
            "source_id": posting.request.source_id,
            "entity_id": posting.request.entity_id,
            "account_id": posting.request.account_id,
            "cost_centre": posting.request.cost_centre,
            "period": str(posting.period),
            "posting_date": posting.request.posting_date,
            "amount": posting.amount,
            "ledger_amount": posting.request.amount,
            "currency": posting.request.currency,
            "reverses": posting.request.reverses,
            "late": posting.late,
            "batch_id": batch_id,
            "channel": channel,
            "received_at": received_at,
        }
        for posting in postings
    ]
    for start in range(0, len(rows), CHUNK):
        await connection.execute(insert(tables.postings), rows[start:start + CHUNK])


async def series_postings(connection: AsyncConnection, entity_id: str, account_id: str,
                          cost_centre: str) -> list[tuple[PeriodKey, Decimal, int]]:
    """List (period, natural amount, ledger version) of one series' postings in ledger order."""
    table = tables.postings
    rows = await connection.execute(
        select(table.c.period, table.c.amount, table.c.ledger_version)
        .where(table.c.entity_id == entity_id, table.c.account_id == account_id, table.c.cost_centre == cost_centre)
        .order_by(table.c.ledger_version)
    )
    return [(PeriodKey.parse(row.period), row.amount, row.ledger_version) for row in rows]


async def period_totals(connection: AsyncConnection, entity_id: str, account_id: str,
                        cost_centre: str) -> tuple[dict[PeriodKey, Decimal], int]:
    """Sum one series' postings by period; also return the series' newest ledger version."""
    totals: dict[PeriodKey, Decimal] = defaultdict(Decimal)
    version = 0
    for period, amount, ledger_version in await series_postings(connection, entity_id, account_id, cost_centre):
        totals[period] += amount
        version = max(version, ledger_version)
    return dict(totals), version


async def planned_benefits(connection: AsyncConnection, entity_id: str, account_id: str) -> dict[PeriodKey, Decimal]:
    """Sum the planned benefits of every project on one line by period."""
    table = tables.planned_benefits
    rows = await connection.execute(select(table.c.period, table.c.amount).where(
        table.c.entity_id == entity_id, table.c.account_id == account_id))
    totals: dict[PeriodKey, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[PeriodKey.parse(row.period)] += row.amount
    return dict(totals)


async def next_forecast_version(connection: AsyncConnection, entity_id: str, account_id: str,
                                cost_centre: str) -> int:
    table = tables.forecasts
    current = (await connection.execute(select(func.max(table.c.version)).where(
        table.c.entity_id == entity_id, table.c.account_id == account_id,
        table.c.cost_centre == cost_centre))).scalar()
    return int(current or 0) + 1


# --- exchange rates ----------------------------------------------------------------------------


async def stored_rates(connection: AsyncConnection) -> list[dict[str, Any]]:
    """List every stored rate as column values, ordered by pair, rate type and period."""
    table = tables.fx_rates
    rows = await connection.execute(select(table).order_by(
        table.c.from_currency, table.c.to_currency, table.c.rate_type, table.c.period))
    return [dict(row._mapping) for row in rows]


async def replace_rate(connection: AsyncConnection, rate: Rate) -> None:
    await delete_rate(connection, rate.from_currency, rate.to_currency, rate.rate_type, rate.period)
    await connection.execute(insert(tables.fx_rates).values(
        from_currency=rate.from_currency, to_currency=rate.to_currency, rate_type=rate.rate_type,
        period=rate.period, rate=rate.rate))


async def delete_rate(connection: AsyncConnection, from_currency: str, to_currency: str, rate_type: str,
                      period: str) -> int:
    """Delete one stored rate; return the number of deleted rows (0 or 1)."""
    table = tables.fx_rates
    result = await connection.execute(delete(table).where(
        table.c.from_currency == from_currency, table.c.to_currency == to_currency,
        table.c.rate_type == rate_type, table.c.period == period))
    return result.rowcount


# --- closed periods ----------------------------------------------------------------------------


async def close_period(connection: AsyncConnection, entity_id: str, period: PeriodKey, closed_by: str) -> None:
    """Record a closed period; closing it again keeps the first closing."""
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(tables.closed_periods).values(
        entity_id=entity_id, period=str(period), closed_at=utcnow(), closed_by=closed_by)
    await connection.execute(statement.on_conflict_do_nothing())


async def reopen_period(connection: AsyncConnection, entity_id: str, period: PeriodKey) -> bool:
    """Delete a closed period; return False when it was not closed."""
    table = tables.closed_periods
    result = await connection.execute(delete(table).where(table.c.entity_id == entity_id,
                                                          table.c.period == str(period)))
    return result.rowcount > 0


async def closed_period_list(connection: AsyncConnection, entity_id: str) -> list[tuple[PeriodKey, datetime, str]]:
    """List (period, closed at, closed by) of one entity's closed periods in period order."""
    table = tables.closed_periods
    rows = await connection.execute(select(table.c.period, table.c.closed_at, table.c.closed_by).where(
        table.c.entity_id == entity_id))
    return sorted((PeriodKey.parse(row.period), _as_utc(row.closed_at), row.closed_by) for row in rows)


def _as_utc(moment: datetime) -> datetime:
    """Mark a time read back without a zone as UTC, because SQLite drops the zone of the stored UTC times."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- budgets -----------------------------------------------------------------------------------


async def lock_entity(connection: AsyncConnection, entity_id: str) -> None:
    """Lock the entity's reference row until the commit, so that budget approvals of the entity run in turn.

    SQLite ignores FOR UPDATE and needs no lock, because every write transaction there takes the
    database's single write lock (BEGIN IMMEDIATE).
    """
    table = tables.reference.entities
    await connection.execute(select(table.c.entity_id).where(table.c.entity_id == entity_id).with_for_update())


async def stored_budget(connection: AsyncConnection, budget_id: str) -> BudgetApproved | None:
    """Read a stored budget back as the event that announced it, lines ordered by line and cost centre."""
    header = (await connection.execute(select(tables.budgets).where(
        tables.budgets.c.budget_id == budget_id))).first()
    if header is None:
        return None

    table = tables.budget_lines
    rows = await connection.execute(select(table).where(table.c.budget_id == budget_id).order_by(
        table.c.line, table.c.cost_centre, table.c.period))
    by_line: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        by_line[(row.line, row.cost_centre)].append(row)
    lines = tuple(_budget_line(line_rows) for line_rows in by_line.values())
    return BudgetApproved(entity_id=header.entity_id, budget_id=header.budget_id, fiscal_year=header.fiscal_year,
                          version=header.version, approved_by=header.approved_by, lines=lines)


def _budget_line(rows: Sequence[Any]) -> BudgetLine:
    first = rows[0]
    return BudgetLine(line=first.line, cost_centre=first.cost_centre or None, annual=first.annual,
                      spread_method=first.spread_method,
                      periods=tuple(BudgetPeriod(period=row.period, amount=row.amount) for row in rows))
