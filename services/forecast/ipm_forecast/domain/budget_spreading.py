"""Spreads of an annual budget figure that need more than the amount: by calendar days or by a driver.

Both keep the annual total to the cent, because the parts come from the largest remainder method.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import InvalidInput
from ipm_common.periods import PeriodKey
from ipm_common.spreading import allocate_largest_remainder


def spread_by_days(annual: Decimal, calendar: FiscalCalendar, periods: Sequence[PeriodKey]) -> list[Decimal]:
    """Split ``annual`` in proportion to the days of each period of the entity's calendar.

    In a 4-4-5 calendar a 5-week period gets 5/52 of the year, and in a 53-week year the 6-week
    last period gets 6/53.
    """
    weights = [Decimal(calendar.days_in_period(period)) for period in periods]
    return allocate_largest_remainder(annual, weights)


def driver_weights(name: str, values: Mapping[str, Decimal], periods: Sequence[PeriodKey],
                   field: str) -> list[Decimal]:
    """Return a driver's value for each period, checked: every period present, none negative, not all zero."""
    expected = [str(period) for period in periods]
    unknown = sorted(set(values) - set(expected))
    if unknown:
        raise InvalidInput(f"{field}.{unknown[0]}: not a period of fiscal year {periods[0].fiscal_year}; give the "
                           f"driver {name!r} one value for each of {expected[0]} to {expected[-1]}",
                           field=f"{field}.{unknown[0]}")
    missing = [period for period in expected if period not in values]
    if missing:
        raise InvalidInput(f"{field}.{missing[0]}: missing; the driver {name!r} needs a value for every period of the "
                           f"fiscal year ({len(missing)} missing)", field=f"{field}.{missing[0]}")

    for period in expected:
        if values[period] < 0:
            raise InvalidInput(f"{field}.{period}: {values[period]} is negative; a spread driver needs values of "
                               "zero or more", field=f"{field}.{period}")
    weights = [values[period] for period in expected]
    if not any(weights):
        raise InvalidInput(f"{field}: every value of the driver {name!r} is zero, so it gives no shares; send its "
                           "values or spread the line evenly", field=field)
    return weights


def spread_by_driver(annual: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``annual`` in proportion to checked driver values (see ``driver_weights``)."""
    return allocate_largest_remainder(annual, weights)
