"""Queries of benefit lines, baselines, actuals and realisations. Callers open the connection."""

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.periods import PeriodKey
from ipm_common.storage import utcnow
from ipm_projects.adapters import tables
from ipm_projects.adapters.repository import aware
from ipm_projects.domain.projects import Line
from ipm_projects.domain.realisation import RealisedPoint, StoredForecast


@dataclass(frozen=True)
class BenefitLine:
    project_id: str
    entity_id: str
    account_id: str
    benefit_type: Any
    stage: Any
    validated_by: str | None
    validated_at: datetime | None
    realisation_version: int

    @property
    def line(self) -> Line:
        return self.entity_id, self.account_id


def _line_of(row: Any) -> BenefitLine:
    validated_at = None if row.validated_at is None else aware(row.validated_at)
    return BenefitLine(row.project_id, row.entity_id, row.account_id, row.benefit_type, row.stage, row.validated_by,
                       validated_at, row.realisation_version)


def _where_line(table: Any, project_id: str, line: Line) -> Any:
    return (table.c.project_id == project_id) & (table.c.entity_id == line[0]) & (table.c.account_id == line[1])


async def benefit_lines(connection: AsyncConnection, project_id: str | None = None) -> list[BenefitLine]:
    """List benefit lines, of one project or of all, ordered by project, entity and account."""
    table = tables.project_benefit_lines
    query = select(table).order_by(table.c.project_id, table.c.entity_id, table.c.account_id)
    if project_id is not None:
        query = query.where(table.c.project_id == project_id)
    return [_line_of(row) for row in await connection.execute(query)]


async def projects_on_line(connection: AsyncConnection, entity_id: str, account_id: str) -> list[str]:
    table = tables.project_benefit_lines
    rows = await connection.execute(select(table.c.project_id).where(
        table.c.entity_id == entity_id, table.c.account_id == account_id).order_by(table.c.project_id))
    return list(rows.scalars())


async def plan_line(connection: AsyncConnection, project_id: str, line: Line, benefit_type: str) -> None:
    """Insert a benefit line, or reset a re-planned one to stage expected: finance must validate it again."""
    table = tables.project_benefit_lines
    values = {"benefit_type": benefit_type, "stage": "expected", "validated_by": None, "validated_at": None}
    result = await connection.execute(update(table).where(_where_line(table, project_id, line)).values(values))
    if result.rowcount == 0:
        await connection.execute(insert(table).values(
            project_id=project_id, entity_id=line[0], account_id=line[1], realisation_version=0, **values))


async def drop_line(connection: AsyncConnection, project_id: str, line: Line) -> None:
    """Delete a line the project no longer plans on, with its realisations."""
    for table in (tables.realisations, tables.project_benefit_lines):
        await connection.execute(delete(table).where(_where_line(table, project_id, line)))


async def set_stage(connection: AsyncConnection, project_id: str, line: Line, stage: str, **values: Any) -> None:
    table = tables.project_benefit_lines
    await connection.execute(update(table).where(_where_line(table, project_id, line)).values(stage=stage, **values))


async def planned(connection: AsyncConnection, project_id: str | None = None) -> dict[tuple[str, str, str],
                                                                                        dict[PeriodKey, Decimal]]:
    """Map (project, entity, account) to the planned benefit per period, in the line's natural sign."""
    table = tables.project_benefits
    query = select(table)
    if project_id is not None:
        query = query.where(table.c.project_id == project_id)
    amounts: dict[tuple[str, str, str], dict[PeriodKey, Decimal]] = defaultdict(dict)
    for row in await connection.execute(query):
        amounts[(row.project_id, row.entity_id, row.account_id)][PeriodKey.parse(row.period)] = row.amount
    return amounts


async def store_forecast(connection: AsyncConnection, entity_id: str, account_id: str, cost_centre: str,
                         origin: str, version: int, baseline: Mapping[str, Decimal]) -> bool:
    """Keep a forecast version when it is the newest of its series and origin; return whether it was kept."""
    table = tables.line_forecasts
    key = ((table.c.entity_id == entity_id) & (table.c.account_id == account_id)
           & (table.c.cost_centre == cost_centre) & (table.c.origin == origin))
    stored = (await connection.execute(select(table.c.version).where(key))).scalar()
    document = json.dumps({period: format(amount, "f") for period, amount in baseline.items()})
    if stored is None:
        await connection.execute(insert(table).values(entity_id=entity_id, account_id=account_id,
                                                      cost_centre=cost_centre, origin=origin, version=version,
                                                      baseline=document))
        return True
    if version > stored:
        await connection.execute(update(table).where(key).values(version=version, baseline=document))
        return True
    return False


async def forecasts(connection: AsyncConnection, entity_id: str, account_id: str) -> list[StoredForecast]:
    table = tables.line_forecasts
    rows = await connection.execute(select(table).where(table.c.entity_id == entity_id,
                                                        table.c.account_id == account_id))
    return [StoredForecast(row.cost_centre, PeriodKey.parse(row.origin), row.version,
                           {PeriodKey.parse(period): Decimal(amount)
                            for period, amount in json.loads(row.baseline).items()})
            for row in rows]


async def store_actuals(connection: AsyncConnection, entity_id: str, account_id: str, cost_centre: str,
                        balances: Sequence[tuple[str, Decimal, int]]) -> int:
    """Store period balances (period, amount, ledger version) where newer; return how many changed."""
    table = tables.line_actuals
    changed = 0
    for period, amount, ledger_version in balances:
        key = ((table.c.entity_id == entity_id) & (table.c.account_id == account_id)
               & (table.c.cost_centre == cost_centre) & (table.c.period == period))
        stored = (await connection.execute(select(table.c.ledger_version).where(key))).scalar()
        if stored is None:
            await connection.execute(insert(table).values(entity_id=entity_id, account_id=account_id,
                                                          cost_centre=cost_centre, period=period, amount=amount,
                                                          ledger_version=ledger_version))
        elif ledger_version > stored:
            await connection.execute(update(table).where(key).values(amount=amount, ledger_version=ledger_version))
        else:
            continue
        changed += 1
    return changed


async def actuals(connection: AsyncConnection, entity_id: str, account_id: str) -> dict[PeriodKey, Decimal]:
    """Sum the period balances of a line over its cost centres."""
    table = tables.line_actuals
    rows = await connection.execute(select(table).where(table.c.entity_id == entity_id,
                                                        table.c.account_id == account_id))
    totals: dict[PeriodKey, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[PeriodKey.parse(row.period)] += row.amount
    return dict(totals)


async def manual_baseline(connection: AsyncConnection, project_id: str, line: Line) -> dict[PeriodKey, Decimal]:
    table = tables.manual_baselines
    rows = await connection.execute(select(table).where(_where_line(table, project_id, line)))
    return {PeriodKey.parse(row.period): row.amount for row in rows}


async def replace_manual_baseline(connection: AsyncConnection, project_id: str, line: Line,
                                  points: Mapping[PeriodKey, Decimal], set_by: str) -> None:
    table = tables.manual_baselines
    await connection.execute(delete(table).where(_where_line(table, project_id, line)))
    now = utcnow()
    if points:
        await connection.execute(insert(table), [
            {"project_id": project_id, "entity_id": line[0], "account_id": line[1], "period": str(period),
             "amount": amount, "set_by": set_by, "set_at": now}
            for period, amount in sorted(points.items())
        ])


async def realisations(connection: AsyncConnection, project_id: str | None = None,
                       line: Line | None = None) -> dict[tuple[str, str, str], tuple[RealisedPoint, ...]]:
    """Map (project, entity, account) to its stored realised points in period order."""
    table = tables.realisations
    query = select(table)
    if project_id is not None:
        query = query.where(table.c.project_id == project_id)
    if line is not None:
        query = query.where(table.c.entity_id == line[0], table.c.account_id == line[1])
    points: dict[tuple[str, str, str], list[RealisedPoint]] = defaultdict(list)
    for row in await connection.execute(query):
        points[(row.project_id, row.entity_id, row.account_id)].append(
            RealisedPoint(PeriodKey.parse(row.period), row.planned, row.baseline, row.actual, row.realised))
    return {key: tuple(sorted(values)) for key, values in points.items()}


async def replace_realisations(connection: AsyncConnection, project_id: str, line: Line,
                               points: Sequence[RealisedPoint], realisation_version: int, stage: str) -> None:
    table = tables.realisations
    await connection.execute(delete(table).where(_where_line(table, project_id, line)))
    if points:
        await connection.execute(insert(table), [
            {"project_id": project_id, "entity_id": line[0], "account_id": line[1], "period": str(point.period),
             "planned": point.planned, "baseline": point.baseline, "actual": point.actual,
             "realised": point.realised}
            for point in points
        ])
    await set_stage(connection, project_id, line, stage, realisation_version=realisation_version)
