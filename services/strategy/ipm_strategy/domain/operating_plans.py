"""Operating plan vintages: three-statement plans entered line by line or projected from drivers.

A vintage is ``proposed`` while it is edited. Adopting it freezes it as ``adopted``, or as
``revised`` when it revises an earlier vintage. A change to a frozen plan is made on a new
vintage that copies it (``revise``). A ``history`` vintage contains reported statements and is
never edited or adopted, but it may be the base of a revision.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Literal

from ipm_common.errors import Conflict, InvalidInput
from ipm_common.money import MAX_DECIMAL_PLACES, MAX_INTEGER_DIGITS, parse_amount
from ipm_common.periods import PeriodKey
from ipm_common.variance import ToleranceBand
from ipm_strategy.domain.drivers import STANDARD_LINES, Drivers, project
from ipm_strategy.domain.kpis import kpis_by_year
from ipm_strategy.domain.statements import CashFlow, LineDefinition, StatementLine, YearStatements, build_statements

PlanStatus = Literal["proposed", "adopted", "revised", "history"]
LineOrigin = Literal["entered", "projected"]
TargetKind = Literal["line", "kpi"]
FROZEN_STATUSES: tuple[PlanStatus, ...] = ("adopted", "revised", "history")


@dataclass(frozen=True)
class PlanEntry:
    """A stored line of an operating plan with its definition and where its amount came from."""

    definition: LineDefinition
    fiscal_year: int
    amount: Decimal
    origin: LineOrigin = "entered"

    @property
    def statement_line(self) -> StatementLine:
        return StatementLine(self.definition.line, self.fiscal_year, self.amount)


@dataclass(frozen=True)
class DriverSettings:
    base_year: int
    years: int
    drivers: Drivers


@dataclass(frozen=True)
class OperatingTarget:
    """A strategic target on a plan line or on a ratio KPI, with its tolerance band."""

    kind: TargetKind
    line: str
    fiscal_year: int
    amount: Decimal
    band: ToleranceBand


@dataclass(frozen=True)
class OperatingPlan:
    plan_id: str
    entity_id: str
    name: str
    status: PlanStatus
    version: int
    entries: tuple[PlanEntry, ...]
    drivers: DriverSettings | None = None
    targets: tuple[OperatingTarget, ...] = ()
    revises: str | None = None
    adopted_by: str | None = None
    adopted_at: datetime | None = None

    @property
    def statement_lines(self) -> list[StatementLine]:
        return [entry.statement_line for entry in self.entries]

    @property
    def definitions(self) -> dict[str, LineDefinition]:
        return {entry.definition.line: entry.definition for entry in self.entries}

    def check_editable(self) -> None:
        if self.status in FROZEN_STATUSES:
            raise Conflict(
                f"operating plan {self.plan_id} is {self.status} and never changes; revise it with "
                f"POST /v1/operating-plans/{self.plan_id}/revise and edit the new vintage",
                reason="plan_frozen",
            )

    def with_lines(self, entries: Sequence[PlanEntry]) -> "OperatingPlan":
        """Replace the entered lines, and project the later years again when drivers are set."""
        self.check_editable()
        check_entries(entries)
        if self.drivers is not None:
            _check_not_projected(entries, self.drivers.base_year)
            entries = [*entries, *_projected(entries, self.drivers)]
        changed = replace(self, entries=_sorted(entries), version=self.version + 1)
        check_figures_in_range(changed, "lines")
        return changed

    def with_drivers(self, settings: DriverSettings) -> "OperatingPlan":
        """Set the drivers and replace every line after the base year by the projection."""
        self.check_editable()
        entered = [entry for entry in self.entries if entry.fiscal_year <= settings.base_year]
        entered = [replace(entry, origin="entered") for entry in entered]
        changed = replace(self, entries=_sorted([*entered, *_projected(entered, settings)]), drivers=settings,
                          version=self.version + 1)
        check_figures_in_range(changed, "drivers")
        return changed

    def with_targets(self, targets: Sequence[OperatingTarget]) -> "OperatingPlan":
        self.check_editable()
        _check_target_keys(targets)
        changed = replace(self, targets=tuple(sorted(targets, key=lambda t: (t.kind, t.line, t.fiscal_year))),
                          version=self.version + 1)
        check_figures_in_range(changed, "targets")
        return changed

    def adopt(self, by: str, at: datetime) -> "OperatingPlan":
        """Freeze the plan as adopted, or as revised when it revises another vintage."""
        if self.status == "history":
            raise Conflict(f"operating plan {self.plan_id} contains reported history and cannot be adopted; "
                           "revise it into a proposed plan first", reason="plan_is_history")
        if self.status != "proposed":
            raise Conflict(f"operating plan {self.plan_id} is already {self.status}", reason="plan_frozen")
        if not by.strip():
            raise InvalidInput("by: missing; give who adopts the plan", field="by")
        if not self.entries:
            raise Conflict(f"operating plan {self.plan_id} has no lines to adopt; enter them with PUT "
                           f"/v1/operating-plans/{self.plan_id}/lines first", reason="plan_empty")
        status: PlanStatus = "revised" if self.revises else "adopted"
        return replace(self, status=status, adopted_by=by, adopted_at=at, version=self.version + 1)

    def revise(self, plan_id: str, name: str) -> "OperatingPlan":
        """Start a proposed vintage that copies this plan's lines, drivers and targets."""
        if plan_id == self.plan_id:
            raise InvalidInput("plan_id: a revision needs a new plan_id", field="plan_id")
        entries = tuple(replace(entry, origin="entered") if self.status == "history" else entry
                        for entry in self.entries)
        return OperatingPlan(plan_id, self.entity_id, name, "proposed", 1, entries, self.drivers, self.targets,
                             revises=self.plan_id)


def entry(definition: LineDefinition, fiscal_year: int, amount: object, *, index: int) -> PlanEntry:
    """Build an entered plan line, naming ``lines[index]`` in any error."""
    try:
        PeriodKey(fiscal_year, 1)
    except InvalidInput:
        field = f"lines[{index}].fiscal_year"
        raise InvalidInput(f"{field}: {fiscal_year} is outside 1900-2999", field=field) from None
    return PlanEntry(definition, fiscal_year, parse_amount(amount, field=f"lines[{index}].amount"))


def check_entries(entries: Sequence[PlanEntry]) -> None:
    """Reject a line and fiscal year given twice."""
    first: dict[tuple[str, int], int] = {}
    for index, item in enumerate(entries):
        key = (item.definition.line, item.fiscal_year)
        if key in first:
            raise InvalidInput(
                f"lines[{index}]: line {key[0]!r} of fiscal year {key[1]} repeats lines[{first[key]}]; "
                "give each line and fiscal year once",
                field=f"lines[{index}]",
            )
        first[key] = index


def _projected(entries: Sequence[PlanEntry], settings: DriverSettings) -> list[PlanEntry]:
    base = [item.statement_line for item in entries if item.fiscal_year == settings.base_year]
    return [PlanEntry(STANDARD_LINES[line.line], line.fiscal_year, line.amount, "projected")
            for line in project(base, settings.drivers, settings.years)]


def _check_not_projected(entries: Sequence[PlanEntry], base_year: int) -> None:
    for index, item in enumerate(entries):
        if item.fiscal_year > base_year:
            field = f"lines[{index}].fiscal_year"
            raise InvalidInput(
                f"{field}: {item.fiscal_year} is after the drivers' base year {base_year}, whose later years are "
                "projected; enter lines up to the base year, or set drivers with a later base year",
                field=field,
            )


def _check_target_keys(targets: Sequence[OperatingTarget]) -> None:
    first: dict[tuple[str, str, int], int] = {}
    for index, target in enumerate(targets):
        key = (target.kind, target.line, target.fiscal_year)
        if key in first:
            raise InvalidInput(f"targets[{index}]: repeats targets[{first[key]}]; give each target once",
                               field=f"targets[{index}]")
        first[key] = index


def _sorted(entries: Sequence[PlanEntry]) -> tuple[PlanEntry, ...]:
    return tuple(sorted(entries, key=lambda item: (item.fiscal_year, item.definition.line)))



# KPIs where less is better; for the other KPIs and for every line but expenses, more is better.
LOWER_IS_BETTER_KPIS = ("receivable_days", "inventory_days")


@dataclass(frozen=True)
class TargetCheck:
    """A target against the plan's own figure for the year, signed so that a positive variance is favourable."""

    target: OperatingTarget
    planned: Decimal | None
    variance: Decimal | None
    within_band: bool | None


def check_figures_in_range(plan: OperatingPlan, field: str) -> None:
    """Reject a plan whose statements, KPIs or target variances leave the amount range.

    Every line may be in range while a total, a KPI over a tiny denominator or a variance is not,
    and such a figure could be neither stored nor returned.
    """
    lines = plan.statement_lines
    kpis = kpis_by_year(lines)
    try:
        targets = check_targets(plan, kpis)
    except InvalidInput as error:
        # The tolerance band rejects a variance out of range while it checks the variance.
        raise InvalidInput(f"{field}: {error}", field=field) from None

    for fiscal_year, name, amount in _figures(build_statements(plan.definitions, lines), kpis, targets):
        try:
            parse_amount(amount, field=field)
        except InvalidInput:
            raise InvalidInput(
                f"{field}: the FY{fiscal_year} figure '{name}' is {amount}, beyond the {MAX_INTEGER_DIGITS} digits "
                f"before the decimal point and {MAX_DECIMAL_PLACES} after it that an amount has; check the amounts "
                "for a unit error",
                field=field,
            ) from None


def _figures(years: Sequence[YearStatements], kpis: Mapping[int, Mapping[str, Decimal | None]],
             targets: Sequence[TargetCheck]) -> Iterator[tuple[int, str, Decimal]]:
    for year in years:
        totals = {"revenue": year.revenue, "expenses": year.expenses, "net income": year.net_income,
                  "assets": year.assets, "liabilities": year.liabilities, "equity": year.equity, "cash": year.cash}
        if year.cash_flow is not None:
            totals.update(_cash_flow_figures(year.cash_flow))
        for check in year.checks:
            totals.update({f"{check.name} expected": check.expected, f"{check.name} actual": check.actual,
                           f"{check.name} difference": check.difference})
        yield from ((year.fiscal_year, name, amount) for name, amount in totals.items())
    for fiscal_year, values in kpis.items():
        yield from ((fiscal_year, f"KPI {name}", value) for name, value in values.items() if value is not None)
    for item in targets:
        for name, amount in (("planned", item.planned), ("variance", item.variance)):
            if amount is not None:
                yield item.target.fiscal_year, f"{name} {item.target.line} against its target", amount


def _cash_flow_figures(flow: CashFlow) -> dict[str, Decimal]:
    figures = {"non-cash items": flow.non_cash_items,
               "increase in working capital assets": flow.increase_in_working_capital_assets,
               "increase in working capital liabilities": flow.increase_in_working_capital_liabilities,
               "opening cash": flow.opening_cash, "net change in cash": flow.net_change,
               "closing cash": flow.closing_cash}
    figures.update({f"derived {section} cash flow": amount for section, amount in flow.derived.items()})
    figures.update({f"{section} cash flow": amount for section, amount in flow.sections.items()})
    return figures


def check_targets(plan: OperatingPlan, kpis: Mapping[int, Mapping[str, Decimal | None]]) -> list[TargetCheck]:
    """Compare every target with the plan's line amount or KPI value in its year; None where the plan has no figure."""
    checks: list[TargetCheck] = []
    for target in plan.targets:
        planned = _planned(plan, kpis, target)
        if planned is None:
            checks.append(TargetCheck(target, None, None, None))
            continue
        lower_is_better = (target.line in LOWER_IS_BETTER_KPIS if target.kind == "kpi"
                           else plan.definitions.get(target.line) is not None
                           and plan.definitions[target.line].kind == "expense")
        difference = planned - target.amount
        signed = -difference if lower_is_better else difference
        checks.append(TargetCheck(target, planned, signed, not target.band.breached(signed, target.amount)))
    return checks


def _planned(plan: OperatingPlan, kpis: Mapping[int, Mapping[str, Decimal | None]],
             target: OperatingTarget) -> Decimal | None:
    if target.kind == "kpi":
        return kpis.get(target.fiscal_year, {}).get(target.line)
    amounts = [item.amount for item in plan.entries
               if item.definition.line == target.line and item.fiscal_year == target.fiscal_year]
    return sum(amounts, Decimal(0)) if amounts else None
