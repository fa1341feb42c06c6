"""Versioned period balances from ERPs that send balances instead of postings.

Each balance of a series and period carries the ERP's version, and the newest version wins: a
replay of the held version changes nothing, and an older version that arrives late is stale and
ignored. A year-to-date balance's period flow is its difference to the cumulative flow of the
earlier periods of the same fiscal year. So a revised year-to-date figure changes the flow of
its own period and of the next period that has a balance. The ledger receives each change of a
period's flow as one adjustment, so the ledger's period figures always equal the flows of the
newest versions.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ipm_common.errors import IPMError
from ipm_common.periods import PeriodKey
from ipm_common.reference import Account, Entity
from ipm_common.variance import NormalBalance, natural_amount

BASES = ("period", "ytd")

SeriesLine = tuple[str, str]  # account id, cost centre


@dataclass(frozen=True)
class BalanceLine:
    """One period balance as the ERP sent it."""

    account_id: str
    cost_centre: str
    period: str
    basis: str  # "period" or "ytd"
    amount: Decimal  # debit-positive ledger amount in the entity's functional currency
    version: int
    currency: str | None = None


@dataclass(frozen=True)
class HeldBalance:
    """The balance version that currently counts for one series and period."""

    basis: str
    amount: Decimal
    version: int


@dataclass
class BalanceContext:
    """Ledger state that a batch of one entity's balances is checked against."""

    entity: Entity
    accounts: Mapping[str, Account]
    closed_periods: set[PeriodKey]
    held: Mapping[SeriesLine, Mapping[PeriodKey, HeldBalance]]
    posting_series: set[SeriesLine]  # series that ERP postings feed
    latest_period: PeriodKey | None


@dataclass(frozen=True)
class BalanceError:
    index: int
    field: str
    message: str
    type: str = "invalid"

    def as_detail(self) -> dict[str, str]:
        return {"field": f"lines[{self.index}].{self.field}", "message": self.message, "type": self.type}


@dataclass(frozen=True)
class AcceptedBalance:
    index: int
    series: SeriesLine
    period: PeriodKey
    balance: HeldBalance


@dataclass(frozen=True)
class StaleBalance:
    index: int
    series: SeriesLine
    period: PeriodKey
    version: int
    held_version: int


@dataclass(frozen=True)
class FlowChange:
    """A change of one period's flow: the ledger adjustment it needs, debit-positive and in natural sign."""

    series: SeriesLine
    period: PeriodKey
    ledger_amount: Decimal
    amount: Decimal
    late: bool


@dataclass
class BalancePlan:
    accepted: list[AcceptedBalance] = field(default_factory=list)
    replayed: list[int] = field(default_factory=list)
    stale: list[StaleBalance] = field(default_factory=list)
    errors: list[BalanceError] = field(default_factory=list)
    changes: list[FlowChange] = field(default_factory=list)


def year_flows(balances: Mapping[PeriodKey, HeldBalance], fiscal_year: int) -> dict[PeriodKey, Decimal]:
    """Turn one series' balances of a fiscal year into period flows, in period order.

    Worked example: year-to-date balances P01 100, P02 250, P04 300 give flows 100, 150 and 50
    (P03 has no balance, so P04 follows P02).
    """
    cumulative = Decimal(0)
    flows: dict[PeriodKey, Decimal] = {}
    for period in sorted(key for key in balances if key.fiscal_year == fiscal_year):
        held = balances[period]
        flow = held.amount if held.basis == "period" else held.amount - cumulative
        flows[period] = flow
        cumulative += flow
    return flows


def plan_balances(lines: Sequence[BalanceLine], context: BalanceContext) -> BalancePlan:
    """Check every line against the held versions and each other; collect every error and flow change."""
    plan = BalancePlan()
    state = {series: dict(periods) for series, periods in context.held.items()}

    for index, line in enumerate(lines):
        period = _check_line(index, line, context, plan)
        if period is None:
            continue
        _apply_line(index, line, period, state, context, plan)

    if not plan.errors:
        plan.changes = _flow_changes(context, state, plan.accepted)
    return plan


def _check_line(index: int, line: BalanceLine, context: BalanceContext, plan: BalancePlan) -> PeriodKey | None:
    entity = context.entity
    if line.account_id not in context.accounts:
        plan.errors.append(BalanceError(index, "account_id", f"account {line.account_id!r} is not defined; define it "
                                        "in the strategy service first", "unknown_account"))
        return None
    if line.currency is not None and line.currency != entity.currency:
        plan.errors.append(BalanceError(index, "currency", f"{line.currency} is not the functional currency "
                                        f"{entity.currency} of {entity.entity_id}; send period balances in "
                                        f"{entity.currency}", "currency_mismatch"))
        return None
    if (line.account_id, line.cost_centre) in context.posting_series:
        plan.errors.append(BalanceError(index, "account_id", f"series {entity.entity_id}/{line.account_id}"
                                        f"{_cost_centre_text(line.cost_centre)} is fed by ERP postings; feed a series "
                                        "with postings or with period balances, never both", "mixed_feed"))
        return None
    try:
        return entity.calendar.parse_period(line.period)
    except IPMError as error:
        plan.errors.append(BalanceError(index, "period", str(error).removeprefix("period: "), "invalid_period"))
        return None


def _apply_line(index: int, line: BalanceLine, period: PeriodKey, state: dict[SeriesLine, dict[PeriodKey, HeldBalance]],
                context: BalanceContext, plan: BalancePlan) -> None:
    series = (line.account_id, line.cost_centre)
    periods = state.setdefault(series, {})
    new = HeldBalance(line.basis, line.amount, line.version)
    held = periods.get(period)
    if held is not None and new.version < held.version:
        plan.stale.append(StaleBalance(index, series, period, new.version, held.version))
        return
    if held is not None and new.version == held.version:
        if new == held:
            plan.replayed.append(index)
        else:
            plan.errors.append(BalanceError(index, "version", f"version {new.version} of {period} is already held "
                                            "with other content; send a revised balance with a higher version",
                                            "version_reused"))
        return

    before = year_flows(periods, period.fiscal_year)
    after = year_flows({**periods, period: new}, period.fiscal_year)
    closed = sorted(key for key, flow in after.items() if flow != before.get(key) and key in context.closed_periods)
    if closed:
        plan.errors.append(BalanceError(index, "period", _closed_message(period, closed[0]), "period_closed"))
        return

    periods[period] = new
    plan.accepted.append(AcceptedBalance(index, series, period, new))


def _closed_message(period: PeriodKey, closed: PeriodKey) -> str:
    if closed == period:
        return f"period {period} is closed; reopen it before sending its balance"
    return (f"the year-to-date balance of {period} changes the flow of the closed period {closed}; reopen {closed} "
            "before revising it")


def _flow_changes(context: BalanceContext, state: Mapping[SeriesLine, Mapping[PeriodKey, HeldBalance]],
                  accepted: Sequence[AcceptedBalance]) -> list[FlowChange]:
    """Compare the flows of the held and the new versions for every series and year that a line touched."""
    touched = sorted({(item.series, item.period.fiscal_year) for item in accepted})
    changes: list[FlowChange] = []
    for series, fiscal_year in touched:
        before = year_flows(context.held.get(series, {}), fiscal_year)
        after = year_flows(state[series], fiscal_year)
        normal = NormalBalance(context.accounts[series[0]].normal_balance)
        for period in sorted(after):
            delta = after[period] - before.get(period, Decimal(0))
            if delta != 0:
                late = context.latest_period is not None and period < context.latest_period
                changes.append(FlowChange(series, period, delta, natural_amount(delta, normal), late))
    return changes


def _cost_centre_text(cost_centre: str) -> str:
    return f" cost centre {cost_centre}" if cost_centre else ""
