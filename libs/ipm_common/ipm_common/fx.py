"""Exchange rates by rate type and period, and conversion of amounts between currencies.

A rate is the number of units of ``to_currency`` that one unit of ``from_currency`` buys. A
``RateTable`` finds a rate directly, as the inverse of the opposite quote, or through the base
currency. When none of these exists it raises ``MissingRate``, because IPM never assumes 1:1.
"""

import re
from collections.abc import Iterable
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
from typing import Literal

from ipm_common.errors import InvalidInput, MissingRate
from ipm_common.money import parse_amount
from ipm_common.periods import PeriodKey

RateType = Literal["actual", "budget", "average", "closing"]
RATE_TYPES: tuple[RateType, ...] = ("actual", "budget", "average", "closing")

_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_PERIOD_KEY = re.compile(r"FY[0-9]{4}-P[0-9]{2}")

# Addition and multiplication in this context are exact, because it has room for every digit and
# traps Inexact, which would signal a rounded result.
_EXACT = Context(
    prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact]
)

# Inverse and cross rates are quotients, which rarely terminate, so they are rounded to 38 significant digits.
_DIVISION = Context(prec=38)

_ONE = Decimal(1)

_RateKey = tuple[str, str, RateType, str]

# A rate as numerator / denominator, so that a cross rate needs only one rounded division.
_Quotient = tuple[Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class Rate:
    """Units of ``to_currency`` per one ``from_currency``, for one rate type and period."""

    from_currency: str
    to_currency: str
    rate_type: RateType
    period: str
    rate: Decimal

    def __post_init__(self) -> None:
        _check_currency(self.from_currency, "from_currency")
        _check_currency(self.to_currency, "to_currency")
        if self.from_currency == self.to_currency:
            raise InvalidInput(
                f"to_currency: {self.to_currency} equals from_currency; a currency converts to itself at 1 "
                "without a stored rate",
                field="to_currency",
            )
        _check_rate_type(self.rate_type)
        object.__setattr__(self, "period", _normalise_period(self.period))
        _check_rate_value(self.rate)

    @property
    def key(self) -> _RateKey:
        return (self.from_currency, self.to_currency, self.rate_type, self.period)


class RateTable:
    """Rates of one base currency, looked up by currency pair, rate type and period."""

    def __init__(self, base_currency: str, rates: Iterable[Rate]) -> None:
        _check_currency(base_currency, "base_currency")
        self.base_currency = base_currency
        self._rates: dict[_RateKey, Decimal] = {}

        for rate in rates:
            self._add(rate)

    def _add(self, rate: Rate) -> None:
        if not isinstance(rate, Rate):
            raise InvalidInput(f"rates: expected Rate objects, got {type(rate).__name__}", field="rates")

        stored = self._rates.setdefault(rate.key, rate.rate)
        if stored != rate.rate:
            raise InvalidInput(
                f"rates: two {rate.rate_type} rates from {rate.from_currency} to {rate.to_currency} for "
                f"{rate.period}, {stored} and {rate.rate}; load one rate per pair, type and period",
                field="rates",
            )

    def rate(self, from_currency: str, to_currency: str, rate_type: RateType, period: str | PeriodKey) -> Decimal:
        """Return the units of ``to_currency`` per one ``from_currency``.

        Looks for a direct quote, then the inverse of the opposite quote, then a cross rate through
        the base currency. Raises ``MissingRate`` when none exists.
        """
        _check_currency(from_currency, "from_currency")
        _check_currency(to_currency, "to_currency")
        _check_rate_type(rate_type)
        period_text = _normalise_period(period)
        if from_currency == to_currency:
            return _ONE

        quote = self._quote(from_currency, to_currency, rate_type, period_text)
        if quote is None:
            quote = self._cross_quote(from_currency, to_currency, rate_type, period_text)
        if quote is None:
            raise self._missing_rate(from_currency, to_currency, rate_type, period_text)

        numerator, denominator = quote
        if denominator == _ONE:
            return numerator
        return _DIVISION.divide(numerator, denominator)

    def convert(
        self,
        amount: Decimal,
        from_currency: str,
        to_currency: str,
        rate_type: RateType,
        period: str | PeriodKey,
    ) -> Decimal:
        """Convert ``amount`` at the rate that ``rate`` returns, multiplying exactly without rounding."""
        if not isinstance(amount, Decimal):
            raise InvalidInput(
                f"amount: {amount!r} is a {type(amount).__name__}; expected a Decimal such as Decimal(\"1234.56\")",
                field="amount",
            )
        parse_amount(amount, field="amount")

        return _EXACT.multiply(amount, self.rate(from_currency, to_currency, rate_type, period))

    def _quote(self, from_currency: str, to_currency: str, rate_type: RateType, period: str) -> _Quotient | None:
        """Return the direct quote, else the opposite quote turned upside down, else None."""
        direct = self._rates.get((from_currency, to_currency, rate_type, period))
        if direct is not None:
            return direct, _ONE

        opposite = self._rates.get((to_currency, from_currency, rate_type, period))
        if opposite is not None:
            return _ONE, opposite
        return None

    def _cross_quote(self, from_currency: str, to_currency: str, rate_type: RateType, period: str) -> _Quotient | None:
        if self.base_currency in (from_currency, to_currency):
            return None

        to_base = self._quote(from_currency, self.base_currency, rate_type, period)
        from_base = self._quote(self.base_currency, to_currency, rate_type, period)
        if to_base is None or from_base is None:
            return None
        return _EXACT.multiply(to_base[0], from_base[0]), _EXACT.multiply(to_base[1], from_base[1])

    def _missing_rate(self, from_currency: str, to_currency: str, rate_type: RateType, period: str) -> MissingRate:
        pair = f"{from_currency}/{to_currency}"
        if self.base_currency in (from_currency, to_currency):
            to_load = pair
        else:
            to_load = f"{pair}, or both {from_currency}/{self.base_currency} and {self.base_currency}/{to_currency}"
        return MissingRate(
            f"rate: no {rate_type} rate {pair} for {period}, neither direct, inverse nor through "
            f"{self.base_currency}; load the {rate_type} rate {to_load} for {period}",
            field="rate",
        )


def _check_currency(code: object, field: str) -> None:
    if not isinstance(code, str) or not _CURRENCY_CODE.fullmatch(code):
        raise InvalidInput(
            f"{field}: {code!r} is not an ISO 4217 code; expected three capital letters such as \"EUR\"", field=field
        )


def _check_rate_type(rate_type: object) -> None:
    if rate_type not in RATE_TYPES:
        raise InvalidInput(
            f"rate_type: {rate_type!r} is invalid; expected one of {', '.join(RATE_TYPES)}", field="rate_type"
        )


def _check_rate_value(rate: object) -> None:
    if not isinstance(rate, Decimal):
        raise InvalidInput(
            f"rate: {rate!r} is a {type(rate).__name__}; expected a Decimal such as Decimal(\"1.0850\")", field="rate"
        )
    parse_amount(rate, field="rate")
    if rate <= 0:
        raise InvalidInput(
            f"rate: {rate} is not positive; expected the units of to_currency per one from_currency", field="rate"
        )


def _normalise_period(period: object) -> str:
    """Return the canonical key text, rejecting anything but a PeriodKey or text such as ``FY2024-P03``."""
    if isinstance(period, PeriodKey):
        return str(period)
    if not isinstance(period, str) or not _PERIOD_KEY.fullmatch(period):
        raise InvalidInput(f"period: {period!r} is not a period key; expected the form \"FY2024-P01\"", field="period")
    return str(PeriodKey.parse(period))
