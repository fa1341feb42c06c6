"""Manual overrides of forecast values, per series and period or top-down on a hierarchy node.

An override replaces the computed value of one forecast period and re-rolls the series into a new
version, whose override layer shows what the override added. An override on a period that later
receives actuals drops out of the horizon and stays in the history.
"""

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import Conflict, InvalidInput, NotFound
from ipm_common.money import CENT
from ipm_common.periods import PeriodKey
from ipm_common.storage import Database, command_transaction, utcnow
from ipm_forecast.adapters import forecast_store, repository
from ipm_forecast.adapters.forecast_store import OverrideRecord, Series
from ipm_forecast.domain.overrides import allocate_top_down
from ipm_forecast.service_layer.rerolling import SUBJECT, Trigger, reroll_many

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OverrideRequest:
    entity_id: str
    account_id: str
    cost_centre: str
    period: str
    value: Decimal
    author: str
    reason: str


@dataclass(frozen=True)
class TopDownRequest:
    entity_id: str
    hierarchy: str
    node: str
    cost_centre: str
    period: str
    value: Decimal
    author: str
    reason: str


async def set_override(database: Database, request: OverrideRequest, *, horizon: int) -> OverrideRecord:
    """Store an override of one forecast period and re-roll the series; 404 without a forecast covering it."""
    series = (request.entity_id, request.account_id, request.cost_centre)
    trigger = Trigger.command("override.set")
    async with command_transaction(database, subject=SUBJECT) as transaction:
        period = await _forecast_period(transaction.connection, request.entity_id, request.period)
        if await forecast_store.latest_values(transaction.connection, series, period) is None:
            raise NotFound(f"no forecast of {request.entity_id}/{request.account_id} covers {period}; "
                           "an override needs a forecast period of the series")
        _check_cents(request.value)
        await _check_sign(transaction.connection, request.account_id, request.value)
        record = _record(request.entity_id, request.account_id, request.cost_centre, str(period), request.value,
                         request.author, request.reason, None)
        await forecast_store.insert_override(transaction.connection, record)
        await reroll_many(transaction, trigger, [series], horizon=horizon)
    logger.info("override %s by %s sets %s/%s/%s %s to %s", record.override_id, record.author, *series, period,
                record.value)
    return record


async def set_top_down(database: Database, request: TopDownRequest, *, horizon: int) -> list[OverrideRecord]:
    """Allocate a value set on a hierarchy node to its leaves by their current forecast, then re-roll them."""
    trigger = Trigger.command("override.top_down")
    top_down_id = str(uuid.uuid4())
    async with command_transaction(database, subject=SUBJECT) as transaction:
        connection = transaction.connection
        period = await _forecast_period(connection, request.entity_id, request.period)
        leaves = await _leaves(connection, request.hierarchy, request.node)
        current = {}
        for leaf in leaves:
            value = await forecast_store.latest_values(connection, (request.entity_id, leaf, request.cost_centre),
                                                       period)
            if value is not None:
                current[leaf] = value
        parts = allocate_top_down(request.value, current)
        for leaf, part in parts.items():
            await _check_sign(connection, leaf, part)
        records = [_record(request.entity_id, leaf, request.cost_centre, str(period), part, request.author,
                           request.reason, top_down_id) for leaf, part in parts.items()]
        for record in records:
            await forecast_store.insert_override(connection, record)
        series: list[Series] = [(request.entity_id, leaf, request.cost_centre) for leaf in parts]
        await reroll_many(transaction, trigger, series, horizon=horizon)
    logger.info("top-down override %s by %s sets %s %s/%s %s to %s over %s leaves", top_down_id, request.author,
                request.entity_id, request.hierarchy, request.node, period, request.value, len(records))
    return records


async def withdraw_override(database: Database, override_id: str, *, horizon: int) -> OverrideRecord:
    """Withdraw an active override and re-roll its series with the computed value again."""
    trigger = Trigger.command("override.withdrawn")
    async with command_transaction(database, subject=SUBJECT) as transaction:
        record = await forecast_store.override_by_id(transaction.connection, override_id)
        if record is None:
            raise NotFound(f"override {override_id!r} not found; GET /v1/overrides?entity_id= lists them")
        if not record.active:
            raise Conflict(f"override {override_id!r} is no longer active; it was replaced or withdrawn",
                           reason="override_inactive")
        await forecast_store.deactivate_override(transaction.connection, override_id)
        series = (record.entity_id, record.account_id, record.cost_centre)
        await reroll_many(transaction, trigger, [series], horizon=horizon)
    logger.info("override %s withdrawn from %s/%s/%s %s", override_id, *series, record.period)
    return record


def _record(entity_id: str, account_id: str, cost_centre: str, period: str, value: Decimal, author: str,
            reason: str, top_down_id: str | None) -> OverrideRecord:
    return OverrideRecord(str(uuid.uuid4()), entity_id, account_id, cost_centre, period, value, author, reason,
                          top_down_id, True, utcnow())


def _check_cents(value: Decimal) -> None:
    # Forecast values are kept in cents, so an override with a fraction of a cent would publish one.
    if value != value.quantize(CENT):
        raise InvalidInput(f"value: {value} has fractions of a cent; round the override to two decimal places",
                           field="value")


async def _check_sign(connection: AsyncConnection, account_id: str, value: Decimal) -> None:
    """Reject a negative override of a line flagged non-negative, which must never publish a negative value."""
    account = await repository.reference.account(connection, account_id)
    if account.non_negative and value < 0:
        raise InvalidInput(f"value: {value} is negative, but account {account_id!r} is non-negative; send zero or "
                           "more", field="value")


async def _forecast_period(connection: AsyncConnection, entity_id: str, text: str) -> PeriodKey:
    entity = await repository.reference.entity(connection, entity_id)
    return entity.calendar.parse_period(text)


async def _leaves(connection: AsyncConnection, hierarchy_name: str, node: str) -> list[str]:
    hierarchies = {hierarchy.name: hierarchy for hierarchy in await repository.reference.hierarchies(connection)}
    hierarchy = hierarchies.get(hierarchy_name)
    if hierarchy is None:
        raise NotFound(f"account hierarchy {hierarchy_name!r} not found; GET /v1/reference lists the hierarchies")
    if node not in hierarchy.nodes:
        raise InvalidInput(f"node: {node!r} is not a node of hierarchy {hierarchy_name!r}; GET /v1/reference lists "
                           "its nodes", field="node")
    if not hierarchy.children_of(node):
        raise InvalidInput(f"node: {node!r} has no children in hierarchy {hierarchy_name!r}; override a leaf with "
                           "POST /v1/overrides", field="node")
    return hierarchy.leaves_under(node)
