import json
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from ipm_common.errors import InvalidInput
from ipm_common.money import MAX_DECIMAL_PLACES, MAX_INTEGER_DIGITS, Money, parse_amount, to_cents


class Posting(BaseModel):
    amount: Money


def _rejected(value: object, field: str = "amount") -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_amount(value, field=field)
    return caught.value


def test_decimal_strings_add_exactly() -> None:
    total = parse_amount("0.1") + parse_amount("0.2")

    assert total == Decimal("0.3")


def test_parse_keeps_trailing_zeros() -> None:
    assert str(parse_amount("1234.50")) == "1234.50"


def test_parse_accepts_integer_and_decimal() -> None:
    assert parse_amount(-42) == Decimal(-42)
    assert parse_amount(Decimal("7.25")) == Decimal("7.25")


def test_parse_keeps_plain_decimal_text() -> None:
    assert parse_amount("-12.50") == Decimal("-12.50")


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan")])
def test_parse_rejects_floats(value: float) -> None:
    error = _rejected(value, field="lines[0].amount")

    assert error.field == "lines[0].amount"
    assert "binary float" in str(error)


@pytest.mark.parametrize("value", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf"])
def test_parse_rejects_nan_and_infinity(value: str) -> None:
    error = _rejected(value, field="annual")

    assert error.field == "annual"
    assert "not a finite amount" in str(error)


@pytest.mark.parametrize("value", ["abc", "", "1.2.3", "12,50", "0x10"])
def test_parse_rejects_non_numeric_text(value: str) -> None:
    error = _rejected(value, field="ledger_amount")

    assert error.field == "ledger_amount"
    assert "not a decimal number" in str(error)


@pytest.mark.parametrize("value", [True, False])
def test_parse_rejects_booleans(value: bool) -> None:
    error = _rejected(value, field="amount")

    assert error.field == "amount"


@pytest.mark.parametrize("value", [None, [1], {"amount": "1"}])
def test_parse_rejects_other_types(value: object) -> None:
    error = _rejected(value, field="budget")

    assert error.field == "budget"
    assert "expected a decimal string" in str(error)


def test_parse_rejects_too_many_integer_digits() -> None:
    error = _rejected("1" * (MAX_INTEGER_DIGITS + 1))

    assert "out of range" in str(error)


def test_parse_rejects_too_many_decimal_places() -> None:
    error = _rejected("0." + "1" * (MAX_DECIMAL_PLACES + 1))

    assert "out of range" in str(error)


def test_parse_accepts_largest_amount() -> None:
    text = "9" * MAX_INTEGER_DIGITS + "." + "9" * MAX_DECIMAL_PLACES

    assert parse_amount(text) == Decimal(text)


@pytest.mark.parametrize("value", ["1E+18", "1E+1000000000", "1E-21", "1E-1000000000"])
def test_parse_rejects_huge_exponents(value: str) -> None:
    # Writing these out in fixed-point notation would take up to gigabytes.
    error = _rejected(Decimal(value))

    assert "out of range" in str(error)


@pytest.mark.parametrize("value", ["1E+17", "1E-20", "0E+5"])
def test_parse_accepts_exponents_within_range(value: str) -> None:
    assert parse_amount(Decimal(value)) == Decimal(value)


LOOSE_TEXT = ["1E+3", "1_000", " 12.5", "12.5 ", "\u0661\u0662\u0663", "\uff11\uff12", "+", ".5", "5."]


@pytest.mark.parametrize("value", LOOSE_TEXT)
def test_parse_rejects_loose_text(value: str) -> None:
    error = _rejected(value)

    assert "not a decimal number" in str(error)


def test_parse_rejects_boolean_by_name() -> None:
    error = _rejected(True)

    assert "boolean" in str(error)


def test_sum_keeps_all_digits() -> None:
    large = parse_amount("123456789012345678.01")

    assert large + parse_amount("0.00000000000000000001") == Decimal("123456789012345678.01000000000000000001")


def test_money_field_serialises_to_json_string() -> None:
    posting = Posting(amount=Decimal("123456789012345678.10"))

    document = json.loads(posting.model_dump_json())

    assert document == {"amount": "123456789012345678.10"}


def test_money_field_serialises_without_exponent() -> None:
    posting = Posting(amount=Decimal("1E+3"))

    assert posting.model_dump(mode="json") == {"amount": "1000"}


def test_money_field_stays_decimal_in_python_dump() -> None:
    posting = Posting(amount=Decimal("0.10"))

    assert posting.model_dump() == {"amount": Decimal("0.10")}


def test_money_field_rejects_float() -> None:
    with pytest.raises(ValidationError) as caught:
        Posting(amount=0.1)  # type: ignore[arg-type]

    error = caught.value.errors()[0]
    assert error["loc"] == ("amount",)
    assert "binary float" in error["msg"]


def test_to_cents_rounds_half_even() -> None:
    assert to_cents(Decimal("0.125")) == Decimal("0.12")
    assert to_cents(Decimal("0.135")) == Decimal("0.14")
