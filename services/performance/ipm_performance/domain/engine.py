"""The variance engine: join actuals with comparators, roll up through hierarchies, sign, rate and flag.

Amounts inside the engine are ``Int64`` minor units: an amount times 10**scale, so cents at
scale 2. Integer sums never round, and ``to_minor_units`` and ``from_minor_units`` convert from
and to ``Decimal`` exactly. A percentage is an ``Int64`` count of millionths (0.05 is 50,000),
rounded half-even once, as ``ipm_common.variance.variance_pct`` rounds it.

Input frames have the columns ``line``, ``period`` and ``amount``, one frame per figure
(``actual``, ``budget``, ``forecast``, ...). ``line`` is a non-negative integer id below 2**43
that the caller maps to a line's name, and ``period`` a non-negative integer below 2**20, such
as ``PeriodKey.index``. A hierarchy is a frame of ``child`` and ``parent`` edges of any depth.
A parent's figure is the sum of its children's, recomputed on every call, so a re-parented line
moves to its new parent at once.

Where the ids lie close together, the joins, the first roll-up level and the signs go by array
position (``dense_keys``) instead of by hash. Both paths give the same rows.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from ipm_common.errors import InvalidInput
from ipm_common.variance import PCT_PLACES, ToleranceBand
from ipm_performance.domain.dense_keys import (
    dense_join,
    dense_parent_sums,
    dense_signs,
    parent_lookup,
    parents_of,
)

ACTUAL = "actual"
PERIOD_SPAN = 2**20
PCT_UNIT = 10**PCT_PLACES

# |variance| × 10**6 must fit into an Int64, so variances above this many minor units get no
# percentage from the engine; the caller computes those few exactly with Decimal.
MAX_RATED_VARIANCE = (2**63 - 1) // PCT_UNIT

# Default largest amount in minor units, so that sums of a million such amounts still fit in an Int64.
MAX_MINOR_UNITS = 2**63 // 2**21


@dataclass(frozen=True)
class Band:
    """A tolerance band in engine units: millionths of the comparator and minor units of the amount."""

    pct_micro: int
    absolute: int
    unfavourable_only: bool

    @classmethod
    def of(cls, band: ToleranceBand, scale: int) -> "Band":
        return cls(to_minor_units(band.pct, PCT_PLACES), to_minor_units(band.absolute, scale),
                   band.scope == "unfavourable")


def to_minor_units(amount: Decimal, scale: int, limit: int = MAX_MINOR_UNITS) -> int:
    """Convert ``amount`` into an integer count of 10**-scale units; raise when that would round or exceed ``limit``.

    Pass a larger ``limit`` when fewer rows are summed: ``limit`` × rows must stay below 2**63.
    """
    scaled = amount.scaleb(scale)
    if scaled != scaled.to_integral_value():
        raise InvalidInput(f"amount: {amount} has more than {scale} decimal places; "
                           f"expected amounts in steps of {Decimal(1).scaleb(-scale)}", field="amount")
    units = int(scaled)
    if abs(units) > limit:
        raise InvalidInput(f"amount: {amount} is too large for the variance engine; expected at most "
                           f"{Decimal(limit).scaleb(-scale)}", field="amount")
    return units


def from_minor_units(units: int | None, scale: int) -> Decimal | None:
    return None if units is None else Decimal(units).scaleb(-scale)


def join_figures(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Full-join the figure frames on line and period into one column per figure; a missing figure is null.

    Each frame must contain at most one row per line and period. Line and period are packed into
    one Int64 key first, because a join on one integer column ran faster than on two in
    ``bench/variance_bench.py``.
    """
    if not frames:
        raise InvalidInput("figures: no figure frames; expected at least the actuals", field="figures")
    by_slot = dense_join(frames)
    if by_slot is not None:
        return by_slot

    joined: pl.LazyFrame | None = None
    for name, frame in frames.items():
        keyed = frame.lazy().select(_packed_key(), pl.col("amount").alias(name))
        joined = keyed if joined is None else joined.join(keyed, on="key", how="full", coalesce=True)
    if joined is None:
        raise InvalidInput("figures: no figure frames; expected at least the actuals", field="figures")
    unpacked = joined.with_columns((pl.col("key") // PERIOD_SPAN).alias("line"),
                                   (pl.col("key") % PERIOD_SPAN).alias("period"))
    return unpacked.select("line", "period", *frames).collect()


def roll_up(figures: pl.DataFrame, edges: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Add one row per parent and period that sums its leaves; a parent's sum is null when a leaf's is.

    ``figures`` contains one row per line and period. Lines that are parents in ``edges``
    contribute to their own row as well. Each pass climbs one level and counts the missing
    figures below each parent beside its sums, until a pass reaches no parent. A cycle in the
    edges stops after as many passes as there are parents.
    """
    missing = [f"{column}__missing" for column in columns]
    links = edges.lazy().select(pl.col("child").alias("line"), "parent")
    parent_ids = edges.get_column("parent").unique()
    parents = parent_ids.implode()

    own = figures.filter(pl.col("line").is_in(parents)).with_columns(
        pl.col(column).is_null().cast(pl.Int64).alias(flag) for column, flag in zip(columns, missing, strict=True))
    contributions = [own]
    level = _first_level(figures, edges, columns, missing)
    for _ in range(parent_ids.len()):
        if level.height == 0:
            break
        level = level.rename({"parent": "line"})
        contributions.append(level)
        level = level.lazy().join(links, on="line", how="inner").group_by("parent", "period").agg(
            pl.col(name).sum() for name in (*columns, *missing)).collect()

    nodes = (pl.concat(contributions, how="vertical_relaxed")
             .group_by("line", "period")
             .agg(pl.col(name).sum() for name in (*columns, *missing))
             .with_columns(pl.when(pl.col(flag) == 0).then(pl.col(column)).alias(column)
                           for column, flag in zip(columns, missing, strict=True))
             .select(figures.columns))
    # Usually only leaves have figures of their own, and then no row needs filtering out.
    leaves = figures.filter(~pl.col("line").is_in(parents)) if own.height else figures
    return pl.concat([leaves, nodes], how="vertical_relaxed")


def _first_level(figures: pl.DataFrame, edges: pl.DataFrame, columns: Sequence[str],
                 missing: Sequence[str]) -> pl.DataFrame:
    """Sum the figures into their parents, by a lookup table where the ids allow it, else by a join."""
    lookup = parent_lookup(edges)
    if lookup is not None:
        by_slot = dense_parent_sums(figures, lookup, columns)
        if by_slot is not None:
            return by_slot
    if lookup is None:
        linked = figures.lazy().join(edges.lazy().select(pl.col("child").alias("line"), "parent"), on="line",
                                     how="inner")
    else:
        linked = figures.with_columns(parents_of(figures.get_column("line"), lookup)).lazy().filter(
            pl.col("parent") >= 0)
    keyed = linked.with_columns((pl.col("parent") * PERIOD_SPAN + pl.col("period")).alias("key"))
    return (keyed.group_by("key")
            .agg(*(pl.col(column).sum() for column in columns),
                 *(pl.col(column).null_count().cast(pl.Int64).alias(flag)
                   for column, flag in zip(columns, missing, strict=True)))
            .select((pl.col("key") // PERIOD_SPAN).alias("parent"), (pl.col("key") % PERIOD_SPAN).alias("period"),
                    *columns, *missing)
            .collect())


def compare_figures(figures: pl.DataFrame, signs: pl.DataFrame, comparators: Sequence[str],
                    band: Band | None) -> pl.DataFrame:
    """Add variance, percentage and breach columns per comparator: ``variance_<c>``, ``pct_<c>``, ``breach_<c>``.

    ``signs`` maps ``line`` to ``sign``, +1 where more is better and −1 where less is better;
    a line without a sign counts as +1.
    """
    by_position = dense_signs(figures.get_column("line"), signs)
    if by_position is None:
        signed = figures.lazy().join(signs.lazy(), on="line", how="left").with_columns(pl.col("sign").fill_null(1))
    else:
        signed = figures.lazy().with_columns(by_position)
    signed = signed.with_columns(_variance(comparator) for comparator in comparators)
    signed = signed.with_columns(_pct(comparator) for comparator in comparators)
    if band is not None:
        signed = signed.with_columns(_breach(comparator, band) for comparator in comparators)
    return signed.drop("sign").collect()


def _packed_key() -> pl.Expr:
    return (pl.col("line").cast(pl.Int64) * PERIOD_SPAN + pl.col("period").cast(pl.Int64)).alias("key")


def _variance(comparator: str) -> pl.Expr:
    return ((pl.col(ACTUAL) - pl.col(comparator)) * pl.col("sign")).alias(f"variance_{comparator}")


def _pct(comparator: str) -> pl.Expr:
    """Divide the variance by |comparator| in millionths, rounding half-even, null for a zero comparator."""
    numerator = pl.col(f"variance_{comparator}") * PCT_UNIT
    denominator = pl.col(comparator).abs()
    quotient = numerator // denominator
    twice_remainder = (numerator - quotient * denominator) * 2
    rounds_up = (twice_remainder > denominator) | ((twice_remainder == denominator) & (quotient % 2 == 1))
    rated = (pl.col(comparator) != 0) & (pl.col(f"variance_{comparator}").abs() <= MAX_RATED_VARIANCE)
    return (pl.when(rated)
            .then(quotient + rounds_up.cast(pl.Int64))
            .alias(f"pct_{comparator}"))


def _breach(comparator: str, band: Band) -> pl.Expr:
    """Flag a variance that reaches both limits, as ``ToleranceBand.breached`` does, null without a comparator."""
    variance = pl.col(f"variance_{comparator}")
    pct = pl.col(f"pct_{comparator}")
    reaches = (variance.abs() >= band.absolute) & (pct.is_null() | (pct.abs() >= band.pct_micro))
    if band.unfavourable_only:
        reaches = reaches & (variance < 0)
    return pl.when(variance.is_not_null()).then(reaches).alias(f"breach_{comparator}")
