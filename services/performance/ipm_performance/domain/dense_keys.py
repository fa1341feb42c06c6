"""Joins and parent lookups by array position, for line and period ids that lie close together.

When the ids of a join span few more slots than there are rows, each (line, period) pair gets
the slot (line − first line) × periods + (period − first period). Scattering each frame's
amounts into its slots joins the frames without hashing a key. In the same way a parent lookup
table indexed by child id replaces a join with the edges. The engine falls back to hash joins
when the ids are spread out.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from ipm_common.errors import InvalidInput

# Use slots only when they are at most this many times the rows, so memory stays near the input's.
SLOTS_PER_ROW = 4
MIN_SLOTS = 1024


def dense_join(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame | None:
    """Full-join the frames by slot, or return None when the ids span too many slots."""
    present = {name: frame if frame.get_column("amount").null_count() == 0 else frame.drop_nulls("amount")
               for name, frame in frames.items()}
    layout = _layout(list(present.values()))
    if layout is None:
        return None
    first_line, first_period, periods, slots = layout

    filled = np.zeros(slots, dtype=bool)
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, frame in present.items():
        index = ((frame.get_column("line").to_numpy() - first_line) * periods
                 + frame.get_column("period").to_numpy() - first_period)
        values = np.zeros(slots, dtype=np.int64)
        values[index] = frame.get_column("amount").to_numpy()
        mask = np.zeros(slots, dtype=bool)
        mask[index] = True
        if int(np.count_nonzero(mask)) != frame.height:
            raise InvalidInput(f"figures: {name} has two rows for one line and period; sum them first",
                               field="figures")
        filled |= mask
        columns[name] = (values, mask)

    kept = np.flatnonzero(filled)
    joined = pl.DataFrame({"line": kept // periods + first_line, "period": kept % periods + first_period})
    for name, (values, mask) in columns.items():
        column = pl.Series(name, values[kept])
        present_here = mask[kept]
        if not present_here.all():
            column = pl.select(pl.when(pl.Series(present_here)).then(column).alias(name)).to_series()
        joined = joined.with_columns(column)
    return joined


def _layout(frames: list[pl.DataFrame]) -> tuple[int, int, int, int] | None:
    """Return the first line, first period, periods per line and slots, or None when the slots are too many."""
    bounds = [frame.select(pl.col("line").min().alias("a"), pl.col("line").max().alias("b"),
                           pl.col("period").min().alias("c"), pl.col("period").max().alias("d")).row(0)
              for frame in frames if frame.height]
    if not bounds:
        return None
    first_line = min(int(item[0]) for item in bounds)
    first_period = min(int(item[2]) for item in bounds)
    periods = max(int(item[3]) for item in bounds) - first_period + 1
    slots = (max(int(item[1]) for item in bounds) - first_line + 1) * periods
    if slots > SLOTS_PER_ROW * sum(frame.height for frame in frames) + MIN_SLOTS:
        return None
    return first_line, first_period, periods, slots


def parent_lookup(edges: pl.DataFrame) -> pl.Series | None:
    """Return the parent id at each child id's position, -1 for none, or None when ids are spread out or shared.

    A child with two parents needs a join, so it gives None too.
    """
    if edges.height == 0 or edges.get_column("child").n_unique() != edges.height:
        return None
    children = edges.get_column("child").to_numpy()
    if int(children.min()) < 0 or int(children.max()) + 1 > SLOTS_PER_ROW * edges.height + MIN_SLOTS:
        return None
    table = np.full(int(children.max()) + 1, -1, dtype=np.int64)
    table[children] = edges.get_column("parent").to_numpy()
    return pl.Series("parent", table)


def parents_of(lines: pl.Series, lookup: pl.Series) -> pl.Series:
    """Look up the parent of each line, -1 for a line without one or beyond the table."""
    inside = lines.clip(0, lookup.len() - 1)
    found = lookup.gather(inside)
    return pl.select(pl.when((lines >= 0) & (lines < lookup.len())).then(found).otherwise(-1)).to_series()


def dense_parent_sums(figures: pl.DataFrame, lookup: pl.Series, columns: Sequence[str]) -> pl.DataFrame | None:
    """Sum each column into the parents by slot, with a ``<column>__missing`` count of nulls beside each.

    Returns None when the parents and periods span too many slots. Sums are exact Int64 additions.
    """
    parent_ids = parents_of(figures.get_column("line"), lookup).to_numpy()
    linked = parent_ids >= 0
    parent_ids = parent_ids[linked]
    if parent_ids.size == 0:
        return None
    period_ids = figures.get_column("period").to_numpy()[linked]
    first_parent, first_period = int(parent_ids.min()), int(period_ids.min())
    periods = int(period_ids.max()) - first_period + 1
    slots = (int(parent_ids.max()) - first_parent + 1) * periods
    if slots > SLOTS_PER_ROW * parent_ids.size + MIN_SLOTS:
        return None

    slot = (parent_ids - first_parent) * periods + period_ids - first_period
    touched = np.zeros(slots, dtype=bool)
    touched[slot] = True
    kept = np.flatnonzero(touched)
    data: dict[str, np.ndarray] = {"parent": kept // periods + first_parent, "period": kept % periods + first_period}
    for column in columns:
        series = figures.get_column(column)
        sums = np.zeros(slots, dtype=np.int64)
        np.add.at(sums, slot, series.fill_null(0).to_numpy()[linked])
        nulls = series.is_null().to_numpy()[linked]
        data[column] = sums[kept]
        data[f"{column}__missing"] = np.bincount(slot[nulls], minlength=slots)[kept].astype(np.int64)
    return pl.DataFrame(data).select("parent", "period", *columns, *(f"{column}__missing" for column in columns))


def dense_signs(lines: pl.Series, signs: pl.DataFrame) -> pl.Series | None:
    """Look up each line's sign by line id, +1 for a line without one; None when the ids are spread out."""
    if signs.height == 0:
        return pl.Series("sign", np.ones(lines.len(), dtype=np.int64))
    ids = signs.get_column("line").to_numpy()
    if int(ids.min()) < 0 or int(ids.max()) + 1 > SLOTS_PER_ROW * signs.height + MIN_SLOTS:
        return None

    # Zero marks a line without a sign, so that it can become +1 below.
    table = pl.Series("sign", np.zeros(int(ids.max()) + 1, dtype=np.int64))
    table.scatter(ids, signs.get_column("sign").to_numpy())
    found = table.gather(lines.clip(0, table.len() - 1))
    inside = (lines >= 0) & (lines < table.len()) & (found != 0)
    return pl.select(pl.when(inside).then(found).otherwise(pl.lit(1, pl.Int64)).alias("sign")).to_series()
