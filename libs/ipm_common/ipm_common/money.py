"""Exact money amounts.

Amounts are ``decimal.Decimal`` everywhere and travel as JSON strings. Floats are rejected
because a binary float cannot hold most decimal fractions exactly.
"""

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from ipm_common.errors import InvalidInput

CENT = Decimal("0.01")
ZERO = Decimal(0)

# NOTE: 38 significant digits is PostgreSQL's default NUMERIC precision for indexes and the
# limit most ERPs export; longer amounts are rejected rather than silently rounded.
MAX_DIGITS = 38


def parse_amount(value: Any, *, field: str = "amount") -> Decimal:
    """Convert a JSON string, integer or Decimal into an exact, finite Decimal.

    Raises ``InvalidInput`` naming ``field`` for floats, booleans, NaN, infinities and text
    that is not a decimal number.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidInput(
            f"{field}: {value!r} is a binary float; send the amount as a decimal string such as \"1234.56\"",
            field=field,
        )
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput(
                f"{field}: {value!r} is not a decimal number; "
                "send digits with an optional sign and decimal point, such as \"-1234.56\"",
                field=field,
            ) from None
    else:
        raise InvalidInput(f"{field}: expected a decimal string, got {type(value).__name__}", field=field)
    return _check_finite(amount, field)


def _check_finite(amount: Decimal, field: str) -> Decimal:
    if not amount.is_finite():
        raise InvalidInput(f"{field}: {amount} is not a finite amount; NaN and infinities are rejected", field=field)
    digits = len(amount.as_tuple().digits)
    if digits > MAX_DIGITS:
        raise InvalidInput(f"{field}: more than {MAX_DIGITS} significant digits", field=field)

    # A huge exponent such as 1E+1000000000 has one significant digit, but writing it out as a
    # decimal string would take gigabytes.
    decimal_places = digits - 1 - amount.adjusted()
    if amount.adjusted() >= MAX_DIGITS or decimal_places > MAX_DIGITS:
        raise InvalidInput(
            f"{field}: {amount} is out of range; an amount has at most {MAX_DIGITS} digits before "
            f"the decimal point and {MAX_DIGITS} after it",
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
