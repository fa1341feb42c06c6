"""Improvement projects run through the DMAIC phases and plan benefits on financial lines.

A benefit is a revenue uplift or a saving in one period of one entity's account, in the line's
natural sign. The forecast service carries each project's benefits per entity and account as a
layer of its own, so the benefits are published grouped by that pair.
"""

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import InvalidInput
from ipm_common.money import MAX_INTEGER_DIGITS, parse_amount
from ipm_common.periods import PeriodKey
from ipm_projects.domain.charter import Charter, Phase

Line = tuple[str, str]  # (entity_id, account_id)
BenefitType = Literal["hard_savings", "revenue_uplift", "cost_avoidance"]


@dataclass(frozen=True, order=True)
class LinkedTarget:
    """A strategic target that the project works towards."""

    entity_id: str
    line: str
    fiscal_year: int


@dataclass(frozen=True, order=True)
class Benefit:
    entity_id: str
    account_id: str
    period: PeriodKey
    amount: Decimal
    benefit_type: BenefitType = "revenue_uplift"

    @property
    def line(self) -> Line:
        return self.entity_id, self.account_id


@dataclass(frozen=True)
class BenefitRequest:
    """A benefit as submitted: ``period`` is "FY2024-P03", or "2024-03" for calendar-month entities."""

    entity_id: str
    account_id: str
    period: str
    amount: Decimal
    benefit_type: BenefitType = "revenue_uplift"


@dataclass(frozen=True)
class Project:
    """A project with its linked targets and benefits sorted, so that equal content compares equal."""

    project_id: str
    name: str
    owner: str
    phase: Phase
    linked_targets: tuple[LinkedTarget, ...]
    benefits: tuple[Benefit, ...]
    charter: Charter = field(default_factory=Charter)

    def benefit_lines(self) -> dict[Line, tuple[Benefit, ...]]:
        """Group the benefits by entity and account, each group sorted by period."""
        grouped: dict[Line, list[Benefit]] = defaultdict(list)
        for benefit in self.benefits:
            grouped[benefit.line].append(benefit)
        return {line: tuple(sorted(benefits, key=lambda benefit: benefit.period))
                for line, benefits in sorted(grouped.items())}

    def total_benefits(self) -> dict[Line, Decimal]:
        """Sum the planned benefits per entity and account, exactly."""
        totals: dict[Line, Decimal] = {}
        for line, benefits in self.benefit_lines().items():
            totals[line] = sum((benefit.amount for benefit in benefits), Decimal(0))
        return totals

    def benefit_types(self) -> dict[Line, BenefitType]:
        """Return the benefit type of each entity and account; ``define_project`` keeps it to one per line."""
        return {benefit.line: benefit.benefit_type for benefit in self.benefits}


def define_project(project_id: str, name: str, owner: str, phase: Phase, linked_targets: Sequence[LinkedTarget],
                   benefits: Sequence[BenefitRequest], calendars: Mapping[str, FiscalCalendar],
                   account_ids: Collection[str], charter: Charter | None = None) -> Project:
    """Build a project, checking entities and accounts against the reference data and parsing every period.

    ``calendars`` maps each known entity to its fiscal calendar; ``account_ids`` lists the known accounts.
    """
    for index, target in enumerate(linked_targets):
        _check_entity(f"linked_targets[{index}].entity_id", target.entity_id, calendars)
    _check_unique("linked_targets", [(target.entity_id, target.line, target.fiscal_year)
                                     for target in linked_targets])

    planned = [_benefit(index, request, calendars, account_ids) for index, request in enumerate(benefits)]
    # Periods are compared after parsing, so "2024-03" and "FY2024-P03" of a calendar-year entity clash.
    _check_unique("benefits", [(benefit.entity_id, benefit.account_id, benefit.period) for benefit in planned],
                  suffix=".period")
    _check_one_type_per_line(planned)
    _check_line_totals(planned)

    return Project(project_id, name, owner, phase, tuple(sorted(linked_targets)), tuple(sorted(planned)),
                   charter or Charter())


def changed_lines(before: Project, after: Project) -> list[Line]:
    """List the entity/account pairs whose planned amounts, periods or benefit type differ between versions."""
    before_lines, after_lines = before.benefit_lines(), after.benefit_lines()
    return [line for line in lines_to_publish(before, after)
            if before_lines.get(line) != after_lines.get(line)]


def lines_to_publish(before: Project | None, after: Project) -> list[Line]:
    """List the entity/account pairs that the project had or has now, since an emptied pair is published empty."""
    lines = set(after.benefit_lines())
    if before is not None:
        lines |= set(before.benefit_lines())
    return sorted(lines)


def _benefit(index: int, request: BenefitRequest, calendars: Mapping[str, FiscalCalendar],
             account_ids: Collection[str]) -> Benefit:
    field = f"benefits[{index}]"
    calendar = _check_entity(f"{field}.entity_id", request.entity_id, calendars)
    if request.account_id not in account_ids:
        raise InvalidInput(
            f"{field}.account_id: account {request.account_id!r} is not defined; define it in the strategy "
            "service, and retry once its reference event has arrived here",
            field=f"{field}.account_id",
        )

    try:
        period = calendar.parse_period(request.period)
    except InvalidInput as error:
        raise InvalidInput(f"{field}.{error}", field=f"{field}.period") from None

    amount = parse_amount(request.amount, field=f"{field}.amount")
    return Benefit(request.entity_id, request.account_id, period, amount, request.benefit_type)


def _check_one_type_per_line(benefits: Sequence[Benefit]) -> None:
    first_type: dict[Line, tuple[int, BenefitType]] = {}
    for index, benefit in enumerate(benefits):
        index_before, type_before = first_type.setdefault(benefit.line, (index, benefit.benefit_type))
        if benefit.benefit_type != type_before:
            raise InvalidInput(
                f"benefits[{index}].benefit_type: {benefit.benefit_type!r} differs from {type_before!r} of "
                f"benefits[{index_before}] on the same entity and account; give one benefit type per line",
                field=f"benefits[{index}].benefit_type",
            )


def _check_line_totals(benefits: Sequence[Benefit]) -> None:
    """Reject a line whose running total leaves the amount range, so that every total can be stored and returned."""
    totals: dict[Line, Decimal] = defaultdict(Decimal)
    for index, benefit in enumerate(benefits):
        totals[benefit.line] += benefit.amount
        field = f"benefits[{index}].amount"
        try:
            parse_amount(totals[benefit.line], field=field)
        except InvalidInput:
            raise InvalidInput(
                f"{field}: brings the planned total of {benefit.entity_id}/{benefit.account_id} to "
                f"{totals[benefit.line]}, beyond the {MAX_INTEGER_DIGITS} digits an amount has before the decimal "
                "point; check the amounts for a unit error",
                field=field,
            ) from None


def _check_entity(field: str, entity_id: str, calendars: Mapping[str, FiscalCalendar]) -> FiscalCalendar:
    calendar = calendars.get(entity_id)
    if calendar is None:
        raise InvalidInput(
            f"{field}: entity {entity_id!r} is not registered; register it in the strategy service, and retry "
            "once its reference event has arrived here",
            field=field,
        )
    return calendar


def _check_unique(collection: str, keys: Sequence[tuple[object, ...]], suffix: str = "") -> None:
    first_index: dict[tuple[object, ...], int] = {}
    for index, key in enumerate(keys):
        if key in first_index:
            field = f"{collection}[{index}]{suffix}"
            raise InvalidInput(
                f"{field}: repeats {collection}[{first_index[key]}] ({', '.join(str(part) for part in key)}); "
                "give each one once",
                field=field,
            )
        first_index[key] = index
