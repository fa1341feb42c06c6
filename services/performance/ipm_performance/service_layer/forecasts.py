"""Apply ``ForecastRerolled`` events: one event, or all events of one fetch, as one unit of work.

As with actuals, the unit stores first, deciding in memory and in order of arrival which
forecast of a series is the newest. It then evaluates each changed line once, and checks once
for each batch of its events whether that batch is complete.
"""

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ipm_common.envelope import Envelope
from ipm_common.events import ForecastRerolled
from ipm_common.periods import PeriodKey
from ipm_common.storage import Transaction, utcnow
from ipm_performance.adapters import batches, ledger, report_store
from ipm_performance.adapters.batches import SeriesEntry
from ipm_performance.adapters.ledger import SeriesId, StoredForecast, series_of
from ipm_performance.service_layer.actuals import OUTLOOKS, series_counts
from ipm_performance.service_layer.batches import EvaluationPlan, Origin, carry_out
from ipm_performance.service_layer.evaluation import Evaluator

logger = logging.getLogger(__name__)

Item = tuple[Envelope, ForecastRerolled]


async def apply_forecasts(transaction: Transaction, items: Sequence[Item]) -> None:
    """Store newer forecasts, compare the accounts' full-year outlooks, and count the forecasts for their batches.

    The topics of actuals and forecasts are consumed in no fixed order, so a forecast can arrive
    before the actuals it was built on. Its outlook then waits for them (see ``apply_actuals``),
    because an outlook without those actuals would raise alerts that are false.
    """
    connection = transaction.connection
    now = utcnow()
    events = [data for _, data in items]
    series = {series_of(data) for data in events}
    stored = await ledger.stored_forecasts(connection, series)
    held_versions = await ledger.series_ledger_versions(connection, series)
    newest, newer_ids = _newest_forecasts(items, stored)

    await ledger.replace_forecasts(connection, [_forecast_row(data, now) for _, data in newest.values()],
                                   [row for _, data in newest.values() for row in _point_rows(data)])
    # Every version is kept, a late older one too, because reports compare with forecasts made earlier.
    await report_store.add_forecast_versions(connection, [row for data in events for row in _history_rows(data)])

    years = {(data.batch_id, data.entity_id, PeriodKey.parse(data.origin).fiscal_year) for data in events}
    await batches.note_batches(connection, series_counts(events), {(data.batch_id, data.entity_id) for data in events},
                               years, now)
    await batches.count_forecasts(connection, [
        SeriesEntry(data.batch_id, series_of(data), data.ledger_version,
                    held_versions[series_of(data)] < data.ledger_version) for data in events])
    for envelope, data in items:
        _log_forecast(data, envelope.id in newer_ids, held_versions[series_of(data)])

    plan = EvaluationPlan()
    for key, (envelope, data) in newest.items():
        if held_versions[key] >= data.ledger_version:
            plan.add(data.entity_id, PeriodKey.parse(data.origin).fiscal_year, {data.account_id}, OUTLOOKS,
                     Origin(data.batch_id, envelope.correlationid))
    for envelope, data in items:
        plan.check_batch(data.batch_id, envelope.correlationid)

    outcome = await carry_out(Evaluator(transaction), plan)
    logger.info("applied %s forecast events: %s variance lines, %s alert changes", len(items),
                outcome.variance_lines, outcome.alerts_changed)


def _newest_forecasts(items: Sequence[Item], stored: dict[SeriesId, StoredForecast],
                      ) -> tuple[dict[SeriesId, Item], set[str]]:
    """Pick, per series, the last event newer than the stored forecast, and return the ids of all newer events.

    An event is newer when its version is above the stored one and above those of the earlier
    events of its series, as when the events are applied one at a time.
    """
    versions = {series: forecast.version for series, forecast in stored.items()}
    newest: dict[SeriesId, Item] = {}
    newer_ids: set[str] = set()
    for envelope, data in items:
        key = series_of(data)
        if key in versions and versions[key] >= data.version:
            continue
        versions[key] = data.version
        newest[key] = (envelope, data)
        newer_ids.add(envelope.id)
    return newest, newer_ids


def _forecast_row(data: ForecastRerolled, now: datetime) -> dict[str, Any]:
    return {"entity_id": data.entity_id, "account_id": data.account_id, "cost_centre": data.cost_centre or "",
            "forecast_id": data.forecast_id, "version": data.version, "origin": str(PeriodKey.parse(data.origin)),
            "method": data.method, "clamped": data.clamped, "ledger_version": data.ledger_version,
            "batch_id": data.batch_id, "received_at": now}


def _point_rows(data: ForecastRerolled) -> list[dict[str, Any]]:
    rows = []
    for point in data.points:
        period = PeriodKey.parse(point.period)
        rows.append({"entity_id": data.entity_id, "account_id": data.account_id,
                     "cost_centre": data.cost_centre or "", "period": str(period), "fiscal_year": period.fiscal_year,
                     "baseline": point.baseline, "benefits": point.benefits, "value": point.value, "p10": point.p10,
                     "p90": point.p90})
    return rows


def _history_rows(data: ForecastRerolled) -> list[dict[str, Any]]:
    origin = str(PeriodKey.parse(data.origin))
    return [{"entity_id": data.entity_id, "account_id": data.account_id, "cost_centre": data.cost_centre or "",
             "version": data.version, "period": str(PeriodKey.parse(point.period)), "origin": origin,
             "value": point.value, "benefits": point.benefits} for point in data.points]


def _log_forecast(data: ForecastRerolled, newer: bool, held_version: int) -> None:
    if not newer:
        logger.info("ignored stale forecast %s version %s of %s %s %s", data.forecast_id, data.version,
                    data.entity_id, data.account_id, data.cost_centre or "-")
        return
    waiting = held_version < data.ledger_version
    logger.info("forecast %s version %s of %s %s %s from %s in batch %s%s", data.forecast_id, data.version,
                data.entity_id, data.account_id, data.cost_centre or "-", data.origin, data.batch_id,
                f"; waiting for actuals of ledger version {data.ledger_version} (held {held_version})"
                if waiting else "")
