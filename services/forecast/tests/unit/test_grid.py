from decimal import Decimal

import pytest

from ipm_common.errors import InvalidInput
from ipm_common.periods import PeriodKey
from ipm_forecast.domain.grid import SeriesKind, build_grid

P01 = PeriodKey(2024, 1)
P02 = PeriodKey(2024, 2)
P03 = PeriodKey(2024, 3)
P04 = PeriodKey(2024, 4)
P05 = PeriodKey(2024, 5)

SPARSE = {P01: Decimal("10.00"), P04: Decimal("-4.50")}


def test_flow_gap_is_zero() -> None:
    periods, values = build_grid(SPARSE, SeriesKind.FLOW)

    assert periods == [P01, P02, P03, P04]
    assert values == [Decimal("10.00"), Decimal(0), Decimal(0), Decimal("-4.50")]


def test_balance_gap_carries_last_balance() -> None:
    _, values = build_grid(SPARSE, SeriesKind.BALANCE)

    assert values == [Decimal("10.00"), Decimal("10.00"), Decimal("10.00"), Decimal("-4.50")]


def test_driver_gap_stays_none() -> None:
    _, values = build_grid(SPARSE, SeriesKind.DRIVER)

    assert values == [Decimal("10.00"), None, None, Decimal("-4.50")]


def test_last_extends_grid_by_kind() -> None:
    amounts = {P01: Decimal("3.00"), P02: Decimal("5.00")}

    periods, flow = build_grid(amounts, SeriesKind.FLOW, last=P04)
    _, balance = build_grid(amounts, SeriesKind.BALANCE, last=P04)
    _, driver = build_grid(amounts, SeriesKind.DRIVER, last=P04)

    assert periods == [P01, P02, P03, P04]
    assert flow == [Decimal("3.00"), Decimal("5.00"), Decimal(0), Decimal(0)]
    assert balance == [Decimal("3.00"), Decimal("5.00"), Decimal("5.00"), Decimal("5.00")]
    assert driver == [Decimal("3.00"), Decimal("5.00"), None, None]


def test_last_leaves_out_later_amounts() -> None:
    amounts = {P01: Decimal(1), P03: Decimal(3), P05: Decimal(5)}

    periods, values = build_grid(amounts, SeriesKind.FLOW, last=P03)

    assert periods == [P01, P02, P03]
    assert values == [Decimal(1), Decimal(0), Decimal(3)]


def test_last_equal_to_first_gives_one_period() -> None:
    periods, values = build_grid({P02: Decimal(7)}, SeriesKind.BALANCE, last=P02)

    assert periods == [P02]
    assert values == [Decimal(7)]


def test_last_before_first_raises() -> None:
    with pytest.raises(InvalidInput) as raised:
        build_grid({P03: Decimal(1)}, SeriesKind.FLOW, last=P02)

    assert raised.value.field == "last"


def test_kind_as_text_is_accepted() -> None:
    _, values = build_grid(SPARSE, "balance")  # type: ignore[arg-type]

    assert values == [Decimal("10.00"), Decimal("10.00"), Decimal("10.00"), Decimal("-4.50")]


def test_unknown_kind_raises() -> None:
    with pytest.raises(InvalidInput) as raised:
        build_grid(SPARSE, "stock")  # type: ignore[arg-type]

    assert raised.value.field == "kind"


def test_empty_amounts_give_empty_grid() -> None:
    assert build_grid({}, SeriesKind.FLOW) == ([], [])
    assert build_grid({}, SeriesKind.BALANCE, last=P04) == ([], [])


def test_grid_crosses_fiscal_year() -> None:
    december = PeriodKey(2023, 12)
    february = PeriodKey(2024, 2)

    periods, values = build_grid({december: Decimal(1), february: Decimal(2)}, SeriesKind.FLOW)

    assert periods == [december, PeriodKey(2024, 1), february]
    assert values == [Decimal(1), Decimal(0), Decimal(2)]


def test_unordered_mapping_gives_calendar_order() -> None:
    amounts = {P03: Decimal(3), P01: Decimal(1)}

    periods, values = build_grid(amounts, SeriesKind.DRIVER)

    assert periods == [P01, P02, P03]
    assert values == [Decimal(1), None, Decimal(3)]
