"""The benefits portfolio: expected, validated and realised benefits per project and per strategic target.

Every amount here is in the favourable sign (a saving on a cost line is positive), so benefits
on revenue and cost lines add up. Amounts of different currencies are never added together.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ipm_common.money import ZERO
from ipm_common.periods import PeriodKey
from ipm_projects.domain.projects import LinkedTarget


@dataclass(frozen=True)
class LineFigures:
    """One project's benefits on one entity and account, in the favourable sign."""

    project_id: str
    entity_id: str
    account_id: str
    currency: str
    validated: bool
    planned: Mapping[PeriodKey, Decimal]
    realised: Mapping[PeriodKey, Decimal]


@dataclass
class Amounts:
    """Sums of one currency. ``gap`` = realised − planned over the periods already measured."""

    currency: str
    expected: Decimal = ZERO
    validated: Decimal = ZERO
    planned_measured: Decimal = ZERO
    realised: Decimal = ZERO

    @property
    def gap(self) -> Decimal:
        return self.realised - self.planned_measured

    def add(self, line: LineFigures, periods: Callable[[PeriodKey], bool]) -> None:
        planned = {period: amount for period, amount in line.planned.items() if periods(period)}
        realised = {period: amount for period, amount in line.realised.items() if periods(period)}
        self.expected += sum(planned.values(), ZERO)
        if line.validated:
            self.validated += sum(planned.values(), ZERO)
        self.planned_measured += sum((planned.get(period, ZERO) for period in realised), ZERO)
        self.realised += sum(realised.values(), ZERO)


@dataclass
class AmountsByCurrency:
    by_currency: dict[str, Amounts] = field(default_factory=dict)

    def add(self, line: LineFigures, periods: Callable[[PeriodKey], bool] = lambda _: True) -> None:
        self.by_currency.setdefault(line.currency, Amounts(line.currency)).add(line, periods)

    def sorted(self) -> list[Amounts]:
        return [self.by_currency[currency] for currency in sorted(self.by_currency)]


def per_project(lines: Iterable[LineFigures]) -> dict[str, AmountsByCurrency]:
    projects: dict[str, AmountsByCurrency] = {}
    for line in lines:
        projects.setdefault(line.project_id, AmountsByCurrency()).add(line)
    return projects


def per_target(lines: Iterable[LineFigures], links: Mapping[str, Iterable[LinkedTarget]],
               counts_toward: Callable[[str, str], bool]) -> dict[LinkedTarget, AmountsByCurrency]:
    """Sum, per strategic target, the benefits of the projects linked to it.

    A benefit counts toward a target of the same entity when it falls in the target's fiscal year
    and ``counts_toward(account_id, target line)`` returns True: the account is the line or lies under it.
    """
    targets: dict[LinkedTarget, AmountsByCurrency] = {}
    for line in lines:
        for target in links.get(line.project_id, ()):
            amounts = targets.setdefault(target, AmountsByCurrency())
            if target.entity_id != line.entity_id or not counts_toward(line.account_id, target.line):
                continue
            amounts.add(line, _in_fiscal_year(target.fiscal_year))
    return targets


def _in_fiscal_year(fiscal_year: int) -> Callable[[PeriodKey], bool]:
    def within(period: PeriodKey) -> bool:
        return period.fiscal_year == fiscal_year

    return within


def totals(lines: Iterable[LineFigures]) -> AmountsByCurrency:
    result = AmountsByCurrency()
    for line in lines:
        result.add(line)
    return result
