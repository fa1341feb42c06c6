"""Measure realised benefits against the line's baseline without the project.

The baseline is the forecast the line had before the project started: per cost centre, the
newest forecast version whose origin lies before the project's start period, summed over cost
centres. A baseline set by hand replaces it period by period.

Sign rule: realised = (actual − baseline) × s, with s = +1 where more is better (revenue:
actual − baseline) and s = −1 where less is better (cost: baseline − actual). A positive
realised benefit means the project improved the line. Planned benefits are stored in the line's
natural sign, so they are compared in the same favourable sign: planned × s.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ipm_common.money import ZERO
from ipm_common.periods import PeriodKey

Direction = Literal["higher_is_better", "lower_is_better"]


@dataclass(frozen=True)
class StoredForecast:
    """One forecast version of one series, reduced to its statistical baseline per period."""

    cost_centre: str
    origin: PeriodKey
    version: int
    baseline: Mapping[PeriodKey, Decimal]


@dataclass(frozen=True, order=True)
class RealisedPoint:
    period: PeriodKey
    planned: Decimal  # favourable sign, comparable with ``realised``
    baseline: Decimal  # natural sign
    actual: Decimal  # natural sign
    realised: Decimal  # favourable sign


def favourable_sign(direction: str) -> Decimal:
    return Decimal(1) if direction == "higher_is_better" else Decimal(-1)


def frozen_baseline(forecasts: Iterable[StoredForecast], start: PeriodKey) -> dict[PeriodKey, Decimal]:
    """Sum, over cost centres, the newest forecast version whose origin lies before ``start``."""
    chosen: dict[str, StoredForecast] = {}
    for forecast in forecasts:
        if forecast.origin >= start:
            continue
        current = chosen.get(forecast.cost_centre)
        if current is None or forecast.version > current.version:
            chosen[forecast.cost_centre] = forecast

    baseline: dict[PeriodKey, Decimal] = {}
    for forecast in chosen.values():
        for period, amount in forecast.baseline.items():
            baseline[period] = baseline.get(period, ZERO) + amount
    return baseline


def realised_points(planned: Mapping[PeriodKey, Decimal], baseline: Mapping[PeriodKey, Decimal],
                    actual: Mapping[PeriodKey, Decimal], direction: str) -> tuple[RealisedPoint, ...]:
    """Measure every planned period that has both a baseline and an actual, in period order."""
    sign = favourable_sign(direction)
    points = []
    for period in sorted(planned):
        if period not in baseline or period not in actual:
            continue
        realised = (actual[period] - baseline[period]) * sign
        points.append(RealisedPoint(period, planned[period] * sign, baseline[period], actual[period], realised))
    return tuple(points)
