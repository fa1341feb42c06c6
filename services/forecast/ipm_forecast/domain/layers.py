"""The layers of a forecast line: statistical baseline, driver effect, project benefits and manual override.

Every forecast point keeps each layer beside the final value, so a reader sees what each one
added: value = baseline + driver + benefits, unless a manual override replaces the value, and then
the override layer holds what the override added to the computed value.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ipm_common.events import ForecastPoint
from ipm_common.periods import PeriodKey


def benefit_layer(planned: Mapping[PeriodKey, Decimal], origin: PeriodKey,
                  periods: Sequence[PeriodKey]) -> list[Decimal]:
    """Return the part of the planned benefits that the actuals do not show yet, per forecast period.

    The baseline is fitted on actuals, so a benefit already running at the origin is in its
    level. Only the increase over the run rate at the origin is added: planned(t) − planned(origin).
    A project that has not started by the origin adds its whole planned benefit.
    """
    run_rate = planned.get(origin, Decimal(0))
    return [planned.get(period, Decimal(0)) - run_rate if period > origin else Decimal(0) for period in periods]


@dataclass(frozen=True)
class Layers:
    """The layers of one series over its forecast periods, one value per period in each list."""

    periods: Sequence[PeriodKey]
    p10: Sequence[Decimal]
    baseline: Sequence[Decimal]
    p90: Sequence[Decimal]
    driver: Sequence[Decimal]
    benefits: Sequence[Decimal]


def compose_points(layers: Layers, overrides: Mapping[PeriodKey, Decimal]) -> tuple[ForecastPoint, ...]:
    """Add the layers up per period and let an override replace the sum.

    The 10 % and 90 % quantiles move with the value: by the driver and benefit layers, and by
    what an override added.
    """
    points = []
    for index, period in enumerate(layers.periods):
        shift = layers.driver[index] + layers.benefits[index]
        computed = layers.baseline[index] + shift
        override = overrides.get(period)
        adjustment = None if override is None else override - computed
        extra = adjustment or Decimal(0)
        points.append(ForecastPoint(
            period=str(period), baseline=layers.baseline[index], driver=layers.driver[index],
            benefits=layers.benefits[index], override=adjustment, value=computed + extra,
            p10=layers.p10[index] + shift + extra, p90=layers.p90[index] + shift + extra,
        ))
    return tuple(points)
