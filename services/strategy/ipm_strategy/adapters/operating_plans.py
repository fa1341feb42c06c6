"""Queries of the operating plan tables. Every function runs on a connection that its caller opened."""

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import Conflict
from ipm_common.storage import utcnow
from ipm_common.variance import ToleranceBand
from ipm_strategy.adapters import tables
from ipm_strategy.adapters.repository import aware
from ipm_strategy.domain.drivers import Drivers
from ipm_strategy.domain.operating_plans import DriverSettings, OperatingPlan, OperatingTarget, PlanEntry
from ipm_strategy.domain.sec import CashFlowComparison
from ipm_strategy.domain.statements import LineDefinition


async def load(connection: AsyncConnection, plan_id: str) -> tuple[OperatingPlan, Any] | None:
    """Load an operating plan with its header row, or None when it does not exist."""
    header = (await connection.execute(
        select(tables.operating_plans).where(tables.operating_plans.c.plan_id == plan_id))).first()
    if header is None:
        return None

    line_table, target_table = tables.operating_plan_lines, tables.operating_plan_targets
    line_rows = await connection.execute(select(line_table).where(line_table.c.plan_id == plan_id).order_by(
        line_table.c.fiscal_year, line_table.c.line))
    target_rows = await connection.execute(select(target_table).where(target_table.c.plan_id == plan_id).order_by(
        target_table.c.kind, target_table.c.line, target_table.c.fiscal_year))

    plan = OperatingPlan(
        plan_id=plan_id, entity_id=header.entity_id, name=header.name, status=header.status, version=header.version,
        entries=tuple(_entry(row) for row in line_rows), drivers=_drivers(header.drivers),
        targets=tuple(_target(row) for row in target_rows), revises=header.revises, adopted_by=header.adopted_by,
        adopted_at=None if header.adopted_at is None else aware(header.adopted_at),
    )
    return plan, header


async def headers(connection: AsyncConnection, entity_id: str | None) -> list[Any]:
    """List operating plan headers, newest first, of one entity or of all."""
    table = tables.operating_plans
    query = select(table).order_by(table.c.created_at.desc(), table.c.plan_id)
    if entity_id is not None:
        query = query.where(table.c.entity_id == entity_id)
    return list(await connection.execute(query))


async def insert_plan(connection: AsyncConnection, plan: OperatingPlan, *, source: str | None = None) -> None:
    now = utcnow()
    await connection.execute(insert(tables.operating_plans).values(
        plan_id=plan.plan_id, created_at=now, source=source, **_header_values(plan, now)))
    await _replace_children(connection, plan)


async def save_plan(connection: AsyncConnection, plan: OperatingPlan, *, previous_version: int,
                    targets_version: int | None = None) -> None:
    """Store a changed plan. A concurrent change of the same plan is a conflict."""
    table = tables.operating_plans
    values = _header_values(plan, utcnow())
    if targets_version is not None:
        values["targets_version"] = targets_version
    result = await connection.execute(
        update(table).where(table.c.plan_id == plan.plan_id, table.c.version == previous_version).values(values))
    if result.rowcount != 1:
        raise Conflict(f"operating plan {plan.plan_id} changed while this request ran; retry the request",
                       reason="concurrent_update")
    await _replace_children(connection, plan)


def _header_values(plan: OperatingPlan, now: datetime) -> dict[str, Any]:
    return {"entity_id": plan.entity_id, "name": plan.name, "status": plan.status, "version": plan.version,
            "revises": plan.revises, "drivers": _drivers_json(plan.drivers), "adopted_by": plan.adopted_by,
            "adopted_at": plan.adopted_at, "updated_at": now}


async def _replace_children(connection: AsyncConnection, plan: OperatingPlan) -> None:
    line_table, target_table = tables.operating_plan_lines, tables.operating_plan_targets
    await connection.execute(delete(line_table).where(line_table.c.plan_id == plan.plan_id))
    await connection.execute(delete(target_table).where(target_table.c.plan_id == plan.plan_id))
    if plan.entries:
        await connection.execute(insert(line_table), [
            {"plan_id": plan.plan_id, "line": item.definition.line, "fiscal_year": item.fiscal_year,
             "statement": item.definition.statement, "kind": item.definition.kind, "role": item.definition.role,
             "origin": item.origin, "amount": item.amount}
            for item in plan.entries
        ])
    if plan.targets:
        await connection.execute(insert(target_table), [
            {"plan_id": plan.plan_id, "kind": target.kind, "line": target.line, "fiscal_year": target.fiscal_year,
             "amount": target.amount, "band_pct": target.band.pct, "band_absolute": target.band.absolute,
             "band_scope": target.band.scope}
            for target in plan.targets
        ])


def _entry(row: Any) -> PlanEntry:
    return PlanEntry(LineDefinition(row.line, row.statement, row.kind, row.role), row.fiscal_year, row.amount,
                     row.origin)


def _target(row: Any) -> OperatingTarget:
    return OperatingTarget(row.kind, row.line, row.fiscal_year, row.amount,
                           ToleranceBand(pct=row.band_pct, absolute=row.band_absolute, scope=row.band_scope))


def _drivers_json(settings: DriverSettings | None) -> str | None:
    if settings is None:
        return None
    drivers = {name: format(value, "f") for name, value in settings.drivers.as_dict().items()}
    return json.dumps({"base_year": settings.base_year, "years": settings.years, "drivers": drivers})


def _drivers(text: str | None) -> DriverSettings | None:
    if text is None:
        return None
    stored = json.loads(text)
    drivers = Drivers(**{name: Decimal(value) for name, value in stored["drivers"].items()})
    return DriverSettings(stored["base_year"], stored["years"], drivers)


async def insert_comparisons(connection: AsyncConnection, plan_id: str,
                             comparisons: Sequence[CashFlowComparison]) -> None:
    if comparisons:
        await connection.execute(insert(tables.cash_flow_comparisons), [
            {"plan_id": plan_id, "fiscal_year": item.fiscal_year, "net_income": item.net_income,
             "non_cash_items": item.non_cash_items,
             "increase_in_working_capital_assets": item.increase_in_working_capital_assets,
             "increase_in_working_capital_liabilities": item.increase_in_working_capital_liabilities,
             "reported": item.reported, "missing_lines": ",".join(item.missing_lines)}
            for item in comparisons
        ])


async def comparisons(connection: AsyncConnection, plan_id: str) -> list[CashFlowComparison]:
    table = tables.cash_flow_comparisons
    rows = await connection.execute(select(table).where(table.c.plan_id == plan_id).order_by(table.c.fiscal_year))
    return [CashFlowComparison(row.fiscal_year, row.net_income, row.non_cash_items,
                               row.increase_in_working_capital_assets, row.increase_in_working_capital_liabilities,
                               row.reported, tuple(name for name in row.missing_lines.split(",") if name))
            for row in rows]
