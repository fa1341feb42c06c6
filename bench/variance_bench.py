"""Time the polars variance engine against the same computation written plainly in pandas.

Both take 1,000,000 actual lines, a 1,000,000-line budget and a 1,000,000-line forecast
(100,000 leaf lines × 10 periods, amounts as Int64 cents) and join them. They roll the lines up
through a 4-level hierarchy (leaf, 5,000 groups, 250 divisions, 10 segments). They compute the
signed variance against budget and forecast, the percentage in millionths rounded half-even and
the threshold flags. The script checks that both give identical results, then prints both times and the ratio.

The data is synthetic and seeded: actuals drawn from -10,000,000.00 to 10,000,000.00, the budget
within 15 % and the forecast within 5 % of them, one line in five with less is better, and the
three input frames in different row orders.

    .venv/bin/python bench/variance_bench.py
"""

import argparse
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from polars.testing import assert_frame_equal

from ipm_common.variance import ToleranceBand
from ipm_performance.domain.engine import PCT_UNIT, Band, compare_figures, join_figures, roll_up

FIGURES = ("actual", "budget", "forecast")
COMPARATORS = ("budget", "forecast")
LEVELS = (5_000, 250, 10)
BAND = Band.of(ToleranceBand(Decimal("0.10"), Decimal("1000"), "both"), scale=2)


def build_inputs(leaves: int, periods: int, seed: int) -> dict[str, Any]:
    """Build the figure frames, hierarchy edges and signs as numpy arrays."""
    rng = np.random.default_rng(seed)
    lines = np.repeat(np.arange(leaves, dtype=np.int64), periods)
    period_numbers = np.tile(np.arange(1, periods + 1, dtype=np.int64), leaves)
    actual = rng.integers(-1_000_000_000, 1_000_000_000, size=lines.size, dtype=np.int64)
    amounts = {"actual": actual}
    for name, spread in (("budget", 15), ("forecast", 5)):
        percent = rng.integers(-spread, spread + 1, size=lines.size, dtype=np.int64)
        amounts[name] = actual + actual * percent // 100
    figures = {}
    for name in FIGURES:
        order = rng.permutation(lines.size)
        figures[name] = {"line": lines[order], "period": period_numbers[order], "amount": amounts[name][order]}

    children, parents = [], []
    first_id, level_children = leaves, np.arange(leaves, dtype=np.int64)
    for size in LEVELS:
        children.append(level_children)
        parents.append(first_id + level_children % size)
        level_children = np.arange(first_id, first_id + size, dtype=np.int64)
        first_id += size
    edges = {"child": np.concatenate(children), "parent": np.concatenate(parents)}

    sign_lines = np.arange(first_id, dtype=np.int64)
    signs = np.where(sign_lines % 5 == 0, -1, 1).astype(np.int64)
    return {"figures": figures, "edges": edges, "signs": {"line": sign_lines, "sign": signs}}


# --- the engine ----------------------------------------------------------------------------------


def run_engine(frames: dict[str, pl.DataFrame], edges: pl.DataFrame, signs: pl.DataFrame) -> pl.DataFrame:
    joined = join_figures({name: frames[name] for name in FIGURES})
    rolled = roll_up(joined, edges, FIGURES)
    return compare_figures(rolled, signs, COMPARATORS, BAND)


# --- plain pandas --------------------------------------------------------------------------------


def run_pandas(frames: dict[str, pd.DataFrame], edges: pd.DataFrame, signs: pd.DataFrame) -> pd.DataFrame:
    joined = None
    for name in FIGURES:
        frame = frames[name].rename(columns={"amount": name})
        joined = frame if joined is None else joined.merge(frame, on=["line", "period"], how="outer")
    assert joined is not None
    for name in FIGURES:
        joined[name] = joined[name].astype("Int64")

    rolled = pandas_roll_up(joined, edges)
    rolled = rolled.merge(signs, on="line", how="left")
    rolled["sign"] = rolled["sign"].fillna(1).astype("Int64")
    for comparator in COMPARATORS:
        pandas_compare(rolled, comparator)
    return rolled.drop(columns="sign")


def pandas_roll_up(joined: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """Climb the hierarchy one level at a time, counting missing figures so that a parent of a null is null."""
    counted = joined.copy()
    for name in FIGURES:
        counted[f"{name}__missing"] = counted[name].isna().astype("int64")
    columns = [*FIGURES, *(f"{name}__missing" for name in FIGURES)]
    parent_of = edges.rename(columns={"child": "line"})

    parts = []
    level = counted
    for _ in LEVELS:
        level = level.merge(parent_of, on="line", how="inner")
        level = level.groupby(["parent", "period"], as_index=False)[columns].sum()
        level = level.rename(columns={"parent": "line"})
        parts.append(level)
    nodes = pd.concat(parts).groupby(["line", "period"], as_index=False)[columns].sum()
    for name in FIGURES:
        nodes[name] = nodes[name].astype("Int64").mask(nodes[f"{name}__missing"] > 0)
    nodes = nodes.drop(columns=[f"{name}__missing" for name in FIGURES])
    return pd.concat([joined, nodes], ignore_index=True)


def pandas_compare(frame: pd.DataFrame, comparator: str) -> None:
    variance = (frame["actual"] - frame[comparator]) * frame["sign"]
    frame[f"variance_{comparator}"] = variance

    denominator = frame[comparator].abs()
    rated = denominator != 0
    safe = denominator.where(rated, 1)
    numerator = variance * PCT_UNIT
    quotient = numerator // safe
    twice_remainder = (numerator - quotient * safe) * 2
    rounds_up = (twice_remainder > safe) | ((twice_remainder == safe) & (quotient % 2 == 1))
    frame[f"pct_{comparator}"] = (quotient + rounds_up.astype("Int64")).where(rated)

    reaches = (variance.abs() >= BAND.absolute) & (
        frame[f"pct_{comparator}"].isna() | (frame[f"pct_{comparator}"].abs() >= BAND.pct_micro))
    frame[f"breach_{comparator}"] = reaches.astype("boolean").where(variance.notna())


# --- timing and the check ------------------------------------------------------------------------


def best_of(runs: int, action: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``action`` ``runs`` times and return the fastest time in seconds with the last result."""
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return min(times), result


def check_identical(engine: pl.DataFrame, plain: pd.DataFrame) -> None:
    converted = pl.from_pandas(plain)
    keys = ["line", "period"]
    assert_frame_equal(engine.sort(keys), converted.select(engine.columns).sort(keys), check_dtypes=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=100_000, help="leaf lines (default 100000)")
    parser.add_argument("--periods", type=int, default=10, help="periods per leaf line (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each, the fastest counts (default 3)")
    parser.add_argument("--seed", type=int, default=20240701)
    options = parser.parse_args()

    inputs = build_inputs(options.leaves, options.periods, options.seed)
    lines = options.leaves * options.periods
    polars_frames = {name: pl.DataFrame(data) for name, data in inputs["figures"].items()}
    pandas_frames = {name: pd.DataFrame(data) for name, data in inputs["figures"].items()}
    edges, signs = inputs["edges"], inputs["signs"]

    engine_time, engine_result = best_of(options.runs, lambda: run_engine(
        polars_frames, pl.DataFrame(edges), pl.DataFrame(signs)))
    pandas_time, pandas_result = best_of(options.runs, lambda: run_pandas(
        pandas_frames, pd.DataFrame(edges), pd.DataFrame(signs)))
    check_identical(engine_result, pandas_result)

    breaches = int(engine_result.get_column("breach_budget").sum())
    print(f"lines: {lines} actual, {lines} budget, {lines} forecast; result rows {engine_result.height}, "
          f"budget breaches {breaches}; results identical")
    print(f"polars engine: {engine_time:.3f} s (best of {options.runs})")
    print(f"pandas:        {pandas_time:.3f} s (best of {options.runs})")
    print(f"variance bench: {engine_time:.3f} s for {lines / 1e6:g}M lines ({pandas_time / engine_time:.1f} x pandas)")


if __name__ == "__main__":
    main()
