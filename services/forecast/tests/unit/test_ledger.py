"""Rules of the actuals ledger, checked on worked postings."""

from datetime import date
from decimal import Decimal

from ipm_common.calendar import FiscalCalendar
from ipm_common.fx import Rate, RateTable
from ipm_common.periods import PeriodKey
from ipm_common.reference import Account, Entity
from ipm_forecast.domain.ledger import LedgerContext, PostingRequest, StoredPosting, plan_batch

CITY = Entity("CITY", "City", "USD", FiscalCalendar(start_month=7, year_named_by="end"))
REVENUE = Account("tax", "Tax", "revenue", "income_statement", "credit", "higher_is_better", True)
EXPENSE = Account("wages", "Wages", "expense", "income_statement", "debit", "lower_is_better", False)


def context(**overrides: object) -> LedgerContext:
    values: dict[str, object] = {
        "entities": {"CITY": CITY}, "accounts": {"tax": REVENUE, "wages": EXPENSE}, "closed_periods": set(),
        "stored": {}, "latest_period": {}, "rates": RateTable("USD", []),
    }
    values.update(overrides)
    return LedgerContext(**values)  # type: ignore[arg-type]


def line(source_id: str, amount: str, *, account: str = "tax", day: date = date(2022, 7, 31),
         currency: str = "USD", reverses: str | None = None) -> PostingRequest:
    return PostingRequest(source_id, "CITY", account, "", day, Decimal(amount), currency, reverses)


def stored(request: PostingRequest, reversed_by: str | None = None) -> StoredPosting:
    return StoredPosting(request.source_id, request.entity_id, request.account_id, request.cost_centre,
                         request.posting_date, request.amount, request.currency, request.reverses, reversed_by)


def test_revenue_credit_becomes_positive() -> None:
    plan = plan_batch([line("a", "-1250.10")], context())

    assert plan.accepted[0].amount == Decimal("1250.10")
    assert plan.accepted[0].period == PeriodKey(2023, 1)


def test_expense_debit_stays_positive() -> None:
    plan = plan_batch([line("a", "300.00", account="wages")], context())

    assert plan.accepted[0].amount == Decimal("300.00")


def test_replayed_posting_is_skipped() -> None:
    original = line("a", "-10.00")

    plan = plan_batch([original], context(stored={"a": stored(original)}))

    assert plan.accepted == []
    assert plan.replayed == ["a"]
    assert plan.errors == []


def test_identical_content_distinct_ids_both_kept() -> None:
    plan = plan_batch([line("a", "-10.00"), line("b", "-10.00")], context())

    assert [posting.request.source_id for posting in plan.accepted] == ["a", "b"]


def test_reused_source_id_is_rejected() -> None:
    original = line("a", "-10.00")

    plan = plan_batch([line("a", "-11.00")], context(stored={"a": stored(original)}))

    assert plan.errors[0].field == "source_id"
    assert plan.errors[0].type == "source_id_reused"


def test_reversal_nets_original_to_zero() -> None:
    original = line("a", "-10.00")

    plan = plan_batch([line("r", "10.00", reverses="a")], context(stored={"a": stored(original)}))

    assert plan.errors == []
    assert plan.accepted[0].amount + Decimal("10.00") == Decimal(0)


def test_second_reversal_is_rejected() -> None:
    original = line("a", "-10.00")

    plan = plan_batch([line("r2", "10.00", reverses="a")],
                      context(stored={"a": stored(original, reversed_by="r1")}))

    assert plan.errors[0].type == "already_reversed"


def test_reversal_with_wrong_amount_rejected() -> None:
    original = line("a", "-10.00")

    plan = plan_batch([line("r", "9.99", reverses="a")], context(stored={"a": stored(original)}))

    assert plan.errors[0].field == "amount"
    assert plan.errors[0].type == "reversal_mismatch"


def test_reversal_in_same_batch_accepted() -> None:
    plan = plan_batch([line("a", "-10.00"), line("r", "10.00", reverses="a")], context())

    assert len(plan.accepted) == 2
    assert sum(posting.amount for posting in plan.accepted) == Decimal(0)


def test_closed_period_is_rejected() -> None:
    plan = plan_batch([line("a", "-10.00")], context(closed_periods={("CITY", PeriodKey(2023, 1))}))

    assert plan.errors[0].type == "period_closed"
    assert plan.errors[0].field == "posting_date"


def test_posting_before_latest_period_is_late() -> None:
    plan = plan_batch([line("a", "-10.00")], context(latest_period={"CITY": PeriodKey(2023, 3)}))

    assert plan.accepted[0].late is True


def test_posting_in_latest_period_is_not_late() -> None:
    plan = plan_batch([line("a", "-10.00")], context(latest_period={"CITY": PeriodKey(2023, 1)}))

    assert plan.accepted[0].late is False


def test_missing_rate_is_an_error_not_one() -> None:
    plan = plan_batch([line("a", "-10.00", currency="EUR")], context())

    assert plan.accepted == []
    assert plan.errors[0].field == "currency"
    assert plan.errors[0].type == "missing_rate"


def test_foreign_currency_converted_with_actual_rate() -> None:
    rates = RateTable("USD", [Rate("EUR", "USD", "actual", "FY2023-P01", Decimal("1.0500"))])

    plan = plan_batch([line("a", "-100.00", currency="EUR")], context(rates=rates))

    assert plan.accepted[0].amount == Decimal("105.000000")


def test_unknown_account_names_field() -> None:
    plan = plan_batch([line("a", "-1.00", account="nope")], context())

    assert plan.errors[0].as_detail()["field"] == "postings[0].account_id"


def test_every_invalid_line_is_listed() -> None:
    plan = plan_batch([line("a", "-1.00", account="nope"), line("b", "-1.00"), line("c", "1", currency="EUR")],
                      context())

    assert [error.index for error in plan.errors] == [0, 2]


def test_date_outside_calendar_is_line_error() -> None:
    plan = plan_batch([line("a", "-1.00"), line("b", "-1.00", day=date(1, 1, 1))], context())

    assert plan.errors[0].as_detail()["field"] == "postings[1].posting_date"
    assert plan.errors[0].type == "invalid_date"


def test_posting_into_balance_series_rejected() -> None:
    plan = plan_batch([line("a", "-5")], context(balance_series={("CITY", "tax", "")}))

    assert plan.accepted == []
    assert [error.type for error in plan.errors] == ["mixed_feed"]
