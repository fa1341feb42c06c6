from decimal import Decimal

import pytest

from ipm_common.errors import InvalidInput, MissingRate
from ipm_common.fx import Rate, RateTable
from ipm_common.periods import PeriodKey

MARCH = "FY2024-P03"

# Budget rates quoted against the base currency USD.
BUDGET_RATES = [
    Rate("EUR", "USD", "budget", MARCH, Decimal("1.10")),
    Rate("GBP", "USD", "budget", MARCH, Decimal("1.25")),
    Rate("USD", "JPY", "budget", MARCH, Decimal(150)),
]

TABLE = RateTable("USD", BUDGET_RATES)


def _missing_rate(table: RateTable, from_currency: str, to_currency: str, period: str = MARCH) -> MissingRate:
    with pytest.raises(MissingRate) as caught:
        table.rate(from_currency, to_currency, "budget", period)
    return caught.value


def _invalid_rate(**changes: object) -> InvalidInput:
    fields: dict[str, object] = {
        "from_currency": "EUR",
        "to_currency": "USD",
        "rate_type": "budget",
        "period": MARCH,
        "rate": Decimal("1.10"),
    }
    fields.update(changes)
    with pytest.raises(InvalidInput) as caught:
        Rate(**fields)  # type: ignore[arg-type]
    return caught.value


def test_same_currency_rate_is_one() -> None:
    assert RateTable("USD", []).rate("CHF", "CHF", "actual", MARCH) == Decimal(1)


def test_direct_quote() -> None:
    assert TABLE.rate("EUR", "USD", "budget", MARCH) == Decimal("1.10")


def test_inverse_of_opposite_quote() -> None:
    # 1 / 1.10 = 0.909090..., rounded to 38 significant digits: the 39th digit is 9, so the 38th rounds up to 1.
    assert TABLE.rate("USD", "EUR", "budget", MARCH) == Decimal("0.90909090909090909090909090909090909091")


def test_cross_rate_through_base() -> None:
    # EUR -> USD is 1.10 and USD -> GBP is 1 / 1.25, so EUR -> GBP is 1.10 / 1.25 = 0.88.
    assert TABLE.rate("EUR", "GBP", "budget", MARCH) == Decimal("0.88")


def test_cross_rate_rounds_once() -> None:
    # GBP -> EUR is 1.25 / 1.10 = 1.136363..., where digit 38 is 6 and digit 39 is 3, so it rounds down.
    assert TABLE.rate("GBP", "EUR", "budget", MARCH) == Decimal("1.1363636363636363636363636363636363636")


def test_cross_rate_multiplies_direct_quotes() -> None:
    # EUR -> USD 1.10 times USD -> JPY 150.
    assert TABLE.rate("EUR", "JPY", "budget", MARCH) == Decimal(165)


def test_period_key_accepted() -> None:
    assert TABLE.rate("EUR", "USD", "budget", PeriodKey(2024, 3)) == Decimal("1.10")


def test_direct_quote_wins_over_inverse() -> None:
    table = RateTable(
        "USD",
        [
            Rate("EUR", "USD", "closing", MARCH, Decimal("1.10")),
            Rate("USD", "EUR", "closing", MARCH, Decimal("0.95")),
        ],
    )

    assert table.rate("USD", "EUR", "closing", MARCH) == Decimal("0.95")


def test_convert_eur_to_gbp() -> None:
    assert TABLE.convert(Decimal("1000000.00"), "EUR", "GBP", "budget", MARCH) == Decimal("880000.00")


def test_convert_does_not_round_to_cents() -> None:
    # 0.01 EUR at 0.88 is 0.0088 GBP, which rounding to cents would turn into 0.01.
    assert TABLE.convert(Decimal("0.01"), "EUR", "GBP", "budget", MARCH) == Decimal("0.0088")


def test_convert_keeps_all_digits() -> None:
    # 123456789012345678.12345678901234567890 + 12345678901234567.812345678901234567890
    amount = Decimal("123456789012345678.12345678901234567890")

    converted = TABLE.convert(amount, "EUR", "USD", "budget", MARCH)

    assert converted == Decimal("135802467913580245.935802467913580246790")


def test_convert_rejects_float_amount() -> None:
    with pytest.raises(InvalidInput) as caught:
        TABLE.convert(1.5, "EUR", "USD", "budget", MARCH)  # type: ignore[arg-type]

    assert caught.value.field == "amount"


def test_missing_rate_type_raises() -> None:
    with pytest.raises(MissingRate):
        TABLE.rate("EUR", "USD", "actual", MARCH)


def test_missing_period_raises() -> None:
    _missing_rate(TABLE, "EUR", "USD", "FY2024-P04")


def test_missing_leg_raises() -> None:
    _missing_rate(TABLE, "EUR", "CHF")


def test_no_cross_rate_outside_base() -> None:
    table = RateTable(
        "USD",
        [
            Rate("EUR", "CHF", "budget", MARCH, Decimal("0.95")),
            Rate("CHF", "GBP", "budget", MARCH, Decimal("0.90")),
        ],
    )

    _missing_rate(table, "EUR", "GBP")


def test_missing_rate_names_pair() -> None:
    assert "EUR/CHF" in str(_missing_rate(TABLE, "EUR", "CHF"))


def test_missing_rate_names_type() -> None:
    assert "budget" in str(_missing_rate(TABLE, "EUR", "CHF"))


def test_missing_rate_names_period() -> None:
    assert MARCH in str(_missing_rate(TABLE, "EUR", "CHF"))


def test_missing_rate_says_load_it() -> None:
    assert "load" in str(_missing_rate(TABLE, "EUR", "CHF"))


def test_missing_rate_is_invalid_input() -> None:
    assert isinstance(_missing_rate(TABLE, "EUR", "CHF"), InvalidInput)


def test_lookup_rejects_bad_currency() -> None:
    with pytest.raises(InvalidInput) as caught:
        TABLE.rate("EUR", "usd", "budget", MARCH)

    assert caught.value.field == "to_currency"


def test_lookup_rejects_bad_period() -> None:
    with pytest.raises(InvalidInput) as caught:
        TABLE.rate("EUR", "USD", "budget", "2024-03")

    assert caught.value.field == "period"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"from_currency": "eur"}, "from_currency"),
        ({"from_currency": "EURO"}, "from_currency"),
        ({"to_currency": "US"}, "to_currency"),
        ({"to_currency": "EUR"}, "to_currency"),
        ({"rate_type": "spot"}, "rate_type"),
        ({"period": "2024-03"}, "period"),
        ({"period": "FY2024-P13"}, "period"),
        ({"period": "FY2024-P03\n"}, "period"),
        ({"rate": Decimal(0)}, "rate"),
        ({"rate": Decimal("-1.10")}, "rate"),
        ({"rate": Decimal("NaN")}, "rate"),
        ({"rate": 1.1}, "rate"),
        ({"rate": "1.10"}, "rate"),
    ],
)
def test_rate_rejects_invalid_field(changes: dict[str, object], field: str) -> None:
    assert _invalid_rate(**changes).field == field


def test_rate_stores_canonical_period() -> None:
    rate = Rate("EUR", "USD", "budget", PeriodKey(2024, 3), Decimal("1.10"))  # type: ignore[arg-type]

    assert rate.period == MARCH


def test_table_rejects_conflicting_rates() -> None:
    with pytest.raises(InvalidInput) as caught:
        RateTable("USD", [*BUDGET_RATES, Rate("EUR", "USD", "budget", MARCH, Decimal("1.11"))])

    assert caught.value.field == "rates"


def test_table_accepts_repeated_rate() -> None:
    table = RateTable("USD", [*BUDGET_RATES, Rate("EUR", "USD", "budget", MARCH, Decimal("1.100"))])

    assert table.rate("EUR", "USD", "budget", MARCH) == Decimal("1.10")


def test_table_rejects_bad_base_currency() -> None:
    with pytest.raises(InvalidInput) as caught:
        RateTable("usd", BUDGET_RATES)

    assert caught.value.field == "base_currency"
