import pytest

from ipm_common.errors import InvalidInput
from ipm_common.periods import PeriodKey, fiscal_year_periods, period_range


def test_parse_reads_year_and_period() -> None:
    key = PeriodKey.parse("FY2024-P03")

    assert key.fiscal_year == 2024
    assert key.period == 3


def test_str_pads_period_number() -> None:
    assert str(PeriodKey(2024, 1)) == "FY2024-P01"


@pytest.mark.parametrize("text", ["FY2024-P01", "FY1999-P12", "FY2030-P10"])
def test_parse_and_str_round_trip(text: str) -> None:
    assert str(PeriodKey.parse(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "FY2024-P13",
        "FY2024-P00",
        "2024-01",
        "FY2024-P01\n",
        " FY2024-P01",
        "FY2024-P1",
        "fy2024-p01",
        "FY24-P01",
        "FY2024-P001",
        "",
    ],
)
def test_parse_rejects_invalid_keys(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        PeriodKey.parse(text)

    assert caught.value.field == "period"


def test_parse_rejects_non_string() -> None:
    with pytest.raises(InvalidInput) as caught:
        PeriodKey.parse(202401)  # type: ignore[arg-type]

    assert "expected a string" in str(caught.value)


def test_constructor_rejects_year_out_of_range() -> None:
    with pytest.raises(InvalidInput) as caught:
        PeriodKey(1899, 12)

    assert caught.value.field == "fiscal_year"


def test_shift_forward_crosses_year() -> None:
    assert PeriodKey(2024, 11).shift(3) == PeriodKey(2025, 2)


def test_shift_backward_crosses_year() -> None:
    assert PeriodKey(2024, 2).shift(-3) == PeriodKey(2023, 11)


def test_shift_by_many_years() -> None:
    assert PeriodKey(2024, 1).shift(-25) == PeriodKey(2021, 12)


def test_shift_zero_keeps_period() -> None:
    assert PeriodKey(2024, 7).shift(0) == PeriodKey(2024, 7)


def test_periods_until_counts_across_years() -> None:
    assert PeriodKey(2023, 11).periods_until(PeriodKey(2024, 2)) == 3
    assert PeriodKey(2024, 2).periods_until(PeriodKey(2023, 11)) == -3


def test_keys_order_by_year_then_period() -> None:
    keys = [PeriodKey(2024, 1), PeriodKey(2023, 12), PeriodKey(2024, 10)]

    assert sorted(keys) == [PeriodKey(2023, 12), PeriodKey(2024, 1), PeriodKey(2024, 10)]


def test_range_spans_year_end() -> None:
    keys = [str(key) for key in period_range(PeriodKey(2023, 11), PeriodKey(2024, 2))]

    assert keys == ["FY2023-P11", "FY2023-P12", "FY2024-P01", "FY2024-P02"]


def test_range_of_one_period() -> None:
    assert list(period_range(PeriodKey(2024, 5), PeriodKey(2024, 5))) == [PeriodKey(2024, 5)]


def test_range_is_empty_when_reversed() -> None:
    assert list(period_range(PeriodKey(2024, 5), PeriodKey(2024, 4))) == []


def test_quarter_of_period() -> None:
    quarters = [key.quarter for key in fiscal_year_periods(2024)]

    assert quarters == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
