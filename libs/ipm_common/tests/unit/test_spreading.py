from decimal import Decimal

import pytest

from ipm_common.errors import InvalidInput
from ipm_common.spreading import (
    Phasing,
    allocate_largest_remainder,
    pro_rata,
    spread_by_profile,
    spread_even,
)


def _amounts(*texts: str) -> list[Decimal]:
    return [Decimal(text) for text in texts]


def test_hundred_over_three() -> None:
    # 10000 cents / 3 = 3333 each, and the one cent left goes to the first of three equal remainders.
    assert spread_even(Decimal("100.00"), 3) == _amounts("33.34", "33.33", "33.33")


def test_negative_total_over_three() -> None:
    # 5 cents / 3 = 1 each with remainders of 2/3, so the two cents left go to the first two parts.
    assert spread_even(Decimal("-0.05"), 3) == _amounts("-0.02", "-0.02", "-0.01")


def test_ties_go_to_lower_index() -> None:
    assert allocate_largest_remainder(Decimal("0.02"), _amounts("1", "1", "1", "1")) == _amounts(
        "0.01", "0.01", "0.00", "0.00"
    )


def test_largest_remainder_wins_over_index() -> None:
    # Shares of 1 cent are 1/3 and 2/3, so the cent goes to the second part.
    assert allocate_largest_remainder(Decimal("0.01"), _amounts("1", "2")) == _amounts("0.00", "0.01")


def test_zero_weight_gets_nothing() -> None:
    # 101 cents by 0:1:1 is 0, 50.5 and 50.5, and the odd cent goes to the lower of the tied indexes.
    assert allocate_largest_remainder(Decimal("1.01"), _amounts("0", "1", "1")) == _amounts("0.00", "0.51", "0.50")


def test_all_zero_weights_split_equally() -> None:
    assert allocate_largest_remainder(Decimal("1.00"), _amounts("0", "0", "0")) == _amounts("0.34", "0.33", "0.33")


def test_whole_unit_quantum() -> None:
    assert allocate_largest_remainder(Decimal(10), _amounts("1", "1", "1"), Decimal(1)) == _amounts("4", "3", "3")


def test_five_cent_quantum() -> None:
    # 1.00 is 20 five-cent units: 7, 7 and 6.
    assert spread_even(Decimal("1.00"), 3, Decimal("0.05")) == _amounts("0.35", "0.35", "0.30")


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        ("100.00", ["1", "1", "1"]),
        ("-0.05", ["1", "1", "1"]),
        ("0.07", ["3", "0", "5", "2"]),
        ("-1234567.89", ["0.1", "0.25", "0.3333", "7"]),
        ("999999999999.99", ["1"] * 12),
        ("0.00", ["1", "2"]),
    ],
)
def test_parts_sum_to_total(total: str, weights: list[str]) -> None:
    assert sum(allocate_largest_remainder(Decimal(total), _amounts(*weights))) == Decimal(total)


@pytest.mark.parametrize("total", ["0.07", "-1234567.89", "100.00"])
def test_parts_are_whole_cents(total: str) -> None:
    parts = allocate_largest_remainder(Decimal(total), _amounts("3", "0", "5", "2"))

    assert all(part == part.quantize(Decimal("0.01")) for part in parts)


def test_negative_weight_rejected() -> None:
    with pytest.raises(InvalidInput) as caught:
        allocate_largest_remainder(Decimal("1.00"), _amounts("1", "-1", "1"))

    assert caught.value.field == "weights[1]"


def test_empty_weights_rejected() -> None:
    with pytest.raises(InvalidInput) as caught:
        allocate_largest_remainder(Decimal("1.00"), [])

    assert caught.value.field == "weights"


def test_total_off_quantum_rejected() -> None:
    with pytest.raises(InvalidInput) as caught:
        allocate_largest_remainder(Decimal("100.005"), _amounts("1", "1"))

    assert caught.value.field == "total"


def test_float_total_rejected() -> None:
    with pytest.raises(InvalidInput) as caught:
        spread_even(100.0, 3)  # type: ignore[arg-type]

    assert caught.value.field == "total"


def test_zero_quantum_rejected() -> None:
    with pytest.raises(InvalidInput) as caught:
        spread_even(Decimal("1.00"), 3, Decimal(0))

    assert caught.value.field == "quantum"


@pytest.mark.parametrize("count", [0, -1, True, 3.0])
def test_even_spread_rejects_count(count: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        spread_even(Decimal("1.00"), count)  # type: ignore[arg-type]

    assert caught.value.field == "count"


# Prior-year actuals in thousands, summing to 1200. Each share of 100,000,000 cents is
# 100,000,000 × weight / 1200. Weights 80, 95, 95 and 125 leave remainders of 2/3 of a cent,
# weights 70, 85, 100 and 85 leave 1/3, and 90, 90, 105 and 180 divide exactly.
# The remainders add up to 4 cents, which go to the four parts with 2/3.
SEASONAL_PROFILE = _amounts("80", "70", "90", "85", "95", "100", "90", "85", "95", "105", "125", "180")
SEASONAL_SPREAD = _amounts(
    "66666.67",
    "58333.33",
    "75000.00",
    "70833.33",
    "79166.67",
    "83333.33",
    "75000.00",
    "70833.33",
    "79166.67",
    "87500.00",
    "104166.67",
    "150000.00",
)


def test_million_by_seasonal_profile() -> None:
    amounts, _ = spread_by_profile(Decimal("1000000.00"), SEASONAL_PROFILE)

    assert amounts == SEASONAL_SPREAD


def test_seasonal_profile_method() -> None:
    _, method = spread_by_profile(Decimal("1000000.00"), SEASONAL_PROFILE)

    assert method == "profile"


def test_credit_profile_uses_magnitudes() -> None:
    # Revenue is negative in a debit-positive ledger. Amounts of -300 and -100 give shares of 3/4 and 1/4.
    assert spread_by_profile(Decimal("1000.00"), _amounts("-300", "-100")) == (_amounts("750.00", "250.00"), "profile")


def test_profile_with_zero_period() -> None:
    assert spread_by_profile(Decimal("100.00"), _amounts("0", "100", "300")) == (
        _amounts("0.00", "25.00", "75.00"),
        "profile",
    )


def test_mixed_sign_profile_spreads_evenly() -> None:
    assert spread_by_profile(Decimal("90.00"), _amounts("100", "-50", "200")) == (
        _amounts("30.00", "30.00", "30.00"),
        "even",
    )


def test_zero_profile_spreads_evenly() -> None:
    assert spread_by_profile(Decimal("100.00"), _amounts("0", "0", "0", "0")) == (
        _amounts("25.00", "25.00", "25.00", "25.00"),
        "even",
    )


def test_empty_profile_rejected() -> None:
    with pytest.raises(InvalidInput) as caught:
        spread_by_profile(Decimal("100.00"), [])

    assert caught.value.field == "profile"


def test_pro_rata_exact_share() -> None:
    # 3100.00 × 10 / 31 = 1000.00
    assert pro_rata(Decimal("3100.00"), 10, 31) == Decimal("1000.00")


def test_pro_rata_rounds_to_cent() -> None:
    # 1000.00 × 10 / 31 = 322.5806...
    assert pro_rata(Decimal("1000.00"), 10, 31) == Decimal("322.58")


def test_pro_rata_half_to_even_down() -> None:
    # 0.05 / 2 = 0.025, and the even neighbour is 0.02.
    assert pro_rata(Decimal("0.05"), 1, 2) == Decimal("0.02")


def test_pro_rata_half_to_even_up() -> None:
    # 0.15 / 2 = 0.075, and the even neighbour is 0.08.
    assert pro_rata(Decimal("0.15"), 1, 2) == Decimal("0.08")


def test_pro_rata_negative_half() -> None:
    assert pro_rata(Decimal("-0.05"), 1, 2) == Decimal("-0.02")


def test_pro_rata_rounds_once() -> None:
    # The amount has 19 decimal places. Rounding it to 3 places first would give 0.035 and then 0.04.
    assert pro_rata(Decimal("0.0349999999999999999"), 1, 1) == Decimal("0.03")


def test_pro_rata_whole_period() -> None:
    assert pro_rata(Decimal("1234.56"), 30, 30) == Decimal("1234.56")


def test_pro_rata_no_days_elapsed() -> None:
    assert pro_rata(Decimal("1234.56"), 0, 30) == Decimal("0.00")


@pytest.mark.parametrize(
    ("days_elapsed", "days_in_period", "field"),
    [
        (32, 31, "days_elapsed"),
        (-1, 31, "days_elapsed"),
        (1, 0, "days_in_period"),
        (True, 31, "days_elapsed"),
        (1.5, 31, "days_elapsed"),
    ],
)
def test_pro_rata_rejects_days(days_elapsed: object, days_in_period: object, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        pro_rata(Decimal("100.00"), days_elapsed, days_in_period)  # type: ignore[arg-type]

    assert caught.value.field == field


def test_phasing_values() -> None:
    assert [phasing.value for phasing in Phasing] == ["full_period", "pro_rata_days"]


def test_phasing_parses_from_text() -> None:
    assert Phasing("pro_rata_days") is Phasing.PRO_RATA_DAYS
