"""Variances of actuals against a budget, forecast or target, signed so that positive is favourable.

ERP ledgers store amounts debit-positive. ``natural_amount`` turns a credit-normal account such
as revenue into a positive figure first, and ``variance`` then signs the difference by whether a
higher or a lower amount is better for the account.
"""

from dataclasses import dataclass
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
from typing import Literal, TypeVar

from ipm_common.errors import InvalidInput
from ipm_common.money import parse_amount

BandScope = Literal["both", "unfavourable"]
BAND_SCOPES: tuple[BandScope, ...] = ("both", "unfavourable")

PCT_PLACES = 6

_EnumType = TypeVar("_EnumType", bound=StrEnum)

# Subtraction and negation in this context are exact, because it has room for every digit and
# traps Inexact, which would signal a rounded result.
_EXACT = Context(
    prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact]
)


class NormalBalance(StrEnum):
    """Side on which an account's balance normally sits: debit for assets and expenses, credit for revenue."""

    DEBIT = "debit"
    CREDIT = "credit"


class Direction(StrEnum):
    """Whether a higher or a lower natural amount is better for an account."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


def natural_amount(ledger_amount: Decimal, normal_balance: NormalBalance) -> Decimal:
    """Convert a debit-positive ledger amount into the account's natural sign by negating credit-normal amounts."""
    amount = _check_amount(ledger_amount, "ledger_amount")
    normal_balance = _check_enum(NormalBalance, normal_balance, "normal_balance")

    if normal_balance is NormalBalance.CREDIT:
        return _EXACT.minus(amount)
    return amount


def variance(actual: Decimal, comparator: Decimal, direction: Direction) -> Decimal:
    """Return actual minus comparator, negated when lower is better, so that a positive variance is favourable.

    Both amounts must be natural amounts (see ``natural_amount``).
    """
    difference = _EXACT.subtract(_check_amount(actual, "actual"), _check_amount(comparator, "comparator"))
    direction = _check_enum(Direction, direction, "direction")

    if direction is Direction.LOWER_IS_BETTER:
        return _EXACT.minus(difference)
    return difference


def variance_pct(variance: Decimal, comparator: Decimal) -> Decimal | None:
    """Return variance / |comparator| rounded half-even to 6 decimal places, or None when the comparator is zero.

    The ratio is a fraction, so 0.05 means 5 %. It is computed exactly and rounded once.
    """
    exact_variance = Fraction(_check_amount(variance, "variance"))
    exact_comparator = Fraction(_check_amount(comparator, "comparator"))
    if exact_comparator == 0:
        return None

    scaled = round(exact_variance / abs(exact_comparator) * 10**PCT_PLACES)
    return Decimal(scaled).scaleb(-PCT_PLACES, _EXACT)


def is_favourable(variance: Decimal) -> bool:
    """Return whether the variance is favourable, which a variance of zero is not."""
    return _check_amount(variance, "variance") > 0


@dataclass(frozen=True, slots=True)
class ToleranceBand:
    """Limits beyond which a variance needs attention: a fraction of the comparator and an absolute amount.

    ``pct`` is a fraction, so Decimal("0.05") means 5 %. With scope ``"unfavourable"`` only
    negative variances can breach.
    """

    pct: Decimal
    absolute: Decimal
    scope: BandScope = "both"

    def __post_init__(self) -> None:
        for field, value in (("pct", self.pct), ("absolute", self.absolute)):
            if _check_amount(value, field) < 0:
                raise InvalidInput(f"{field}: {value} is negative; expected zero or more", field=field)
        if self.scope not in BAND_SCOPES:
            raise InvalidInput(
                f"scope: {self.scope!r} is invalid; expected one of {', '.join(BAND_SCOPES)}", field="scope"
            )

    def breached(self, variance: Decimal, comparator: Decimal) -> bool:
        """Return whether the variance reaches both limits, or only the absolute one against a zero comparator."""
        amount = _check_amount(variance, "variance")
        if self.scope == "unfavourable" and amount >= 0:
            return False
        if amount.copy_abs() < self.absolute:
            return False

        pct = variance_pct(variance, comparator)
        return pct is None or pct.copy_abs() >= self.pct


def _check_amount(amount: object, field: str) -> Decimal:
    if not isinstance(amount, Decimal):
        raise InvalidInput(
            f"{field}: {amount!r} is a {type(amount).__name__}; expected a Decimal such as Decimal(\"1234.56\")",
            field=field,
        )
    return parse_amount(amount, field=field)


def _check_enum(enum_type: type[_EnumType], value: object, field: str) -> _EnumType:
    if isinstance(value, str):
        for member in enum_type:
            if member.value == value:
                return member

    expected = ", ".join(member.value for member in enum_type)
    raise InvalidInput(f"{field}: {value!r} is invalid; expected one of {expected}", field=field)


# Defined after the helpers because ToleranceBand validates its fields when it is built.
DEFAULT_TARGET_BAND = ToleranceBand(Decimal("0.05"), Decimal(1000000), "both")
"""Band of 5 % and 1,000,000 in either direction, both of which a variance must reach to breach."""
