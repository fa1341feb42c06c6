"""Evaluation domain: variances, outlooks, budgets of parents and the alert rules, with worked numbers."""

from decimal import Decimal

from ipm_common.periods import PeriodKey
from ipm_common.reference import Hierarchy
from ipm_common.variance import Direction, ToleranceBand
from ipm_performance.domain.alerts import assess
from ipm_performance.domain.comparisons import Comparison, compare
from ipm_performance.domain.evaluation import evaluate_line, evaluate_lines, lines_of_entity
from ipm_performance.domain.figures import Balance, EntityFigures, SeriesForecast, Target
from ipm_performance.domain.lines import LineTree
from ipm_performance.domain.rules import DEFAULT_RULES, RuleName, band_for, target_band, threshold_text

FY = 2024
DIRECTIONS = {"WAGE": "higher_is_better", "BIRT": "higher_is_better", "PARKING": "higher_is_better",
              "PAYROLL": "lower_is_better"}


def period(number: int) -> PeriodKey:
    return PeriodKey(FY, number)


def monthly(amount: str, first: int, last: int, version: int = 1) -> dict[PeriodKey, Balance]:
    return {period(number): Balance(Decimal(amount), version + number) for number in range(first, last + 1)}


def budget(amount: str) -> dict[PeriodKey, Decimal]:
    return {period(number): Decimal(amount) for number in range(1, 13)}


def figures(**overrides: object) -> EntityFigures:
    values: dict[str, object] = {"entity_id": "PHL", "fiscal_year": FY, "balances": {}, "forecasts": {},
                                 "budgets": {}, "targets": {}}
    values.update(overrides)
    return EntityFigures(**values)  # type: ignore[arg-type]


def tax_tree(*children: str) -> LineTree:
    edges = {child: "TAX" for child in children}
    return LineTree.from_hierarchies([Hierarchy("revenue", "account", edges)])


# --- variance, percentage and the band -----------------------------------------------------------


def test_revenue_above_target_breaches_favourably() -> None:
    # Outlook 35,000,000 against a target of 33,000,000: +2,000,000, which is 6.0606 %.
    line = compare("PHL", "WAGE", Comparison.OUTLOOK_VS_TARGET, "FY2024", FY, value=Decimal("35000000"),
                   comparator=Decimal("33000000"), direction=Direction.HIGHER_IS_BETTER, figures_version=3)

    assessment = assess(line, DEFAULT_RULES[RuleName.STRATEGIC_TARGET_BAND], None)

    assert line.variance == Decimal("2000000")
    assert line.variance_pct == Decimal("0.060606")
    assert line.favourable is True
    assert assessment.breached is True
    assert assessment.figures.threshold == "5% and 1000000 either direction"
    assert assessment.figures.severity == "critical"


def test_expense_four_percent_over_budget_does_not_breach() -> None:
    # Payroll 52,000,000 against a budget of 50,000,000: lower is better, so -2,000,000 and -4 %.
    line = compare("PHL", "PAYROLL", Comparison.OUTLOOK_VS_BUDGET, "FY2024", FY, value=Decimal("52000000"),
                   comparator=Decimal("50000000"), direction=Direction.LOWER_IS_BETTER, figures_version=1)

    assert line.variance == Decimal("-2000000")
    assert line.variance_pct == Decimal("-0.04")
    assert line.favourable is False
    assert assess(line, DEFAULT_RULES[RuleName.BUDGET_VARIANCE], None).breached is False
    # Even the tighter 5 % target band needs both limits: 2,000,000 reaches 1,000,000 but 4 % stays below 5 %.
    assert DEFAULT_RULES[RuleName.STRATEGIC_TARGET_BAND].band.breached(line.variance, line.comparator) is False


def test_zero_comparator_gives_null_pct() -> None:
    line = compare("PHL", "PARKING", Comparison.ACTUAL_VS_BUDGET_YTD, "FY2024-P03", FY, value=Decimal("1500000"),
                   comparator=Decimal("0"), direction=Direction.HIGHER_IS_BETTER, figures_version=1)

    assert line.variance == Decimal("1500000")
    assert line.variance_pct is None
    # Against a zero comparator only the absolute limit counts: 1,500,000 reaches 1,000,000.
    assert assess(line, DEFAULT_RULES[RuleName.BUDGET_VARIANCE], None).breached is True


def test_unfavourable_scope_ignores_favourable_breach() -> None:
    band = ToleranceBand(Decimal("0.05"), Decimal("1000000"), "unfavourable")
    target = Target("WAGE", FY, Decimal("33000000"), band, "plan-1", 1)
    line = compare("PHL", "WAGE", Comparison.OUTLOOK_VS_TARGET, "FY2024", FY, value=Decimal("35000000"),
                   comparator=Decimal("33000000"), direction=Direction.HIGHER_IS_BETTER, figures_version=1)

    assessment = assess(line, DEFAULT_RULES[RuleName.STRATEGIC_TARGET_BAND], target)

    assert assessment.breached is False
    assert assessment.figures.threshold == "5% and 1000000 unfavourable only"


def test_target_without_band_uses_rule_band() -> None:
    assert target_band(Decimal("0"), Decimal("0"), "both") is None

    rule = DEFAULT_RULES[RuleName.STRATEGIC_TARGET_BAND]
    unbanded = Target("WAGE", FY, Decimal("1"), None, "plan-1", 1)
    banded = Target("WAGE", FY, Decimal("1"), ToleranceBand(Decimal("0.02"), Decimal("500000")), "plan-1", 1)

    assert band_for(rule, unbanded) == rule.band
    assert band_for(rule, banded).pct == Decimal("0.02")


def test_threshold_text_drops_trailing_zeros() -> None:
    assert threshold_text(ToleranceBand(Decimal("0.10"), Decimal("1000000.00"))) == "10% and 1000000 either direction"
    assert threshold_text(ToleranceBand(Decimal("0.125"), Decimal("250000.5"))) == "12.5% and 250000.5 either direction"


# --- actuals against budget ----------------------------------------------------------------------


def test_actuals_compared_per_period_and_ytd() -> None:
    # Wage tax collects 6,100,000 a month for three months against a budget of 6,000,000 a month.
    data = figures(balances={("WAGE", ""): monthly("6100000", 1, 3)}, budgets={"WAGE": budget("6000000")})

    evaluation = evaluate_line(data, LineTree({}), DIRECTIONS, "WAGE")
    by_key = {(line.comparison, line.period): line for line in evaluation.variance_lines}

    p02 = by_key[(Comparison.ACTUAL_VS_BUDGET_PERIOD, "FY2024-P02")]
    ytd = by_key[(Comparison.ACTUAL_VS_BUDGET_YTD, "FY2024-P03")]
    assert len(evaluation.variance_lines) == 6
    assert p02.variance == Decimal("100000")
    assert p02.variance_pct == Decimal("0.016667")
    assert p02.figures_version == 3
    assert ytd.value == Decimal("18300000")
    assert ytd.comparator == Decimal("18000000")
    assert ytd.variance == Decimal("300000")
    assert ytd.phasing == "full_period"


def test_period_without_balance_counts_as_zero() -> None:
    balances = {("WAGE", ""): {period(1): Balance(Decimal("5"), 1), period(3): Balance(Decimal("7"), 2)}}
    data = figures(balances=balances, budgets={"WAGE": budget("6")})

    evaluation = evaluate_line(data, LineTree({}), DIRECTIONS, "WAGE", {Comparison.ACTUAL_VS_BUDGET_PERIOD})

    p02 = next(line for line in evaluation.variance_lines if line.period == "FY2024-P02")
    assert p02.value == Decimal("0")
    assert p02.variance == Decimal("-6")


def test_line_without_budget_has_no_comparison() -> None:
    data = figures(balances={("WAGE", ""): monthly("1", 1, 2)})

    assert evaluate_line(data, LineTree({}), DIRECTIONS, "WAGE").variance_lines == ()


def test_cost_centres_sum_into_the_line() -> None:
    balances = {("PAYROLL", "CC1"): monthly("100", 1, 1), ("PAYROLL", "CC2"): monthly("50", 1, 1)}
    data = figures(balances=balances, budgets={"PAYROLL": {period(1): Decimal("140")}})

    evaluation = evaluate_line(data, LineTree({}), DIRECTIONS, "PAYROLL", {Comparison.ACTUAL_VS_BUDGET_PERIOD})

    line = evaluation.variance_lines[0]
    assert line.value == Decimal("150")
    # Payroll is an expense: 10 over budget is unfavourable.
    assert line.variance == Decimal("-10")


# --- parents sum their leaves --------------------------------------------------------------------


def test_parent_budget_sums_leaves_only_when_all_have_one() -> None:
    balances = {("WAGE", ""): monthly("10", 1, 1), ("BIRT", ""): monthly("5", 1, 1)}
    complete = figures(balances=balances, budgets={"WAGE": budget("8"), "BIRT": budget("4")})
    partial = figures(balances=balances, budgets={"WAGE": budget("8")})
    tree = tax_tree("WAGE", "BIRT")

    assert complete.budget("TAX", tree.leaves_of("TAX"), period(1), period(12)) == Decimal("144")
    assert partial.budget("TAX", tree.leaves_of("TAX"), period(1), period(12)) is None


def test_parent_own_budget_wins_over_leaves() -> None:
    data = figures(budgets={"TAX": budget("20"), "WAGE": budget("8"), "BIRT": budget("4")})

    assert data.budget("TAX", ("BIRT", "WAGE"), period(1), period(1)) == Decimal("20")


def test_parent_is_sum_after_reparenting() -> None:
    balances = {("WAGE", ""): monthly("10", 1, 1), ("BIRT", ""): monthly("20", 1, 1),
                ("PARKING", ""): monthly("5", 1, 1)}
    data = figures(balances=balances, budgets={"TAX": {period(1): Decimal("30")}})
    before = LineTree.from_hierarchies([Hierarchy("revenue", "account",
                                                  {"WAGE": "TAX", "BIRT": "TAX", "PARKING": "OTHER"})])
    after = LineTree.from_hierarchies([Hierarchy("revenue", "account",
                                                 {"WAGE": "TAX", "BIRT": "TAX", "PARKING": "TAX"})])

    value_before = evaluate_line(data, before, DIRECTIONS, "TAX").variance_lines[0]
    value_after = evaluate_line(data, after, DIRECTIONS, "TAX").variance_lines[0]

    assert value_before.value == Decimal("30")
    assert value_after.value == Decimal("35")
    assert value_after.variance == Decimal("5")


def test_child_breach_alerts_when_parent_fine() -> None:
    # Wage tax is 2,000,000 (25 %) above budget and BIRT 2,000,000 below: the parent is exactly on budget.
    balances = {("WAGE", ""): monthly("10000000", 1, 1), ("BIRT", ""): monthly("6000000", 1, 1)}
    data = figures(balances=balances, budgets={"WAGE": {period(1): Decimal("8000000")},
                                               "BIRT": {period(1): Decimal("8000000")}})
    rule = DEFAULT_RULES[RuleName.BUDGET_VARIANCE]

    evaluations = evaluate_lines(data, tax_tree("WAGE", "BIRT"), DIRECTIONS, {"TAX", "WAGE", "BIRT"},
                                 {Comparison.ACTUAL_VS_BUDGET_YTD})
    breached = {item.line: assess(item.variance_lines[0], rule, None).breached for item in evaluations}

    assert breached == {"TAX": False, "WAGE": True, "BIRT": True}


def test_disagreeing_leaves_fall_back_to_higher_is_better() -> None:
    tree = LineTree.from_hierarchies([Hierarchy("mixed", "account", {"WAGE": "NET", "PAYROLL": "NET"})])

    direction = tree.direction_of("NET", DIRECTIONS)

    assert direction.direction is Direction.HIGHER_IS_BETTER
    assert direction.problem is not None
    assert "disagree" in direction.problem


def test_leaves_of_survives_cycle() -> None:
    tree = LineTree({"A": ("B",), "B": ("A", "C")})

    assert tree.leaves_of("A") == ("C",)
    assert tree.ancestors_of("C") == {"A", "B"}


def test_hierarchies_defining_node_differently_are_reported() -> None:
    first = Hierarchy("a-first", "account", {"WAGE": "TAX"})
    second = Hierarchy("b-second", "account", {"BIRT": "TAX"})

    tree = LineTree.from_hierarchies([second, first])

    assert tree.leaves_of("TAX") == ("WAGE",)
    assert len(tree.problems) == 1


# --- full-year outlook ---------------------------------------------------------------------------


def test_outlook_adds_forecast_after_origin() -> None:
    # Actuals P01-P06 of 6,000,000; a P07 actual arrived after the forecast, whose origin is still P06.
    forecast = SeriesForecast(period(6), 4, {period(number): Decimal("5000000") for number in range(7, 13)})
    balances = {("WAGE", ""): monthly("6000000", 1, 7)}
    data = figures(balances=balances, forecasts={("WAGE", ""): forecast})

    outlook = data.outlook(["WAGE"])

    assert outlook is not None
    assert outlook.actuals_to_date == Decimal("36000000")
    assert outlook.remaining_forecast == Decimal("30000000")
    assert outlook.total == Decimal("66000000")
    assert outlook.forecast_version == 4


def test_outlook_after_p12_is_actuals_only() -> None:
    forecast = SeriesForecast(period(12), 2, {PeriodKey(FY + 1, 1): Decimal("999")})
    data = figures(balances={("WAGE", ""): monthly("10", 1, 12)}, forecasts={("WAGE", ""): forecast})

    outlook = data.outlook(["WAGE"])

    assert outlook is not None
    assert outlook.total == Decimal("120")
    assert outlook.remaining_forecast == Decimal("0")


def test_outlook_needs_a_forecast() -> None:
    data = figures(balances={("WAGE", ""): monthly("10", 1, 3)})

    assert data.outlook(["WAGE"]) is None


def test_outlook_compared_with_budget_and_own_target() -> None:
    forecast = SeriesForecast(period(6), 1, {period(number): Decimal("6000000") for number in range(7, 13)})
    target = Target("WAGE", FY, Decimal("80000000"), None, "plan-1", 1)
    data = figures(balances={("WAGE", ""): monthly("6000000", 1, 6)}, forecasts={("WAGE", ""): forecast},
                   budgets={"WAGE": budget("6000000")}, targets={"WAGE": target})

    evaluation = evaluate_line(data, LineTree({}), DIRECTIONS, "WAGE",
                               {Comparison.OUTLOOK_VS_BUDGET, Comparison.OUTLOOK_VS_TARGET})
    by_comparison = {line.comparison: line for line in evaluation.variance_lines}

    assert by_comparison[Comparison.OUTLOOK_VS_BUDGET].variance == Decimal("0")
    assert by_comparison[Comparison.OUTLOOK_VS_TARGET].variance == Decimal("-8000000")
    assert by_comparison[Comparison.OUTLOOK_VS_TARGET].variance_pct == Decimal("-0.1")
    assert by_comparison[Comparison.OUTLOOK_VS_TARGET].period == "FY2024"


def test_parent_has_no_derived_target() -> None:
    forecast = SeriesForecast(period(6), 1, {})
    targets = {"WAGE": Target("WAGE", FY, Decimal("1"), None, "p", 1), "BIRT": Target("BIRT", FY, Decimal("1"),
                                                                                         None, "p", 1)}
    data = figures(balances={("WAGE", ""): monthly("1", 1, 6)}, forecasts={("WAGE", ""): forecast}, targets=targets)

    evaluation = evaluate_line(data, tax_tree("WAGE", "BIRT"), DIRECTIONS, "TAX", {Comparison.OUTLOOK_VS_TARGET})

    assert evaluation.variance_lines == ()


def test_entity_lines_include_nodes_budgets_targets() -> None:
    data = figures(budgets={"PAYROLL": budget("1")},
                   targets={"GOAL": Target("GOAL", FY, Decimal("1"), None, "p", 1)})

    assert lines_of_entity(data, tax_tree("WAGE")) == {"TAX", "WAGE", "PAYROLL", "GOAL"}


# --- which year has an outlook, and when it is complete ------------------------------------------


def wage_forecast(origin: PeriodKey, months: int, amount: str = "6000000") -> SeriesForecast:
    """Forecast ``months`` periods after ``origin``, as the forecast service's horizon would."""
    return SeriesForecast(origin, 1, {origin.shift(step): Decimal(amount) for step in range(1, months + 1)})


def year_figures(fiscal_year: int, forecast: SeriesForecast, **overrides: object) -> EntityFigures:
    """Figures of one fiscal year, keeping only the forecast values of that year as the repository loads them."""
    values = {period: value for period, value in forecast.values.items() if period.fiscal_year == fiscal_year}
    kept = SeriesForecast(forecast.origin, forecast.version, values)
    return figures(fiscal_year=fiscal_year, forecasts={("WAGE", ""): kept}, **overrides)


def test_later_year_target_is_not_compared() -> None:
    # The latest origin is FY2024-P06; an 18-month forecast covers FY2025 whole (P01-P12 at 6,000,000),
    # yet FY2025 has no outlook before its own actuals arrive: 72,000,000 against 80,000,000 stays unseen.
    forecast = wage_forecast(period(6), 18)
    target = Target("WAGE", FY + 1, Decimal("80000000"), None, "plan-1", 1)
    data = year_figures(FY + 1, forecast, targets={"WAGE": target})

    evaluation = evaluate_line(data, LineTree({}), DIRECTIONS, "WAGE", {Comparison.OUTLOOK_VS_TARGET})

    assert data.is_outlook_year is False
    assert evaluation.variance_lines == ()
    assert evaluation.skipped_outlook is None


def test_year_two_ahead_is_not_compared() -> None:
    # From FY2024-P12 the horizon reaches FY2026-P06: six months of 6,000,000 against a target of
    # 80,000,000 would read 36,000,000, -55 %, and ask for a review that nothing justifies.
    forecast = wage_forecast(period(12), 18)
    target = Target("WAGE", FY + 2, Decimal("80000000"), None, "plan-1", 1)
    data = year_figures(FY + 2, forecast, targets={"WAGE": target})

    evaluation = evaluate_line(data, LineTree({}), DIRECTIONS, "WAGE", {Comparison.OUTLOOK_VS_TARGET})

    outlook = data.outlook(["WAGE"])
    assert outlook is not None
    assert outlook.total == Decimal("36000000")
    assert evaluation.variance_lines == ()


def test_origin_at_p12_is_year_end() -> None:
    # Twelve months of 6,000,000 with the origin at P12: the outlook is the year's actuals, 72,000,000.
    forecast = wage_forecast(period(12), 18)
    target = Target("WAGE", FY, Decimal("80000000"), None, "plan-1", 1)
    data = year_figures(FY, forecast, balances={("WAGE", ""): monthly("6000000", 1, 12)}, targets={"WAGE": target})

    evaluation = evaluate_line(data, LineTree({}), DIRECTIONS, "WAGE", {Comparison.OUTLOOK_VS_TARGET})

    assert data.is_outlook_year is True
    assert data.uncovered_leaves(["WAGE"]) == []
    line = evaluation.variance_lines[0]
    assert line.value == Decimal("72000000")
    assert line.variance == Decimal("-8000000")


def test_partly_covered_leaf_skips_parent() -> None:
    # WAGE: actuals P01-P06 and a forecast to P12. BIRT: actuals P01-P06 but a forecast to P09 only,
    # so TAX would miss three months of BIRT (9,000,000) and is not compared with its target.
    balances = {("WAGE", ""): monthly("6000000", 1, 6), ("BIRT", ""): monthly("3000000", 1, 6)}
    forecasts = {("WAGE", ""): wage_forecast(period(6), 6), ("BIRT", ""): wage_forecast(period(6), 3, "3000000")}
    targets = {"TAX": Target("TAX", FY, Decimal("110000000"), None, "plan-1", 1),
               "WAGE": Target("WAGE", FY, Decimal("80000000"), None, "plan-1", 1)}
    data = figures(balances=balances, forecasts=forecasts, targets=targets)
    tree = tax_tree("WAGE", "BIRT")

    tax = evaluate_line(data, tree, DIRECTIONS, "TAX", {Comparison.OUTLOOK_VS_TARGET})
    wage = evaluate_line(data, tree, DIRECTIONS, "WAGE", {Comparison.OUTLOOK_VS_TARGET})

    assert data.uncovered_leaves(["BIRT", "WAGE"]) == ["BIRT"]
    assert tax.variance_lines == ()
    assert tax.skipped_outlook == ("outlook of PHL TAX FY2024 not evaluated: no forecast covers the rest of the "
                                   "year for BIRT")
    assert wage.variance_lines[0].value == Decimal("72000000")


def test_leaf_without_forecast_skips_outlook() -> None:
    # WAGE has six months of actuals and no forecast at all: there is nothing to add up to a year.
    data = figures(balances={("WAGE", ""): monthly("6000000", 1, 6)}, budgets={"WAGE": budget("6000000")},
                   forecasts={("BIRT", ""): wage_forecast(period(6), 6)})

    evaluation = evaluate_line(data, LineTree({}), DIRECTIONS, "WAGE", {Comparison.OUTLOOK_VS_BUDGET})

    assert evaluation.variance_lines == ()
    assert evaluation.skipped_outlook is not None
    assert evaluation.skipped_outlook.endswith("for WAGE")


def test_line_without_comparator_reports_nothing() -> None:
    data = figures(balances={("WAGE", ""): monthly("6000000", 1, 6)}, forecasts={("BIRT", ""): wage_forecast(
        period(6), 6)})

    evaluation = evaluate_line(data, LineTree({}), DIRECTIONS, "WAGE")

    assert evaluation.variance_lines == ()
    assert evaluation.skipped_outlook is None
