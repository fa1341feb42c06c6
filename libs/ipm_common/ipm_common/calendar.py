"""Fiscal calendars that map posting dates to period keys and period keys to dates.

A month calendar starts every period on the same day of the month. A week calendar (52/53-week
years, as retail uses) ends each fiscal year on a fixed weekday and splits it into twelve
periods of whole weeks in a 4-4-5, 4-5-4 or 5-4-4 pattern per quarter.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, TypeVar

from ipm_common.errors import InvalidInput
from ipm_common.periods import PERIODS_PER_YEAR, PeriodKey

YearNamedBy = Literal["start", "end"]
WeekPattern = Literal["4-4-5", "4-5-4", "5-4-4"]
WeekYearEnd = Literal["last", "nearest"]

YEAR_NAMINGS: tuple[YearNamedBy, ...] = ("start", "end")
WEEK_PATTERNS: tuple[WeekPattern, ...] = ("4-4-5", "4-5-4", "5-4-4")
WEEK_YEAR_ENDS: tuple[WeekYearEnd, ...] = ("last", "nearest")

# The fiscal years that PeriodKey accepts; dates outside them cannot have a period key.
_MIN_YEAR = 1900
_MAX_YEAR = 2999

_WEEKS_PER_YEAR = 52
_PERIOD_KEY = re.compile(r"FY([0-9]{4})-P([0-9]{2})")
_YEAR_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_Choice = TypeVar("_Choice")


@dataclass(frozen=True, slots=True)
class FiscalCalendar:
    """Fiscal-year layout of one entity: month periods, or week periods when ``week_pattern`` is set.

    ``year_named_by`` picks the calendar year that names a fiscal year: the year it starts in or
    the year it ends in. A week year is named by the year of ``start_month`` or of the month before
    it, even when its first or last week spills a few days into the neighbouring calendar year,
    so two fiscal years never share a name.
    """

    start_month: int = 1
    start_day: int = 1
    year_named_by: YearNamedBy = "start"
    week_pattern: WeekPattern | None = None
    week_year_end: WeekYearEnd = "last"
    year_end_weekday: int = 5

    def __post_init__(self) -> None:
        _check_int_range("start_month", self.start_month, 1, 12, "the month in which period 1 starts")
        _check_int_range("start_day", self.start_day, 1, 28, "a day that exists in every month")
        _check_choice("year_named_by", self.year_named_by, YEAR_NAMINGS)
        _check_choice("week_pattern", self.week_pattern, (*WEEK_PATTERNS, None))
        _check_choice("week_year_end", self.week_year_end, WEEK_YEAR_ENDS)
        _check_int_range("year_end_weekday", self.year_end_weekday, 0, 6, "a weekday number, 0 for Monday")

        if self.week_pattern is None:
            self._check_month_calendar_settings()
        elif self.start_day != 1:
            raise InvalidInput(
                f"start_day: {self.start_day} does not apply to a week calendar, whose year starts the day after "
                "the year-end weekday; leave start_day at 1",
                field="start_day",
            )

    def _check_month_calendar_settings(self) -> None:
        if self.week_year_end != "last":
            raise InvalidInput(
                f"week_year_end: {self.week_year_end!r} applies only to week calendars; "
                "set week_pattern or leave week_year_end at 'last'",
                field="week_year_end",
            )
        if self.year_end_weekday != 5:
            raise InvalidInput(
                f"year_end_weekday: {self.year_end_weekday} applies only to week calendars; "
                "set week_pattern or leave year_end_weekday at 5",
                field="year_end_weekday",
            )

    def period_of(self, posting_date: date) -> PeriodKey:
        """Return the key of the fiscal period that contains ``posting_date``."""
        day = parse_posting_date(posting_date)
        if not _MIN_YEAR <= day.year <= _MAX_YEAR:
            raise InvalidInput(
                f"posting_date: {day.isoformat()} is outside the years {_MIN_YEAR}-{_MAX_YEAR}",
                field="posting_date",
            )

        start_year = day.year + 1
        while self._first_day(start_year) > day:
            start_year -= 1

        return PeriodKey(self._fiscal_year_of(start_year), self._period_number(start_year, day))

    def period_bounds(self, key: PeriodKey) -> tuple[date, date]:
        """Return the first and the last day of the period, both inclusive."""
        if not isinstance(key, PeriodKey):
            raise InvalidInput(
                f"period: expected a PeriodKey such as PeriodKey(2024, 1), got {type(key).__name__}", field="period"
            )

        start_year = self._start_year_of(key.fiscal_year)
        year_first_day = self._first_day(start_year)
        if self.week_pattern is None:
            first_day = _add_months(year_first_day, key.period - 1)
            return first_day, _add_months(year_first_day, key.period) - timedelta(days=1)

        weeks = self._period_weeks(start_year)
        first_day = year_first_day + timedelta(weeks=sum(weeks[: key.period - 1]))
        return first_day, first_day + timedelta(weeks=weeks[key.period - 1], days=-1)

    def days_in_period(self, key: PeriodKey) -> int:
        """Count the days of the period, first and last day included."""
        first_day, last_day = self.period_bounds(key)
        return (last_day - first_day).days + 1

    def weeks_in_year(self, fiscal_year: int) -> int:
        """Count the weeks of a fiscal year of a week calendar: 52, or 53 when the extra week falls in it."""
        if self.week_pattern is None:
            raise InvalidInput(
                "week_pattern: weeks_in_year needs a week calendar, but week_pattern is None; "
                "set week_pattern to '4-4-5', '4-5-4' or '5-4-4'",
                field="week_pattern",
            )
        if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int):
            raise InvalidInput(
                f"fiscal_year: expected an integer year such as 2024, got {type(fiscal_year).__name__}",
                field="fiscal_year",
            )
        PeriodKey(fiscal_year, 1)

        start_year = self._start_year_of(fiscal_year)
        return self._days_in_year(start_year) // 7

    def parse_period(self, text: str) -> PeriodKey:
        """Parse ``FY2024-P01``, or ``YYYY-MM`` as the period that contains the month's first day.

        ``YYYY-MM`` is accepted only by month calendars whose periods start on day 1.
        """
        if not isinstance(text, str):
            raise InvalidInput(
                f"period: expected a string in the form {self._period_forms()}, got {type(text).__name__}",
                field="period",
            )

        if _PERIOD_KEY.fullmatch(text):
            return self._parse_period_key(text)
        if _YEAR_MONTH.fullmatch(text):
            return self._parse_year_month(text)
        raise self._invalid_period(text, "it matches no period form")

    def to_dict(self) -> dict[str, str | int]:
        """Return the settings as plain JSON values, leaving out ``week_pattern`` for month calendars."""
        data: dict[str, str | int] = {
            "start_month": self.start_month,
            "start_day": self.start_day,
            "year_named_by": self.year_named_by,
            "week_year_end": self.week_year_end,
            "year_end_weekday": self.year_end_weekday,
        }
        if self.week_pattern is not None:
            data["week_pattern"] = self.week_pattern
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> "FiscalCalendar":
        """Build a calendar from ``to_dict`` output, taking the default for each missing setting."""
        if not isinstance(data, Mapping):
            raise InvalidInput(
                f"calendar: expected an object of calendar settings, got {type(data).__name__}", field="calendar"
            )

        known = set(cls.__dataclass_fields__)
        for name in data:
            if name not in known:
                raise InvalidInput(
                    f"{name}: unknown calendar setting; expected one of {', '.join(sorted(known))}", field=str(name)
                )

        return cls(
            start_month=_read_int(data, "start_month", 1),
            start_day=_read_int(data, "start_day", 1),
            year_named_by=_read_choice(data, "year_named_by", YEAR_NAMINGS, "start"),
            week_pattern=_read_choice(data, "week_pattern", (*WEEK_PATTERNS, None), None),
            week_year_end=_read_choice(data, "week_year_end", WEEK_YEAR_ENDS, "last"),
            year_end_weekday=_read_int(data, "year_end_weekday", 5),
        )

    @property
    def _accepts_year_month(self) -> bool:
        return self.week_pattern is None and self.start_day == 1

    @property
    def _end_year_offset(self) -> int:
        """Return how many calendar years after its start year a fiscal year is named when named by end."""
        if self.week_pattern is None:
            return 0 if (self.start_month, self.start_day) == (1, 1) else 1
        return 0 if self.start_month == 1 else 1

    def _fiscal_year_of(self, start_year: int) -> int:
        if self.year_named_by == "start":
            return start_year
        return start_year + self._end_year_offset

    def _start_year_of(self, fiscal_year: int) -> int:
        if self.year_named_by == "start":
            return fiscal_year
        return fiscal_year - self._end_year_offset

    def _first_day(self, start_year: int) -> date:
        """Return the first day of the fiscal year whose ``start_month`` lies in ``start_year``."""
        if self.week_pattern is None:
            return date(start_year, self.start_month, self.start_day)
        return self._week_year_end(start_year - 1) + timedelta(days=1)

    def _days_in_year(self, start_year: int) -> int:
        return (self._first_day(start_year + 1) - self._first_day(start_year)).days

    def _week_year_end(self, start_year: int) -> date:
        """Return the last day of a week year: the ``year_end_weekday`` ending the month before ``start_month``."""
        if self.start_month == 1:
            month_end = date(start_year, 12, 31)
        else:
            month_end = date(start_year + 1, self.start_month, 1) - timedelta(days=1)

        days_back = (month_end.weekday() - self.year_end_weekday) % 7
        # Going forward 7 - days_back days is nearer when days_back is 4, 5 or 6. A tie cannot happen in a 7-day week.
        if self.week_year_end == "nearest" and days_back > 3:
            return month_end + timedelta(days=7 - days_back)
        return month_end - timedelta(days=days_back)

    def _period_weeks(self, start_year: int) -> list[int]:
        """Return the number of weeks of each of the twelve periods, with a 53rd week in period 12."""
        assert self.week_pattern is not None
        quarter = [int(weeks) for weeks in self.week_pattern.split("-")]
        weeks = quarter * (PERIODS_PER_YEAR // len(quarter))
        weeks[-1] += self._days_in_year(start_year) // 7 - _WEEKS_PER_YEAR
        return weeks

    def _period_number(self, start_year: int, day: date) -> int:
        first_day = self._first_day(start_year)
        if self.week_pattern is None:
            months = (day.year - first_day.year) * 12 + day.month - first_day.month
            if day.day < self.start_day:
                months -= 1
            return months + 1

        weeks_elapsed = (day - first_day).days // 7
        period_end_week = 0
        for period, weeks in enumerate(self._period_weeks(start_year), start=1):
            period_end_week += weeks
            if weeks_elapsed < period_end_week:
                return period
        raise AssertionError(f"{day} lies after the fiscal year starting {first_day}")

    def _parse_period_key(self, text: str) -> PeriodKey:
        match = _PERIOD_KEY.fullmatch(text)
        assert match is not None
        fiscal_year, period = int(match.group(1)), int(match.group(2))

        if not 1 <= period <= PERIODS_PER_YEAR:
            raise self._invalid_period(text, f"period P{period:02d} is outside P01-P{PERIODS_PER_YEAR}")
        if not _MIN_YEAR <= fiscal_year <= _MAX_YEAR:
            raise self._invalid_period(text, f"fiscal year {fiscal_year} is outside {_MIN_YEAR}-{_MAX_YEAR}")
        return PeriodKey(fiscal_year, period)

    def _parse_year_month(self, text: str) -> PeriodKey:
        if not self._accepts_year_month:
            reason = "a calendar month names a period only in a month calendar starting on day 1"
            raise self._invalid_period(text, reason)

        match = _YEAR_MONTH.fullmatch(text)
        assert match is not None
        year, month = int(match.group(1)), int(match.group(2))

        if not 1 <= month <= 12:
            raise self._invalid_period(text, f"month {month:02d} is outside 01-12")
        try:
            return self.period_of(date(year, month, 1))
        except InvalidInput as error:
            raise self._invalid_period(text, str(error)) from None

    def _period_forms(self) -> str:
        if self._accepts_year_month:
            return '"FY2024-P01" or "2024-01"'
        return '"FY2024-P01"'

    def _invalid_period(self, text: str, reason: str) -> InvalidInput:
        return InvalidInput(
            f"period: {text!r} is invalid because {reason}; expected the form {self._period_forms()}", field="period"
        )


def parse_posting_date(value: object, *, field: str = "posting_date") -> date:
    """Convert a ``date`` or an ISO ``YYYY-MM-DD`` string into a ``date``.

    Raises ``InvalidInput`` naming ``field`` for datetimes, numbers and any other text, so that a
    timestamp or a number is never read as a day.
    """
    if isinstance(value, datetime):
        raise InvalidInput(
            f"{field}: {value.isoformat()!r} is a datetime; expected a date such as \"2024-01-15\" without a time",
            field=field,
        )
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise InvalidInput(
            f"{field}: {value!r} is of type {type(value).__name__}; expected an ISO date string such as \"2024-01-15\"",
            field=field,
        )

    if _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{field}: {value!r} is not a valid date; expected the form \"2024-01-15\"", field=field)


def _add_months(day: date, months: int) -> date:
    """Return the same day of the month ``months`` later; callers keep the day at 28 or less."""
    month_index = day.month - 1 + months
    return date(day.year + month_index // 12, month_index % 12 + 1, day.day)


def _check_int_range(name: str, value: object, low: int, high: int, meaning: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name}: {value!r} is not an integer; expected {low}-{high}, {meaning}", field=name)
    if not low <= value <= high:
        raise InvalidInput(f"{name}: {value} is outside {low}-{high}; expected {meaning}", field=name)


def _check_choice(name: str, value: object, choices: tuple[str | None, ...]) -> None:
    if value not in choices:
        expected = ", ".join(repr(choice) for choice in choices)
        raise InvalidInput(f"{name}: {value!r} is invalid; expected one of {expected}", field=name)


def _read_int(data: Mapping[str, object], name: str, default: int) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name}: {value!r} is not an integer; expected a JSON number such as {default}", field=name)
    return value


def _read_choice(data: Mapping[str, object], name: str, choices: tuple[_Choice, ...], default: _Choice) -> _Choice:
    value = data.get(name, default)
    for choice in choices:
        if type(value) is type(choice) and value == choice:
            return choice
    expected = ", ".join(repr(choice) for choice in choices)
    raise InvalidInput(f"{name}: {value!r} is invalid; expected one of {expected}", field=name)
