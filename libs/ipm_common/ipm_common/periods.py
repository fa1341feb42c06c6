"""Fiscal period keys such as ``FY2024-P01``.

Every IPM calendar has twelve periods a year: calendar months, months shifted to a fiscal-year
start, or 4-4-5 week periods. A key is calendar-independent, so keys of one entity can be
ordered, shifted and ranged without the calendar. Turning dates into keys needs the entity's
``FiscalCalendar`` (``ipm_common.calendar``).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ipm_common.errors import InvalidInput

PERIODS_PER_YEAR = 12

_KEY = re.compile(r"FY([0-9]{4})-P([0-9]{2})")


@dataclass(frozen=True, order=True, slots=True)
class PeriodKey:
    """Fiscal year and period number (1-12) of one entity's calendar."""

    fiscal_year: int
    period: int

    def __post_init__(self) -> None:
        if not 1 <= self.period <= PERIODS_PER_YEAR:
            raise InvalidInput(f"period: {self.period} is outside 1-{PERIODS_PER_YEAR}", field="period")
        if not 1900 <= self.fiscal_year <= 2999:
            raise InvalidInput(f"fiscal_year: {self.fiscal_year} is outside 1900-2999", field="fiscal_year")

    @classmethod
    def parse(cls, text: str) -> "PeriodKey":
        """Parse ``FY2024-P01``; ``YYYY-MM`` needs the calendar (``FiscalCalendar.parse_period``)."""
        if not isinstance(text, str):
            raise InvalidInput(
                f"period: expected a string such as \"FY2024-P01\", got {type(text).__name__}", field="period"
            )
        match = _KEY.fullmatch(text)
        if match is None:
            raise InvalidInput(
                f"period: {text!r} is not a period key; expected the form \"FY2024-P01\"", field="period"
            )
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"FY{self.fiscal_year}-P{self.period:02d}"

    @property
    def index(self) -> int:
        """Position on a continuous period axis; differences between indexes count periods."""
        return self.fiscal_year * PERIODS_PER_YEAR + self.period - 1

    @classmethod
    def from_index(cls, index: int) -> "PeriodKey":
        year, offset = divmod(index, PERIODS_PER_YEAR)
        return cls(year, offset + 1)

    def shift(self, periods: int) -> "PeriodKey":
        return PeriodKey.from_index(self.index + periods)

    def periods_until(self, other: "PeriodKey") -> int:
        """Count of periods from ``self`` to ``other``; negative when ``other`` is earlier."""
        return other.index - self.index

    @property
    def quarter(self) -> int:
        return (self.period - 1) // 3 + 1


def period_range(first: PeriodKey, last: PeriodKey) -> Iterator[PeriodKey]:
    """Yield every period from ``first`` to ``last``, both included."""
    for index in range(first.index, last.index + 1):
        yield PeriodKey.from_index(index)


def fiscal_year_periods(fiscal_year: int) -> list[PeriodKey]:
    return [PeriodKey(fiscal_year, period) for period in range(1, PERIODS_PER_YEAR + 1)]
