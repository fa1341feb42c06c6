from decimal import Decimal

from ipm_forecast.domain.accuracy import ScoredPoint, measure, measures_by_lag

D = Decimal


def test_wape_and_bias_by_hand() -> None:
    # Actuals 100 and 200, forecasts 110 and 170.
    # WAPE = (10 + 30) / 300 = 0.133333…; bias = (10 − 30) / 300 = −0.066666…
    points = [ScoredPoint(1, D(110), D(100)), ScoredPoint(1, D(170), D(200))]

    result = measure(points, 1)

    assert result.wape == D("0.133333")
    assert result.bias == D("-0.066667")
    assert (result.absolute_actual, result.absolute_error, result.points) == (D(300), D(40), 2)


def test_negative_actuals_use_absolute_denominator() -> None:
    # A cost line in natural sign −50 forecast at −40: WAPE = 10 / 50 = 0.2, bias = (−40 + 50) / 50 = 0.2.
    result = measure([ScoredPoint(3, D(-40), D(-50))], 3)

    assert (result.wape, result.bias) == (D("0.2"), D("0.2"))


def test_zero_actuals_give_none() -> None:
    result = measure([ScoredPoint(1, D(5), D(0))], 1)

    assert (result.wape, result.bias) == (None, None)
    assert result.absolute_error == D(5)


def test_lags_reported_and_overall() -> None:
    # Lag 1: |100 − 90| / 100 = 0.1. Lag 3: |50 − 80| / 50 = 0.6. Lag 2 counts only in the overall:
    # (10 + 30 + 20) / (100 + 50 + 40) = 60 / 190 = 0.315789…; bias (−10 + 30 − 20) / 190 = 0.
    points = [ScoredPoint(1, D(90), D(100)), ScoredPoint(3, D(80), D(50)), ScoredPoint(2, D(20), D(40))]

    measures = measures_by_lag(points)

    assert [item.lag for item in measures] == [1, 3, 6, 12, None]
    assert measures[0].wape == D("0.1")
    assert measures[1].wape == D("0.6")
    assert measures[2].points == 0
    assert measures[2].wape is None
    assert measures[4].wape == D("0.315789")
    assert measures[4].bias == D("0")
