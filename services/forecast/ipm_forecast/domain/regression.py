"""Ordinary least squares of a line's monthly actuals on one market driver.

The fit runs in Decimal at the exact context's precision, so a worked example gives the same
coefficients by hand and in code. Coefficients are model estimates, not ledger amounts: the
prediction is rounded to the cent only where it becomes a forecast value.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ipm_common.errors import InvalidInput

MIN_OBSERVATIONS = 3
"""Fewest overlapping months fitted: two coefficients need at least one month more to leave an error."""


@dataclass(frozen=True)
class Regression:
    """The fitted line y = intercept + slope × x over ``observations`` months, with its R²."""

    intercept: Decimal
    slope: Decimal
    r_squared: Decimal | None  # None when every y is equal, so there is no variance to explain
    observations: int

    def predict(self, x: Decimal) -> Decimal:
        return self.intercept + self.slope * x


def fit_ols(xs: Sequence[Decimal], ys: Sequence[Decimal]) -> Regression:
    """Fit y = a + b·x by least squares: b = Sxy / Sxx, a = ȳ − b·x̄, R² = 1 − SSres / SStot.

    Raises ``InvalidInput`` when the lists differ in length, hold fewer than ``MIN_OBSERVATIONS``
    pairs, or every x is equal (the slope is then undefined).
    """
    if len(xs) != len(ys):
        raise InvalidInput(f"xs: {len(xs)} driver values for {len(ys)} actuals; expected one per month", field="xs")
    if len(xs) < MIN_OBSERVATIONS:
        raise InvalidInput(f"driver: {len(xs)} months overlap the line's actuals; at least {MIN_OBSERVATIONS} "
                           "are needed to fit a regression", field="driver")

    count = Decimal(len(xs))
    mean_x = sum(xs, Decimal(0)) / count
    mean_y = sum(ys, Decimal(0)) / count
    sxx = sum(((x - mean_x) ** 2 for x in xs), Decimal(0))
    if sxx == 0:
        raise InvalidInput(f"driver: every overlapping driver value is {xs[0]}; a constant driver cannot explain "
                           "the line", field="driver")

    sxy = sum(((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)), Decimal(0))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    return Regression(intercept, slope, _r_squared(xs, ys, intercept, slope, mean_y), len(xs))


def _r_squared(xs: Sequence[Decimal], ys: Sequence[Decimal], intercept: Decimal, slope: Decimal,
               mean_y: Decimal) -> Decimal | None:
    total = sum(((y - mean_y) ** 2 for y in ys), Decimal(0))
    if total == 0:
        return None
    residual = sum(((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True)), Decimal(0))
    return 1 - residual / total
