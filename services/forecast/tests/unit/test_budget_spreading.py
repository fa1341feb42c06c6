"""Spreads by calendar days and by driver values keep the annual total to the cent."""

from decimal import Decimal

import pytest

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import InvalidInput
from ipm_common.periods import fiscal_year_periods
from ipm_forecast.domain.budget_spreading import driver_weights, spread_by_days, spread_by_driver

RETAIL = FiscalCalendar(week_pattern="4-4-5")  # years end on the last Saturday of December
WEEKS_2022 = [4, 4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 6]  # FY2022 runs 26 Dec 2021 to 31 Dec 2022: 53 weeks


def test_fiscal_2022_has_53_weeks() -> None:
    assert RETAIL.weeks_in_year(2022) == 53
    assert [RETAIL.days_in_period(period) // 7 for period in fiscal_year_periods(2022)] == WEEKS_2022


def test_days_spread_in_53_week_year() -> None:
    # 3,710.00 over 371 days is 10.00 a day: 280.00 per 4-week, 350.00 per 5-week, 420.00 for the 6-week P12.
    amounts = spread_by_days(Decimal("3710.00"), RETAIL, fiscal_year_periods(2022))

    assert amounts == [Decimal(weeks * 70) for weeks in WEEKS_2022]
    assert amounts[11] == Decimal("420.00")


def test_days_spread_uneven_total_exact() -> None:
    # 1,000.00 / 53 weeks: a 4-week period is 75.4716..., a 5-week 94.3396..., the 6-week 113.2075...
    # Rounded down they sum to 999.95; the five spare cents go to the largest remainders: the three
    # 5-week periods (.96 of a cent), P12 (.75) and P01, the first 4-week period (.17).
    amounts = spread_by_days(Decimal("1000.00"), RETAIL, fiscal_year_periods(2022))

    assert sum(amounts) == Decimal("1000.00")
    assert amounts[0] == Decimal("75.48")
    assert amounts[1] == Decimal("75.47")
    assert amounts[2] == amounts[5] == amounts[8] == Decimal("94.34")
    assert amounts[11] == Decimal("113.21")


def test_days_spread_in_52_week_year() -> None:
    # FY2023 has 52 weeks: a 5-week period gets 5/52 of 5,200.00 = 500.00.
    amounts = spread_by_days(Decimal("5200.00"), RETAIL, fiscal_year_periods(2023))

    assert amounts[2] == Decimal("500.00")
    assert amounts[11] == Decimal("500.00")


def test_driver_spread_follows_working_days() -> None:
    # Working days 20, 20, 25, ... (5 per week of FY2022) sum to 265; 26,500.00 is 100.00 a working day.
    values = {str(period): Decimal(weeks * 5) for period, weeks in zip(fiscal_year_periods(2022), WEEKS_2022,
                                                                        strict=True)}
    weights = driver_weights("working_days", values, fiscal_year_periods(2022), "drivers.working_days")

    amounts = spread_by_driver(Decimal("26500.00"), weights)

    assert amounts[0] == Decimal("2000.00")
    assert amounts[11] == Decimal("3000.00")
    assert sum(amounts) == Decimal("26500.00")


def test_driver_spread_largest_remainder() -> None:
    # Market index 1, 1, 1 then zeros: 100.00 / 3 = 33.333...; the spare cent goes to P01.
    values = {str(period): Decimal(1 if period.period <= 3 else 0) for period in fiscal_year_periods(2024)}
    weights = driver_weights("index", values, fiscal_year_periods(2024), "drivers.index")

    amounts = spread_by_driver(Decimal("100.00"), weights)

    assert amounts[:4] == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33"), Decimal("0.00")]


@pytest.mark.parametrize(("change", "field"), [
    ({"FY2024-P05": None}, "drivers.d.FY2024-P05"),
    ({"FY2024-P05": Decimal("-1")}, "drivers.d.FY2024-P05"),
    ({"FY2025-P01": Decimal("1")}, "drivers.d.FY2025-P01"),
])
def test_invalid_driver_named(change: dict[str, Decimal | None], field: str) -> None:
    values = {str(period): Decimal(1) for period in fiscal_year_periods(2024)}
    for period, value in change.items():
        if value is None:
            del values[period]
        else:
            values[period] = value

    with pytest.raises(InvalidInput) as raised:
        driver_weights("d", values, fiscal_year_periods(2024), "drivers.d")

    assert raised.value.field == field


def test_all_zero_driver_rejected() -> None:
    values = {str(period): Decimal(0) for period in fiscal_year_periods(2024)}

    with pytest.raises(InvalidInput) as raised:
        driver_weights("d", values, fiscal_year_periods(2024), "drivers.d")

    assert raised.value.field == "drivers.d"
