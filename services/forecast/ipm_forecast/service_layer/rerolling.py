"""Re-roll rolling forecasts and publish each new version.

Every series of a batch is fitted in one vectorised call, so re-rolling all series that one ERP
batch touched costs about as much as re-rolling one. Each version keeps its layers per point
(baseline, driver, benefits, override) and a lineage record of what produced it.
"""

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from ipm_common.dispatch import publish_event
from ipm_common.envelope import Envelope
from ipm_common.errors import NotFound
from ipm_common.events import ActualsPosted, ForecastPoint, ForecastRerolled
from ipm_common.periods import PeriodKey
from ipm_common.reference import Account
from ipm_common.storage import Database, Transaction, command_transaction, utcnow
from ipm_forecast.adapters import forecast_store, repository, tables
from ipm_forecast.domain.drivers import driver_layer
from ipm_forecast.domain.grid import SeriesKind, build_grid
from ipm_forecast.domain.layers import Layers, benefit_layer, compose_points
from ipm_forecast.domain.statistics import BaselineForecast, forecast_baselines
from ipm_forecast.service_layer.driver_effects import DriverInputs, load_driver_inputs

logger = logging.getLogger(__name__)

# A command whose re-roll clashes with a concurrent re-roll of the same series gets 409 and may be retried.
SUBJECT = "forecast versions"

SOURCE = "ipm-forecast"


@dataclass(frozen=True)
class Trigger:
    """The event or command that asked for a re-roll; lineage records its id and type."""

    event_id: str
    event_type: str
    correlation_id: str

    @classmethod
    def of(cls, envelope: Envelope) -> "Trigger":
        return cls(envelope.id, envelope.type, envelope.correlationid)

    @classmethod
    def command(cls, name: str) -> "Trigger":
        """Name a command received over HTTP, such as ``override.set``; its id is also the correlation id."""
        command_id = str(uuid.uuid4())
        return cls(command_id, f"command.{name}", command_id)


@dataclass(frozen=True)
class RerollRequest:
    """One series to re-roll, with what asked for it and the ERP batch it belongs to."""

    trigger: Trigger
    entity_id: str
    account_id: str
    cost_centre: str
    batch_id: str
    batch_series_count: int

    @classmethod
    def for_actuals(cls, envelope: Envelope, data: ActualsPosted) -> "RerollRequest":
        return cls(Trigger.of(envelope), data.entity_id, data.account_id, data.cost_centre or "", data.batch_id,
                   data.batch_series_count)

    @property
    def series(self) -> forecast_store.Series:
        return self.entity_id, self.account_id, self.cost_centre


@dataclass(frozen=True)
class _SeriesInputs:
    request: RerollRequest
    origin: PeriodKey
    periods: list[PeriodKey]
    history: list[Decimal]
    non_negative: bool
    ledger_version: int
    planned_benefits: dict[PeriodKey, Decimal]
    driver: DriverInputs | None
    overrides: dict[PeriodKey, Decimal]
    lineage: dict[str, Any] = field(default_factory=dict)


async def reroll_batch(transaction: Transaction, requests: list[RerollRequest], *, horizon: int) -> list[int]:
    """Forecast every requested series from its ledger, driver, benefits and overrides; return the new versions.

    The forecast starts after the entity's latest period with actuals, so every series of an
    entity shares one origin. A series without postings is skipped.
    """
    connection = transaction.connection
    origins = {entity_id: await repository.latest_period(connection, entity_id)
               for entity_id in {request.entity_id for request in requests}}
    accounts = await repository.reference.accounts(connection)
    context = await _load_context(transaction, list(origins))
    inputs = [loaded for request in requests
              if (loaded := await _load(transaction, request, origins[request.entity_id], accounts, context, horizon))
              is not None]
    if not inputs:
        return []

    baselines = forecast_baselines([item.history for item in inputs], horizon,
                                   non_negative=[item.non_negative for item in inputs])
    return [await _store_and_publish(transaction, item, baseline)
            for item, baseline in zip(inputs, baselines, strict=True)]


@dataclass(frozen=True)
class _EntityContext:
    """Driver lines, active overrides and benefit versions of the batch's entities, read once per batch."""

    driver_lines: dict[forecast_store.Series, forecast_store.DriverLine]
    overrides: dict[forecast_store.Series, list[forecast_store.OverrideRecord]]
    benefit_versions: dict[tuple[str, str], dict[str, int]]


async def _load_context(transaction: Transaction, entity_ids: list[str]) -> _EntityContext:
    connection = transaction.connection
    return _EntityContext(await forecast_store.entity_driver_lines(connection, entity_ids),
                          await forecast_store.entity_active_overrides(connection, entity_ids),
                          await forecast_store.entity_benefit_versions(connection, entity_ids))


async def _load(transaction: Transaction, request: RerollRequest, origin: PeriodKey | None,
                accounts: Mapping[str, Account], context: _EntityContext, horizon: int) -> _SeriesInputs | None:
    connection = transaction.connection
    totals, ledger_version = await repository.period_totals(connection, request.entity_id, request.account_id,
                                                            request.cost_centre)
    if not totals or origin is None:
        logger.info("series %s/%s/%s has no actuals; nothing to re-roll", request.entity_id, request.account_id,
                    request.cost_centre)
        return None

    account = accounts.get(request.account_id)
    if account is None:
        raise NotFound(f"account {request.account_id!r} is not defined; define it in the strategy service first")
    kind = SeriesKind.BALANCE if account.is_balance else SeriesKind.FLOW
    history_periods, grid = build_grid(totals, kind, last=origin)
    history = [value or Decimal(0) for value in grid]
    periods = [origin.shift(step) for step in range(1, horizon + 1)]

    driver = await load_driver_inputs(connection, request.series, context.driver_lines.get(request.series),
                                      history_periods, history, periods)
    benefits = await repository.planned_benefits(connection, request.entity_id, request.account_id)
    horizon_periods = {str(period) for period in periods}
    overrides = [record for record in context.overrides.get(request.series, [])
                 if record.period in horizon_periods]
    lineage = {
        "trigger": {"event_id": request.trigger.event_id, "event_type": request.trigger.event_type},
        "origin": str(origin), "ledger_version": ledger_version,
        "benefits": context.benefit_versions.get((request.entity_id, request.account_id), {}),
        "driver": None if driver is None else driver.lineage,
        "overrides": sorted(record.override_id for record in overrides),
    }
    return _SeriesInputs(request, origin, periods, history, account.non_negative, ledger_version, benefits, driver,
                         {PeriodKey.parse(record.period): record.value for record in overrides}, lineage)


def _layers(item: _SeriesInputs, baseline: BaselineForecast) -> Layers:
    driver = [Decimal(0)] * len(item.periods)
    if item.driver is not None and item.driver.regression is not None:
        driver = driver_layer(item.driver.regression, item.driver.path, baseline.p50, non_negative=item.non_negative)
    benefits = benefit_layer(item.planned_benefits, item.origin, item.periods)
    return Layers(item.periods, baseline.p10, baseline.p50, baseline.p90, driver, benefits)


def _regression_record(item: _SeriesInputs) -> dict[str, Any] | None:
    if item.driver is None:
        return None
    regression = item.driver.regression
    if regression is None:
        return {"method": None, "note": item.driver.note}
    return {"method": "ols", "intercept": str(regression.intercept), "slope": str(regression.slope),
            "r_squared": None if regression.r_squared is None else str(regression.r_squared),
            "observations": regression.observations}


async def _store_and_publish(transaction: Transaction, item: _SeriesInputs, baseline: BaselineForecast) -> int:
    request = item.request
    points = compose_points(_layers(item, baseline), item.overrides)
    lineage = {**item.lineage, "regression": _regression_record(item)}
    version = await repository.next_forecast_version(transaction.connection, request.entity_id,
                                                     request.account_id, request.cost_centre)
    forecast_id = str(uuid.uuid4())
    await _store(transaction, forecast_id, version, item, baseline, points, lineage)

    event = ForecastRerolled(
        entity_id=request.entity_id, account_id=request.account_id, cost_centre=request.cost_centre or None,
        forecast_id=forecast_id, version=version, origin=str(item.origin), method=baseline.method,
        clamped=baseline.clamped, ledger_version=item.ledger_version, batch_id=request.batch_id,
        batch_series_count=request.batch_series_count, points=points,
        driver_id=None if item.driver is None else str(item.driver.lineage["driver_id"]),
        driver_method=None if item.driver is None or item.driver.regression is None else "ols",
        trigger_type=request.trigger.event_type,
    )
    await publish_event(transaction, SOURCE, event, correlation_id=request.trigger.correlation_id,
                        subject=f"{request.entity_id}/{request.account_id}")
    logger.info("re-rolled %s/%s/%s to version %s from origin %s with %s after %s %s", request.entity_id,
                request.account_id, request.cost_centre, version, item.origin, baseline.method,
                request.trigger.event_type, request.trigger.event_id)
    return version


async def _store(transaction: Transaction, forecast_id: str, version: int, item: _SeriesInputs,
                 baseline: BaselineForecast, points: tuple[ForecastPoint, ...], lineage: dict[str, Any]) -> None:
    connection = transaction.connection
    request = item.request
    await connection.execute(insert(tables.forecasts).values(
        forecast_id=forecast_id, entity_id=request.entity_id, account_id=request.account_id,
        cost_centre=request.cost_centre, version=version, origin=str(item.origin), method=baseline.method,
        clamped=baseline.clamped, ledger_version=item.ledger_version, trigger_event_id=request.trigger.event_id,
        trigger_event_type=request.trigger.event_type, lineage=json.dumps(lineage, sort_keys=True),
        created_at=utcnow(),
    ))
    await connection.execute(insert(tables.forecast_points), [
        {"forecast_id": forecast_id, "period": point.period, "baseline": point.baseline, "benefits": point.benefits,
         "driver": point.driver, "override": point.override, "value": point.value, "p10": point.p10,
         "p90": point.p90}
        for point in points
    ])


async def reroll_series(transaction: Transaction, trigger: Envelope | Trigger, *, entity_id: str, account_id: str,
                        cost_centre: str, horizon: int, batch_id: str, batch_series_count: int) -> int | None:
    """Re-roll one series; return its new version, or None when it has no postings."""
    cause = trigger if isinstance(trigger, Trigger) else Trigger.of(trigger)
    request = RerollRequest(cause, entity_id, account_id, cost_centre, batch_id, batch_series_count)
    versions = await reroll_batch(transaction, [request], horizon=horizon)
    return versions[0] if versions else None


async def reroll_many(transaction: Transaction, trigger: Trigger, series: list[forecast_store.Series], *,
                      horizon: int) -> list[int]:
    """Re-roll several series after one command or event, as one batch under the trigger's id."""
    requests = [RerollRequest(trigger, entity_id, account_id, cost_centre, trigger.event_id, len(series))
                for entity_id, account_id, cost_centre in series]
    return await reroll_batch(transaction, requests, horizon=horizon)


async def reroll_entity(database: Database, entity_id: str, *, horizon: int) -> tuple[Trigger, list[int]]:
    """Re-roll every series of an entity that has actuals; return the command's trigger and the new versions."""
    trigger = Trigger.command("entity.reroll")
    async with command_transaction(database, subject=SUBJECT) as transaction:
        await repository.reference.entity(transaction.connection, entity_id)
        series = await forecast_store.entity_series(transaction.connection, entity_id)
        versions = await reroll_many(transaction, trigger, series, horizon=horizon)
    logger.info("re-rolled %s series of entity %s on request, command %s", len(versions), entity_id,
                trigger.event_id)
    return trigger, versions
