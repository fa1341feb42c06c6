import csv
import itertools
import math
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from ipm_common.errors import InvalidInput
from ipm_common.money import to_cents
from ipm_forecast.domain import statistics
from ipm_forecast.domain.statistics import BaselineForecast, forecast_baselines

SOUVENIRS = Path(__file__).parents[4] / "examples" / "data" / "market" / "souvenirs_shop_sales_monthly.csv"

SEASONAL_METHOD = re.compile(r"^(seasonal_naive|ets\([AM],(N|A|Ad),[AM]\))$")

# Twelve monthly offsets whose seasonal pattern is plain to the eye.
PATTERN = (-3, -2, -1, 0, 1, 2, 3, 2, 1, 0, -1, -2)


def decimals(values: Sequence[Decimal | float | int | str]) -> list[Decimal]:
    return [Decimal(str(value)) for value in values]


def texts(values: Sequence[Decimal]) -> list[str]:
    return [str(value) for value in values]


def forecast_one(values: Sequence[Decimal | float | int | str], horizon: int, *, season_length: int = 12,
                 non_negative: Sequence[bool] | None = None) -> BaselineForecast:
    return forecast_baselines([decimals(values)], horizon, season_length=season_length, non_negative=non_negative)[0]


def seasonal_history(length: int) -> list[float]:
    """Return a level of 100 with a ±30 season and a small repeating disturbance."""
    return [100 + 10 * PATTERN[t % 12] + ((t * 7) % 5 - 2) * 0.5 for t in range(length)]


def is_multiplicative(method: str) -> bool:
    return method.startswith("ets(M") or method.endswith(",M)")


# --- Short histories ------------------------------------------------------------------------------------------


def test_empty_history_gives_none_and_zeros() -> None:
    result = forecast_one([], 3)

    assert result.method == "none"
    assert texts(result.p10) == ["0.00"] * 3
    assert texts(result.p50) == ["0.00"] * 3
    assert texts(result.p90) == ["0.00"] * 3
    assert result.clamped is False


def test_one_point_gives_naive() -> None:
    result = forecast_one(["42.50"], 2)

    assert result.method == "naive"
    assert texts(result.p10) == ["42.50", "42.50"]
    assert texts(result.p50) == ["42.50", "42.50"]
    assert texts(result.p90) == ["42.50", "42.50"]


def test_two_points_give_drift() -> None:
    result = forecast_one([100, 110], 3)

    # Slope 10. The spread is sigma * sqrt(h * (1 + h / 1)) with sigma = 10, the one change:
    # 14.142, 24.495 and 34.641, times the 0.9 normal quantile 1.28155.
    assert result.method == "drift"
    assert texts(result.p50) == ["120.00", "130.00", "140.00"]
    assert texts(result.p10) == ["101.88", "98.61", "95.61"]
    assert texts(result.p90) == ["138.12", "161.39", "184.39"]


def test_three_points_give_drift() -> None:
    result = forecast_one([10, 13, 19], 1)

    # Changes 3 and 6: slope 4.5, sigma sqrt((9 + 36) / 2) = 4.7434, spread 4.7434 * sqrt(1.5) = 5.8095.
    assert result.method == "drift"
    assert texts(result.p50) == ["23.50"]
    assert texts(result.p10) == ["16.05"]
    assert texts(result.p90) == ["30.95"]


def test_four_points_give_drift() -> None:
    result = forecast_one([10, 12, 11, 15], 2)

    # AICc needs five points for the smallest ETS form, so four points still get drift: slope 5 / 3.
    assert result.method == "drift"
    assert texts(result.p50) == ["16.67", "18.33"]


def test_short_history_gets_nonseasonal_ets() -> None:
    result = forecast_one([100, 104, 97, 102, 99, 105, 96, 101, 103, 98, 100, 102], 2)

    assert result.method.startswith("ets(")
    assert result.method.endswith(",N)")


# --- Seasonality and model choice ----------------------------------------------------------------------------


def test_season_needs_twenty_five_months() -> None:
    shorter = forecast_one(seasonal_history(24), 2)
    enough = forecast_one(seasonal_history(25), 2)

    assert SEASONAL_METHOD.match(shorter.method) is None
    assert SEASONAL_METHOD.match(enough.method) is not None


def test_season_length_one_disables_season() -> None:
    result = forecast_one(seasonal_history(48), 2, season_length=1)

    assert SEASONAL_METHOD.match(result.method) is None


def test_exact_season_gives_seasonal_naive() -> None:
    history = [100 + 10 * PATTERN[t % 12] for t in range(36)]

    result = forecast_one(history, 12)

    # Every seasonal form fits exactly, so AICc prefers the one with the fewest parameters.
    expected = [f"{100 + 10 * offset}.00" for offset in PATTERN]
    assert result.method == "seasonal_naive"
    assert texts(result.p50) == expected
    assert texts(result.p10) == expected
    assert texts(result.p90) == expected


def test_negative_values_never_get_multiplicative() -> None:
    history = [value - 95 for value in seasonal_history(36)]
    assert min(history) < 0

    result = forecast_one(history, 2)

    assert not is_multiplicative(result.method)


def test_one_zero_blocks_multiplicative() -> None:
    history = souvenir_sales()[:36]
    positive = forecast_one(history, 2)
    history[5] = Decimal(0)

    with_zero = forecast_one(history, 2)

    assert is_multiplicative(positive.method)
    assert not is_multiplicative(with_zero.method)


def test_all_zero_series_forecasts_zeros() -> None:
    result = forecast_one([0] * 30, 4, non_negative=[True])

    assert result.method == "naive"
    assert texts(result.p10) == ["0.00"] * 4
    assert texts(result.p50) == ["0.00"] * 4
    assert texts(result.p90) == ["0.00"] * 4
    assert result.clamped is False


def test_constant_series_has_no_spread() -> None:
    result = forecast_one(["7.25"] * 40, 3)

    assert result.method == "naive"
    assert texts(result.p10) == ["7.25"] * 3
    assert texts(result.p90) == ["7.25"] * 3


def test_noisy_level_stays_near_mean() -> None:
    # 95 and 105 alternate around a mean of 100. With smoothing alpha the level settles at
    # 100 + d after each 105, where d = 5 alpha / (2 - alpha): 100.05 for the grid's smallest
    # alpha of 0.02, and 100.41 for the next one, 0.15. The least-squares initial level leaves a
    # transient (0.98^40 = 0.45 of it remains) that pulls the level nearer 100.
    history = [95 if t % 2 == 0 else 105 for t in range(40)]

    result = forecast_one(history, 3, season_length=1)

    assert result.method == "ets(A,N,N)"
    assert all(Decimal("100.00") <= value <= Decimal("100.05") for value in result.p50)


def test_grid_stays_in_usual_region() -> None:
    for trend, season in itertools.product(("N", "A", "Ad"), ("N", "A")):
        grid = statistics._ets_family(trend, season).grid

        assert ((grid.alpha > 0) & (grid.alpha < 1)).all()
        assert ((grid.beta >= 0) & (grid.beta < grid.alpha)).all()
        assert ((grid.gamma >= 0) & (grid.gamma < 1 - grid.alpha)).all()
        assert ((grid.phi > 0) & (grid.phi <= 1)).all()


# --- Non-negative lines and intervals ---------------------------------------------------------------------


def test_unflagged_line_keeps_negative_values() -> None:
    result = forecast_one([30, 20, 10], 3)

    # Drift with slope -10 and sigma 10: spread 10 * sqrt(h * (1 + h / 2)) = 12.247, 20 and 27.386.
    assert texts(result.p50) == ["0.00", "-10.00", "-20.00"]
    assert texts(result.p10) == ["-15.70", "-35.63", "-55.10"]
    assert result.clamped is False


def test_non_negative_line_is_clamped() -> None:
    result = forecast_one([30, 20, 10], 3, non_negative=[True])

    assert texts(result.p10) == ["0.00", "0.00", "0.00"]
    assert texts(result.p50) == ["0.00", "0.00", "0.00"]
    assert texts(result.p90) == ["15.70", "15.63", "15.10"]
    assert result.clamped is True


def test_positive_flagged_line_is_not_clamped() -> None:
    result = forecast_one(seasonal_history(36), 6, non_negative=[True])

    assert result.clamped is False
    assert min(result.p10) > 0


def test_quantiles_are_ordered() -> None:
    rng = np.random.default_rng(7)
    histories = [
        decimals(np.round(rng.normal(0, 50, length).cumsum() + rng.normal(0, 20, length) * scale, 2).tolist())
        for length in (1, 2, 5, 13, 30, 60)
        for scale in (0.0, 1.0, 10.0)
    ]

    results = forecast_baselines(histories, 24, non_negative=[index % 2 == 0 for index in range(len(histories))])

    for result in results:
        assert all(low <= mid for low, mid in zip(result.p10, result.p50, strict=True)), result.method
        assert all(mid <= high for mid, high in zip(result.p50, result.p90, strict=True)), result.method


def test_interval_widens_with_horizon() -> None:
    rng = np.random.default_rng(3)
    walk = (1000 + rng.normal(0, 10, 60).cumsum()).round(2).tolist()

    result = forecast_one(walk, 24)

    widths = [high - low for low, high in zip(result.p10, result.p90, strict=True)]
    assert widths[0] > 0
    assert all(later >= earlier for earlier, later in itertools.pairwise(widths))


def test_values_are_rounded_to_cents() -> None:
    result = forecast_one(seasonal_history(40), 5)

    for value in (*result.p10, *result.p50, *result.p90):
        assert value.as_tuple().exponent == -2


# --- Batches ------------------------------------------------------------------------------------------------------


def test_mixed_lengths_keep_input_order() -> None:
    histories: list[Sequence[Decimal | float | int | str]] = [
        [],
        ["5"],
        ["1", "4", "9"],
        seasonal_history(30),
        [100, 104, 97, 102, 99, 105, 96, 101, 103, 98, 100, 102],
        ["-3"],
        [value * 2 for value in seasonal_history(60)],
    ]

    batch = forecast_baselines([decimals(history) for history in histories], 6)

    assert len(batch) == len(histories)
    for history, result in zip(histories, batch, strict=True):
        assert result == forecast_one(history, 6)


def test_batch_matches_single_series() -> None:
    rng = np.random.default_rng(11)
    histories = [decimals(np.round(500 + rng.normal(0, 30, 48).cumsum(), 2).tolist()) for _ in range(5)]

    batch = forecast_baselines(histories, 12)

    # A matrix product over five rows may round differently from one over a single row.
    for history, result in zip(histories, batch, strict=True):
        single = forecast_baselines([history], 12)[0]
        assert result.method == single.method
        assert all(abs(a - b) <= Decimal("0.01") for a, b in zip(result.p50, single.p50, strict=True))


# --- Fallbacks for diverging fits ---------------------------------------------------------------------------


def break_every_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    def diverged(data: object, candidate: object, rows: np.ndarray, horizon: int,
                 period: int) -> tuple[np.ndarray, np.ndarray]:
        return np.full((rows.size, horizon), np.nan), np.full((rows.size, horizon), np.nan)

    monkeypatch.setattr(statistics, "_forecast_candidate", diverged)


def test_diverged_seasonal_fit_gives_seasonal_naive(monkeypatch: pytest.MonkeyPatch) -> None:
    break_every_fit(monkeypatch)
    history = seasonal_history(30)

    result = forecast_one(history, 3)

    # Thirty points end at phase 5 of the cycle, so the next three periods repeat points 18-20.
    assert result.method == "seasonal_naive"
    assert texts(result.p50) == [f"{value:.2f}" for value in history[18:21]]


def test_diverged_fit_gives_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    break_every_fit(monkeypatch)

    result = forecast_one([10, 14, 9, 11, 16, 12], 2)

    # Mean 72 / 6 = 12. Sample deviation sqrt(34 / 5) = 2.6077, times sqrt(1 + 1 / 6), gives 2.8166.
    assert result.method == "mean"
    assert texts(result.p50) == ["12.00", "12.00"]
    assert texts(result.p90) == ["15.61", "15.61"]


# --- Model internals ------------------------------------------------------------------------------------------


def test_least_squares_states_match_recursion() -> None:
    rng = np.random.default_rng(5)
    history = 200 + 20 * np.sin(np.arange(40) * math.pi / 6) + rng.normal(0, 3, 40)
    family = statistics._ets_family("Ad", "A")
    operators = statistics._linear_operators(family, history.size, 12)
    point = 9

    output = history @ operators[:, point]
    residuals, theta = output[: history.size], output[history.size:]
    state = statistics._additive_state(family.form, theta[None, :], 12)
    smoothing = family.grid.take(np.array([point]))
    errors, _ = statistics._filter(history[:, None], family.form, smoothing, state, 12)

    assert np.allclose(errors[:, 0], residuals)
    for shift in np.eye(theta.size):
        moved = statistics._additive_state(family.form, (theta + shift)[None, :], 12)
        moved_errors, _ = statistics._filter(history[:, None], family.form, smoothing, moved, 12)
        assert (moved_errors**2).sum() > (residuals**2).sum()


def test_spread_factors_follow_ets_variance() -> None:
    form = statistics._Form("Ad", "A")
    smoothing = statistics._smoothing([0.5], [0.1], [0.2], [0.5])

    factors = statistics._spread_factors(form, smoothing, 3, 2)

    # c1 = 0.5 + 0.1 * 0.5 = 0.55 and c2 = 0.5 + 0.1 * (0.5 + 0.25) + 0.2 = 0.775 (a whole season),
    # so the variances are 1, 1 + 0.3025 and 1 + 0.3025 + 0.600625.
    assert np.allclose(factors, [[1.0, math.sqrt(1.3025), math.sqrt(1.903125)]])


def test_cents_match_to_cents() -> None:
    rng = np.random.default_rng(13)
    half_cents = (np.arange(-2000, 2000) + 0.5) / 100
    values = np.concatenate([
        half_cents,
        rng.normal(0, 1e4, 2000),
        [0.125, -0.125, 2.675, 1.005, 0.015, 1e15 + 0.125, -4.5e13 - 0.375, 9.87654321e20],
    ])

    rounded = statistics._to_cents(values)

    assert rounded == [to_cents(Decimal(value)) for value in values.tolist()]


def test_operators_are_reused_between_calls() -> None:
    statistics._OPERATORS.clear()
    history = seasonal_history(30)

    first = forecast_one(history, 4)
    cached_bytes = statistics._OPERATORS.size_bytes
    second = forecast_one(history, 4)

    # Forms for 30 months with a season of 12: (N,N), (A,N), (Ad,N), (N,A), (A,A), (Ad,A) and
    # seasonal naive, each once; the second call adds none.
    assert len(statistics._OPERATORS._entries) == 7
    assert statistics._OPERATORS.size_bytes == cached_bytes
    assert second == first


def test_operator_cache_evicts_least_recently_used() -> None:
    family = statistics._ets_family("N", "N")
    # A form with one free state and 5 grid points takes length * 5 * (length + 1) * 8 bytes:
    # 4400 for 10 months, 5280 for 11 and 6240 for 12.
    cache = statistics._OperatorCache(11_000)

    cache.operators(family, 10, 1)
    cache.operators(family, 11, 1)
    cache.operators(family, 10, 1)
    cache.operators(family, 12, 1)

    # 4400 + 5280 + 6240 = 15920 exceeds the budget, so 11 months, used least recently, goes.
    assert cache.size_bytes == 4400 + 6240
    assert [key[3] for key in cache._entries] == [10, 12]


def test_cached_operators_are_read_only() -> None:
    cache = statistics._OperatorCache(1_000_000)

    operators = cache.operators(statistics._ets_family("N", "N"), 10, 1)

    assert operators.flags.writeable is False
    with pytest.raises(ValueError, match="read-only"):
        operators[0, 0, 0] = 1.0


def test_operators_over_budget_are_not_kept() -> None:
    cache = statistics._OperatorCache(4399)

    operators = cache.operators(statistics._ets_family("N", "N"), 10, 1)

    assert operators.nbytes == 4400
    assert cache.size_bytes == 0


# --- Real data ------------------------------------------------------------------------------------------------------


def souvenir_sales() -> list[Decimal]:
    with SOUVENIRS.open(newline="") as file:
        return [Decimal(row["Sales"]) for row in csv.DictReader(file)]


def test_souvenirs_beat_seasonal_naive() -> None:
    sales = souvenir_sales()
    training, holdout = sales[:-12], sales[-12:]

    result = forecast_baselines([training], 12, non_negative=[True])[0]

    forecast_error = sum(abs(forecast - actual) for forecast, actual in zip(result.p50, holdout, strict=True)) / 12
    naive_error = sum(abs(last_year - actual) for last_year, actual in zip(training[-12:], holdout, strict=True)) / 12
    assert SEASONAL_METHOD.match(result.method) is not None
    assert result.method != "seasonal_naive"
    assert forecast_error < naive_error


# --- Input checks -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("horizon", [0, 37])
def test_horizon_outside_range_raises(horizon: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        forecast_baselines([decimals([1, 2, 3])], horizon)

    assert raised.value.field == "horizon"


def test_horizon_limits_are_accepted() -> None:
    assert len(forecast_one([1, 2, 3], 1).p50) == 1
    assert len(forecast_one([1, 2, 3], 36).p50) == 36


def test_season_length_zero_raises() -> None:
    with pytest.raises(InvalidInput) as raised:
        forecast_baselines([decimals([1, 2, 3])], 3, season_length=0)

    assert raised.value.field == "season_length"


def test_flag_count_mismatch_raises() -> None:
    with pytest.raises(InvalidInput) as raised:
        forecast_baselines([decimals([1, 2]), decimals([3, 4])], 3, non_negative=[True])

    assert raised.value.field == "non_negative"


@pytest.mark.parametrize("value", ["NaN", "sNaN", "-Infinity", "1.1E+20"])
def test_unusable_value_raises(value: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        forecast_baselines([decimals([1, 2]), [Decimal(1), Decimal(value)]], 3)

    assert raised.value.field == "histories"
    assert "histories[1]" in str(raised.value)


def test_first_unusable_history_is_named() -> None:
    # Lengths 3, 2 and 3 are fitted in two groups; the error still names the first history in input order.
    histories = [decimals([1, 2, 3]), [Decimal(1), Decimal("NaN")], [Decimal("sNaN"), Decimal(1), Decimal(2)]]

    with pytest.raises(InvalidInput) as raised:
        forecast_baselines(histories, 3)

    assert "histories[1]" in str(raised.value)
