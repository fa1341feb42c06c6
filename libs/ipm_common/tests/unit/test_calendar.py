from datetime import date, datetime

import pytest

from ipm_common.calendar import FiscalCalendar, parse_posting_date
from ipm_common.errors import InvalidInput
from ipm_common.periods import PeriodKey

CALENDAR_YEAR = FiscalCalendar()

# City of Philadelphia: the fiscal year runs July to June and is named by the year it ends in.
PHILADELPHIA = FiscalCalendar(start_month=7, year_named_by="end")

# Periods start on the 26th: period 1 runs 26 January to 25 February.
DAY_26 = FiscalCalendar(start_month=1, start_day=26)

# Fiscal years end on the last Saturday of January and are named by the year they start in.
# 31 Jan 2025 is a Friday, so FY2024 ends Sat 25 Jan 2025 and FY2025 starts Sun 26 Jan 2025.
# 31 Jan 2026 is a Saturday, so FY2025 ends that day: 26 Jan 2025 to 31 Jan 2026 is
# 365 + 5 + 1 = 371 days, which is 53 weeks.
LAST_SATURDAY_OF_JANUARY = FiscalCalendar(start_month=2, week_pattern="4-4-5", week_year_end="last")

# Retail 4-5-4 calendar: the year ends on the Saturday nearest 31 January.
# 31 Jan 2023 is a Tuesday: Sat 28 Jan is 3 days before and Sat 4 Feb 4 days after, so FY2022
# ends 28 Jan 2023. 31 Jan 2024 is a Wednesday: Sat 27 Jan is 4 days before and Sat 3 Feb
# 3 days after, so FY2023 runs 29 Jan 2023 to 3 Feb 2024, 371 days or 53 weeks.
NEAREST_SATURDAY_TO_JANUARY_END = FiscalCalendar(start_month=2, week_pattern="4-5-4", week_year_end="nearest")

# Years end on the last Saturday of December. 31 Dec 2021 is a Friday, so FY2022 starts
# Sun 26 Dec 2021; 31 Dec 2022 is a Saturday, so FY2022 ends then after 53 weeks.
LAST_SATURDAY_OF_DECEMBER = FiscalCalendar(week_pattern="4-4-5")


def _invalid_input(call: object, *args: object) -> InvalidInput:
    assert callable(call)
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    return caught.value


@pytest.mark.parametrize(
    ("posting_date", "expected"),
    [
        (date(2022, 7, 15), PeriodKey(2023, 1)),
        (date(2023, 6, 30), PeriodKey(2023, 12)),
        (date(2023, 7, 1), PeriodKey(2024, 1)),
        (date(2023, 2, 14), PeriodKey(2023, 8)),
    ],
)
def test_philadelphia_year_named_by_end(posting_date: date, expected: PeriodKey) -> None:
    assert PHILADELPHIA.period_of(posting_date) == expected


def test_july_start_named_by_start() -> None:
    calendar = FiscalCalendar(start_month=7, year_named_by="start")

    assert calendar.period_of(date(2022, 7, 15)) == PeriodKey(2022, 1)


def test_philadelphia_february_bounds() -> None:
    assert PHILADELPHIA.period_bounds(PeriodKey(2023, 8)) == (date(2023, 2, 1), date(2023, 2, 28))


def test_philadelphia_parses_calendar_month() -> None:
    # July 2022 is FY2023-P01, so February 2023 is the eighth period.
    assert PHILADELPHIA.parse_period("2023-02") == PeriodKey(2023, 8)


def test_calendar_year_parses_month() -> None:
    assert CALENDAR_YEAR.parse_period("2024-03") == PeriodKey(2024, 3)


def test_calendar_year_parses_period_key() -> None:
    assert CALENDAR_YEAR.parse_period("FY2024-P11") == PeriodKey(2024, 11)


def test_calendar_year_december_is_period_12() -> None:
    assert CALENDAR_YEAR.period_of(date(2024, 12, 31)) == PeriodKey(2024, 12)


def test_leap_february_bounds() -> None:
    assert CALENDAR_YEAR.period_bounds(PeriodKey(2024, 2)) == (date(2024, 2, 1), date(2024, 2, 29))


def test_leap_february_has_29_days() -> None:
    assert CALENDAR_YEAR.days_in_period(PeriodKey(2024, 2)) == 29


@pytest.mark.parametrize(
    ("posting_date", "expected"),
    [
        (date(2024, 1, 25), PeriodKey(2023, 12)),
        (date(2024, 1, 26), PeriodKey(2024, 1)),
        (date(2024, 2, 25), PeriodKey(2024, 1)),
        (date(2024, 2, 26), PeriodKey(2024, 2)),
        (date(2025, 1, 25), PeriodKey(2024, 12)),
    ],
)
def test_day_26_start_periods(posting_date: date, expected: PeriodKey) -> None:
    assert DAY_26.period_of(posting_date) == expected


def test_day_26_period_spans_months() -> None:
    assert DAY_26.period_bounds(PeriodKey(2024, 2)) == (date(2024, 2, 26), date(2024, 3, 25))


def test_day_26_leap_period_length() -> None:
    # 26-29 February 2024 is 4 days, then 1-25 March is 25 days.
    assert DAY_26.days_in_period(PeriodKey(2024, 2)) == 29


def test_day_26_last_period_crosses_year() -> None:
    assert DAY_26.period_bounds(PeriodKey(2024, 12)) == (date(2024, 12, 26), date(2025, 1, 25))


def test_day_26_named_by_end_year() -> None:
    # The year starting 26 January 2024 ends 25 January 2025.
    calendar = FiscalCalendar(start_month=1, start_day=26, year_named_by="end")

    assert calendar.period_of(date(2024, 1, 26)) == PeriodKey(2025, 1)


def test_day_26_rejects_calendar_month() -> None:
    error = _invalid_input(DAY_26.parse_period, "2024-03")

    assert error.field == "period"


def test_week_year_has_53_weeks() -> None:
    assert LAST_SATURDAY_OF_JANUARY.weeks_in_year(2025) == 53


def test_week_year_has_52_weeks() -> None:
    # 31 Jan 2024 is a Wednesday, so FY2024 runs Sun 28 Jan 2024 to Sat 25 Jan 2025: 364 days.
    assert LAST_SATURDAY_OF_JANUARY.weeks_in_year(2024) == 52


def test_week_year_first_period_bounds() -> None:
    assert LAST_SATURDAY_OF_JANUARY.period_bounds(PeriodKey(2025, 1)) == (date(2025, 1, 26), date(2025, 2, 22))


def test_week_year_five_week_period() -> None:
    # Period 3 starts 8 weeks (56 days) after 26 Jan 2025, on 23 Mar 2025, and lasts 35 days.
    assert LAST_SATURDAY_OF_JANUARY.period_bounds(PeriodKey(2025, 3)) == (date(2025, 3, 23), date(2025, 4, 26))


def test_extra_week_goes_into_period_12() -> None:
    # Periods 1-11 take 47 weeks (329 days), so period 12 starts Sun 21 Dec 2025 and runs
    # 5 + 1 weeks to Sat 31 Jan 2026.
    assert LAST_SATURDAY_OF_JANUARY.period_bounds(PeriodKey(2025, 12)) == (date(2025, 12, 21), date(2026, 1, 31))


def test_extra_week_period_has_42_days() -> None:
    assert LAST_SATURDAY_OF_JANUARY.days_in_period(PeriodKey(2025, 12)) == 42


@pytest.mark.parametrize(
    ("posting_date", "expected"),
    [
        (date(2025, 1, 25), PeriodKey(2024, 12)),
        (date(2025, 1, 26), PeriodKey(2025, 1)),
        (date(2025, 12, 20), PeriodKey(2025, 11)),
        (date(2025, 12, 21), PeriodKey(2025, 12)),
        (date(2026, 1, 31), PeriodKey(2025, 12)),
        (date(2026, 2, 1), PeriodKey(2026, 1)),
    ],
)
def test_week_year_period_of(posting_date: date, expected: PeriodKey) -> None:
    assert LAST_SATURDAY_OF_JANUARY.period_of(posting_date) == expected


def test_week_year_named_by_end() -> None:
    calendar = FiscalCalendar(start_month=2, week_pattern="4-4-5", year_named_by="end")

    assert calendar.period_of(date(2026, 1, 31)) == PeriodKey(2026, 12)


def test_week_year_named_by_end_weeks() -> None:
    calendar = FiscalCalendar(start_month=2, week_pattern="4-4-5", year_named_by="end")

    assert calendar.weeks_in_year(2026) == 53


def test_nearest_saturday_53_week_year() -> None:
    assert NEAREST_SATURDAY_TO_JANUARY_END.weeks_in_year(2023) == 53


def test_nearest_saturday_year_bounds() -> None:
    first_day, _ = NEAREST_SATURDAY_TO_JANUARY_END.period_bounds(PeriodKey(2023, 1))
    _, last_day = NEAREST_SATURDAY_TO_JANUARY_END.period_bounds(PeriodKey(2023, 12))

    assert (first_day, last_day) == (date(2023, 1, 29), date(2024, 2, 3))


def test_nearest_saturday_4_5_4_second_period() -> None:
    # Period 1 is 4 weeks from 29 Jan 2023, so period 2 runs 5 weeks from 26 Feb to 1 Apr 2023.
    assert NEAREST_SATURDAY_TO_JANUARY_END.period_bounds(PeriodKey(2023, 2)) == (date(2023, 2, 26), date(2023, 4, 1))


def test_nearest_saturday_year_end_spills_into_february() -> None:
    assert NEAREST_SATURDAY_TO_JANUARY_END.period_of(date(2024, 2, 3)) == PeriodKey(2023, 12)


def test_nearest_saturday_previous_year_end() -> None:
    assert NEAREST_SATURDAY_TO_JANUARY_END.period_of(date(2023, 1, 28)) == PeriodKey(2022, 12)


def test_december_week_year_named_by_january() -> None:
    assert LAST_SATURDAY_OF_DECEMBER.period_of(date(2021, 12, 26)) == PeriodKey(2022, 1)


def test_december_week_year_same_name_by_end() -> None:
    # FY2022 ends 31 Dec 2022, so naming by the end year also gives 2022.
    calendar = FiscalCalendar(week_pattern="4-4-5", year_named_by="end")

    assert calendar.period_of(date(2021, 12, 26)) == PeriodKey(2022, 1)


def test_december_week_year_has_53_weeks() -> None:
    assert LAST_SATURDAY_OF_DECEMBER.weeks_in_year(2022) == 53


def test_december_week_year_next_start() -> None:
    assert LAST_SATURDAY_OF_DECEMBER.period_of(date(2023, 1, 1)) == PeriodKey(2023, 1)


def test_week_calendar_parses_period_key() -> None:
    assert LAST_SATURDAY_OF_JANUARY.parse_period("FY2025-P12") == PeriodKey(2025, 12)


def test_week_calendar_rejects_calendar_month() -> None:
    error = _invalid_input(LAST_SATURDAY_OF_JANUARY.parse_period, "2025-03")

    assert error.field == "period"


def test_weeks_in_year_needs_week_calendar() -> None:
    error = _invalid_input(CALENDAR_YEAR.weeks_in_year, 2024)

    assert error.field == "week_pattern"


@pytest.mark.parametrize(
    "text",
    ["2024-13", "2024-00", "FY2024-P13", "FY2024-P00", "2024-3", "FY2024-P1", "2024-03-01", "", "FY2024-P01\n",
     "\uff12\uff10\uff12\uff14-03", "FY1899-P01"],
)
def test_parse_period_rejects_invalid_text(text: str) -> None:
    error = _invalid_input(CALENDAR_YEAR.parse_period, text)

    assert error.field == "period"


def test_parse_period_error_shows_form() -> None:
    error = _invalid_input(CALENDAR_YEAR.parse_period, "2024-13")

    assert '"FY2024-P01"' in str(error)


@pytest.mark.parametrize("value", [202401, 2024.03, None, date(2024, 3, 1)])
def test_parse_period_rejects_non_string(value: object) -> None:
    error = _invalid_input(CALENDAR_YEAR.parse_period, value)

    assert error.field == "period"


def test_period_of_rejects_datetime() -> None:
    error = _invalid_input(CALENDAR_YEAR.period_of, datetime(2024, 3, 1, 12, 30))

    assert error.field == "posting_date"


def test_period_of_rejects_integer_date() -> None:
    error = _invalid_input(CALENDAR_YEAR.period_of, 20240301)

    assert error.field == "posting_date"


def test_period_of_rejects_year_one() -> None:
    error = _invalid_input(CALENDAR_YEAR.period_of, date(1, 1, 1))

    assert error.field == "posting_date"


def test_period_bounds_rejects_string() -> None:
    error = _invalid_input(CALENDAR_YEAR.period_bounds, "FY2024-P01")

    assert error.field == "period"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"start_month": 13}, "start_month"),
        ({"start_month": 0}, "start_month"),
        ({"start_month": "7"}, "start_month"),
        ({"start_month": True}, "start_month"),
        ({"start_day": 29}, "start_day"),
        ({"year_named_by": "middle"}, "year_named_by"),
        ({"week_pattern": "4-4-4"}, "week_pattern"),
        ({"week_pattern": "4-4-5", "week_year_end": "first"}, "week_year_end"),
        ({"week_pattern": "4-4-5", "year_end_weekday": 7}, "year_end_weekday"),
        ({"week_pattern": "4-4-5", "start_day": 15}, "start_day"),
        ({"year_end_weekday": 6}, "year_end_weekday"),
        ({"week_year_end": "nearest"}, "week_year_end"),
    ],
)
def test_calendar_rejects_invalid_setting(settings: dict[str, object], field: str) -> None:
    error = _invalid_input(lambda: FiscalCalendar(**settings))  # type: ignore[arg-type]

    assert error.field == field


def test_month_calendar_to_dict() -> None:
    assert PHILADELPHIA.to_dict() == {
        "start_month": 7,
        "start_day": 1,
        "year_named_by": "end",
        "week_year_end": "last",
        "year_end_weekday": 5,
    }


def test_week_calendar_to_dict_has_pattern() -> None:
    assert NEAREST_SATURDAY_TO_JANUARY_END.to_dict()["week_pattern"] == "4-5-4"


@pytest.mark.parametrize("calendar", [PHILADELPHIA, DAY_26, NEAREST_SATURDAY_TO_JANUARY_END])
def test_calendar_dict_round_trip(calendar: FiscalCalendar) -> None:
    assert FiscalCalendar.from_dict(calendar.to_dict()) == calendar


def test_from_dict_fills_defaults() -> None:
    assert FiscalCalendar.from_dict({"start_month": 7}) == FiscalCalendar(start_month=7)


def test_from_dict_accepts_null_week_pattern() -> None:
    assert FiscalCalendar.from_dict({"week_pattern": None}) == CALENDAR_YEAR


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"start_month": "7"}, "start_month"),
        ({"start_day": 1.0}, "start_day"),
        ({"year_end_weekday": False, "week_pattern": "4-4-5"}, "year_end_weekday"),
        ({"year_named_by": 1}, "year_named_by"),
        ({"fiscal_start": 7}, "fiscal_start"),
    ],
)
def test_from_dict_rejects_invalid_value(data: dict[str, object], field: str) -> None:
    error = _invalid_input(FiscalCalendar.from_dict, data)

    assert error.field == field


def test_parse_posting_date_reads_iso() -> None:
    assert parse_posting_date("2024-02-29") == date(2024, 2, 29)


def test_parse_posting_date_keeps_date() -> None:
    assert parse_posting_date(date(2024, 2, 29)) == date(2024, 2, 29)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 1, 15),
        20240115,
        1705276800,
        1705276800.0,
        "20240115",
        "2024-1-15",
        "2023-02-29",
        "2024-01-15T00:00:00",
        " 2024-01-15",
        "15/01/2024",
        None,
    ],
)
def test_parse_posting_date_rejects_value(value: object) -> None:
    error = _invalid_input(parse_posting_date, value)

    assert error.field == "posting_date"


def test_parse_posting_date_names_given_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_posting_date("2024-13-01", field="value_date")

    assert caught.value.field == "value_date"


def test_parse_posting_date_error_shows_form() -> None:
    error = _invalid_input(parse_posting_date, 20240115)

    assert '"2024-01-15"' in str(error)
