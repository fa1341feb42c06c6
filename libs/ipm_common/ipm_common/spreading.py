"""Spreading of annual or period totals into parts that add up to the total exactly.

Each part is a multiple of a quantum, a cent unless the caller passes another. The largest
remainder method hands out the units that rounding down leaves over, so no part is ever more
than one quantum away from its exact share.
"""

from collections.abc import Sequence
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from enum import StrEnum
from fractions import Fraction
from typing import Literal

from ipm_common.errors import InvalidInput
from ipm_common.money import CENT, parse_amount

SpreadMethod = Literal["even", "profile"]

# Multiplication in this context is exact, because it has room for every digit and traps
# Inexact, which would signal a rounded result.
_EXACT = Context(
    prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact]
)


class Phasing(StrEnum):
    """Share of a period's amount that counts when only part of the period has elapsed."""

    FULL_PERIOD = "full_period"
    PRO_RATA_DAYS = "pro_rata_days"


def allocate_largest_remainder(total: Decimal, weights: Sequence[Decimal], quantum: Decimal = CENT) -> list[Decimal]:
    """Split ``total`` into parts proportional to ``weights`` that are multiples of ``quantum`` and sum to ``total``.

    Every part first gets its exact share rounded towards zero. The quanta left over go one each to
    the parts with the largest remainders, the lower index first on a tie. A negative total is
    split like its absolute value and every part negated. When all weights are zero the parts are
    equal.
    """
    _check_quantum(quantum)
    _check_amount(total, "total")
    units = Fraction(total) / Fraction(quantum)
    if units.denominator != 1:
        raise InvalidInput(
            f"total: {total} is not a multiple of the quantum {quantum}; round it to the quantum before spreading",
            field="total",
        )
    shares = _weight_fractions(weights)

    sign = -1 if units < 0 else 1
    quanta = [sign * count for count in _largest_remainder(abs(units.numerator), shares)]

    return [_EXACT.multiply(Decimal(count), quantum) for count in quanta]


def spread_even(total: Decimal, count: int, quantum: Decimal = CENT) -> list[Decimal]:
    """Split ``total`` into ``count`` equal parts, giving the leftover quanta to the earliest parts."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InvalidInput(f"count: {count!r} is invalid; expected a whole number of periods, 1 or more", field="count")

    return allocate_largest_remainder(total, [Decimal(1)] * count, quantum)


def spread_by_profile(
    total: Decimal, profile: Sequence[Decimal], quantum: Decimal = CENT
) -> tuple[list[Decimal], SpreadMethod]:
    """Split ``total`` in proportion to a profile of prior actuals and return the parts with the method used.

    A profile whose amounts are all negative, such as credit-positive revenue in a debit-positive
    ledger, is used by its absolute values. A profile that sums to zero or mixes signs has no
    usable shape, so the total is spread evenly and the method is ``"even"``.
    """
    amounts = [_check_amount(amount, f"profile[{index}]") for index, amount in enumerate(profile)]
    if not amounts:
        raise InvalidInput("profile: no periods; expected one prior amount per period", field="profile")

    has_positive = any(amount > 0 for amount in amounts)
    has_negative = any(amount < 0 for amount in amounts)
    if (has_positive and has_negative) or not (has_positive or has_negative):
        return spread_even(total, len(amounts), quantum), "even"

    weights = [amount.copy_abs() for amount in amounts]
    return allocate_largest_remainder(total, weights, quantum), "profile"


def pro_rata(amount: Decimal, days_elapsed: int, days_in_period: int) -> Decimal:
    """Return ``amount`` × ``days_elapsed`` / ``days_in_period`` rounded half-even to the cent."""
    _check_amount(amount, "amount")
    _check_day_count(days_in_period, "days_in_period", 1)
    _check_day_count(days_elapsed, "days_elapsed", 0)
    if days_elapsed > days_in_period:
        raise InvalidInput(
            f"days_elapsed: {days_elapsed} exceeds days_in_period {days_in_period}; "
            "expected at most the days of the period",
            field="days_elapsed",
        )

    exact = Fraction(amount) * days_elapsed / days_in_period
    cents = round(exact / Fraction(CENT))
    return _EXACT.multiply(Decimal(cents), CENT)


def _largest_remainder(units: int, shares: list[Fraction]) -> list[int]:
    """Split a non-negative count of units by shares that sum to 1."""
    exact = [units * share for share in shares]
    counts = [int(part) for part in exact]

    leftover = units - sum(counts)
    by_remainder = sorted(range(len(exact)), key=lambda index: (counts[index] - exact[index], index))
    for index in by_remainder[:leftover]:
        counts[index] += 1
    return counts


def _weight_fractions(weights: Sequence[Decimal]) -> list[Fraction]:
    """Return each weight's share of the sum, or equal shares when all weights are zero."""
    values = [Fraction(_check_amount(weight, f"weights[{index}]")) for index, weight in enumerate(weights)]
    if not values:
        raise InvalidInput("weights: no weights; expected one weight per part", field="weights")

    for index, value in enumerate(values):
        if value < 0:
            raise InvalidInput(
                f"weights[{index}]: {weights[index]} is negative; expected weights of zero or more",
                field=f"weights[{index}]",
            )

    weight_sum = sum(values, Fraction(0))
    if weight_sum == 0:
        return [Fraction(1, len(values))] * len(values)
    return [value / weight_sum for value in values]


def _check_amount(amount: object, field: str) -> Decimal:
    if not isinstance(amount, Decimal):
        raise InvalidInput(
            f"{field}: {amount!r} is a {type(amount).__name__}; expected a Decimal such as Decimal(\"1234.56\")",
            field=field,
        )
    return parse_amount(amount, field=field)


def _check_quantum(quantum: object) -> None:
    if _check_amount(quantum, "quantum") <= 0:
        raise InvalidInput(
            f"quantum: {quantum} is not positive; expected a unit such as Decimal(\"0.01\")", field="quantum"
        )


def _check_day_count(days: object, field: str, minimum: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or days < minimum:
        raise InvalidInput(
            f"{field}: {days!r} is invalid; expected a whole number of days, {minimum} or more", field=field
        )
