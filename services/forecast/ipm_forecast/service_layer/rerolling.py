"""Re-roll rolling forecasts and publish each new version.

Every series of a batch is fitted in one vectorised call, so re-rolling all series that one ERP
batch touched costs about as much as re-rolling one.
"""

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert

from ipm_common.dispatch import publish_event
from ipm_common.envelope import Envelope
from ipm_common.errors import NotFound
from ipm_common.events import ActualsPosted, ForecastPoint, ForecastRerolled
from ipm_common.periods import PeriodKey
from ipm_common.reference import Account
from ipm_common.storage import Transaction, utcnow
from ipm_forecast.adapters import repository, tables
from ipm_forecast.domain.grid import SeriesKind, build_grid
from ipm_forecast.domain.layers import benefit_layer
from ipm_forecast.domain.statistics import BaselineForecast, forecast_baselines

logger = logging.getLogger(__name__)

SOURCE = "ipm-forecast"


@dataclass(frozen=True)
class RerollRequest:
    """One series to re-roll, with the event that asked for it and the ERP batch it belongs to."""

    envelope: Envelope
    entity_id: str
    account_id: str
    cost_centre: str
    batch_id: str
    batch_series_count: int

    @classmethod
    def for_actuals(cls, envelope: Envelope, data: ActualsPosted) -> "RerollRequest":
        return cls(envelope, data.entity_id, data.account_id, data.cost_centre or "", data.batch_id,
                   data.batch_series_count)


@dataclass(frozen=True)
class _SeriesInputs:
    request: RerollRequest
    origin: PeriodKey
    history: list[Decimal]
    non_negative: bool
    ledger_version: int
    planned_benefits: dict[PeriodKey, Decimal]


async def reroll_batch(transaction: Transaction, requests: list[RerollRequest], *, horizon: int) -> list[int]:
    """Forecast every requested series from its ledger and planned benefits; return the new versions.

    The forecast starts after the entity's latest period with actuals, so every series of an
    entity shares one origin. A series without postings is skipped.
    """
    connection = transaction.connection
    origins = {entity_id: await repository.latest_period(connection, entity_id)
               for entity_id in {request.entity_id for request in requests}}
    accounts = await repository.reference.accounts(connection)
    inputs = [loaded for request in requests
              if (loaded := await _load(transaction, request, origins[request.entity_id], accounts)) is not None]
    if not inputs:
        return []

    baselines = forecast_baselines([item.history for item in inputs], horizon,
                                   non_negative=[item.non_negative for item in inputs])
    return [await _store_and_publish(transaction, item, baseline, horizon)
            for item, baseline in zip(inputs, baselines, strict=True)]


async def _load(transaction: Transaction, request: RerollRequest, origin: PeriodKey | None,
                accounts: Mapping[str, Account]) -> _SeriesInputs | None:
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
    _, grid = build_grid(totals, kind, last=origin)
    benefits = await repository.planned_benefits(connection, request.entity_id, request.account_id)
    return _SeriesInputs(request, origin, [value or Decimal(0) for value in grid], account.non_negative,
                         ledger_version, benefits)


async def _store_and_publish(transaction: Transaction, item: _SeriesInputs, baseline: BaselineForecast,
                             horizon: int) -> int:
    request = item.request
    periods = [item.origin.shift(step) for step in range(1, horizon + 1)]
    benefits = benefit_layer(item.planned_benefits, item.origin, periods)
    points = tuple(
        ForecastPoint(period=str(period), baseline=p50, benefits=benefit, value=p50 + benefit,
                      p10=p10 + benefit, p90=p90 + benefit)
        for period, p10, p50, p90, benefit in zip(periods, baseline.p10, baseline.p50, baseline.p90, benefits,
                                                  strict=True)
    )
    version = await repository.next_forecast_version(transaction.connection, request.entity_id,
                                                     request.account_id, request.cost_centre)
    forecast_id = str(uuid.uuid4())
    await _store(transaction, forecast_id, request, version, item, baseline, points)

    event = ForecastRerolled(
        entity_id=request.entity_id, account_id=request.account_id, cost_centre=request.cost_centre or None,
        forecast_id=forecast_id, version=version, origin=str(item.origin), method=baseline.method,
        clamped=baseline.clamped, ledger_version=item.ledger_version, batch_id=request.batch_id,
        batch_series_count=request.batch_series_count, points=points,
    )
    await publish_event(transaction, SOURCE, event, correlation_id=request.envelope.correlationid,
                        subject=f"{request.entity_id}/{request.account_id}")
    logger.info("re-rolled %s/%s to version %s from origin %s with %s", request.entity_id, request.account_id,
                version, item.origin, baseline.method)
    return version


async def _store(transaction: Transaction, forecast_id: str, request: RerollRequest, version: int,
                 item: _SeriesInputs, baseline: BaselineForecast, points: tuple[ForecastPoint, ...]) -> None:
    connection = transaction.connection
    await connection.execute(insert(tables.forecasts).values(
        forecast_id=forecast_id, entity_id=request.entity_id, account_id=request.account_id,
        cost_centre=request.cost_centre, version=version, origin=str(item.origin), method=baseline.method,
        clamped=baseline.clamped, ledger_version=item.ledger_version, trigger_event_id=request.envelope.id,
        created_at=utcnow(),
    ))
    await connection.execute(insert(tables.forecast_points), [
        {"forecast_id": forecast_id, "period": point.period, "baseline": point.baseline, "benefits": point.benefits,
         "value": point.value, "p10": point.p10, "p90": point.p90}
        for point in points
    ])


async def reroll_series(transaction: Transaction, envelope: Envelope, *, entity_id: str, account_id: str,
                        cost_centre: str, horizon: int, batch_id: str, batch_series_count: int) -> int | None:
    """Re-roll one series; return its new version, or None when it has no postings."""
    request = RerollRequest(envelope, entity_id, account_id, cost_centre, batch_id, batch_series_count)
    versions = await reroll_batch(transaction, [request], horizon=horizon)
    return versions[0] if versions else None
