from decimal import Decimal

from ipm_common.periods import PeriodKey
from ipm_projects.domain.realisation import RealisedPoint, StoredForecast, frozen_baseline, realised_points

P01, P02, P03 = PeriodKey(2023, 1), PeriodKey(2023, 2), PeriodKey(2023, 3)


def test_revenue_line_realised_above_baseline() -> None:
    points = realised_points(
        planned={P01: Decimal("1000000"), P02: Decimal("1000000")},
        baseline={P01: Decimal("10000000.00"), P02: Decimal("9500000")},
        actual={P01: Decimal("10750000.50"), P02: Decimal("9400000")},
        direction="higher_is_better",
    )

    # Revenue: realised = actual − baseline. P01: 10,750,000.50 − 10,000,000.00 = 750,000.50.
    # P02: 9,400,000 − 9,500,000 = −100,000, the line fell below what it would have been.
    assert points == (
        RealisedPoint(P01, Decimal("1000000"), Decimal("10000000.00"), Decimal("10750000.50"), Decimal("750000.50")),
        RealisedPoint(P02, Decimal("1000000"), Decimal("9500000"), Decimal("9400000"), Decimal("-100000")),
    )


def test_cost_line_realised_below_baseline() -> None:
    points = realised_points(
        planned={P01: Decimal("-75000")},  # a saving: the cost line is planned 75,000 lower
        baseline={P01: Decimal("2000000")},
        actual={P01: Decimal("1940000.25")},
        direction="lower_is_better",
    )

    # Cost: realised = baseline − actual = 2,000,000 − 1,940,000.25 = 59,999.75; planned in the
    # same favourable sign is −75,000 × −1 = 75,000.
    assert points == (RealisedPoint(P01, Decimal("75000"), Decimal("2000000"), Decimal("1940000.25"),
                                    Decimal("59999.75")),)


def test_period_without_baseline_or_actual_not_measured() -> None:
    points = realised_points(
        planned={P01: Decimal(1), P02: Decimal(1), P03: Decimal(1)},
        baseline={P01: Decimal(10), P02: Decimal(10)},
        actual={P01: Decimal(12), P03: Decimal(12)},
        direction="higher_is_better",
    )

    assert [point.period for point in points] == [P01]


def test_baseline_is_newest_forecast_before_start() -> None:
    forecasts = [
        StoredForecast("", PeriodKey(2022, 11), 3, {P01: Decimal("100")}),
        StoredForecast("", PeriodKey(2022, 12), 5, {P01: Decimal("110"), P02: Decimal("120")}),
        # Origin at the start period: made with the project's own actuals, so never the baseline.
        StoredForecast("", PeriodKey(2023, 1), 6, {P02: Decimal("999")}),
    ]

    assert frozen_baseline(forecasts, start=P01) == {P01: Decimal("110"), P02: Decimal("120")}


def test_baseline_sums_cost_centres() -> None:
    forecasts = [
        StoredForecast("CC10", PeriodKey(2022, 12), 5, {P01: Decimal("110.10")}),
        StoredForecast("CC20", PeriodKey(2022, 10), 2, {P01: Decimal("40.05"), P02: Decimal("41")}),
        StoredForecast("CC20", PeriodKey(2022, 9), 1, {P01: Decimal("1")}),
    ]

    # CC10 version 5 plus CC20 version 2: 110.10 + 40.05 = 150.15 in P01; only CC20 forecasts P02.
    assert frozen_baseline(forecasts, start=P01) == {P01: Decimal("150.15"), P02: Decimal("41")}
