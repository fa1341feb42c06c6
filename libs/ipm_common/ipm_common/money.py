"""Exact money amounts.

Amounts are ``decimal.Decimal`` everywhere and travel as JSON strings. Floats are rejected
because a binary float cannot hold most decimal fractions exactly.
"""

import decimal
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from ipm_common.errors import InvalidInput

CENT = Decimal("0.01")
ZERO = Decimal(0)

# Limits of one amount: 18 digits before the decimal point (a quintillion, far above any ledger
# balance) and 20 after it (exchange rates and their products). Larger inputs are rejected
# rather than rounded.
MAX_INTEGER_DIGITS = 18
MAX_DECIMAL_PLACES = 20

# Sums and products of amounts within those limits need up to 38 significant digits plus room
# for many addends; Python's default context keeps only 28 and would round silently.
PRECISION = 60

_NOT_FINITE = {"nan", "snan", "inf", "infinity"}
_DECIMAL_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def use_exact_context() -> None:
    """Set the decimal precision of this thread and of threads started later to ``PRECISION``."""
    decimal.DefaultContext.prec = PRECISION
    decimal.getcontext().prec = PRECISION


use_exact_context()


def parse_amount(value: Any, *, field: str = "amount") -> Decimal:
    """Convert a JSON string, integer or Decimal into an exact, finite Decimal within the limits.

    Raises ``InvalidInput`` naming ``field`` for floats, booleans, NaN, infinities, text that is
    not a plain decimal number (no exponent, spaces, underscores or non-ASCII digits) and amounts
    outside the limits.
    """
    if isinstance(value, bool):
        raise InvalidInput(f"{field}: {value!r} is a boolean; send the amount as a decimal string such as "
                           "\"1234.56\"", field=field)
    if isinstance(value, float):
        raise InvalidInput(f"{field}: {value!r} is a binary float; send the amount as a decimal string such as "
                           "\"1234.56\"", field=field)
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        if _DECIMAL_TEXT.fullmatch(value) is None:
            if value.strip().lstrip("+-").lower() in _NOT_FINITE:
                raise InvalidInput(f"{field}: {value!r} is not a finite amount; NaN and infinities are rejected",
                                   field=field)
            raise InvalidInput(
                f"{field}: {value!r} is not a decimal number; "
                "send ASCII digits with an optional sign and decimal point, such as \"-1234.56\"",
                field=field,
            )
        amount = Decimal(value)
    else:
        raise InvalidInput(f"{field}: expected a decimal string, got {type(value).__name__}", field=field)
    return _check_range(amount, field)


def _check_range(amount: Decimal, field: str) -> Decimal:
    if not amount.is_finite():
        raise InvalidInput(f"{field}: {amount} is not a finite amount; NaN and infinities are rejected", field=field)
    if amount.is_zero():
        return amount

    # A huge exponent such as 1E+1000000000 has one significant digit, but writing it out as a
    # decimal string would take gigabytes, so the range is checked on the exponent.
    digits = len(amount.as_tuple().digits)
    decimal_places = digits - 1 - amount.adjusted()
    if amount.adjusted() >= MAX_INTEGER_DIGITS or decimal_places > MAX_DECIMAL_PLACES:
        raise InvalidInput(
            f"{field}: {amount} is out of range; an amount has at most {MAX_INTEGER_DIGITS} digits before "
            f"the decimal point and {MAX_DECIMAL_PLACES} after it",
            field=field,
        )
    return amount


def _validate(value: Any) -> Decimal:
    try:
        return parse_amount(value)
    except InvalidInput as error:
        # pydantic turns ValueError into a validation error located at the field.
        raise ValueError(str(error).removeprefix("amount: ")) from None


Money = Annotated[
    Decimal,
    BeforeValidator(_validate),
    PlainSerializer(lambda amount: format(amount, "f"), return_type=str, when_used="json"),
]
"""A pydantic field type: exact Decimal in, decimal string out in JSON."""


def to_cents(amount: Decimal) -> Decimal:
    """Round half-even to the cent, the rounding rule of published forecast and budget figures."""
    return amount.quantize(CENT)
