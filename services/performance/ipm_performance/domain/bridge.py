"""The variance bridge of one line from its full-year budget to its full-year outlook.

With the report period P and the forecast version in force at P, each period's estimate is the
actual up to a series' origin and the forecast after it. At plan (budget) rates the steps are:

- actuals to date: the estimates of P01..P with the budget of P01..P taken away, less the
  realised project benefits, which get their own step. Where the line's leaves have a volume
  (statistical) account, this step splits into volume, mix and price, price being the rest;
- benefits realised: what the projects measured against the baseline up to P;
- benefits planned: the forecast's benefit layer after P;
- forecast change: the estimates after P without the benefit layer, less the budget after P;
- currency effect: the outlook at actual rates less the outlook at plan rates.

Each amount is summed from the same per-period figures, so the steps add up to outlook − budget
exactly, and ``Bridge`` checks that they do. The bridge is in natural amounts, not signed by direction.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Decimal

from ipm_common.errors import InvalidInput
from ipm_common.money import CENT
from ipm_common.periods import PeriodKey
from ipm_performance.domain.leaf_figures import LeafFigures
from ipm_performance.domain.lines import LineTree
from ipm_performance.domain.report_inputs import ReportInputs, Translation
from ipm_performance.domain.reports import Span, span_periods


@dataclass(frozen=True)
class BridgeStep:
    name: str
    amount: Decimal
    detail: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Bridge:
    line: str
    period: str
    budget: Decimal
    outlook: Decimal
    steps: tuple[BridgeStep, ...]

    def __post_init__(self) -> None:
        total = sum((step.amount for step in self.steps), Decimal(0))
        if total != self.outlook - self.budget:
            raise AssertionError(f"bridge of {self.line}: steps sum to {total}, not {self.outlook - self.budget}")


def build_bridge(inputs: ReportInputs, tree: LineTree, line: str, period: PeriodKey,
                 translation: Translation) -> Bridge:
    """Bridge ``line`` from its budget to its outlook as of ``period``; raise when it has no budget or outlook."""
    plan = LeafFigures(inputs, replace(translation, constant_currency=True))
    reported = LeafFigures(inputs, translation)
    leaves = tree.leaves_of(line)
    year = span_periods(Span.FULL_YEAR, period)
    to_date = [key for key in year if key <= period]
    rest = [key for key in year if key > period]

    budgets = {key: _budget(plan, inputs, line, leaves, key) for key in year}
    estimates = {key: _required(_estimate(plan, leaves, key, period), line, "a forecast for the rest of the year")
                 for key in year}
    outlook = sum((_required(_estimate(reported, leaves, key, period), line, "an outlook") for key in year),
                  Decimal(0))
    realised = _benefits(inputs.realised_benefits, leaves, to_date, translation)
    planned_to_date = _benefits(inputs.planned_benefits, leaves, to_date, translation)
    layer = sum((_benefit_layer(inputs, plan, leaf, key, period) for leaf in leaves for key in rest), Decimal(0))

    actual_step = sum((estimates[key] - budgets[key] for key in to_date), Decimal(0)) - realised
    steps = [
        *_to_date_steps(inputs, plan, tree, line, to_date, actual_step),
        BridgeStep("benefits_realised", realised, {"planned_to_date": planned_to_date, "realised_to_date": realised,
                                                   "shortfall": planned_to_date - realised}),
        BridgeStep("benefits_planned", layer),
        BridgeStep("forecast_change", sum((estimates[key] - budgets[key] for key in rest), Decimal(0)) - layer),
        BridgeStep("currency_effect", outlook - sum(estimates.values(), Decimal(0))),
    ]
    return Bridge(line, str(period), sum(budgets.values(), Decimal(0)), outlook, tuple(steps))


def _to_date_steps(inputs: ReportInputs, plan: LeafFigures, tree: LineTree, line: str, to_date: list[PeriodKey],
                   actual_step: Decimal) -> list[BridgeStep]:
    """Split the actuals-to-date step into volume, mix and price where the leaves have volume accounts."""
    driven = [leaf for leaf in tree.leaves_of(line) if leaf in inputs.volume_drivers]
    if not driven:
        return [BridgeStep("actuals_to_date", actual_step)]

    revenue_budget, volume_actual, volume_budget = Decimal(0), Decimal(0), Decimal(0)
    leaf_volume_effects = Decimal(0)
    for leaf in driven:
        account = inputs.volume_drivers[leaf]
        leaf_budget = sum((plan.budget(leaf, key) or Decimal(0) for key in to_date), Decimal(0))
        leaf_volume = sum((_volume_actual(inputs, account, key) for key in to_date), Decimal(0))
        leaf_volume_budget = sum((_volume_budget(inputs, account, key) for key in to_date), Decimal(0))
        leaf_volume_effects += _volume_effect(leaf_volume, leaf_volume_budget, leaf_budget)
        revenue_budget += leaf_budget
        volume_actual += leaf_volume
        volume_budget += leaf_volume_budget

    volume = _volume_effect(volume_actual, volume_budget, revenue_budget)
    mix = leaf_volume_effects - volume
    detail = {"volume_actual": volume_actual, "volume_budget": volume_budget}
    return [BridgeStep("volume", volume, detail), BridgeStep("mix", mix),
            BridgeStep("price", actual_step - volume - mix)]


def _volume_effect(volume_actual: Decimal, volume_budget: Decimal, budget: Decimal) -> Decimal:
    """Price the volume change at the budget price, budget / budget volume, rounded half-even to the cent."""
    if volume_budget == 0:
        return Decimal(0)
    return ((volume_actual - volume_budget) * budget / volume_budget).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _volume_actual(inputs: ReportInputs, account: str, key: PeriodKey) -> Decimal:
    """Sum a volume account's actuals, which are quantities and so never translated."""
    return sum((inputs.actuals[series].get(key, Decimal(0)) for series in inputs.series_of(account)
                if series in inputs.actuals), Decimal(0))


def _volume_budget(inputs: ReportInputs, account: str, key: PeriodKey) -> Decimal:
    return inputs.budgets.get(account, {}).get(key, Decimal(0))


def _budget(plan: LeafFigures, inputs: ReportInputs, line: str, leaves: tuple[str, ...], key: PeriodKey) -> Decimal:
    own = plan.budget(line, key)
    if own is not None:
        return own
    amounts = [plan.budget(leaf, key) for leaf in leaves]
    if not amounts or any(amount is None for amount in amounts):
        raise InvalidInput(f"line: {line!r} has no budget for FY{key.fiscal_year} on every leaf; approve one "
                           "before asking for its bridge", field="line")
    return sum((amount for amount in amounts if amount is not None), Decimal(0))


def _estimate(figures: LeafFigures, leaves: tuple[str, ...], key: PeriodKey, period: PeriodKey) -> Decimal | None:
    total = Decimal(0)
    for leaf in leaves:
        amount = figures.estimate(leaf, key, period, 0)
        if amount is None:
            return None
        total += amount
    return total


def _benefit_layer(inputs: ReportInputs, plan: LeafFigures, leaf: str, key: PeriodKey, period: PeriodKey) -> Decimal:
    """Sum the benefit layer of the versions in force at ``period`` for a period after their origin."""
    total = Decimal(0)
    for series in inputs.series_of(leaf):
        made = [version for version in inputs.forecasts.get(series, ()) if version.origin <= period]
        if made:
            latest = max(made, key=lambda version: version.version)
            if key > latest.origin:
                total += plan.translation.plan(latest.benefits.get(key, Decimal(0)), key)
    return total


def _benefits(amounts: Mapping[str, Mapping[PeriodKey, Decimal]], leaves: tuple[str, ...],
              periods: list[PeriodKey], translation: Translation) -> Decimal:
    total = Decimal(0)
    for leaf in leaves:
        for key in periods:
            amount = amounts.get(leaf, {}).get(key)
            if amount is not None:
                total += translation.plan(amount, key)
    return total


def _required(amount: Decimal | None, line: str, what: str) -> Decimal:
    if amount is None:
        raise InvalidInput(f"line: {line!r} has no {what}; the bridge needs every leaf's actuals and forecast "
                           "for the whole year", field="line")
    return amount
