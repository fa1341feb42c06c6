"""Market drivers: monthly series such as a FRED index, and the driver effect layer of a line.

Driver values are keyed by calendar month (``YYYY-MM``), because market series are published by
calendar month whatever an entity's fiscal calendar is. A fiscal period reads the driver value of
the calendar month in which the period ends. A month without a value is unknown, never zero.
"""

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import InvalidInput
from ipm_common.money import ZERO, to_cents
from ipm_common.periods import PeriodKey
from ipm_forecast.domain.regression import Regression

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def parse_month(text: str, *, field: str = "month") -> str:
    """Check a calendar month ``YYYY-MM`` and return it unchanged."""
    if not isinstance(text, str) or _MONTH.fullmatch(text) is None:
        raise InvalidInput(f"{field}: {text!r} is not a calendar month; expected the form \"2024-03\"", field=field)
    return text


def shift_month(month: str, months: int) -> str:
    year, number = int(month[:4]), int(month[5:7])
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_of_period(calendar: FiscalCalendar, period: PeriodKey) -> str:
    """Return the calendar month in which ``period`` ends."""
    _, last_day = calendar.period_bounds(period)
    return f"{last_day.year:04d}-{last_day.month:02d}"


def trailing_run(values: Mapping[str, Decimal]) -> tuple[str, list[Decimal]] | None:
    """Return the first month and values of the newest run of consecutive months, or None without values.

    The driver's own forecast is fitted on this run, because the forecast models need a history
    without gaps and a driver's missing month must not be filled with zero.
    """
    if not values:
        return None
    month = max(values)
    run = [values[month]]
    while (previous := shift_month(month, -1)) in values:
        month = previous
        run.append(values[month])
    return month, list(reversed(run))


def driver_path(months: Sequence[str], actual: Mapping[str, Decimal], scenario: Mapping[str, Decimal],
                own_forecast: Mapping[str, Decimal]) -> list[Decimal | None]:
    """Pick the driver value of each month: the scenario's, else the published value, else the driver's forecast."""
    path: list[Decimal | None] = []
    for month in months:
        if month in scenario:
            path.append(scenario[month])
        elif month in actual:
            path.append(actual[month])
        else:
            path.append(own_forecast.get(month))
    return path


def overlap(line_months: Sequence[str], line_values: Sequence[Decimal],
            driver_values: Mapping[str, Decimal]) -> tuple[list[Decimal], list[Decimal]]:
    """Pair the line's actuals with the driver's published values of the same months, oldest first."""
    xs: list[Decimal] = []
    ys: list[Decimal] = []
    for month, value in zip(line_months, line_values, strict=True):
        if month in driver_values:
            xs.append(driver_values[month])
            ys.append(value)
    return xs, ys


def driver_layer(regression: Regression, path: Sequence[Decimal | None], baseline: Sequence[Decimal],
                 *, non_negative: bool) -> list[Decimal]:
    """Return the driver effect per period: the regression's prediction, in cents, minus the baseline.

    A period whose driver value is unknown gets no effect. A non-negative line's prediction is
    clamped at zero first.
    """
    effects: list[Decimal] = []
    for x, base in zip(path, baseline, strict=True):
        if x is None:
            effects.append(ZERO)
            continue
        prediction = to_cents(regression.predict(x))
        if non_negative and prediction < 0:
            prediction = ZERO
        effects.append(prediction - base)
    return effects
