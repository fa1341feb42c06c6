"""Score earlier forecast versions when actuals arrive for the periods they covered.

Each kept version that forecast a period with new actuals gets one scored point per period: its
value, the period's actual (the ledger's period total) and the lag. A later posting into the same
period scores the point again with the new total. The series' measures over every scored point
are published as ``ipm.forecast.accuracy.scored``.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ipm_common.dispatch import publish_event
from ipm_common.events import AccuracyMeasure, AccuracyScored, ActualsPosted
from ipm_common.periods import PeriodKey
from ipm_common.storage import Transaction
from ipm_forecast.adapters import forecast_store, repository
from ipm_forecast.adapters.forecast_store import Series
from ipm_forecast.domain.accuracy import ScoredPoint, measures_by_lag
from ipm_forecast.service_layer.rerolling import SOURCE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewActuals:
    """Periods of one series that received actuals, and the event that announced them."""

    series: Series
    periods: frozenset[str]
    event_id: str
    correlation_id: str


def new_actuals(items: Iterable[tuple[Any, ActualsPosted]]) -> list[NewActuals]:
    """Merge actuals-posted events by series, keeping the first event's ids for the correlation."""
    periods: dict[Series, set[str]] = defaultdict(set)
    first: dict[Series, Any] = {}
    for envelope, data in items:
        series = (data.entity_id, data.account_id, data.cost_centre or "")
        periods[series].update(balance.period for balance in data.balances)
        first.setdefault(series, envelope)
    return [NewActuals(series, frozenset(periods[series]), first[series].id, first[series].correlationid)
            for series in periods]


async def score_new_actuals(transaction: Transaction, batch: Sequence[NewActuals]) -> int:
    """Score every earlier version covering the new actuals' periods; return the number of points scored."""
    scored = 0
    for item in batch:
        scored += await _score_series(transaction, item)
    return scored


async def _score_series(transaction: Transaction, item: NewActuals) -> int:
    connection = transaction.connection
    rows = [row for row in await forecast_store.covering_points(connection, item.series, item.periods)
            if PeriodKey.parse(row.origin) < PeriodKey.parse(row.period)]
    if not rows:
        return 0

    totals, _ = await repository.period_totals(connection, *item.series)
    points = [{"forecast_id": row.forecast_id, "period": row.period, "version": row.version,
               "lag": PeriodKey.parse(row.origin).periods_until(PeriodKey.parse(row.period)),
               "forecast": row.value, "actual": totals.get(PeriodKey.parse(row.period), Decimal(0))}
              for row in rows]
    await forecast_store.replace_accuracy_points(connection, item.series, points)

    measures = await series_measures(transaction, item.series)
    entity_id, account_id, cost_centre = item.series
    event = AccuracyScored(entity_id=entity_id, account_id=account_id, cost_centre=cost_centre or None,
                           periods=tuple(sorted({row.period for row in rows})),
                           versions_scored=len({row.forecast_id for row in rows}), measures=tuple(measures))
    await publish_event(transaction, SOURCE, event, correlation_id=item.correlation_id,
                        subject=f"{entity_id}/{account_id}")
    logger.info("scored %s points of %s versions of %s/%s/%s after actuals event %s", len(points),
                event.versions_scored, *item.series, item.event_id)
    return len(points)


async def series_measures(transaction: Transaction, series: Series) -> list[AccuracyMeasure]:
    rows = await forecast_store.accuracy_rows(transaction.connection, *series)
    return measures_by_lag(ScoredPoint(row.lag, row.forecast, row.actual) for row in rows)
