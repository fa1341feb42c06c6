"""Point forecast accuracy measures of the forecast benchmark: sMAPE, MASE and the seasonal naive forecast.

The functions take plain sequences or NumPy arrays and return NumPy arrays of per-point terms,
so a caller pools the terms of many series, origins and horizons and averages them once.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Values = Sequence[float] | FloatArray


def smape_terms(actual: Values, forecast: Values) -> FloatArray:
    """Return 200 |a - f| / (|a| + |f|) per point, in percent, leaving out points where both are zero.

    Raises ``ValueError`` when the two sequences differ in length.
    """
    actual_array, forecast_array = _pair(actual, forecast)
    denominator = np.abs(actual_array) + np.abs(forecast_array)
    scored = denominator > 0
    terms: FloatArray = 200.0 * np.abs(actual_array[scored] - forecast_array[scored]) / denominator[scored]
    return terms


def seasonal_naive_scale(history: Values, season_length: int) -> float:
    """Return the in-sample mean absolute error of the seasonal naive forecast, the MASE denominator.

    Returns NaN when the history has no more than ``season_length`` points, because then no
    seasonal naive error exists.
    """
    values = np.asarray(history, dtype=np.float64)
    if values.size <= season_length:
        return float("nan")
    return float(np.abs(values[season_length:] - values[:-season_length]).mean())


def mase_terms(actual: Values, forecast: Values, history: Values, season_length: int) -> FloatArray:
    """Return |a - f| per point divided by the seasonal naive scale of ``history``.

    Returns no terms when the scale is zero or undefined: a history that repeats its seasons
    exactly, such as a constant one, has no scale to divide by.
    """
    actual_array, forecast_array = _pair(actual, forecast)
    scale = seasonal_naive_scale(history, season_length)
    if not scale > 0:
        return np.zeros(0)
    terms: FloatArray = np.abs(actual_array - forecast_array) / scale
    return terms


def seasonal_naive(history: Values, horizon: int, season_length: int) -> FloatArray:
    """Repeat the last ``season_length`` values of ``history`` for ``horizon`` periods.

    Raises ``ValueError`` when the history is shorter than one season.
    """
    values = np.asarray(history, dtype=np.float64)
    if values.size < season_length:
        raise ValueError(f"history of {values.size} points is shorter than one season of {season_length}")
    last_season = values[values.size - season_length:]
    forecast: FloatArray = last_season[np.arange(horizon) % season_length]
    return forecast


@dataclass
class PooledScore:
    """sMAPE and MASE terms of one method, pooled over series, origins and horizons."""

    smape: list[FloatArray] = field(default_factory=list)
    mase: list[FloatArray] = field(default_factory=list)

    def add(self, actual: Values, forecast: Values, history: Values, season_length: int, *,
            with_smape: bool) -> None:
        """Add the terms of one forecast; ``with_smape`` is false for a series with non-positive values."""
        if with_smape:
            self.smape.append(smape_terms(actual, forecast))
        self.mase.append(mase_terms(actual, forecast, history, season_length))

    def mean_smape(self) -> float:
        return _pooled_mean(self.smape)

    def mean_mase(self) -> float:
        return _pooled_mean(self.mase)

    def smape_count(self) -> int:
        return sum(terms.size for terms in self.smape)

    def mase_count(self) -> int:
        return sum(terms.size for terms in self.mase)


def _pooled_mean(parts: list[FloatArray]) -> float:
    if not parts:
        return float("nan")
    values = np.concatenate(parts)
    return float(values.mean()) if values.size else float("nan")


def _pair(actual: Values, forecast: Values) -> tuple[FloatArray, FloatArray]:
    actual_array = np.asarray(actual, dtype=np.float64)
    forecast_array = np.asarray(forecast, dtype=np.float64)
    if actual_array.shape != forecast_array.shape:
        raise ValueError(f"{actual_array.size} actual values but {forecast_array.size} forecast values")
    return actual_array, forecast_array
