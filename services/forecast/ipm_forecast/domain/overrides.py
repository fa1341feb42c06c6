"""Top-down overrides: a value set on a parent node of an account hierarchy, allocated to its leaves."""

from collections.abc import Mapping
from decimal import Decimal

from ipm_common.errors import InvalidInput
from ipm_common.money import CENT
from ipm_common.spreading import allocate_largest_remainder


def allocate_top_down(total: Decimal, current: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Split ``total`` over the leaves in proportion to their current values, exact to the cent.

    Weights are the absolute current values, so a leaf in natural sign of either sign takes its
    share of the parent. When every current value is zero the leaves share equally. Leftover
    cents go to the largest remainders (``allocate_largest_remainder``).
    """
    if not current:
        raise InvalidInput("node: no leaf below the node has a forecast for the period; post actuals first",
                           field="node")
    if total != total.quantize(CENT):
        raise InvalidInput(f"value: {total} has fractions of a cent; a top-down override is allocated in cents",
                           field="value")

    leaves = sorted(current)
    parts = allocate_largest_remainder(total, [abs(current[leaf]) for leaf in leaves])
    return dict(zip(leaves, parts, strict=True))
