"""Statistical baseline forecasts: exponential smoothing chosen per series, fitted for many series at once.

Each history gets the exponential smoothing (ETS) model, in innovations state-space form, with the
lowest AICc among the forms that its length and values allow: error additive or multiplicative,
trend none, additive or additive damped, season none, additive or multiplicative. Naive, drift and
seasonal naive compete in the same comparison as ETS models with fixed smoothing parameters.
Histories too short for ETS get naive or drift, and a fit that diverges falls back to seasonal
naive or the mean.

Smoothing parameters come from a coarse grid search that scores each grid point for all histories
of one length at once. The one-step errors of a form without multiplicative terms are linear in the
history and the initial states, so one matrix per grid point turns every history into its errors at
the least-squares initial states. A multiplicative season is fitted the same way on log values,
where it is additive, and then scored on the original values.

The fit runs in float64. Forecast values are model estimates, not ledger amounts, so binary rounding
inside the fit is harmless: published values are Decimal rounded half-even to cents, and the ledger
itself stays Decimal.
"""

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from ipm_common.errors import InvalidInput
from ipm_common.money import to_cents

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

Trend = Literal["N", "A", "Ad"]
Season = Literal["N", "A", "M"]
Error = Literal["A", "M"]

MAX_HORIZON = 36

MIN_ETS_LENGTH = 5
"""Shortest history fitted by ETS.

AICc needs more observations than parameters plus one, and the smallest form has three: alpha,
the initial level and the error variance. Shorter histories get naive (one point) or drift.
"""

MAX_MAGNITUDE = 1e20
"""Largest absolute history value.

``to_cents`` quantizes in the default 28-digit Decimal context, so a published value must stay
below 1e26. The limit on the history leaves room for extrapolation below ``_MAX_FORECAST``.
"""

_MAX_FORECAST = 1e24
"""Largest absolute quantile of a fitted model. A model beyond it counts as diverged."""

_Z90 = 1.2815515655446004
"""0.9 quantile of the standard normal distribution."""

# The grid is coarse on purpose: on the 18-month holdouts of the M3 and tourism monthly series,
# finer grids fitted the histories better but forecast worse. The alphas reach out to 0.02 and
# 0.99 because on the rolling origins of bench/forecast_bench.py a level close to the mean won
# on noisy revenue lines and a level close to a random walk on the market series.
_ALPHAS = (0.02, 0.15, 0.4, 0.75, 0.99)
_TREND_SHARES = (0.05, 0.25)
"""Grid of beta as a share of alpha, inside the usual region 0 < beta < alpha."""
_SEASON_SHARES = (0.05, 0.25)
"""Grid of gamma as a share of 1 - alpha, inside the usual region 0 < gamma < 1 - alpha."""
_DAMPINGS = (0.9, 0.98)

_OPERATOR_CACHE_BYTES = 64 * 2**20
"""Memory for the operators kept between calls (64 MiB), so re-rolling one series skips building them.

Operators depend only on the form, the grid, the history length and the season length. For a
history of 61 months all forms together take about 4 MB.
"""

_CHUNK_ELEMENTS = 1_000_000
"""Float64 elements in one temporary array of a grid chunk (8 MB).

Each chunk makes several passes over its arrays, and smaller arrays stay in the CPU cache between passes.
"""


@dataclass(frozen=True)
class BaselineForecast:
    """Statistical baseline of one series: the model used and its 10%, 50% and 90% quantiles per period."""

    method: str
    p10: tuple[Decimal, ...]
    p50: tuple[Decimal, ...]
    p90: tuple[Decimal, ...]
    clamped: bool


def forecast_baselines(
    histories: Sequence[Sequence[Decimal]],
    horizon: int,
    *,
    season_length: int = 12,
    non_negative: Sequence[bool] | None = None,
) -> list[BaselineForecast]:
    """Forecast ``horizon`` periods after each history, returning one result per history in input order.

    Each history is a gap-free grid of actuals, oldest first. A series flagged in ``non_negative``
    never gets a negative quantile: negative values become zero and ``clamped`` is set.
    Raises ``InvalidInput`` for a horizon outside 1-36, a season length below 1, a flag list of
    another length than ``histories`` and a value that is not finite or exceeds ``MAX_MAGNITUDE``.
    """
    _check_arguments(len(histories), horizon, season_length, non_negative)
    flags = [False] * len(histories) if non_negative is None else list(non_negative)
    series = [_to_floats(history) for history in histories]
    groups = [(rows, np.array([series[row] for row in rows], dtype=np.float64).reshape(len(rows), -1))
              for rows in _rows_by_length(series)]
    _check_values(groups)

    results: dict[int, BaselineForecast] = {}
    for rows, values in groups:
        group = _forecast_same_length(values, horizon, season_length)
        published = _publish(group, np.array([flags[row] for row in rows], dtype=bool))
        results.update(zip(rows, published, strict=True))

    return [results[row] for row in range(len(series))]


def _check_arguments(count: int, horizon: int, season_length: int, non_negative: Sequence[bool] | None) -> None:
    if not 1 <= horizon <= MAX_HORIZON:
        raise InvalidInput(f"horizon: {horizon} is outside 1-{MAX_HORIZON} periods", field="horizon")
    if season_length < 1:
        raise InvalidInput(f"season_length: {season_length} is below 1; use 1 for a series without season",
                           field="season_length")
    if non_negative is not None and len(non_negative) != count:
        raise InvalidInput(f"non_negative: {len(non_negative)} flags for {count} histories; send one flag per history",
                           field="non_negative")


def _to_floats(history: Sequence[Decimal]) -> list[float]:
    try:
        return [float(value) for value in history]
    except ValueError:
        # float() raises for a signaling NaN instead of returning NaN, and _check_values rejects NaN.
        return [math.nan] * len(history)


def _check_values(groups: list[tuple[list[int], FloatArray]]) -> None:
    """Raise for the first history, in input order, with a value that is not finite or exceeds ``MAX_MAGNITUDE``."""
    invalid = [row for rows, values in groups
               for row in np.asarray(rows)[~(np.abs(values) <= MAX_MAGNITUDE).all(axis=1)].tolist()]
    if invalid:
        raise InvalidInput(f"histories[{min(invalid)}]: contains a value that is not finite or exceeds "
                           f"{MAX_MAGNITUDE:g} in magnitude", field="histories")


def _rows_by_length(series: list[list[float]]) -> Iterator[list[int]]:
    rows: dict[int, list[int]] = {}
    for row, values in enumerate(series):
        rows.setdefault(len(values), []).append(row)
    yield from rows.values()


# --- Forecasts of a group of histories of equal length ---------------------------------------------------


@dataclass(frozen=True)
class _GroupForecast:
    """Method name, mean and standard deviation of the forecast per history and period."""

    methods: list[str]
    mean: FloatArray
    spread: FloatArray


def _forecast_same_length(history: FloatArray, horizon: int, period: int) -> _GroupForecast:
    """Forecast every row of ``history`` with the method that its length and values allow."""
    count, length = history.shape
    methods = np.full(count, "none", dtype="<U16")
    mean = np.zeros((count, horizon))
    spread = np.zeros((count, horizon))
    if length == 0:
        return _GroupForecast(methods.tolist(), mean, spread)

    constant = (history == history[:, :1]).all(axis=1)
    methods[constant] = "naive"
    mean[constant] = history[constant, -1:]

    varying = np.flatnonzero(~constant)
    if varying.size and length < MIN_ETS_LENGTH:
        methods[varying] = "drift"
        mean[varying], spread[varying] = _drift(history[varying], horizon)
    elif varying.size:
        fit = _forecast_ets(history[varying], horizon, period)
        methods[varying] = fit.methods
        mean[varying] = fit.mean
        spread[varying] = fit.spread

    return _GroupForecast(methods.tolist(), mean, spread)


def _drift(history: FloatArray, horizon: int) -> tuple[FloatArray, FloatArray]:
    """Extend the line through the first and last values of each row."""
    length = history.shape[1]
    steps = np.arange(1, horizon + 1, dtype=np.float64)
    changes = np.diff(history, axis=1)
    mean = history[:, -1:] + changes.mean(axis=1)[:, None] * steps

    # With two to four points the residuals around the fitted slope carry little information (none
    # for two points), so the spread uses the naive one-step errors. A random walk adds h * sigma^2 by step
    # h, and the slope, a mean of length - 1 changes, adds h^2 * sigma^2 / (length - 1).
    sigma = np.sqrt((changes**2).mean(axis=1))
    spread = sigma[:, None] * np.sqrt(steps * (1.0 + steps / (length - 1)))
    return mean, spread


def _seasonal_naive(history: FloatArray, horizon: int, period: int) -> tuple[FloatArray, FloatArray]:
    """Repeat the last season, with a spread that grows with the square root of the seasons ahead."""
    steps = np.arange(horizon)
    mean = history[:, history.shape[1] - period + steps % period]
    sigma = np.sqrt(((history[:, period:] - history[:, :-period]) ** 2).mean(axis=1))
    return mean, sigma[:, None] * np.sqrt(steps // period + 1.0)


def _mean(history: FloatArray, horizon: int) -> tuple[FloatArray, FloatArray]:
    """Forecast the mean of each row, with the spread of a new draw around an estimated mean."""
    length = history.shape[1]
    sigma = history.std(axis=1, ddof=1) * math.sqrt(1.0 + 1.0 / length)
    return np.repeat(history.mean(axis=1)[:, None], horizon, axis=1), np.repeat(sigma[:, None], horizon, axis=1)


# --- ETS forms, parameters and states ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Form:
    """Trend and season of an ETS model. The error type changes only the likelihood, not the recursion."""

    trend: Trend
    season: Season

    def state_size(self, period: int) -> int:
        """Count the free initial states: level, slope and all seasonal states but one."""
        return 1 + (self.trend != "N") + (period - 1 if self.season != "N" else 0)


@dataclass(frozen=True)
class _Smoothing:
    """Smoothing parameters in error-correction form, one entry per grid point or per series."""

    alpha: FloatArray
    beta: FloatArray
    gamma: FloatArray
    phi: FloatArray

    def key(self) -> tuple[bytes, ...]:
        """Return the grid as bytes, to tell grids apart in a cache key."""
        return tuple(values.tobytes() for values in (self.alpha, self.beta, self.gamma, self.phi))

    def take(self, index: IntArray) -> "_Smoothing":
        return _Smoothing(self.alpha[index], self.beta[index], self.gamma[index], self.phi[index])

    def column(self) -> "_Smoothing":
        """Reshape to a column, to broadcast grid points against a second axis."""
        return _Smoothing(self.alpha[:, None], self.beta[:, None], self.gamma[:, None], self.phi[:, None])

    @property
    def size(self) -> int:
        return int(self.alpha.size)


@dataclass
class _State:
    """ETS state. ``season[t % period]`` is the seasonal state of period t, counted from the first period."""

    level: FloatArray
    slope: FloatArray
    season: FloatArray


@dataclass(frozen=True)
class _Family:
    """A form with its grid of smoothing parameters. A baseline is a family with one fixed grid point."""

    form: _Form
    grid: _Smoothing
    fitted_parameters: int
    baseline: str | None = None

    def parameter_count(self, period: int) -> int:
        """Count the estimated parameters for AICc: smoothing parameters, free initial states and the error variance."""
        return self.fitted_parameters + self.form.state_size(period) + 1

    def method(self, error: Error) -> str:
        if self.baseline is not None:
            return self.baseline
        return f"ets({error},{self.form.trend},{self.form.season})"


def _smoothing(alpha: list[float], beta: list[float], gamma: list[float], phi: list[float]) -> _Smoothing:
    return _Smoothing(np.array(alpha), np.array(beta), np.array(gamma), np.array(phi))


def _ets_family(trend: Trend, season: Season) -> _Family:
    """Build a form with every grid point of its parameters inside the usual region."""
    trend_shares = _TREND_SHARES if trend != "N" else (0.0,)
    season_shares = _SEASON_SHARES if season != "N" else (0.0,)
    dampings = _DAMPINGS if trend == "Ad" else (1.0,)
    points = [
        (alpha, alpha * trend_share, (1.0 - alpha) * season_share, phi)
        for alpha in _ALPHAS
        for trend_share in trend_shares
        for season_share in season_shares
        for phi in dampings
    ]
    alphas, betas, gammas, phis = (list(values) for values in zip(*points, strict=True))
    fitted = 1 + (trend != "N") + (season != "N") + (trend == "Ad")
    return _Family(_Form(trend, season), _smoothing(alphas, betas, gammas, phis), fitted)


def _baseline_families(seasonal: bool) -> list[_Family]:
    """List the baselines that compete with the fitted forms: seasonal naive, or naive and drift.

    The mean (alpha = 0) is left out of the comparison: on the M3 and tourism monthly holdouts it
    often won on AICc but forecast worse than the fitted forms. Naive and drift are left out once
    a history is long enough for seasonal forms, because a random walk then wins only after an
    outlier in the last period, and it carries that outlier through the whole horizon.
    """
    if seasonal:
        return [_Family(_Form("N", "A"), _smoothing([0.0], [0.0], [1.0], [1.0]), 0, "seasonal_naive")]
    return [
        _Family(_Form("N", "N"), _smoothing([1.0], [0.0], [0.0], [1.0]), 0, "naive"),
        _Family(_Form("A", "N"), _smoothing([1.0], [0.0], [0.0], [1.0]), 0, "drift"),
    ]


def _additive_state(form: _Form, theta: FloatArray, period: int) -> _State:
    """Expand free initial states (last axis of ``theta``) to a state whose seasonal states sum to zero."""
    level = theta[..., 0].copy()
    slope = theta[..., 1].copy() if form.trend != "N" else np.zeros_like(level)
    if form.season == "N":
        return _State(level, slope, np.zeros((0, *level.shape)))

    start = 1 + (form.trend != "N")
    free = np.moveaxis(theta[..., start:start + period - 1], -1, 0)
    season = np.concatenate([free, -free.sum(axis=0, keepdims=True)])
    return _State(level, slope, np.ascontiguousarray(season))


def _multiplicative_state(form: _Form, theta: FloatArray, period: int) -> _State:
    """Turn free initial states fitted to log values into a level, a slope and seasonal factors with mean one."""
    state = _additive_state(replace(form, season="A"), theta, period)
    level = np.exp(state.level)
    slope = level * np.expm1(state.slope) if form.trend != "N" else state.slope
    factors = np.exp(state.season)
    return _State(level, slope, factors / factors.mean(axis=0))


def _initial_state(form: _Form, theta: FloatArray, period: int) -> _State:
    if form.season == "M":
        return _multiplicative_state(form, theta, period)
    return _additive_state(form, theta, period)


# --- The ETS recursion ------------------------------------------------------------------------------------


def _filter(observed: FloatArray, form: _Form, smoothing: _Smoothing, state: _State,
            period: int) -> tuple[FloatArray, FloatArray]:
    """Run the ETS recursion along axis 0 of ``observed``, advance ``state`` and return errors and fitted values."""
    shape = np.broadcast_shapes(observed.shape[1:], state.level.shape)
    errors = np.empty((observed.shape[0], *shape))
    fitted = np.empty((observed.shape[0], *shape))
    for step in range(observed.shape[0]):
        fitted[step], errors[step] = _step(observed[step], form, smoothing, state, step % period)
    return errors, fitted


def _step(observed: FloatArray, form: _Form, smoothing: _Smoothing, state: _State,
          phase: int) -> tuple[FloatArray, FloatArray]:
    """Advance ``state`` by one observation in error-correction form and return the fitted value and error."""
    base = state.level + smoothing.phi * state.slope if form.trend != "N" else state.level

    if form.season == "N":
        fitted = base
        error = observed - fitted
        correction = error
    elif form.season == "A":
        seasonal = state.season[phase]
        fitted = base + seasonal
        error = observed - fitted
        correction = error
        state.season[phase] = seasonal + smoothing.gamma * error
    else:
        seasonal = state.season[phase]
        fitted = base * seasonal
        error = observed - fitted
        correction = error / seasonal
        state.season[phase] = seasonal + smoothing.gamma * error / base

    state.level = base + smoothing.alpha * correction
    if form.trend != "N":
        state.slope = smoothing.phi * state.slope + smoothing.beta * correction
    return fitted, error


def _linear_operators(family: _Family, length: int, period: int) -> FloatArray:
    """Build per grid point the matrix that turns a history into its errors and least-squares initial states.

    Without multiplicative terms the errors are linear in the history y and the free initial
    states x: e = L y - Z x, with L lower-triangular Toeplitz. The least-squares states are
    x = Z⁺ L y and the errors there are (L - Z Z⁺ L) y. The result has the shape (length, grid
    points, length + states), so ``history @ result`` gives the errors in the first ``length``
    columns of each grid point and the initial states in the rest.
    """
    form, grid = family.form, family.grid
    size = form.state_size(period)
    observed = np.zeros((length, grid.size, size + 1))
    observed[0, :, 0] = 1.0
    theta = np.zeros((grid.size, size + 1, size))
    theta[:, 1:, :] = np.eye(size)

    errors, _ = _filter(observed, form, grid.column(), _additive_state(form, theta, period), period)
    impulse = errors[:, :, 0].T
    design = -errors[:, :, 1:].transpose(1, 0, 2)

    lags = np.subtract.outer(np.arange(length), np.arange(length))
    lower = np.where(lags >= 0, impulse[:, np.maximum(lags, 0)], 0.0)
    estimator = np.linalg.pinv(design) @ lower
    residual_maker = lower - design @ estimator
    return np.ascontiguousarray(np.concatenate([residual_maker, estimator], axis=1).transpose(2, 0, 1))


class _OperatorCache:
    """Operators of ``_linear_operators``, least recently used first, within a budget of bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: OrderedDict[tuple[object, ...], FloatArray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def operators(self, family: _Family, length: int, period: int) -> FloatArray:
        """Return the operators of ``family`` for histories of ``length``, building them on a miss."""
        key = (family.form, family.baseline, family.grid.key(), length, period)
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                return cached

        built = _linear_operators(family, length, period)
        built.flags.writeable = False
        self._keep(key, built)
        return built

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def _keep(self, key: tuple[object, ...], operators: FloatArray) -> None:
        with self._lock:
            if key in self._entries or operators.nbytes > self.budget:
                return
            self._entries[key] = operators
            self._bytes += operators.nbytes
            while self._bytes > self.budget:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.nbytes


_OPERATORS = _OperatorCache(_OPERATOR_CACHE_BYTES)


# --- Grid search ------------------------------------------------------------------------------------------


@dataclass
class _Best:
    """Lowest criterion found so far per series, with its grid index and free initial states."""

    criterion: FloatArray
    index: IntArray
    theta: FloatArray

    @classmethod
    def empty(cls, count: int, size: int) -> "_Best":
        return cls(np.full(count, np.inf), np.zeros(count, dtype=np.intp), np.zeros((count, size)))

    def offer(self, criterion: FloatArray, theta: FloatArray, first_index: int) -> None:
        """Keep per series the better of the best so far and the best grid point of ``criterion`` (series, points)."""
        chunk_best = np.argmin(criterion, axis=1)
        series = np.arange(criterion.shape[0])
        value = criterion[series, chunk_best]
        better = value < self.criterion

        self.criterion[better] = value[better]
        self.index[better] = first_index + chunk_best[better]
        self.theta[better] = theta[series[better], chunk_best[better]]


@dataclass(frozen=True)
class _Candidate:
    """Best fit of one family and error type for every series of a group."""

    family: _Family
    error: Error
    best: _Best


@dataclass(frozen=True)
class _Data:
    """A group of histories of equal length in the layouts that the search needs."""

    history: FloatArray
    by_time: FloatArray
    positive: BoolArray
    floor: FloatArray

    @classmethod
    def of(cls, history: FloatArray) -> "_Data":
        # A perfect fit would give log(0). The floor makes near-perfect fits tie, so the penalty
        # on the parameter count decides between them.
        scale = np.abs(history).mean(axis=1)
        floor = history.shape[1] * (1e-9 * scale) ** 2
        positive: BoolArray = np.asarray((history > 0).all(axis=1))
        return cls(history, np.ascontiguousarray(history.T), positive, floor)


def _search(data: _Data, family: _Family, operators: FloatArray, errors: tuple[Error, ...]) -> list[_Candidate]:
    """Score every grid point of a family without multiplicative terms, for every series and error type.

    Multiplicative errors reuse the least-squares initial states, which minimize absolute rather
    than relative errors: an approximation of their maximum-likelihood states.
    """
    count, length = data.history.shape
    width = operators.shape[2]
    bests = {error: _Best.empty(count, width - length) for error in errors}

    chunk = max(1, _CHUNK_ELEMENTS // (count * width))
    for first in range(0, family.grid.size, chunk):
        last = min(first + chunk, family.grid.size)
        output = (data.history @ operators[:, first:last].reshape(length, -1)).reshape(count, last - first, width)
        residuals, theta = output[..., :length], output[..., length:]

        if "A" in bests:
            bests["A"].offer(_additive_criterion(residuals, data.floor[:, None]), theta, first)
        if "M" in bests:
            fitted = data.history[:, None, :] - residuals
            bests["M"].offer(_multiplicative_criterion(residuals, fitted, data.positive[:, None]), theta, first)

    return [_Candidate(family, error, best) for error, best in bests.items()]


def _search_multiplicative_season(data: _Data, family: _Family, operators: FloatArray,
                                  period: int) -> list[_Candidate]:
    """Fit the multiplicative-season twin of an additive-season family to the strictly positive series.

    On the log scale a multiplicative season is additive, so the additive family fitted to log
    values gives the smoothing parameters and, exponentiated, the initial level, slope and seasonal
    factors. The twin is scored on the original values with multiplicative errors only: additive
    errors with a multiplicative season can be numerically unstable, and the AutoETS of
    statsforecast 2.1.1 leaves them out too.
    """
    rows = np.flatnonzero(data.positive)
    if rows.size == 0:
        return []

    logarithmic = _search(_Data.of(np.log(data.history[rows])), family, operators, ("A",))[0].best
    twin = replace(family, form=replace(family.form, season="M"))
    smoothing = family.grid.take(logarithmic.index)
    state = _multiplicative_state(twin.form, logarithmic.theta, period)
    with np.errstate(all="ignore"):
        residuals, fitted = _filter(data.by_time[:, rows], twin.form, smoothing, state, period)

    best = _Best.empty(data.history.shape[0], family.form.state_size(period))
    best.criterion[rows] = _multiplicative_criterion(residuals.T, fitted.T, data.positive[rows])
    best.index[rows] = logarithmic.index
    best.theta[rows] = logarithmic.theta
    return [_Candidate(twin, "M", best)]


def _additive_criterion(errors: FloatArray, floor: FloatArray) -> FloatArray:
    """Return -2 log-likelihood, less a constant, of additive errors along the last axis."""
    squares: FloatArray = np.maximum(np.einsum("...t,...t->...", errors, errors), floor)
    criterion: FloatArray = np.log(squares) * errors.shape[-1]
    return criterion


def _multiplicative_criterion(errors: FloatArray, fitted: FloatArray, positive: BoolArray) -> FloatArray:
    """Return -2 log-likelihood, less the same constant, of errors relative to the fitted values along the last axis.

    A fit that is not positive at every step has no multiplicative likelihood and scores infinity.
    """
    length = errors.shape[-1]
    with np.errstate(all="ignore"):
        valid = positive & (fitted.min(axis=-1) > 0)
        relative = errors / fitted
        squares = np.maximum(np.einsum("...t,...t->...", relative, relative), length * 1e-18)
        criterion = length * np.log(squares) + 2.0 * np.log(fitted, out=relative).sum(axis=-1)
    return np.where(valid & np.isfinite(criterion), criterion, np.inf)


# --- Model choice and forecast ----------------------------------------------------------------------------


def _forecast_ets(history: FloatArray, horizon: int, period: int) -> _GroupForecast:
    """Fit every allowed form to every row, keep the lowest AICc per row and forecast with it."""
    count, length = history.shape
    data = _Data.of(history)
    seasonal = period > 1 and length >= 2 * period + 1
    candidates = _fit_candidates(data, period, seasonal)

    scores = np.stack([_aicc(candidate, length, period) for candidate in candidates])
    choice = np.argmin(scores, axis=0)

    methods = np.full(count, "", dtype="<U16")
    mean = np.zeros((count, horizon))
    spread = np.zeros((count, horizon))
    for number, candidate in enumerate(candidates):
        rows = np.flatnonzero(choice == number)
        if rows.size:
            methods[rows] = candidate.family.method(candidate.error)
            mean[rows], spread[rows] = _forecast_candidate(data, candidate, rows, horizon, period)

    # NOTE: a multiplicative form can still diverge on extreme data, such as a near-zero fitted value.
    with np.errstate(invalid="ignore"):
        reach = np.abs(mean) + _Z90 * spread
        broken = np.flatnonzero(~(reach < _MAX_FORECAST).all(axis=1))
    if broken.size and seasonal:
        methods[broken] = "seasonal_naive"
        mean[broken], spread[broken] = _seasonal_naive(history[broken], horizon, period)
    elif broken.size:
        methods[broken] = "mean"
        mean[broken], spread[broken] = _mean(history[broken], horizon)

    return _GroupForecast(methods.tolist(), mean, spread)


def _fit_candidates(data: _Data, period: int, seasonal: bool) -> list[_Candidate]:
    """Fit the baselines and every ETS form that the length and values allow."""
    length = data.history.shape[1]
    errors: tuple[Error, ...] = ("A", "M") if data.positive.any() else ("A",)

    candidates: list[_Candidate] = []
    for family in _baseline_families(seasonal):
        candidates += _search(data, family, _OPERATORS.operators(family, length, period), ("A",))

    for trend in get_args(Trend):
        family = _ets_family(trend, "N")
        candidates += _search(data, family, _OPERATORS.operators(family, length, period), errors)
        if seasonal:
            family = _ets_family(trend, "A")
            operators = _OPERATORS.operators(family, length, period)
            candidates += _search(data, family, operators, errors)
            candidates += _search_multiplicative_season(data, family, operators, period)
    return candidates


def _aicc(candidate: _Candidate, length: int, period: int) -> FloatArray:
    """Return AICc per series, or infinity where the history is too short for the parameter count."""
    parameters = candidate.family.parameter_count(period)
    if length - parameters - 1 <= 0:
        return np.full(candidate.best.criterion.shape, np.inf)
    penalty = 2.0 * parameters + 2.0 * parameters * (parameters + 1) / (length - parameters - 1)
    return candidate.best.criterion + penalty


def _forecast_candidate(data: _Data, candidate: _Candidate, rows: IntArray, horizon: int,
                        period: int) -> tuple[FloatArray, FloatArray]:
    """Rerun the chosen grid point on ``rows`` and return the forecast mean and standard deviation."""
    family = candidate.family
    length = data.history.shape[1]
    smoothing = family.grid.take(candidate.best.index[rows])
    state = _initial_state(family.form, candidate.best.theta[rows], period)
    with np.errstate(all="ignore"):
        errors, fitted = _filter(data.by_time[:, rows], family.form, smoothing, state, period)
        mean = _forecast_path(family.form, smoothing, state, length, horizon, period)

        # The error variance is estimated after the other parameters, so it does not count here.
        degrees = max(length - (family.parameter_count(period) - 1), 1)
        factors = _spread_factors(family.form, smoothing, horizon, period)
        if candidate.error == "A":
            sigma = np.sqrt((errors**2).sum(axis=0) / degrees)
            spread = sigma[:, None] * factors
        else:
            sigma = np.sqrt(((errors / fitted) ** 2).sum(axis=0) / degrees)
            spread = sigma[:, None] * np.abs(mean) * factors
    return mean, spread


def _forecast_path(form: _Form, smoothing: _Smoothing, state: _State, length: int, horizon: int,
                   period: int) -> FloatArray:
    """Project the final state ``horizon`` periods ahead."""
    steps = np.arange(1, horizon + 1)
    damped = np.cumsum(smoothing.phi[:, None] ** steps, axis=1)
    base = state.level[:, None] + damped * state.slope[:, None]
    if form.season == "N":
        return base

    seasonal = state.season[(length + steps - 1) % period].T
    return base + seasonal if form.season == "A" else base * seasonal


def _spread_factors(form: _Form, smoothing: _Smoothing, horizon: int, period: int) -> FloatArray:
    """Return the ratio of the h-step to the one-step forecast standard deviation.

    For a form without multiplicative terms the h-step variance is sigma^2 * (1 + sum of c_j^2 for
    j < h), where c_j = alpha + beta * (phi + ... + phi^j), plus gamma when j is a whole number of
    seasons. Forms with multiplicative errors or season get the same factors, applied to the
    relative error: an approximation that leaves out the extra variance that products of errors
    add at long horizons.
    """
    lags = np.arange(1, horizon)
    damped = np.cumsum(smoothing.phi[:, None] ** lags, axis=1)
    on_season = (lags % period == 0) if form.season != "N" else np.zeros(lags.shape, dtype=bool)
    weights = smoothing.alpha[:, None] + smoothing.beta[:, None] * damped + smoothing.gamma[:, None] * on_season
    variance = 1.0 + np.concatenate([np.zeros((weights.shape[0], 1)), np.cumsum(weights**2, axis=1)], axis=1)
    return np.sqrt(variance)


# --- Publication ------------------------------------------------------------------------------------------


def _publish(group: _GroupForecast, non_negative: BoolArray) -> list[BaselineForecast]:
    """Turn every row into Decimal quantiles, clamping negatives to zero on the rows flagged non-negative."""
    count, horizon = group.mean.shape
    quantiles = np.stack([group.mean - _Z90 * group.spread, group.mean, group.mean + _Z90 * group.spread])

    # Values that round to zero become +0.0 first, so none is published as "-0.00" or counts as clamped.
    quantiles = np.where(np.abs(quantiles) < 0.005, 0.0, quantiles)
    clamped = non_negative & (quantiles < 0).any(axis=(0, 2))
    quantiles = np.where(non_negative[None, :, None], np.maximum(quantiles, 0.0), quantiles)

    values = _to_cents(quantiles.reshape(-1))
    rows = [tuple(values[start:start + horizon]) for start in range(0, len(values), horizon)]
    return [
        BaselineForecast(group.methods[row], rows[row], rows[count + row], rows[2 * count + row], bool(clamped[row]))
        for row in range(count)
    ]


def _to_cents(values: FloatArray) -> list[Decimal]:
    """Round every value with ``to_cents``, skipping the slow exact Decimal conversion where it cannot matter.

    Rounding to float is monotonic and every half cent below 2**52 cents is a float, so
    ``values * 100`` lands on the same side of each half cent as the exact product, or exactly
    on it. Away from those ties and below 2**52 cents, the nearest integer of the float product is
    therefore the half-even rounding of the exact value. The other values go through ``to_cents``.
    """
    scaled = values * 100.0
    cents = np.rint(scaled).tolist()
    exact = np.flatnonzero((scaled - np.floor(scaled) == 0.5) | (np.abs(scaled) >= 2.0**52))

    rounded = [Decimal(int(cent)).scaleb(-2) for cent in cents]
    for index in exact.tolist():
        rounded[index] = to_cents(Decimal(float(values[index])))
    return rounded
