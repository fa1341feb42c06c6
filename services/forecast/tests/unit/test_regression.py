from decimal import Decimal

import pytest

from ipm_common.errors import InvalidInput
from ipm_forecast.domain.regression import fit_ols

D = Decimal


def test_fit_matches_hand_computation() -> None:
    # x = 1..4, y = 2, 4, 5, 4: x̄ = 2.5, ȳ = 3.75, Sxx = 5, Sxy = 3.5.
    # slope = 3.5 / 5 = 0.7, intercept = 3.75 − 0.7 × 2.5 = 2.
    # Fitted 2.7, 3.4, 4.1, 4.8; SSres = 0.49 + 0.36 + 0.81 + 0.64 = 2.3; SStot = 4.75.
    # R² = 1 − 2.3 / 4.75 = 49 / 95.
    regression = fit_ols([D(1), D(2), D(3), D(4)], [D(2), D(4), D(5), D(4)])

    assert regression.slope == D("0.7")
    assert regression.intercept == D("2")
    assert regression.r_squared == 1 - D("2.3") / D("4.75")
    assert str(regression.r_squared)[:12] == "0.5157894736"
    assert regression.observations == 4


def test_prediction_uses_both_coefficients() -> None:
    regression = fit_ols([D(1), D(2), D(3), D(4)], [D(2), D(4), D(5), D(4)])

    # 2 + 0.7 × 10 = 9
    assert regression.predict(D(10)) == D("9")


def test_exact_line_has_unit_r_squared() -> None:
    regression = fit_ols([D(100), D(102), D(104)], [D(210), D(214), D(218)])

    assert (regression.intercept, regression.slope, regression.r_squared) == (D(10), D(2), D(1))


def test_flat_line_has_no_r_squared() -> None:
    regression = fit_ols([D(1), D(2), D(3)], [D(7), D(7), D(7)])

    assert regression.slope == 0
    assert regression.r_squared is None


def test_constant_driver_rejected() -> None:
    with pytest.raises(InvalidInput, match="constant driver"):
        fit_ols([D(5), D(5), D(5)], [D(1), D(2), D(3)])


def test_two_months_rejected() -> None:
    with pytest.raises(InvalidInput, match="at least 3"):
        fit_ols([D(1), D(2)], [D(1), D(2)])
