"""Queries of the strategy service's tables. Every function runs on a connection that its caller opened."""

import json
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import Conflict
from ipm_common.storage import utcnow
from ipm_common.variance import ToleranceBand
from ipm_strategy.adapters import tables
from ipm_strategy.domain.accounts import Account
from ipm_strategy.domain.entities import Entity, parse_calendar
from ipm_strategy.domain.hierarchies import Edge, HierarchyDefinition
from ipm_strategy.domain.plans import Plan, PlanLine, Target
from ipm_strategy.domain.reviews import AuditEntry, Breach, Review


def aware(moment: datetime) -> datetime:
    """Return ``moment`` as an aware UTC datetime, because SQLite returns naive datetimes for columns written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def save_versioned(connection: AsyncConnection, table: Table, key: dict[str, str], values: dict[str, Any],
                         previous_version: int | None) -> None:
    """Insert a record at version 1 or update it from ``previous_version``. A concurrent update is a conflict."""
    values = {**values, "updated_at": utcnow()}
    if previous_version is None:
        await connection.execute(insert(table).values({**key, **values}))
        return

    conditions = [table.c[name] == value for name, value in key.items()]
    result = await connection.execute(
        update(table).where(*conditions, table.c.version == previous_version).values(values)
    )
    if result.rowcount != 1:
        raise Conflict(
            f"{table.name} {'/'.join(key.values())} changed while this request ran; retry the request",
            reason="concurrent_update",
        )


# --- entities ----------------------------------------------------------------------------------


async def entity(connection: AsyncConnection, entity_id: str) -> tuple[Entity, int] | None:
    """Load an entity with its version, or None when it is not registered."""
    row = (await connection.execute(select(tables.entities).where(tables.entities.c.entity_id == entity_id))).first()
    return None if row is None else (_entity(row), row.version)


async def entities(connection: AsyncConnection) -> list[tuple[Entity, int]]:
    rows = await connection.execute(select(tables.entities).order_by(tables.entities.c.entity_id))
    return [(_entity(row), row.version) for row in rows]


def entity_values(entity: Entity, version: int) -> dict[str, Any]:
    return {"name": entity.name, "currency": entity.currency, "calendar": json.dumps(entity.calendar.to_dict()),
            "version": version}


def _entity(row: Any) -> Entity:
    return Entity(row.entity_id, row.name, row.currency, parse_calendar(json.loads(row.calendar)))


# --- accounts ----------------------------------------------------------------------------------


async def accounts(connection: AsyncConnection,
                   account_ids: Sequence[str] | None = None) -> dict[str, tuple[Account, int]]:
    """Load accounts with their versions, all of them or those named in ``account_ids``."""
    query = select(tables.accounts).order_by(tables.accounts.c.account_id)
    if account_ids is not None:
        query = query.where(tables.accounts.c.account_id.in_(list(account_ids)))
    rows = await connection.execute(query)
    return {row.account_id: (_account(row), row.version) for row in rows}


def account_values(account: Account, version: int) -> dict[str, Any]:
    return {"name": account.name, "account_type": account.account_type, "statement": account.statement,
            "normal_balance": account.normal_balance, "direction": account.direction,
            "non_negative": account.non_negative, "version": version}


def _account(row: Any) -> Account:
    return Account(row.account_id, row.name, row.account_type, row.statement, row.normal_balance, row.direction,
                   row.non_negative)


# --- hierarchies -------------------------------------------------------------------------------


async def hierarchy(connection: AsyncConnection, name: str) -> tuple[HierarchyDefinition, int] | None:
    """Load a hierarchy with its edges in submitted order, or None when it does not exist."""
    header = (await connection.execute(
        select(tables.hierarchies).where(tables.hierarchies.c.hierarchy == name))).first()
    if header is None:
        return None

    edge_table = tables.hierarchy_edges
    rows = await connection.execute(
        select(edge_table).where(edge_table.c.hierarchy == name).order_by(edge_table.c.position))
    edges = tuple(Edge(row.child, row.parent) for row in rows)
    return HierarchyDefinition(name, header.dimension, edges), header.version


async def replace_edges(connection: AsyncConnection, definition: HierarchyDefinition) -> None:
    edge_table = tables.hierarchy_edges
    await connection.execute(delete(edge_table).where(edge_table.c.hierarchy == definition.name))
    if definition.edges:
        await connection.execute(insert(edge_table), [
            {"hierarchy": definition.name, "child": edge.child, "parent": edge.parent, "position": position}
            for position, edge in enumerate(definition.edges)
        ])


async def known_lines(connection: AsyncConnection, lines: Collection[str]) -> set[str]:
    """Return those of ``lines`` that are defined accounts or nodes of a hierarchy of dimension ``account``."""
    requested = list(set(lines))
    accounts_found = await connection.execute(
        select(tables.accounts.c.account_id).where(tables.accounts.c.account_id.in_(requested)))

    edges, headers = tables.hierarchy_edges, tables.hierarchies
    edges_found = await connection.execute(
        select(edges.c.child, edges.c.parent)
        .join(headers, headers.c.hierarchy == edges.c.hierarchy)
        .where(headers.c.dimension == "account", edges.c.child.in_(requested) | edges.c.parent.in_(requested)))

    found = {row.account_id for row in accounts_found}
    for row in edges_found:
        found.update((row.child, row.parent))
    return found & set(requested)


# --- plans and targets -------------------------------------------------------------------------


async def plan(connection: AsyncConnection, plan_id: str) -> tuple[Plan, int | None, datetime] | None:
    """Load a plan vintage with its targets version and creation time, or None when it does not exist."""
    header = (await connection.execute(select(tables.plans).where(tables.plans.c.plan_id == plan_id))).first()
    if header is None:
        return None

    line_table, target_table = tables.plan_lines, tables.plan_targets
    line_rows = await connection.execute(select(line_table).where(line_table.c.plan_id == plan_id).order_by(
        line_table.c.line, line_table.c.fiscal_year))
    target_rows = await connection.execute(select(target_table).where(target_table.c.plan_id == plan_id).order_by(
        target_table.c.line, target_table.c.fiscal_year))

    stored = Plan(plan_id, header.entity_id, header.name, header.kind, header.adopted_for_fiscal_year,
                  tuple(PlanLine(row.line, row.fiscal_year, row.amount) for row in line_rows),
                  tuple(_target(row) for row in target_rows))
    return stored, header.targets_version, aware(header.created_at)


async def plan_headers(connection: AsyncConnection, entity_id: str | None) -> list[Any]:
    """List plan headers, newest first, of one entity or of all."""
    table = tables.plans
    query = select(table).order_by(table.c.created_at.desc(), table.c.plan_id)
    if entity_id is not None:
        query = query.where(table.c.entity_id == entity_id)
    return list(await connection.execute(query))


async def latest_targets_version(connection: AsyncConnection, entity_id: str) -> int:
    """Return the entity's highest targets version over plans and operating plans, 0 when none set targets.

    NOTE: each table keeps (entity_id, targets_version) unique, but nothing spans both, so two plans of
    different kinds that publish targets for one entity at the same instant could take the same version.
    """
    latest = 0
    for table in (tables.plans, tables.operating_plans):
        version = (await connection.execute(
            select(func.max(table.c.targets_version)).where(table.c.entity_id == entity_id))).scalar()
        latest = max(latest, int(version or 0))
    return latest


async def insert_plan(connection: AsyncConnection, plan: Plan, targets_version: int | None) -> datetime:
    """Insert a plan vintage with its lines and targets, and return its creation time."""
    created_at = utcnow()
    await connection.execute(insert(tables.plans).values(
        plan_id=plan.plan_id, entity_id=plan.entity_id, name=plan.name, kind=plan.kind,
        adopted_for_fiscal_year=plan.adopted_for_fiscal_year, targets_version=targets_version,
        created_at=created_at,
    ))
    if plan.lines:
        await connection.execute(insert(tables.plan_lines), [
            {"plan_id": plan.plan_id, "line": line.line, "fiscal_year": line.fiscal_year, "amount": line.amount}
            for line in plan.lines
        ])
    if plan.targets:
        await connection.execute(insert(tables.plan_targets), [
            {"plan_id": plan.plan_id, "line": target.line, "fiscal_year": target.fiscal_year,
             "amount": target.amount, "band_pct": target.band.pct, "band_absolute": target.band.absolute,
             "band_scope": target.band.scope}
            for target in plan.targets
        ])
    return created_at


async def entity_targets(connection: AsyncConnection, entity_id: str,
                         fiscal_year: int | None = None) -> list[tuple[int, str, str, Target]]:
    """List every target that the entity's plans set, as (targets version, plan id, plan name, target)."""
    plans, targets = tables.plans, tables.plan_targets
    query = (
        select(plans.c.targets_version, plans.c.plan_id, plans.c.name.label("plan_name"), targets)
        .join(targets, targets.c.plan_id == plans.c.plan_id)
        .where(plans.c.entity_id == entity_id)
    )
    if fiscal_year is not None:
        query = query.where(targets.c.fiscal_year == fiscal_year)
    rows = await connection.execute(query)
    return [(row.targets_version, row.plan_id, row.plan_name, _target(row)) for row in rows]


def _target(row: Any) -> Target:
    return Target(row.line, row.fiscal_year, row.amount,
                  ToleranceBand(row.band_pct, row.band_absolute, row.band_scope))


# --- reviews -----------------------------------------------------------------------------------


async def review_id_for_alert(connection: AsyncConnection, alert_id: str) -> str | None:
    table = tables.reviews
    return (await connection.execute(
        select(table.c.review_id).where(table.c.alert_id == alert_id))).scalar()


async def review(connection: AsyncConnection, review_id: str) -> Review | None:
    row = (await connection.execute(
        select(tables.reviews).where(tables.reviews.c.review_id == review_id))).first()
    return None if row is None else _review(row)


async def reviews(connection: AsyncConnection, status: str | None, entity_id: str | None) -> list[Review]:
    """List reviews newest first. Reviews opened in the same instant are ordered by their audit entries."""
    table, audit = tables.reviews, tables.review_audit
    query = (
        select(table)
        .join(audit, (audit.c.review_id == table.c.review_id) & (audit.c.action == "opened"))
        .order_by(table.c.opened_at.desc(), audit.c.entry_id.desc())
    )
    if status is not None:
        query = query.where(table.c.status == status)
    if entity_id is not None:
        query = query.where(table.c.entity_id == entity_id)
    return [_review(row) for row in await connection.execute(query)]


async def insert_review(connection: AsyncConnection, review: Review, correlation_id: str) -> None:
    breach = review.breach
    await connection.execute(insert(tables.reviews).values(
        review_id=review.review_id, alert_id=breach.alert_id, entity_id=breach.entity_id, line=breach.line,
        fiscal_year=breach.fiscal_year, outlook=breach.outlook, target=breach.target, variance=breach.variance,
        variance_pct=breach.variance_pct, threshold=breach.threshold, status=review.status,
        opened_at=review.opened_at, correlation_id=correlation_id,
    ))


async def update_review(connection: AsyncConnection, review: Review, previous_status: str) -> None:
    """Store a review's new status and decision. A concurrent change of its status is a conflict."""
    table = tables.reviews
    result = await connection.execute(
        update(table)
        .where(table.c.review_id == review.review_id, table.c.status == previous_status)
        .values(status=review.status, decision=review.decision, decided_by=review.decided_by, reason=review.reason,
                owner=review.owner, due_date=review.due_date, analysis=review.analysis,
                revised_plan_id=review.revised_plan_id)
    )
    if result.rowcount != 1:
        raise Conflict(f"review {review.review_id} changed while this request ran; retry the request",
                       reason="concurrent_update")


async def add_audit_entry(connection: AsyncConnection, review_id: str, entry: AuditEntry) -> None:
    await connection.execute(insert(tables.review_audit).values(
        review_id=review_id, at=entry.at, by=entry.by, action=entry.action, from_status=entry.from_status,
        to_status=entry.to_status, note=entry.note,
    ))


async def audit_trail(connection: AsyncConnection, review_id: str) -> list[AuditEntry]:
    table = tables.review_audit
    rows = await connection.execute(select(table).where(table.c.review_id == review_id).order_by(table.c.entry_id))
    return [AuditEntry(aware(row.at), row.by, row.action, row.from_status, row.to_status, row.note) for row in rows]


def _review(row: Any) -> Review:
    breach = Breach(row.alert_id, row.entity_id, row.line, row.fiscal_year, row.outlook, row.target, row.variance,
                    row.variance_pct, row.threshold)
    return Review(row.review_id, breach, row.status, aware(row.opened_at), row.decision, row.decided_by, row.reason,
                  row.owner, row.due_date, row.analysis, row.revised_plan_id)
