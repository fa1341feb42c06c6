"""The layers of a forecast line: statistical baseline plus improvement-project benefits."""

from collections.abc import Mapping, Sequence
from decimal import Decimal

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
