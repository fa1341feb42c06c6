from dataclasses import replace

import pytest

from ipm_common.errors import Conflict, InvalidInput
from ipm_strategy.domain.accounts import check_account_change, define_account
from ipm_strategy.domain.currencies import ACTIVE_CURRENCY_CODES
from ipm_strategy.domain.entities import check_entity_change, register_entity


@pytest.mark.parametrize(("account_type", "statement", "normal_balance", "direction"), [
    ("revenue", "income_statement", "credit", "higher_is_better"),
    ("expense", "income_statement", "debit", "lower_is_better"),
    ("equity", "balance_sheet", "credit", "higher_is_better"),
])
def test_defaults_follow_account_type(account_type: str, statement: str, normal_balance: str,
                                     direction: str) -> None:
    account = define_account("4000", "Wage tax", account_type)  # type: ignore[arg-type]

    assert account.statement == statement
    assert account.normal_balance == normal_balance
    assert account.direction == direction
    assert account.non_negative is False


@pytest.mark.parametrize(("account_type", "statement", "normal_balance"), [
    ("asset", "balance_sheet", "debit"),
    ("liability", "balance_sheet", "credit"),
    ("statistical", "statistical", "debit"),
])
def test_explicit_direction_keeps_other_defaults(account_type: str, statement: str, normal_balance: str) -> None:
    account = define_account("1200", "Receivables", account_type, direction="lower_is_better")  # type: ignore[arg-type]

    assert account.statement == statement
    assert account.normal_balance == normal_balance
    assert account.direction == "lower_is_better"


@pytest.mark.parametrize("account_type", ["asset", "liability", "statistical"])
def test_direction_required_without_default(account_type: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        define_account("1200", "Receivables", account_type)  # type: ignore[arg-type]

    assert raised.value.field == "direction"
    assert "higher_is_better" in str(raised.value)


def test_explicit_values_override_defaults() -> None:
    account = define_account("4900", "Refunds", "revenue", statement="cash_flow", normal_balance="debit",
                             direction="lower_is_better", non_negative=True)

    assert account.statement == "cash_flow"
    assert account.normal_balance == "debit"
    assert account.direction == "lower_is_better"
    assert account.non_negative is True


@pytest.mark.parametrize(("account_type", "statement"), [("revenue", "statistical"), ("statistical", "balance_sheet")])
def test_statistical_statement_only_for_statistical(account_type: str, statement: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        define_account("9000", "Headcount", account_type, statement=statement,  # type: ignore[arg-type]
                       direction="higher_is_better")

    assert raised.value.field == "statement"


def test_entity_keeps_calendar_settings() -> None:
    entity = register_entity("PHL", "City of Philadelphia", "USD", {"start_month": 7, "year_named_by": "end"})

    assert entity.calendar.to_dict() == {"start_month": 7, "start_day": 1, "year_named_by": "end",
                                         "week_year_end": "last", "year_end_weekday": 5}
    assert str(entity.calendar.parse_period("2023-07")) == "FY2024-P01"


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", "U5D", "ZZZ", "HRK", "ANG"])
def test_entity_currency_must_be_iso_code(currency: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        register_entity("PHL", "City of Philadelphia", currency, {})

    assert raised.value.field == "currency"


def test_entity_calendar_error_names_setting() -> None:
    with pytest.raises(InvalidInput) as raised:
        register_entity("PHL", "City of Philadelphia", "USD", {"start_month": 13})

    assert raised.value.field == "calendar.start_month"
    assert str(raised.value).startswith("calendar.start_month: 13 is outside 1-12")


def test_unknown_currency_message_names_code() -> None:
    with pytest.raises(InvalidInput) as raised:
        register_entity("ACME", "Acme Ltd", "ZZZ", {})

    assert str(raised.value).startswith("currency: 'ZZZ' is not an active ISO 4217 currency code")


def test_lower_case_currency_hints_upper_case() -> None:
    with pytest.raises(InvalidInput) as raised:
        register_entity("ACME", "Acme Ltd", "eur", {})

    assert "write the code in upper case: 'EUR'" in str(raised.value)


@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY", "XCG", "ZWG", "SLE", "VED", "CHF", "XAU"])
def test_active_currency_codes_accepted(currency: str) -> None:
    assert register_entity("ACME", "Acme Ltd", currency, {}).currency == currency


def test_currency_codes_are_three_letters() -> None:
    assert all(len(code) == 3 and code.isascii() and code.isupper() for code in ACTIVE_CURRENCY_CODES)


def test_entity_rename_is_allowed() -> None:
    stored = register_entity("ACME", "Acme Ltd", "USD", {"start_month": 7})

    check_entity_change(stored, register_entity("ACME", "Acme Group Ltd", "USD", {"start_month": 7}))


def test_entity_currency_change_conflicts() -> None:
    stored = register_entity("ACME", "Acme Ltd", "USD", {})

    with pytest.raises(Conflict) as raised:
        check_entity_change(stored, register_entity("ACME", "Acme Ltd", "EUR", {}))

    assert raised.value.reason == "immutable_field"
    assert str(raised.value).startswith("currency: entity 'ACME' is registered with 'USD'")
    assert "register a new entity such as 'ACME-2' with 'EUR'" in str(raised.value)


def test_entity_calendar_change_names_setting() -> None:
    stored = register_entity("ACME", "Acme Ltd", "USD", {"start_month": 1})

    with pytest.raises(Conflict) as raised:
        check_entity_change(stored, register_entity("ACME", "Acme Ltd", "USD", {"start_month": 7}))

    assert raised.value.reason == "immutable_field"
    assert str(raised.value).startswith("calendar.start_month: entity 'ACME' is registered with 1")


def test_week_calendar_switch_conflicts() -> None:
    stored = register_entity("ACME", "Acme Ltd", "USD", {})
    weeks = register_entity("ACME", "Acme Ltd", "USD", {"week_pattern": "4-4-5"})

    with pytest.raises(Conflict) as raised:
        check_entity_change(stored, weeks)

    assert str(raised.value).startswith("calendar.week_pattern:")


def test_account_rename_and_direction_allowed() -> None:
    stored = define_account("1200", "Receivables", "asset", direction="lower_is_better")
    changed = define_account("1200", "Trade receivables", "asset", direction="higher_is_better", non_negative=True)

    check_account_change(stored, changed)


@pytest.mark.parametrize(("field", "value"), [
    ("account_type", "expense"),
    ("statement", "cash_flow"),
    ("normal_balance", "debit"),
])
def test_account_fixed_field_change_conflicts(field: str, value: str) -> None:
    stored = define_account("4100", "Wage tax", "revenue")

    with pytest.raises(Conflict) as raised:
        check_account_change(stored, replace(stored, **{field: value}), prefix="[3].")

    assert raised.value.reason == "immutable_field"
    assert str(raised.value).startswith(f"[3].{field}: account '4100' is defined with {field}")
