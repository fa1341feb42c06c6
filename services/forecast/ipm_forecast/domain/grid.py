"""Calendar grids: one value per period with no period skipped, as the forecast models expect.

Actuals arrive as sparse amounts per period. A period without postings means something different
for each kind of series, so the kind decides how a gap inside the span is filled.
"""

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum

from ipm_common.errors import InvalidInput
from ipm_common.money import ZERO
from ipm_common.periods import PeriodKey, period_range


class SeriesKind(StrEnum):
    """Kind of a financial series, which sets how a period without an amount is filled."""

    FLOW = "flow"
    """A P&L flow: a period without postings had zero activity."""

    BALANCE = "balance"
    """A balance-sheet balance: it stays as it was until a posting changes it."""

    DRIVER = "driver"
    """A market driver or index: a missing value is unknown, never zero."""


def build_grid(
    amounts: Mapping[PeriodKey, Decimal],
    kind: SeriesKind,
    last: PeriodKey | None = None,
) -> tuple[list[PeriodKey], list[Decimal | None]]:
    """Lay ``amounts`` on every period from the first period with an amount to ``last``.

    ``last`` defaults to the last period with an amount, and amounts after ``last`` are left out.
    A gap is zero for a flow, the previous balance for a balance and ``None`` for a driver.
    Raises ``InvalidInput`` for an unknown kind and when ``last`` is earlier than the first period
    with an amount.
    """
    kind = _parse_kind(kind)
    if not amounts:
        return [], []

    first = min(amounts)
    end = max(amounts) if last is None else last
    if end < first:
        raise InvalidInput(f"last: {end} is earlier than the first period with an amount, {first}", field="last")

    periods = list(period_range(first, end))
    return periods, _fill(amounts, periods, kind)


def _parse_kind(kind: SeriesKind | str) -> SeriesKind:
    try:
        return SeriesKind(kind)
    except ValueError:
        expected = ", ".join(member.value for member in SeriesKind)
        raise InvalidInput(f"kind: {kind!r} is not a series kind; expected one of {expected}", field="kind") from None


def _fill(amounts: Mapping[PeriodKey, Decimal], periods: list[PeriodKey], kind: SeriesKind) -> list[Decimal | None]:
    if kind is SeriesKind.FLOW:
        return [amounts.get(period, ZERO) for period in periods]

    if kind is SeriesKind.DRIVER:
        return [amounts.get(period) for period in periods]

    values: list[Decimal | None] = []
    balance: Decimal | None = None
    for period in periods:
        balance = amounts.get(period, balance)
        values.append(balance)
    return values
