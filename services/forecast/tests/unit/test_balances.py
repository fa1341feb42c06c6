"""Versioned period balances: year-to-date flows, revisions, replays, stale versions and closed periods."""

from decimal import Decimal

from ipm_common.calendar import FiscalCalendar
from ipm_common.periods import PeriodKey
from ipm_common.reference import Account, Entity
from ipm_forecast.domain.balances import (
    BalanceContext,
    BalanceLine,
    HeldBalance,
    plan_balances,
    year_flows,
)

P = [PeriodKey(2024, number) for number in range(1, 13)]
ACME = Entity("ACME", "Acme", "USD", FiscalCalendar())
ACCOUNTS = {
    "sales": Account("sales", "Sales", "revenue", "income_statement", "credit", "higher_is_better", False),
    "rent": Account("rent", "Rent", "expense", "income_statement", "debit", "lower_is_better", False),
}


def ytd(period: int, amount: str, version: int = 1, account: str = "rent") -> BalanceLine:
    return BalanceLine(account, "", f"FY2024-P{period:02d}", "ytd", Decimal(amount), version)


def context(held: dict[PeriodKey, HeldBalance] | None = None, closed: set[PeriodKey] | None = None,
            latest: PeriodKey | None = None, posting_series: set[tuple[str, str]] | None = None) -> BalanceContext:
    return BalanceContext(ACME, ACCOUNTS, closed or set(), {("rent", ""): held or {}}, posting_series or set(), latest)


def changes_of(plan: object) -> dict[str, str]:
    return {str(change.period): str(change.ledger_amount) for change in plan.changes}  # type: ignore[attr-defined]


def test_ytd_flows_are_differences() -> None:
    held = {P[0]: HeldBalance("ytd", Decimal("100"), 1), P[1]: HeldBalance("ytd", Decimal("250"), 1),
            P[3]: HeldBalance("ytd", Decimal("300"), 1)}

    # P03 has no balance, so P04's flow is measured from P02: 300 - 250 = 50.
    assert year_flows(held, 2024) == {P[0]: Decimal("100"), P[1]: Decimal("150"), P[3]: Decimal("50")}


def test_period_and_ytd_bases_mix() -> None:
    held = {P[0]: HeldBalance("period", Decimal("40"), 1), P[1]: HeldBalance("ytd", Decimal("100"), 1)}

    assert year_flows(held, 2024) == {P[0]: Decimal("40"), P[1]: Decimal("60")}


def test_ytd_restarts_each_fiscal_year() -> None:
    held = {PeriodKey(2023, 12): HeldBalance("ytd", Decimal("900"), 1), P[0]: HeldBalance("ytd", Decimal("80"), 1)}

    assert year_flows(held, 2024) == {P[0]: Decimal("80")}


def test_first_ytd_batch_gives_flows() -> None:
    plan = plan_balances([ytd(1, "100"), ytd(2, "250"), ytd(3, "300")], context())

    assert plan.errors == []
    assert changes_of(plan) == {"FY2024-P01": "100", "FY2024-P02": "150", "FY2024-P03": "50"}


def test_revised_ytd_changes_two_periods() -> None:
    # Held: YTD 100, 250, 300 (flows 100, 150, 50). Version 2 of P02 reports 270: flows become 100,
    # 170, 30, so P02 gains 20 and P03 loses 20.
    held = {P[0]: HeldBalance("ytd", Decimal("100"), 1), P[1]: HeldBalance("ytd", Decimal("250"), 1),
            P[2]: HeldBalance("ytd", Decimal("300"), 1)}

    plan = plan_balances([ytd(2, "270", version=2)], context(held))

    assert changes_of(plan) == {"FY2024-P02": "20", "FY2024-P03": "-20"}
    assert [item.balance.version for item in plan.accepted] == [2]


def test_stale_version_ignored() -> None:
    held = {P[1]: HeldBalance("ytd", Decimal("270"), 2)}

    plan = plan_balances([ytd(2, "250", version=1)], context(held))

    assert plan.accepted == []
    assert plan.changes == []
    assert [(item.version, item.held_version) for item in plan.stale] == [(1, 2)]


def test_replayed_version_changes_nothing() -> None:
    held = {P[1]: HeldBalance("ytd", Decimal("270"), 2)}

    plan = plan_balances([ytd(2, "270.00", version=2)], context(held))

    assert plan.replayed == [0]
    assert plan.changes == []


def test_reused_version_rejected() -> None:
    held = {P[1]: HeldBalance("ytd", Decimal("270"), 2)}

    plan = plan_balances([ytd(2, "999", version=2)], context(held))

    assert [error.as_detail()["field"] for error in plan.errors] == ["lines[0].version"]
    assert plan.changes == []


def test_late_stale_line_in_same_batch_ignored() -> None:
    # Version 3 arrives before version 2 within one batch: 3 wins, 2 is stale.
    plan = plan_balances([ytd(1, "130", version=3), ytd(1, "120", version=2)], context())

    assert changes_of(plan) == {"FY2024-P01": "130"}
    assert [item.index for item in plan.stale] == [1]


def test_credit_account_flow_negated() -> None:
    # Sales YTD -500 (credit) then -800: flows -500 and -300 debit-positive, 500 and 300 natural.
    plan = plan_balances([ytd(1, "-500", account="sales"), ytd(2, "-800", account="sales")], context())

    assert [str(change.amount) for change in plan.changes] == ["500", "300"]


def test_closed_period_rejects_its_balance() -> None:
    plan = plan_balances([ytd(1, "100")], context(closed={P[0]}))

    assert [error.type for error in plan.errors] == ["period_closed"]


def test_revision_into_closed_next_period_rejected() -> None:
    # Revising open P02 would change the flow of closed P03.
    held = {P[1]: HeldBalance("ytd", Decimal("250"), 1), P[2]: HeldBalance("ytd", Decimal("300"), 1)}

    plan = plan_balances([ytd(2, "260", version=2)], context(held, closed={P[2]}))

    assert [error.type for error in plan.errors] == ["period_closed"]
    assert "closed period FY2024-P03" in plan.errors[0].message


def test_invalid_lines_all_listed() -> None:
    lines = [ytd(1, "1", account="unknown"), BalanceLine("rent", "", "FY2024-P13", "ytd", Decimal(1), 1),
             BalanceLine("rent", "", "FY2024-P02", "ytd", Decimal(1), 1, currency="EUR")]

    plan = plan_balances(lines, context())

    assert [error.as_detail()["field"] for error in plan.errors] == [
        "lines[0].account_id", "lines[1].period", "lines[2].currency"]
    assert plan.changes == []


def test_series_fed_by_postings_rejected() -> None:
    plan = plan_balances([ytd(1, "100")], context(posting_series={("rent", "")}))

    assert [error.type for error in plan.errors] == ["mixed_feed"]


def test_change_before_latest_period_is_late() -> None:
    plan = plan_balances([ytd(1, "100"), ytd(3, "150")], context(latest=P[2]))

    assert [(str(change.period), change.late) for change in plan.changes] == [("FY2024-P01", True),
                                                                              ("FY2024-P03", False)]
