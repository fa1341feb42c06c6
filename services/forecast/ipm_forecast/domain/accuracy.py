"""Forecast accuracy: weighted absolute percentage error (WAPE) and bias by lag.

The lag of a scored point is the number of periods from the forecast version's origin (its last
period with actuals) to the scored period, so the first forecast period has lag 1.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ipm_common.events import AccuracyMeasure

REPORTED_LAGS = (1, 3, 6, 12)

RATIO_QUANTUM = Decimal("0.000001")
"""Published WAPE and bias are rounded half-even to six decimal places."""


@dataclass(frozen=True)
class ScoredPoint:
    """One forecast value of one version compared with the actual of its period."""

    lag: int
    forecast: Decimal
    actual: Decimal


def measure(points: Sequence[ScoredPoint], lag: int | None) -> AccuracyMeasure:
    """Score ``points``: WAPE = Σ|actual − forecast| / Σ|actual|, bias = Σ(forecast − actual) / Σ|actual|.

    Both ratios are None when Σ|actual| is zero, because a percentage of nothing is undefined.
    """
    absolute_actual = sum((abs(point.actual) for point in points), Decimal(0))
    absolute_error = sum((abs(point.actual - point.forecast) for point in points), Decimal(0))
    signed_error = sum((point.forecast - point.actual for point in points), Decimal(0))
    if absolute_actual == 0:
        wape = bias = None
    else:
        wape = (absolute_error / absolute_actual).quantize(RATIO_QUANTUM)
        bias = (signed_error / absolute_actual).quantize(RATIO_QUANTUM)
    return AccuracyMeasure(lag=lag, points=len(points), wape=wape, bias=bias, absolute_actual=absolute_actual,
                           absolute_error=absolute_error)


def measures_by_lag(points: Iterable[ScoredPoint], lags: Sequence[int] = REPORTED_LAGS) -> list[AccuracyMeasure]:
    """Score each of ``lags`` and then every lag together (the measure with lag None)."""
    scored = list(points)
    by_lag = [measure([point for point in scored if point.lag == lag], lag) for lag in lags]
    return [*by_lag, measure(scored, None)]
