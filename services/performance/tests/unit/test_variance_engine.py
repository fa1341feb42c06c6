"""The polars variance engine on small frames with hand-computed numbers, amounts in cents."""

from decimal import Decimal

import polars as pl
import pytest

from ipm_common.errors import InvalidInput
from ipm_common.variance import ToleranceBand, variance_pct
from ipm_performance.domain.engine import (
    Band,
    compare_figures,
    from_minor_units,
    join_figures,
    roll_up,
    to_minor_units,
)

FIGURES = ("actual", "budget")


def figure(rows: list[tuple[int, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"line": pl.Int64, "period": pl.Int64, "amount": pl.Int64}, orient="row")


def edges(pairs: list[tuple[int, int]]) -> pl.DataFrame:
    return pl.DataFrame(pairs, schema={"child": pl.Int64, "parent": pl.Int64}, orient="row")


def rows_by_line(frame: pl.DataFrame) -> dict[tuple[int, int], dict[str, object]]:
    return {(row["line"], row["period"]): row for row in frame.iter_rows(named=True)}


def test_join_keeps_lines_missing_on_one_side() -> None:
    joined = join_figures({"actual": figure([(1, 5, 100), (2, 5, 50)]), "budget": figure([(1, 5, 90), (3, 5, 7)])})

    found = rows_by_line(joined)
    assert found[(1, 5)]["actual"] == 100
    assert found[(1, 5)]["budget"] == 90
    assert found[(2, 5)]["budget"] is None
    assert found[(3, 5)]["actual"] is None


def test_roll_up_any_depth_and_null_leaf() -> None:
    # Leaves 1 and 2 under 10, 10 under 20, 20 under 30; leaf 3 directly under 30.
    joined = join_figures({"actual": figure([(1, 1, 100), (2, 1, 200), (3, 1, 5)]),
                           "budget": figure([(1, 1, 110), (2, 1, 150)])})
    tree = edges([(1, 10), (2, 10), (10, 20), (20, 30), (3, 30)])

    found = rows_by_line(roll_up(joined, tree, FIGURES))

    assert found[(10, 1)]["actual"] == 300
    assert found[(20, 1)]["actual"] == 300
    assert found[(30, 1)]["actual"] == 305
    assert found[(20, 1)]["budget"] == 260
    # Leaf 3 has no budget, so its root has none either.
    assert found[(30, 1)]["budget"] is None
    assert len(found) == 6


def test_roll_up_follows_new_parent() -> None:
    joined = join_figures({"actual": figure([(1, 1, 100), (2, 1, 200)]), "budget": figure([(1, 1, 1), (2, 1, 2)])})

    before = rows_by_line(roll_up(joined, edges([(1, 10), (2, 10)]), FIGURES))
    after = rows_by_line(roll_up(joined, edges([(1, 10), (2, 11)]), FIGURES))

    assert before[(10, 1)]["actual"] == 300
    assert after[(10, 1)]["actual"] == 100
    assert after[(11, 1)]["actual"] == 200


def test_line_in_two_hierarchies_sums_into_both() -> None:
    joined = join_figures({"actual": figure([(1, 1, 100)]), "budget": figure([(1, 1, 80)])})

    found = rows_by_line(roll_up(joined, edges([(1, 10), (1, 20), (20, 21)]), FIGURES))

    assert found[(10, 1)]["actual"] == 100
    assert found[(21, 1)]["actual"] == 100


def test_variance_sign_and_half_even_percentage() -> None:
    # Line 1, more is better: 1000.05 against 1000.00 is +0.05, 0.00005 exactly: half-even to 0.000050.
    # Line 2, less is better: 300.00 against 200.00 is -100.00, -0.5. Line 3: comparator zero.
    joined = join_figures({"actual": figure([(1, 1, 100005), (2, 1, 30000), (3, 1, 500)]),
                           "budget": figure([(1, 1, 100000), (2, 1, 20000), (3, 1, 0)])})
    signs = pl.DataFrame({"line": [2], "sign": [-1]}, schema={"line": pl.Int64, "sign": pl.Int64})

    found = rows_by_line(compare_figures(joined, signs, ["budget"], None))

    assert found[(1, 1)]["variance_budget"] == 5
    assert found[(1, 1)]["pct_budget"] == 50
    assert found[(2, 1)]["variance_budget"] == -10000
    assert found[(2, 1)]["pct_budget"] == -500000
    assert found[(3, 1)]["pct_budget"] is None


@pytest.mark.parametrize(("actual", "budget"), [(1, 3), (2, 3), (-1, 3), (-5, 7), (1, 8_000_000), (5, 2_000_000),
                                                (-5, 2_000_000), (7, -2_000_000)])
def test_percentage_matches_decimal_rounding(actual: int, budget: int) -> None:
    joined = join_figures({"actual": figure([(1, 1, actual + budget)]), "budget": figure([(1, 1, budget)])})

    found = compare_figures(joined, pl.DataFrame(schema={"line": pl.Int64, "sign": pl.Int64}), ["budget"], None)

    expected = variance_pct(Decimal(actual), Decimal(budget))
    assert expected is not None
    assert from_minor_units(found.item(0, "pct_budget"), 6) == expected


def test_breach_needs_both_limits() -> None:
    # Band 10 % and 5.00: +6.00 on 50.00 (12 %) breaches; +6.00 on 100.00 (6 %) does not; +4.00 on 10.00 does not.
    joined = join_figures({"actual": figure([(1, 1, 5600), (2, 1, 10600), (3, 1, 1400)]),
                           "budget": figure([(1, 1, 5000), (2, 1, 10000), (3, 1, 1000)])})
    band = Band.of(ToleranceBand(Decimal("0.10"), Decimal("5"), "both"), scale=2)

    found = rows_by_line(compare_figures(joined, pl.DataFrame(schema={"line": pl.Int64, "sign": pl.Int64}),
                                         ["budget"], band))

    assert found[(1, 1)]["breach_budget"] is True
    assert found[(2, 1)]["breach_budget"] is False
    assert found[(3, 1)]["breach_budget"] is False


def test_minor_units_are_exact() -> None:
    assert to_minor_units(Decimal("1234.56"), 2) == 123456
    assert to_minor_units(Decimal("-0.5"), 2) == -50
    assert from_minor_units(123456, 2) == Decimal("1234.56")
    assert from_minor_units(None, 2) is None
    with pytest.raises(InvalidInput, match="more than 2 decimal places"):
        to_minor_units(Decimal("0.001"), 2)
    with pytest.raises(InvalidInput, match="too large"):
        to_minor_units(Decimal("1E20"), 2)


# Ids far apart span more slots than the dense paths take, so these cases run the hash joins.
FAR = 10_000_000


def test_spread_ids_join_and_roll_up_by_hash() -> None:
    joined = join_figures({"actual": figure([(1 * FAR, 1, 100), (2 * FAR, 1, 200), (3 * FAR, 1, 5)]),
                           "budget": figure([(1 * FAR, 1, 110), (2 * FAR, 1, 150)])})
    tree = edges([(1 * FAR, 10 * FAR), (2 * FAR, 10 * FAR), (10 * FAR, 20 * FAR), (3 * FAR, 20 * FAR)])

    found = rows_by_line(roll_up(joined, tree, FIGURES))

    assert found[(3 * FAR, 1)]["budget"] is None
    assert found[(10 * FAR, 1)]["actual"] == 300
    assert found[(10 * FAR, 1)]["budget"] == 260
    assert found[(20 * FAR, 1)]["actual"] == 305
    assert found[(20 * FAR, 1)]["budget"] is None


def test_spread_ids_sign_by_hash() -> None:
    joined = join_figures({"actual": figure([(FAR, 1, 300), (2, 1, 300)]),
                           "budget": figure([(FAR, 1, 200), (2, 1, 200)])})
    signs = pl.DataFrame({"line": [FAR], "sign": [-1]}, schema={"line": pl.Int64, "sign": pl.Int64})

    found = rows_by_line(compare_figures(joined, signs, ["budget"], None))

    assert found[(FAR, 1)]["variance_budget"] == -100
    assert found[(2, 1)]["variance_budget"] == 100


def test_duplicate_rows_are_rejected() -> None:
    with pytest.raises(InvalidInput, match="actual has two rows for one line and period"):
        join_figures({"actual": figure([(1, 1, 100), (1, 1, 5)]), "budget": figure([(1, 1, 1)])})
