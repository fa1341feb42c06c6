"""Store, list and delete exchange rates, so that every stored rate stays usable by postings.

The ledger loads all stored rates into one ``RateTable`` for every batch, so a single unusable
rate would block every posting. New rates are therefore checked one by one and as a whole set
together with the stored ones before anything is written.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from ipm_common.errors import InvalidInput, NotFound
from ipm_common.fx import Rate, RateTable, RateType
from ipm_common.storage import Database
from ipm_forecast.adapters import repository

logger = logging.getLogger(__name__)

# A converted amount is the posting amount times the rate, multiplied exactly, so every digit of a
# rate becomes a digit of the converted amounts.
# NOTE: chosen limits, not a standard. A posting amount with many decimal places can still convert
# to more digits than an amount may have, and the ledger then rejects that posting.
MAX_RATE_DIGITS = 20
MAX_RATE_DECIMAL_PLACES = 12


@dataclass(frozen=True)
class RateKey:
    from_currency: str
    to_currency: str
    rate_type: str
    period: str

    def __str__(self) -> str:
        return f"{self.rate_type} rate {self.from_currency}/{self.to_currency} for {self.period}"


@dataclass(frozen=True)
class RateRequest:
    key: RateKey
    rate: Decimal


async def store_rates(database: Database, requests: Sequence[RateRequest], base_currency: str) -> int:
    """Check the rates, then replace the stored rate of each key; return how many keys were sent.

    Raises ``InvalidInput`` listing every invalid item as ``[index].field`` and stores nothing then.
    """
    rates = check_rates(requests)
    async with database.transaction() as transaction:
        connection = transaction.connection
        stored = await repository.stored_rates(connection)
        new_keys = {rate.key for rate in rates}
        unchanged = [_stored_rate(row) for row in stored if _row_key(row) not in new_keys]
        RateTable(base_currency, [*unchanged, *rates])
        for rate in rates:
            await repository.replace_rate(connection, rate)

    logger.info("stored %s exchange rates, %s other stored rates unchanged", len(rates), len(unchanged))
    return len(rates)


async def delete_rates(database: Database, keys: Sequence[RateKey]) -> int:
    """Delete the rates of the given keys; raise ``NotFound`` and delete none when one is not stored."""
    unique = list(dict.fromkeys(keys))
    async with database.transaction() as transaction:
        for key in unique:
            deleted = await repository.delete_rate(transaction.connection, key.from_currency, key.to_currency,
                                                   key.rate_type, key.period)
            if not deleted:
                raise NotFound(f"[{keys.index(key)}]: no {key} is stored; GET /v1/fx-rates lists the stored rates")

    logger.info("deleted %s exchange rates", len(unique))
    return len(unique)


async def list_rates(database: Database) -> list[dict[str, Any]]:
    """List the stored rates, invalid ones included, ordered by pair, rate type and period."""
    async with database.reading() as connection:
        return await repository.stored_rates(connection)


def check_rates(requests: Sequence[RateRequest]) -> list[Rate]:
    """Return one ``Rate`` per distinct key, or raise ``InvalidInput`` listing every invalid item."""
    rates: list[Rate] = []
    errors: list[dict[str, str]] = []
    first_seen: dict[tuple[str, ...], tuple[int, Decimal]] = {}
    for index, request in enumerate(requests):
        try:
            rate = _checked_rate(request)
        except InvalidInput as error:
            errors.append(_item_error(index, error))
            continue

        earlier, earlier_rate = first_seen.setdefault(rate.key, (index, rate.rate))
        if earlier_rate != rate.rate:
            errors.append({"field": f"[{index}].rate", "type": "conflicting_rate",
                           "message": f"{rate.rate} differs from {earlier_rate} in [{earlier}] for the same key; "
                                      "send one rate per pair, rate type and period"})
        elif earlier == index:
            rates.append(rate)

    if errors:
        raise InvalidInput(f"rates rejected: {len(errors)} invalid item(s), first {errors[0]['field']}: "
                           f"{errors[0]['message']}", field=errors[0]["field"], details=errors)
    return rates


def _checked_rate(request: RateRequest) -> Rate:
    key = request.key
    rate = Rate(key.from_currency, key.to_currency, cast(RateType, key.rate_type), key.period, request.rate)
    _check_precision(rate.rate)
    return rate


def _check_precision(rate: Decimal) -> None:
    exponent = rate.as_tuple().exponent
    digits = len(rate.as_tuple().digits)
    decimal_places = max(0, -exponent) if isinstance(exponent, int) else 0
    if digits > MAX_RATE_DIGITS or decimal_places > MAX_RATE_DECIMAL_PLACES:
        raise InvalidInput(f"rate: {rate} has {digits} significant digits and {decimal_places} decimal places; a "
                           f"rate has at most {MAX_RATE_DIGITS} significant digits and {MAX_RATE_DECIMAL_PLACES} "
                           "decimal places, so round it", field="rate")


def _item_error(index: int, error: InvalidInput) -> dict[str, str]:
    field = error.field or "rate"
    return {"field": f"[{index}].{field}", "message": str(error).removeprefix(f"{field}: "), "type": "invalid"}


def _row_key(row: dict[str, Any]) -> tuple[str, ...]:
    return (row["from_currency"], row["to_currency"], row["rate_type"], row["period"])


def _stored_rate(row: dict[str, Any]) -> Rate:
    """Rebuild a stored rate; one stored before these checks existed may be unusable."""
    key = RateKey(*_row_key(row))
    try:
        return Rate(key.from_currency, key.to_currency, cast(RateType, key.rate_type), key.period, row["rate"])
    except InvalidInput as error:
        raise InvalidInput(f"the stored {key} ({row['rate']}) is invalid: {error}; remove it with "
                           "DELETE /v1/fx-rates, then send these rates again") from None
