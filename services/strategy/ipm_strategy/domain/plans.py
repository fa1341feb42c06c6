"""Plan vintages: financial plan lines and the strategic targets that adopted plans commit to.

A plan is stored once per ``plan_id``. Only an adopted or a revised plan commits to targets,
and a later plan's target for the same entity, line and fiscal year replaces the earlier one.
Each target carries a tolerance band, and a band field left out takes the default band's value.
A plan covers the ten fiscal years from the year it is adopted for, and its lines and targets
must fall within them.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ipm_common.errors import InvalidInput
from ipm_common.money import parse_amount
from ipm_common.periods import PeriodKey
from ipm_common.variance import DEFAULT_TARGET_BAND, BandScope, ToleranceBand

PlanKind = Literal["proposed", "adopted", "revised"]
KINDS_WITH_TARGETS: tuple[PlanKind, ...] = ("adopted", "revised")
HORIZON_YEARS = 10


@dataclass(frozen=True)
class PlanLine:
    line: str
    fiscal_year: int
    amount: Decimal


@dataclass(frozen=True)
class Target:
    line: str
    fiscal_year: int
    amount: Decimal
    band: ToleranceBand


@dataclass(frozen=True)
class TargetRequest:
    """A target as submitted: band fields left as None take the default band's values."""

    line: str
    fiscal_year: int
    amount: Decimal
    band_pct: Decimal | None = None
    band_absolute: Decimal | None = None
    band_scope: BandScope | None = None


@dataclass(frozen=True)
class Plan:
    """A plan vintage with lines and targets sorted by line and fiscal year, so that equal content compares equal."""

    plan_id: str
    entity_id: str
    name: str
    kind: PlanKind
    adopted_for_fiscal_year: int
    lines: tuple[PlanLine, ...]
    targets: tuple[Target, ...]


def draft_plan(plan_id: str, entity_id: str, name: str, kind: PlanKind, adopted_for_fiscal_year: int,
               lines: Sequence[PlanLine], targets: Sequence[TargetRequest]) -> Plan:
    """Build a plan, rejecting duplicate lines or targets and targets on a proposed plan."""
    _check_fiscal_year("adopted_for_fiscal_year", adopted_for_fiscal_year)
    if targets and kind not in KINDS_WITH_TARGETS:
        raise InvalidInput(
            f"targets: a {kind} plan cannot set targets; set kind to 'adopted' or 'revised', or leave targets empty",
            field="targets",
        )

    _check_keys("lines", [(line.line, line.fiscal_year) for line in lines])
    _check_keys("targets", [(target.line, target.fiscal_year) for target in targets])
    plan_lines = [_plan_line(index, line, adopted_for_fiscal_year) for index, line in enumerate(lines)]
    plan_targets = [_target(index, target, adopted_for_fiscal_year) for index, target in enumerate(targets)]

    return Plan(plan_id, entity_id, name, kind, adopted_for_fiscal_year,
                tuple(sorted(plan_lines, key=_line_key)), tuple(sorted(plan_targets, key=_line_key)))


def target_band(pct: Decimal | None = None, absolute: Decimal | None = None,
                scope: BandScope | None = None) -> ToleranceBand:
    """Build a tolerance band. Each field left as None takes the value of ``DEFAULT_TARGET_BAND``."""
    return ToleranceBand(
        pct=DEFAULT_TARGET_BAND.pct if pct is None else pct,
        absolute=DEFAULT_TARGET_BAND.absolute if absolute is None else absolute,
        scope=DEFAULT_TARGET_BAND.scope if scope is None else scope,
    )


def current_targets(entity_targets: Sequence[tuple[int, str, Target]]) -> dict[tuple[str, int], tuple[str, Target]]:
    """Pick, per line and fiscal year, the target of the plan with the highest targets version.

    ``entity_targets`` lists (targets version, plan id, target) for every target of one entity.
    """
    newest: dict[tuple[str, int], tuple[int, str, Target]] = {}
    for version, plan_id, target in entity_targets:
        key = _line_key(target)
        if key not in newest or newest[key][0] < version:
            newest[key] = (version, plan_id, target)
    return {key: (plan_id, target) for key, (_, plan_id, target) in sorted(newest.items())}


def check_target_lines(targets: Sequence[TargetRequest], known_lines: Collection[str]) -> None:
    """Raise ``InvalidInput`` naming the first target whose line is not in ``known_lines``.

    ``known_lines`` contains the defined accounts and the nodes of the account hierarchies, because
    the performance service compares a target with the actuals of that account or hierarchy node.
    """
    for index, target in enumerate(targets):
        if target.line not in known_lines:
            field = f"targets[{index}].line"
            raise InvalidInput(
                f"{field}: {target.line!r} is neither a defined account nor a node of an account hierarchy; "
                "define the account or add the line to a hierarchy of dimension 'account' first",
                field=field,
            )


def _plan_line(index: int, line: PlanLine, adopted_for_fiscal_year: int) -> PlanLine:
    _check_fiscal_year(f"lines[{index}].fiscal_year", line.fiscal_year)
    _check_horizon(f"lines[{index}].fiscal_year", line.fiscal_year, adopted_for_fiscal_year)
    return PlanLine(line.line, line.fiscal_year, parse_amount(line.amount, field=f"lines[{index}].amount"))


def _target(index: int, request: TargetRequest, adopted_for_fiscal_year: int) -> Target:
    field = f"targets[{index}]"
    _check_fiscal_year(f"{field}.fiscal_year", request.fiscal_year)
    _check_horizon(f"{field}.fiscal_year", request.fiscal_year, adopted_for_fiscal_year)
    amount = parse_amount(request.amount, field=f"{field}.amount")
    if request.band_pct is not None:
        _check_band_pct(f"{field}.band_pct", parse_amount(request.band_pct, field=f"{field}.band_pct"))

    try:
        band = target_band(request.band_pct, request.band_absolute, request.band_scope)
    except InvalidInput as error:
        # ToleranceBand names its fields pct, absolute and scope, but the request calls them band_*.
        name = f"{field}.band_{error.field}"
        raise InvalidInput(f"{name}: {str(error).split(': ', 1)[-1]}", field=name) from None
    return Target(request.line, request.fiscal_year, amount, band)


def _check_keys(collection: str, keys: Sequence[tuple[str, int]]) -> None:
    first_index: dict[tuple[str, int], int] = {}
    for index, key in enumerate(keys):
        if key in first_index:
            raise InvalidInput(
                f"{collection}[{index}]: line {key[0]!r} of fiscal year {key[1]} repeats "
                f"{collection}[{first_index[key]}]; give each line and fiscal year once",
                field=f"{collection}[{index}]",
            )
        first_index[key] = index


def _check_fiscal_year(field: str, fiscal_year: int) -> None:
    try:
        PeriodKey(fiscal_year, 1)
    except InvalidInput:
        raise InvalidInput(f"{field}: {fiscal_year} is outside 1900-2999", field=field) from None


def _check_horizon(field: str, fiscal_year: int, adopted_for_fiscal_year: int) -> None:
    last_year = adopted_for_fiscal_year + HORIZON_YEARS - 1
    if not adopted_for_fiscal_year <= fiscal_year <= last_year:
        raise InvalidInput(
            f"{field}: {fiscal_year} is outside the plan's horizon {adopted_for_fiscal_year}-{last_year}; "
            f"a plan covers the {HORIZON_YEARS} fiscal years from adopted_for_fiscal_year, so give a year "
            "in that range or submit the line with a plan adopted for another year",
            field=field,
        )


def _check_band_pct(field: str, pct: Decimal) -> None:
    # The band is a fraction of the target: a band of 5 % is 0.05, and "5" would mean 500 %.
    if pct <= 0:
        raise InvalidInput(
            f"{field}: {pct} is not positive; expected a fraction of the target greater than 0 and at most 1, "
            "such as 0.05 for 5 %",
            field=field,
        )
    if pct > 1:
        raise InvalidInput(
            f"{field}: {pct} is above 1 and would mean {pct * 100} % of the target; band_pct is a fraction, "
            "so write 5 % as 0.05",
            field=field,
        )


def _line_key(item: PlanLine | Target) -> tuple[str, int]:
    return item.line, item.fiscal_year
