"""Commands on market drivers and driver-based lines; each change re-rolls the lines it affects."""

import logging
from dataclasses import dataclass
from decimal import Decimal

from ipm_common.errors import InvalidInput, NotFound
from ipm_common.storage import Database, Transaction, command_transaction
from ipm_forecast.adapters import forecast_store, repository
from ipm_forecast.adapters.forecast_store import Series
from ipm_forecast.domain.drivers import parse_month
from ipm_forecast.service_layer.rerolling import SUBJECT, Trigger, reroll_many

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriverChange:
    """The outcome of a driver command: the driver's new version and the lines re-rolled."""

    driver_id: str
    version: int
    rerolled: list[Series]
    trigger_id: str


def _checked_months(values: dict[str, Decimal]) -> dict[str, Decimal]:
    if not values:
        raise InvalidInput("values: no months; send at least one {\"2024-03\": \"123.4\"} pair", field="values")
    return {parse_month(month, field=f"values.{month}"): value for month, value in values.items()}


async def put_driver_values(database: Database, driver_id: str, values: dict[str, Decimal], *, name: str | None,
                            horizon: int) -> DriverChange:
    """Store or correct a driver's published monthly values, then re-roll every line regressed on it."""
    months = _checked_months(values)
    trigger = Trigger.command("driver.values")
    async with command_transaction(database, subject=SUBJECT) as transaction:
        version = await forecast_store.bump_driver(transaction.connection, driver_id, name)
        await forecast_store.upsert_driver_values(transaction.connection, driver_id, months)
        rerolled = await _reroll_lines_of(transaction, trigger, driver_id, horizon)
    logger.info("driver %s version %s: %s months stored, %s lines re-rolled, command %s", driver_id, version,
                len(months), len(rerolled), trigger.event_id)
    return DriverChange(driver_id, version, rerolled, trigger.event_id)


async def put_scenario(database: Database, driver_id: str, scenario: str, values: dict[str, Decimal], *,
                       horizon: int) -> DriverChange:
    """Replace a named scenario path of a driver, then re-roll the lines that follow that scenario."""
    months = _checked_months(values)
    trigger = Trigger.command("driver.scenario")
    async with command_transaction(database, subject=SUBJECT) as transaction:
        if await forecast_store.driver(transaction.connection, driver_id) is None:
            raise NotFound(f"driver {driver_id!r} has no values; PUT /v1/drivers/{driver_id} first")
        version = await forecast_store.bump_driver(transaction.connection, driver_id, None)
        await forecast_store.replace_scenario(transaction.connection, driver_id, scenario, months)
        rerolled = await _reroll_lines_of(transaction, trigger, driver_id, horizon, scenario=scenario)
    logger.info("driver %s scenario %s version %s: %s months, %s lines re-rolled, command %s", driver_id, scenario,
                version, len(months), len(rerolled), trigger.event_id)
    return DriverChange(driver_id, version, rerolled, trigger.event_id)


async def configure_line(database: Database, series: Series, driver_id: str, scenario: str | None,
                         configured_by: str, *, horizon: int) -> DriverChange:
    """Regress a line on a driver (optionally following a named scenario) and re-roll the line."""
    trigger = Trigger.command("driver_line.configured")
    async with command_transaction(database, subject=SUBJECT) as transaction:
        connection = transaction.connection
        record = await forecast_store.driver(connection, driver_id)
        if record is None:
            raise NotFound(f"driver {driver_id!r} has no values; PUT /v1/drivers/{driver_id} first")
        if scenario is not None and scenario not in await forecast_store.scenario_names(connection, driver_id):
            raise NotFound(f"driver {driver_id!r} has no scenario {scenario!r}; "
                           f"PUT /v1/drivers/{driver_id}/scenarios/{scenario} first")
        await repository.reference.entity(connection, series[0])
        await repository.reference.account(connection, series[1])
        line_version = await forecast_store.replace_driver_line(connection, series, driver_id, scenario,
                                                                configured_by)
        rerolled = await _reroll(transaction, trigger, [series], horizon)
    logger.info("line %s/%s/%s regressed on driver %s scenario %s (configuration version %s), command %s",
                *series, driver_id, scenario, line_version, trigger.event_id)
    return DriverChange(driver_id, record.version, rerolled, trigger.event_id)


async def _reroll_lines_of(transaction: Transaction, trigger: Trigger, driver_id: str, horizon: int,
                           scenario: str | None = None) -> list[Series]:
    lines = await forecast_store.lines_of_driver(transaction.connection, driver_id)
    series = [(line.entity_id, line.account_id, line.cost_centre) for line in lines
              if scenario is None or line.scenario == scenario]
    return await _reroll(transaction, trigger, series, horizon)


async def _reroll(transaction: Transaction, trigger: Trigger, series: list[Series], horizon: int) -> list[Series]:
    if not series:
        return []
    await reroll_many(transaction, trigger, series, horizon=horizon)
    return series


async def remove_line(database: Database, series: Series, *, horizon: int) -> DriverChange:
    """Stop regressing a line on its driver and re-roll it without a driver effect."""
    trigger = Trigger.command("driver_line.removed")
    async with command_transaction(database, subject=SUBJECT) as transaction:
        line = await forecast_store.driver_line(transaction.connection, series)
        if line is None:
            raise NotFound(f"line {series[0]}/{series[1]} is not regressed on a driver; GET /v1/driver-lines/"
                           f"{series[0]}/{series[1]}?cost_centre= shows a line's configuration")
        await forecast_store.delete_driver_line(transaction.connection, series)
        rerolled = await _reroll(transaction, trigger, [series], horizon)
    logger.info("line %s/%s/%s no longer regressed on driver %s, command %s", *series, line.driver_id,
                trigger.event_id)
    return DriverChange(line.driver_id, 0, rerolled, trigger.event_id)
