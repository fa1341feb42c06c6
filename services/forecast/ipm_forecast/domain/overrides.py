"""Top-down overrides: a value set on a parent node of an account hierarchy, allocated to its leaves."""

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from ipm_common.errors import InvalidInput
from ipm_common.money import CENT
from ipm_common.spreading import allocate_largest_remainder


def allocate_top_down(total: Decimal, current: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Split ``total`` over the leaves in proportion to their current values, exact to the cent.

    Every leaf is scaled by ``total`` / Σ current, so a negative leaf, such as returns under a
    revenue node, stays negative. When every current value is zero the leaves share equally.
    A node whose leaves net to zero, or a ``total`` of the other sign than the node, has no
    proportional split and is rejected. Leftover cents go to the largest remainders
    (``allocate_largest_remainder``) among the leaves of each sign.
    """
    if not current:
        raise InvalidInput("node: no leaf below the node has a forecast for the period; post actuals first",
                           field="node")
    if total != total.quantize(CENT):
        raise InvalidInput(f"value: {total} has fractions of a cent; a top-down override is allocated in cents",
                           field="value")

    leaves = sorted(current)
    if not any(current.values()):
        return dict(zip(leaves, allocate_largest_remainder(total, [Decimal(0)] * len(leaves)), strict=True))
    node = _check_node(total, sum(current.values(), Decimal(0)))

    positive = [leaf for leaf in leaves if current[leaf] > 0]
    negative = [leaf for leaf in leaves if current[leaf] < 0]
    positive_total = _share_in_cents(total, sum((current[leaf] for leaf in positive), Decimal(0)), node)
    parts = {leaf: Decimal("0.00") for leaf in leaves}
    parts.update(_allocate(positive_total, positive, current))
    parts.update(_allocate(total - positive_total, negative, current))
    return parts


def _check_node(total: Decimal, node: Decimal) -> Decimal:
    if node == 0:
        raise InvalidInput("value: the leaves' forecasts net to zero, so no proportional split exists; override the "
                           "leaves one by one with POST /v1/overrides", field="value")
    if total != 0 and (total > 0) != (node > 0):
        raise InvalidInput(f"value: {total} has the opposite sign of the node's forecast {node}, so a proportional "
                           "split would turn the sign of every leaf; send a value of the node's sign, or override "
                           "the leaves one by one with POST /v1/overrides", field="value")
    return node


def _share_in_cents(total: Decimal, group: Decimal, node: Decimal) -> Decimal:
    """Return total × group / node rounded half-even to the cent, computed exactly."""
    cents = round(Fraction(total) * Fraction(group) / Fraction(node) / Fraction(CENT))
    return Decimal(cents) * CENT


def _allocate(total: Decimal, leaves: list[str], current: Mapping[str, Decimal]) -> dict[str, Decimal]:
    if not leaves:
        return {}
    parts = allocate_largest_remainder(total, [abs(current[leaf]) for leaf in leaves])
    return dict(zip(leaves, parts, strict=True))
