from decimal import Decimal

import pytest

from ipm_common.errors import InvalidInput
from ipm_common.variance import (
    DEFAULT_TARGET_BAND,
    Direction,
    NormalBalance,
    ToleranceBand,
    is_favourable,
    natural_amount,
    variance,
    variance_pct,
)

HIGHER = Direction.HIGHER_IS_BETTER
LOWER = Direction.LOWER_IS_BETTER

# Revenue of 480,000.00 against a budget of 500,000.00, both stored credit-negative in the ledger.
REVENUE_ACTUAL = natural_amount(Decimal("-480000.00"), NormalBalance.CREDIT)
REVENUE_BUDGET = natural_amount(Decimal("-500000.00"), NormalBalance.CREDIT)

# Expense of 1,150,000.00 against a budget of 1,000,000.00, both debit-positive.
EXPENSE_ACTUAL = natural_amount(Decimal("1150000.00"), NormalBalance.DEBIT)
EXPENSE_BUDGET = natural_amount(Decimal("1000000.00"), NormalBalance.DEBIT)


def test_revenue_ledger_amount_negated() -> None:
    assert natural_amount(Decimal(-500), NormalBalance.CREDIT) == Decimal(500)


def test_expense_ledger_amount_kept() -> None:
    assert natural_amount(Decimal("250.00"), NormalBalance.DEBIT) == Decimal("250.00")


def test_natural_amount_accepts_text_balance() -> None:
    assert natural_amount(Decimal(-500), "credit") == Decimal(500)  # type: ignore[arg-type]


def test_credit_zero_is_unsigned() -> None:
    assert not natural_amount(Decimal(0), NormalBalance.CREDIT).is_signed()


def test_natural_amount_rejects_unknown_balance() -> None:
    with pytest.raises(InvalidInput) as caught:
        natural_amount(Decimal(1), "Credit")  # type: ignore[arg-type]

    assert caught.value.field == "normal_balance"


def test_natural_amount_rejects_float() -> None:
    with pytest.raises(InvalidInput) as caught:
        natural_amount(-500.0, NormalBalance.CREDIT)  # type: ignore[arg-type]

    assert caught.value.field == "ledger_amount"


def test_revenue_shortfall_is_negative() -> None:
    # (480,000 - 500,000) × +1
    assert variance(REVENUE_ACTUAL, REVENUE_BUDGET, HIGHER) == Decimal("-20000.00")


def test_revenue_shortfall_is_unfavourable() -> None:
    assert not is_favourable(variance(REVENUE_ACTUAL, REVENUE_BUDGET, HIGHER))


def test_revenue_shortfall_pct() -> None:
    # -20,000 / 500,000
    assert variance_pct(Decimal("-20000.00"), REVENUE_BUDGET) == Decimal("-0.040000")


def test_revenue_shortfall_within_default_band() -> None:
    assert not DEFAULT_TARGET_BAND.breached(Decimal("-20000.00"), REVENUE_BUDGET)


def test_revenue_beat_is_favourable() -> None:
    assert is_favourable(variance(Decimal(30000000), Decimal(25000000), HIGHER))


def test_revenue_beat_breaches_default_band() -> None:
    # +5,000,000 reaches 1,000,000, and 5,000,000 / 25,000,000 = 0.2 reaches 0.05.
    assert DEFAULT_TARGET_BAND.breached(Decimal(5000000), Decimal(25000000))


def test_revenue_beat_ignored_by_unfavourable_band() -> None:
    band = ToleranceBand(Decimal("0.05"), Decimal(1000000), "unfavourable")

    assert not band.breached(Decimal(5000000), Decimal(25000000))


def test_expense_overspend_is_negative() -> None:
    # (1,150,000 - 1,000,000) × -1
    assert variance(EXPENSE_ACTUAL, EXPENSE_BUDGET, LOWER) == Decimal("-150000.00")


def test_expense_overspend_is_unfavourable() -> None:
    assert not is_favourable(variance(EXPENSE_ACTUAL, EXPENSE_BUDGET, LOWER))


def test_expense_overspend_pct() -> None:
    # -150,000 / 1,000,000
    assert variance_pct(Decimal("-150000.00"), EXPENSE_BUDGET) == Decimal("-0.150000")


def test_expense_overspend_breaches_band() -> None:
    # 150,000 reaches 100,000, and 0.15 reaches 0.10.
    band = ToleranceBand(Decimal("0.10"), Decimal(100000), "unfavourable")

    assert band.breached(Decimal("-150000.00"), EXPENSE_BUDGET)


def test_expense_underspend_is_favourable() -> None:
    # (900,000 - 1,000,000) × -1 = +100,000
    assert variance(Decimal("900000.00"), EXPENSE_BUDGET, LOWER) == Decimal("100000.00")


def test_receivables_above_target_is_unfavourable() -> None:
    # Receivables are a debit-normal asset, where lower is better: (2,400,000 - 2,000,000) × -1.
    actual = natural_amount(Decimal(2400000), NormalBalance.DEBIT)
    target = natural_amount(Decimal(2000000), NormalBalance.DEBIT)

    assert variance(actual, target, LOWER) == Decimal(-400000)


def test_receivables_small_miss_within_band() -> None:
    # -400,000 is -20 % of 2,000,000 but stays below the absolute 1,000,000.
    assert not DEFAULT_TARGET_BAND.breached(Decimal(-400000), Decimal(2000000))


def test_receivables_large_miss_breaches_band() -> None:
    # 13,500,000 against 12,000,000 is -1,500,000 and -0.125.
    assert DEFAULT_TARGET_BAND.breached(Decimal(-1500000), Decimal(12000000))


def test_absolute_alone_does_not_breach() -> None:
    # 1,000,000 reaches the absolute limit, but 1,000,000 / 100,000,000 = 0.01 is below 0.05.
    assert not DEFAULT_TARGET_BAND.breached(Decimal(1000000), Decimal(100000000))


def test_band_limits_are_inclusive() -> None:
    # 1,000,000 / 20,000,000 = 0.05 exactly.
    assert DEFAULT_TARGET_BAND.breached(Decimal(1000000), Decimal(20000000))


def test_narrower_loss_is_favourable_pct() -> None:
    # A loss of 900 against a budgeted loss of 1,000: (-900 - -1,000) / |-1,000| = +0.1.
    assert variance_pct(variance(Decimal(-900), Decimal(-1000), HIGHER), Decimal(-1000)) == Decimal("0.100000")


def test_zero_comparator_pct_is_none() -> None:
    assert variance_pct(Decimal(500), Decimal(0)) is None


def test_zero_comparator_breach_uses_absolute() -> None:
    assert ToleranceBand(Decimal("0.05"), Decimal(1000)).breached(Decimal(1500), Decimal(0))


def test_zero_comparator_below_absolute() -> None:
    assert not ToleranceBand(Decimal("0.05"), Decimal(1000)).breached(Decimal(500), Decimal(0))


@pytest.mark.parametrize(
    ("variance_amount", "comparator", "expected"),
    [
        ("1", "3", "0.333333"),
        ("2", "3", "0.666667"),
        ("-2", "3", "-0.666667"),
        ("1", "2000000", "0.000000"),
        ("3", "2000000", "0.000002"),
        ("-3", "2000000", "-0.000002"),
    ],
)
def test_pct_rounds_half_even(variance_amount: str, comparator: str, expected: str) -> None:
    assert variance_pct(Decimal(variance_amount), Decimal(comparator)) == Decimal(expected)


def test_pct_has_six_places() -> None:
    pct = variance_pct(Decimal("-20000.00"), Decimal("500000.00"))

    assert pct is not None
    assert pct.as_tuple().exponent == -6


def test_variance_keeps_all_digits() -> None:
    actual = Decimal("999999999999999999.99999999999999999999")

    assert variance(actual, Decimal("0.01"), HIGHER) == Decimal("999999999999999999.98999999999999999999")


def test_zero_variance_is_not_favourable() -> None:
    assert not is_favourable(Decimal("0.00"))


def test_variance_rejects_unknown_direction() -> None:
    with pytest.raises(InvalidInput) as caught:
        variance(Decimal(1), Decimal(2), "up")  # type: ignore[arg-type]

    assert caught.value.field == "direction"


def test_variance_rejects_float_comparator() -> None:
    with pytest.raises(InvalidInput) as caught:
        variance(Decimal(1), 2.0, HIGHER)  # type: ignore[arg-type]

    assert caught.value.field == "comparator"


def test_default_band_pct() -> None:
    assert DEFAULT_TARGET_BAND.pct == Decimal("0.05")


def test_default_band_absolute() -> None:
    assert DEFAULT_TARGET_BAND.absolute == Decimal(1000000)


def test_default_band_scope() -> None:
    assert DEFAULT_TARGET_BAND.scope == "both"


@pytest.mark.parametrize(
    ("pct", "absolute", "scope", "field"),
    [
        (Decimal("-0.05"), Decimal(1000), "both", "pct"),
        (Decimal("0.05"), Decimal(-1), "both", "absolute"),
        (0.05, Decimal(1000), "both", "pct"),
        (Decimal("0.05"), Decimal("NaN"), "both", "absolute"),
        (Decimal("0.05"), Decimal(1000), "favourable", "scope"),
    ],
)
def test_band_rejects_invalid_setting(pct: object, absolute: object, scope: object, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ToleranceBand(pct, absolute, scope)  # type: ignore[arg-type]

    assert caught.value.field == field
