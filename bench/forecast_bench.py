"""Measure the speed and accuracy of IPM's statistical baseline against statsforecast's AutoETS.

    .venv/bin/python bench/forecast_bench.py            # 10,000 series, as `make bench-forecast` runs it
    .venv/bin/python bench/forecast_bench.py --series 500

Real data: the monthly series in ``$IPM_DATA_DIR`` (default ``examples/data``). They are the City of
Philadelphia's leaf revenue lines, the souvenir shop's sales and the ten FRED series. The published
Philadelphia subtotals are left out, as in the demo, and each FRED series starts after its last
missing month.

Speed: the script derives ``--series`` histories of 60 months from the real series. It draws a
real series, each with the same chance, and a 61-month window in it, uniformly and with
replacement. It multiplies the window by a factor drawn log-uniformly from 0.1 to 10 and each
month by 1 + 0.05 z, with z standard normal clipped to ±3 and a fixed seed. The noise keeps every
sign and every zero, so a window that is never negative stays so. Values are rounded to cents.
IPM and AutoETS fit the first 60 months and forecast 24. Each fits its parameters and chooses
its model per series inside the timed call; IPM's time is the median of three calls and AutoETS
runs once. Before timing, each method runs once on eight series. That run and the import are
reported as start-up and not timed: statsforecast 2.1.1 fits ETS in compiled code without numba,
so its start-up is the import and the first start of its worker processes. Timing leaves out the
Decimal conversion of the inputs and the DataFrame construction, and includes IPM's conversion
of its forecasts to Decimal cents. The script prints elapsed and CPU time, because on a machine
shared with other work the ratio of CPU times moves less than the ratio of elapsed times.

The 61st month is the new actual of the latency test, which calls ``forecast_baselines`` on one
61-month history at a time, taking the histories in turn. ``forecast_reroll_latency.py`` times
the same re-roll through the service layer on SQLite.

Accuracy: every real series with at least 48 months, cut to its last 120 months, is forecast from
each of its last 24 months as origin, with an expanding window and horizons 1-18. Points after the
end of the data are skipped. Scores pool every series, origin and horizon. sMAPE leaves out the
points where actual and forecast are both zero and series with a value of zero or below. MASE
divides by the in-sample mean absolute error of the seasonal naive forecast on that origin's window,
and leaves out windows where that error is zero. IPM's forecast is the p50 of ``forecast_baselines``,
clamped at zero for series never negative in the data, as the product clamps non-negative accounts.
"""

import argparse
import asyncio
import csv
import importlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from forecast_metrics import PooledScore, seasonal_naive

FloatArray = npt.NDArray[np.float64]

SEASON_LENGTH = 12
WINDOW = 60
HORIZON = 24
WARM_UP_SERIES = 8
IPM_RUNS = 3
SEED = 20_240_131

MIN_ACCURACY_MONTHS = 48
ACCURACY_MONTHS = 120
ORIGINS = 24
ACCURACY_HORIZON = 18

METHODS = ("IPM baseline", "AutoETS", "seasonal naive")


@dataclass(frozen=True)
class RealSeries:
    name: str
    source: str
    values: FloatArray


@dataclass(frozen=True)
class Speed:
    start_up_seconds: float
    fit_seconds: float
    cpu_seconds: float
    count: int

    @property
    def series_per_second(self) -> float:
        return self.count / self.fit_seconds


def main() -> None:
    arguments = _parse_arguments()
    data_dir = Path(os.environ.get("IPM_DATA_DIR", Path(__file__).parents[1] / "examples" / "data"))
    real = read_real_series(data_dir)
    print(f"real monthly series: {len(real)} from {data_dir}", flush=True)

    windows = resample_windows(real, arguments.series, np.random.default_rng(SEED))
    ipm = time_ipm(windows[:, :WINDOW])
    print(f"IPM: start-up {ipm.start_up_seconds:.2f} s, {ipm.count} series in {ipm.fit_seconds:.2f} s "
          f"(CPU {ipm.cpu_seconds:.2f} s) = {ipm.series_per_second:.0f} series/s", flush=True)
    autoets = time_autoets(windows[:, :WINDOW])
    print(f"AutoETS: start-up {autoets.start_up_seconds:.2f} s, {autoets.count} series in "
          f"{autoets.fit_seconds:.2f} s (CPU {autoets.cpu_seconds:.2f} s with its worker processes) "
          f"= {autoets.series_per_second:.1f} series/s", flush=True)
    ratio = ipm.series_per_second / autoets.series_per_second
    print(f"speed ratio: IPM {ratio:.0f} x AutoETS by elapsed time, "
          f"{autoets.cpu_seconds / ipm.cpu_seconds:.0f} x by CPU time", flush=True)

    latencies = time_one_series_reroll(windows, arguments.repetitions)
    print(f"one-series re-roll (forecast_baselines, 61 months): p50 {_percentile(latencies, 50):.2f} ms, "
          f"p99 {_percentile(latencies, 99):.2f} ms over {len(latencies)} calls", flush=True)
    _print_service_latency(windows, arguments.reroll_repetitions)

    scores = evaluate_accuracy(real)
    print_accuracy(scores)

    overall = scores["all"]
    print(f"forecast bench: {ipm.series_per_second:.0f} series/s ({ratio:.0f} x AutoETS), "
          f"sMAPE {overall['IPM baseline'].mean_smape():.2f} vs {overall['AutoETS'].mean_smape():.2f} (AutoETS), "
          f"one-series re-roll p99 {_percentile(latencies, 99):.2f} ms")


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000, help="histories in the speed test (default 10000)")
    parser.add_argument("--repetitions", type=int, default=2_000,
                        help="calls of forecast_baselines in the one-series latency test (default 2000)")
    parser.add_argument("--reroll-repetitions", type=int, default=300,
                        help="re-rolls through the service layer on SQLite; 0 skips them (default 300)")
    arguments = parser.parse_args()
    if arguments.series < 1 or arguments.repetitions < 1 or arguments.reroll_repetitions < 0:
        parser.error("--series and --repetitions must be at least 1, --reroll-repetitions at least 0")
    return arguments


# --- Real series -----------------------------------------------------------------------------------------


def read_real_series(data_dir: Path) -> list[RealSeries]:
    """Read the Philadelphia leaf lines, the souvenir shop and the FRED series, oldest month first."""
    return [*_philadelphia(data_dir), _souvenirs(data_dir), *_fred(data_dir)]


def _philadelphia(data_dir: Path) -> list[RealSeries]:
    from ipm_cli.demo.philadelphia import read_collections

    months: dict[str, dict[tuple[int, int], float]] = {}
    for row in read_collections(data_dir):
        months.setdefault(row.line, {})[(row.month.year, row.month.month)] = float(row.amount)

    series = []
    for line, values in sorted(months.items()):
        keys = sorted(values)
        count = (keys[-1][0] - keys[0][0]) * 12 + keys[-1][1] - keys[0][1] + 1
        if count != len(keys):
            raise ValueError(f"Philadelphia line {line} is missing {count - len(keys)} months between its first and "
                             "last month; the benchmark needs gap-free series")
        series.append(RealSeries(line, "Philadelphia", np.array([values[key] for key in keys])))
    return series


def _souvenirs(data_dir: Path) -> RealSeries:
    with open(data_dir / "market" / "souvenirs_shop_sales_monthly.csv", newline="") as handle:
        sales = [float(row["Sales"]) for row in csv.DictReader(handle)]
    return RealSeries("souvenirs", "souvenirs", np.array(sales))


def _fred(data_dir: Path) -> list[RealSeries]:
    series = []
    for path in sorted((data_dir / "market" / "fred_monthly").glob("*.csv")):
        with open(path, newline="") as handle:
            values = [row[1] for row in csv.reader(handle)][1:]
        last_missing = max((index for index, value in enumerate(values) if not value), default=-1)
        series.append(RealSeries(path.stem, "FRED", np.array([float(value) for value in values[last_missing + 1:]])))
    return series


def resample_windows(real: Sequence[RealSeries], count: int, rng: np.random.Generator) -> FloatArray:
    """Draw ``count`` scaled and noisy windows of ``WINDOW + 1`` months from the real series."""
    pool = [series.values for series in real if series.values.size > WINDOW]
    picks = rng.integers(len(pool), size=count)
    starts = [int(rng.integers(pool[pick].size - WINDOW)) for pick in picks.tolist()]
    windows = np.stack([pool[pick][start:start + WINDOW + 1] for pick, start in zip(picks, starts, strict=True)])

    scale = np.exp(rng.uniform(np.log(0.1), np.log(10.0), size=(count, 1)))
    noise = 1.0 + 0.05 * np.clip(rng.standard_normal(windows.shape), -3.0, 3.0)
    rounded: FloatArray = np.round(windows * scale * noise, 2)
    return rounded


# --- Speed -----------------------------------------------------------------------------------------------


def time_ipm(histories: FloatArray) -> Speed:
    """Time IPM's forecast_baselines on every history in one call, after an import and a warm-up call.

    The call runs ``IPM_RUNS`` times because it takes about a second, so one run of another process
    on the machine moves a single measurement a lot. AutoETS runs once: it takes minutes.
    """
    started = time.perf_counter()
    statistics = importlib.import_module("ipm_forecast.domain.statistics")
    decimals = _decimals(histories)
    flags = _never_negative(histories)
    statistics.forecast_baselines(decimals[:WARM_UP_SERIES], HORIZON, non_negative=flags[:WARM_UP_SERIES])
    start_up = time.perf_counter() - started - _conversion_seconds(histories[:WARM_UP_SERIES])

    runs, cpu_runs = [], []
    for _ in range(IPM_RUNS):
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        statistics.forecast_baselines(decimals, HORIZON, season_length=SEASON_LENGTH, non_negative=flags)
        runs.append(time.perf_counter() - started)
        cpu_runs.append(_cpu_seconds() - cpu_started)
    print(f"IPM runs: {', '.join(f'{seconds:.2f} s' for seconds in runs)}; the median counts", flush=True)
    return Speed(start_up, float(np.median(runs)), float(np.median(cpu_runs)), len(decimals))


def _cpu_seconds() -> float:
    """Return the CPU time of this process and of its finished child processes, such as statsforecast's workers."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _decimals(histories: FloatArray) -> list[list[Decimal]]:
    return [[Decimal(f"{value:.2f}") for value in row] for row in histories.tolist()]


def _never_negative(histories: FloatArray) -> list[bool]:
    return [bool(flag) for flag in np.all(histories >= 0, axis=1).tolist()]


def _conversion_seconds(histories: FloatArray) -> float:
    started = time.perf_counter()
    _decimals(histories)
    return time.perf_counter() - started


def time_autoets(histories: FloatArray) -> Speed:
    """Time statsforecast's AutoETS on every history in one call, after an import and a warm-up call."""
    started = time.perf_counter()
    forecaster = _autoets()
    forecaster.forecast(df=_frame(histories[:WARM_UP_SERIES]), h=HORIZON)
    start_up = time.perf_counter() - started

    frame = _frame(histories)
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    forecaster.forecast(df=frame, h=HORIZON)
    return Speed(start_up, time.perf_counter() - started, _cpu_seconds() - cpu_started, histories.shape[0])


def _autoets() -> Any:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    return StatsForecast(models=[AutoETS(season_length=SEASON_LENGTH)], freq="MS", n_jobs=2)


def _frame(histories: FloatArray | Sequence[FloatArray]) -> Any:
    """Build statsforecast's long frame (unique_id, ds, y); every history ends in the same month."""
    import pandas as pd

    rows = [np.asarray(history) for history in histories]
    longest = max(row.size for row in rows)
    months = pd.date_range("2000-01-01", periods=longest, freq="MS")
    return pd.DataFrame({
        "unique_id": np.repeat(np.arange(len(rows)), [row.size for row in rows]),
        "ds": np.concatenate([months[longest - row.size:] for row in rows]),
        "y": np.concatenate(rows),
    })


def time_one_series_reroll(windows: FloatArray, repetitions: int) -> list[float]:
    """Time forecast_baselines on one 61-month history per call, in milliseconds."""
    from ipm_forecast.domain.statistics import forecast_baselines

    histories = _decimals(windows[:min(len(windows), 500)])
    flags = _never_negative(windows)
    latencies = []
    for repetition in range(repetitions):
        row = repetition % len(histories)
        started = time.perf_counter()
        forecast_baselines([histories[row]], HORIZON, non_negative=[flags[row]])
        latencies.append((time.perf_counter() - started) * 1000.0)
    return latencies


def _print_service_latency(windows: FloatArray, repetitions: int) -> None:
    if repetitions == 0:
        return
    from forecast_reroll_latency import time_service_reroll

    latencies = asyncio.run(time_service_reroll(windows[0], repetitions, HORIZON))
    print(f"one-series re-roll (reroll_batch on SQLite, 60 months + 1 new actual): "
          f"p50 {_percentile(latencies, 50):.2f} ms, p99 {_percentile(latencies, 99):.2f} ms "
          f"over {len(latencies)} re-rolls", flush=True)


def _percentile(values: Sequence[float], percent: float) -> float:
    return float(np.percentile(np.asarray(values), percent))


# --- Accuracy --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """One forecast origin of one series: the expanding window and the actuals after it."""

    series: RealSeries
    history: FloatArray
    actual: FloatArray


def accuracy_origins(real: Sequence[RealSeries]) -> list[Origin]:
    origins = []
    for series in real:
        if series.values.size < MIN_ACCURACY_MONTHS:
            continue
        values = series.values[-ACCURACY_MONTHS:]
        for cut in range(values.size - ORIGINS, values.size):
            origins.append(Origin(series, values[:cut], values[cut:cut + ACCURACY_HORIZON]))
    return origins


def evaluate_accuracy(real: Sequence[RealSeries]) -> dict[str, dict[str, PooledScore]]:
    """Score every method on every origin; return scores by source ("all" pools them) and method."""
    origins = accuracy_origins(real)
    print(f"accuracy: {len({origin.series.name for origin in origins})} series, {len(origins)} origins", flush=True)
    forecasts = {
        "IPM baseline": _ipm_forecasts(origins),
        "AutoETS": _autoets_forecasts(origins),
        "seasonal naive": [seasonal_naive(origin.history, ACCURACY_HORIZON, SEASON_LENGTH) for origin in origins],
    }

    scores: dict[str, dict[str, PooledScore]] = {}
    for index, origin in enumerate(origins):
        positive = bool((origin.series.values[-ACCURACY_MONTHS:] > 0).all())
        for source in ("all", origin.series.source):
            for method, forecast in forecasts.items():
                score = scores.setdefault(source, {}).setdefault(method, PooledScore())
                score.add(origin.actual, forecast[index][:origin.actual.size], origin.history, SEASON_LENGTH,
                          with_smape=positive)
    return scores


def _ipm_forecasts(origins: Sequence[Origin]) -> list[FloatArray]:
    from ipm_forecast.domain.statistics import forecast_baselines

    flags = [bool((origin.series.values >= 0).all()) for origin in origins]
    results = forecast_baselines([[Decimal(f"{value:.2f}") for value in origin.history] for origin in origins],
                                 ACCURACY_HORIZON, season_length=SEASON_LENGTH, non_negative=flags)
    return [np.array([float(value) for value in result.p50]) for result in results]


def _autoets_forecasts(origins: Sequence[Origin]) -> list[FloatArray]:
    result = _autoets().forecast(df=_frame([origin.history for origin in origins]), h=ACCURACY_HORIZON)
    ordered = result.sort_values(["unique_id", "ds"])["AutoETS"].to_numpy(dtype=np.float64)
    return list(ordered.reshape(len(origins), ACCURACY_HORIZON))


def print_accuracy(scores: dict[str, dict[str, PooledScore]]) -> None:
    sources = ["all", *sorted(source for source in scores if source != "all")]
    print(f"{'source':<14}{'method':<16}{'sMAPE %':>9}{'points':>8}{'MASE':>8}{'points':>8}")
    for source in sources:
        for method in METHODS:
            score = scores[source][method]
            print(f"{source:<14}{method:<16}{score.mean_smape():>9.2f}{score.smape_count():>8}"
                  f"{score.mean_mase():>8.3f}{score.mase_count():>8}")


if __name__ == "__main__":
    main()
