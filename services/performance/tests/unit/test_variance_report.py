"""Variance reports with worked numbers: QTD on a July–June calendar, lagged forecasts, drift, phasing, currency.

The entity runs July to June, named by the year it ends, so FY2024-P05 is November 2023 and its
fiscal quarter to date is P04 (October) and P05. WAGE earns 100.00 a period against a budget of
110.00, BIRT 50.00 against 40.00; both sit under TAX, whose strategic target is 1500.00.
WAGE's forecast was re-rolled after each period: the version made after P01 forecasts 90.00 a
period, after P02 95.00, after P03 98.00, after P04 101.00 and after P05 102.00.
"""

from datetime import date
from decimal import Decimal

import pytest

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import MissingRate
from ipm_common.fx import Rate, RateTable
from ipm_common.periods import PeriodKey
from ipm_common.reference import Hierarchy
from ipm_common.spreading import Phasing
from ipm_common.variance import Direction, ToleranceBand
from ipm_performance.domain.lines import LineTree
from ipm_performance.domain.report_inputs import ForecastVersion, ReportInputs, ReportRequest, Translation
from ipm_performance.domain.reports import ReportLine, Span, build_report, span_periods

FY = 2024
CALENDAR = FiscalCalendar(start_month=7, year_named_by="end")
DIRECTIONS = {"WAGE": "higher_is_better", "BIRT": "higher_is_better", "PAYROLL": "lower_is_better"}
USD = Translation("USD", "USD")


def period(number: int, fiscal_year: int = FY) -> PeriodKey:
    return PeriodKey(fiscal_year, number)


def wage_versions() -> list[ForecastVersion]:
    levels = {1: "90", 2: "95", 3: "98", 4: "101", 5: "102"}
    return [ForecastVersion(origin, period(origin), {period(p): Decimal(level) for p in range(origin + 1, 13)})
            for origin, level in levels.items()]


def inputs(**overrides: object) -> ReportInputs:
    values: dict[str, object] = {
        "entity_id": "PHL",
        "calendar": CALENDAR,
        "actuals": {("WAGE", ""): {period(p): Decimal("100.00") for p in range(1, 6)},
                    ("BIRT", ""): {period(p): Decimal("50.00") for p in range(1, 6)}},
        "budgets": {"WAGE": {period(p): Decimal("110.00") for p in range(1, 13)},
                    "BIRT": {period(p): Decimal("40.00") for p in range(1, 13)}},
        "forecasts": {("WAGE", ""): wage_versions()},
        "targets": {"TAX": Decimal("1500.00")},
    }
    values.update(overrides)
    return ReportInputs(**values)  # type: ignore[arg-type]


def tax_tree(**edges: str) -> LineTree:
    return LineTree.from_hierarchies([Hierarchy("revenue", "account", edges or {"WAGE": "TAX", "BIRT": "TAX"})])


def report(request: ReportRequest | None = None, translation: Translation = USD, tree: LineTree | None = None,
           **overrides: object) -> dict[tuple[str, str, Span], ReportLine]:
    lines = build_report(inputs(**overrides), request or ReportRequest(period(5)), tree or tax_tree(), DIRECTIONS,
                         translation)
    return {(line.line, line.comparison, line.span): line for line in lines}


def test_quarter_to_date_on_july_june_calendar() -> None:
    assert span_periods(Span.QTD, period(5)) == [period(4), period(5)]
    assert span_periods(Span.QTD, period(7)) == [period(7)]
    assert span_periods(Span.YTD, period(5)) == [period(p) for p in range(1, 6)]

    found = report()

    # WAGE QTD: actual 100 + 100 = 200 against budget 110 + 110 = 220; -20 / 220 = -0.090909.
    wage = found[("WAGE", "actual_vs_budget", Span.QTD)]
    assert wage.value == Decimal("200.00")
    assert wage.comparator == Decimal("220.00")
    assert wage.variance == Decimal("-20.00")
    assert wage.variance_pct == Decimal("-0.090909")
    assert wage.period == "FY2024-P05"
    assert wage.phasing is Phasing.FULL_PERIOD
    # TAX QTD: 200 + 100 = 300 against 220 + 80 = 300.
    tax = found[("TAX", "actual_vs_budget", Span.QTD)]
    assert tax.value == Decimal("300.00")
    assert tax.variance == Decimal("0.00")
    # TAX YTD: 5 × 150 = 750 against 5 × 150 = 750; TAX period: 150 against 150.
    assert found[("TAX", "actual_vs_budget", Span.YTD)].comparator == Decimal("750.00")
    assert found[("BIRT", "actual_vs_budget", Span.PERIOD)].variance == Decimal("10.00")


def test_lagged_forecasts_take_the_version_made_earlier() -> None:
    found = report()

    # Lag 1 for P05 is the version made after P04: 101. Actual 100, so -1 and -1 / 101 = -0.009901.
    lag_1 = found[("WAGE", "actual_vs_forecast_lag_1", Span.PERIOD)]
    assert lag_1.comparator == Decimal("101.00")
    assert lag_1.variance == Decimal("-1.00")
    assert lag_1.variance_pct == Decimal("-0.009901")
    # Lag 3 for P05 is the version made after P02: 95.
    assert found[("WAGE", "actual_vs_forecast_lag_3", Span.PERIOD)].comparator == Decimal("95.00")
    # Lag 1 QTD: P04 by the version after P03 (98) plus P05 by the version after P04 (101) = 199.
    assert found[("WAGE", "actual_vs_forecast_lag_1", Span.QTD)].comparator == Decimal("199.00")
    assert found[("WAGE", "actual_vs_forecast_lag_1", Span.QTD)].variance == Decimal("1.00")
    # No version was made 6 periods before P05, so there is nothing to compare with.
    assert found[("WAGE", "actual_vs_forecast_lag_6", Span.PERIOD)].comparator is None
    assert found[("WAGE", "actual_vs_forecast_lag_6", Span.PERIOD)].variance is None


def test_outlook_drift_budget_and_target() -> None:
    found = report()

    # Latest version (after P05): 5 × 100 + 7 × 102 = 1214. Previous (after P04): 4 × 100 + 8 × 101 = 1208.
    drift = found[("WAGE", "forecast_drift", Span.FULL_YEAR)]
    assert drift.value == Decimal("1214.00")
    assert drift.comparator == Decimal("1208.00")
    assert drift.variance == Decimal("6.00")
    assert drift.variance_pct == Decimal("0.004967")
    assert drift.period == "FY2024"
    # Against the year's budget of 12 × 110 = 1320: -106.
    assert found[("WAGE", "outlook_vs_budget", Span.FULL_YEAR)].variance == Decimal("-106.00")
    # BIRT has no forecast, so its outlook is its actuals, 250; TAX = 1214 + 250 = 1464 against 1500.
    target = found[("TAX", "outlook_vs_target", Span.FULL_YEAR)]
    assert target.value == Decimal("1464.00")
    assert target.comparator == Decimal("1500.00")
    assert target.variance == Decimal("-36.00")
    assert target.variance_pct == Decimal("-0.024000")


def test_pro_rata_phasing_of_an_unfinished_period() -> None:
    request = ReportRequest(period(5), as_of=date(2023, 11, 15), phasing=Phasing.PRO_RATA_DAYS)

    found = report(request)

    # 15 of November's 30 days have passed: the P05 budget of 110 counts 55.
    wage = found[("WAGE", "actual_vs_budget", Span.PERIOD)]
    assert wage.comparator == Decimal("55.00")
    assert wage.variance == Decimal("45.00")
    assert wage.phasing is Phasing.PRO_RATA_DAYS
    # QTD: the whole October (110) plus half of November (55) = 165.
    assert found[("WAGE", "actual_vs_budget", Span.QTD)].comparator == Decimal("165.00")
    # Full-year comparisons always use whole periods.
    assert found[("WAGE", "outlook_vs_budget", Span.FULL_YEAR)].phasing is Phasing.FULL_PERIOD


def test_ended_period_keeps_full_phasing() -> None:
    request = ReportRequest(period(5), as_of=date(2023, 12, 2), phasing=Phasing.PRO_RATA_DAYS)

    found = report(request)

    assert found[("WAGE", "actual_vs_budget", Span.PERIOD)].comparator == Decimal("110.00")
    assert found[("WAGE", "actual_vs_budget", Span.PERIOD)].phasing is Phasing.FULL_PERIOD


def test_reparented_leaf_moves_at_once() -> None:
    moved = tax_tree(WAGE="TAX", BIRT="OTHER")

    found = report(tree=moved)

    # TAX now contains only WAGE: 100 against 110 for P05, and OTHER contains BIRT: 50 against 40.
    assert found[("TAX", "actual_vs_budget", Span.PERIOD)].value == Decimal("100.00")
    assert found[("TAX", "actual_vs_budget", Span.PERIOD)].variance == Decimal("-10.00")
    assert found[("OTHER", "actual_vs_budget", Span.PERIOD)].variance == Decimal("10.00")


def test_four_level_hierarchy_sums_every_level() -> None:
    deep = tax_tree(WAGE="TAX", BIRT="TAX", TAX="REVENUE", REVENUE="GENERAL_FUND")

    found = report(tree=deep)

    assert found[("GENERAL_FUND", "actual_vs_budget", Span.YTD)].value == Decimal("750.00")
    assert found[("REVENUE", "actual_vs_budget", Span.PERIOD)].comparator == Decimal("150.00")


def test_lower_is_better_line_flips_the_sign() -> None:
    found = report(actuals={("PAYROLL", ""): {period(5): Decimal("120.00")}},
                   budgets={"PAYROLL": {period(p): Decimal("100.00") for p in range(1, 13)}}, forecasts={},
                   targets={}, tree=tax_tree(PAYROLL="COSTS"))

    # Spending 120 against 100 is 20 unfavourable: (120 - 100) × -1 = -20, -20 / 100 = -0.2.
    payroll = found[("PAYROLL", "actual_vs_budget", Span.PERIOD)]
    assert payroll.variance == Decimal("-20.00")
    assert payroll.variance_pct == Decimal("-0.200000")
    assert payroll.favourable is False
    assert found[("COSTS", "actual_vs_budget", Span.PERIOD)].variance == Decimal("-20.00")


def test_zero_comparator_gives_null_percentage_and_flags_absolute() -> None:
    request = ReportRequest(period(5), band=ToleranceBand(Decimal("0.10"), Decimal("5"), "both"))

    found = report(request, budgets={"WAGE": {period(p): Decimal(0) for p in range(1, 13)}})

    wage = found[("WAGE", "actual_vs_budget", Span.PERIOD)]
    assert wage.variance == Decimal("100.00")
    assert wage.variance_pct is None
    assert wage.breach is True


def test_threshold_flags_need_both_limits() -> None:
    request = ReportRequest(period(5), band=ToleranceBand(Decimal("0.10"), Decimal("15"), "both"))

    found = report(request)

    # WAGE QTD -20 is 9.09 %: under 10 %, so no breach. BIRT YTD +50 against 200 is 25 % and over 15.
    assert found[("WAGE", "actual_vs_budget", Span.QTD)].breach is False
    assert found[("BIRT", "actual_vs_budget", Span.YTD)].breach is True
    # BIRT period +10 is 25 % but under the absolute 15.
    assert found[("BIRT", "actual_vs_budget", Span.PERIOD)].breach is False


def rates() -> RateTable:
    found = []
    for p in range(1, 13):
        found.append(Rate("USD", "EUR", "average", str(period(p)), Decimal("0.9")))
        found.append(Rate("USD", "EUR", "budget", str(period(p)), Decimal("0.8")))
    return RateTable("USD", found)


def test_translation_and_constant_currency() -> None:
    translated = report(translation=Translation("USD", "EUR", rates()))
    constant = report(translation=Translation("USD", "EUR", rates(), constant_currency=True))

    # At actual (average) rates: 100 × 0.9 = 90 EUR against the budget 110 × 0.8 = 88 EUR: +2.
    assert translated[("WAGE", "actual_vs_budget", Span.PERIOD)].value == Decimal("90.00")
    assert translated[("WAGE", "actual_vs_budget", Span.PERIOD)].variance == Decimal("2.00")
    # At constant (budget) rates: 100 × 0.8 = 80 against 88: -8, the same -10 USD in EUR.
    assert constant[("WAGE", "actual_vs_budget", Span.PERIOD)].value == Decimal("80.00")
    assert constant[("WAGE", "actual_vs_budget", Span.PERIOD)].variance == Decimal("-8.00")
    # The target of 1500 USD at the budget rate of P12: 1200 EUR.
    assert constant[("TAX", "outlook_vs_target", Span.FULL_YEAR)].comparator == Decimal("1200.00")


def test_missing_rate_is_an_error() -> None:
    table = RateTable("USD", [Rate("USD", "EUR", "budget", str(period(p)), Decimal("0.8")) for p in range(1, 13)])

    with pytest.raises(MissingRate, match="no average rate USD/EUR for FY2024-P05"):
        report(translation=Translation("USD", "EUR", table))


# --- KPIs, bridge and scorecard --------------------------------------------------------------------


def test_bridge_steps_sum_to_outlook_less_budget() -> None:
    from ipm_performance.domain.bridge import build_bridge

    versions = [ForecastVersion(5, period(5), {period(p): Decimal("102.00") for p in range(6, 13)},
                                {period(p): Decimal("2.00") for p in range(6, 13)})]
    data = inputs(forecasts={("WAGE", ""): versions},
                  realised_benefits={"WAGE": {period(5): Decimal("3.00")}},
                  planned_benefits={"WAGE": {period(4): Decimal("2.00"), period(5): Decimal("4.00")}})

    bridge = build_bridge(data, tax_tree(), "WAGE", period(5), USD)

    steps = {step.name: step for step in bridge.steps}
    # Budget 12 × 110 = 1320; outlook 5 × 100 + 7 × 102 = 1214.
    assert bridge.budget == Decimal("1320.00")
    assert bridge.outlook == Decimal("1214.00")
    # To date: 500 - 550 = -50, of which 3 was realised by projects: -53 and +3.
    assert steps["actuals_to_date"].amount == Decimal("-53.00")
    assert steps["benefits_realised"].amount == Decimal("3.00")
    assert steps["benefits_realised"].detail["shortfall"] == Decimal("3.00")
    # After P05: 7 × 2 benefit layer; 7 × (102 - 2 - 110) = -70 forecast change.
    assert steps["benefits_planned"].amount == Decimal("14.00")
    assert steps["forecast_change"].amount == Decimal("-70.00")
    assert steps["currency_effect"].amount == Decimal("0.00")
    assert sum(step.amount for step in bridge.steps) == Decimal("-106.00")


def test_bridge_currency_effect_and_volume_price_mix() -> None:
    from ipm_performance.domain.bridge import build_bridge

    data = inputs(
        actuals={("WAGE", ""): {period(p): Decimal("100.00") for p in range(1, 6)},
                 ("BIRT", ""): {period(p): Decimal("50.00") for p in range(1, 6)},
                 ("WAGE_UNITS", ""): {period(p): Decimal("12") for p in range(1, 6)},
                 ("BIRT_UNITS", ""): {period(p): Decimal("4") for p in range(1, 6)}},
        budgets={"WAGE": {period(p): Decimal("110.00") for p in range(1, 13)},
                 "BIRT": {period(p): Decimal("40.00") for p in range(1, 13)},
                 "WAGE_UNITS": {period(p): Decimal("11") for p in range(1, 13)},
                 "BIRT_UNITS": {period(p): Decimal("4") for p in range(1, 13)}},
        forecasts={key: [ForecastVersion(5, period(5), {period(p): Decimal(amount) for p in range(6, 13)})]
                   for key, amount in ((("WAGE", ""), "100.00"), (("BIRT", ""), "50.00"))},
        volume_drivers={"WAGE": "WAGE_UNITS", "BIRT": "BIRT_UNITS"})

    bridge = build_bridge(data, tax_tree(), "TAX", period(5), Translation("USD", "EUR", rates()))

    steps = {step.name: step.amount for step in bridge.steps}
    # Budget at the budget rate 0.8: 12 × 150 × 0.8 = 1440 EUR. Outlook at average 0.9 to P05 and
    # budget 0.8 after it: 5 × 150 × 0.9 + 7 × 150 × 0.8 = 675 + 840 = 1515 EUR.
    assert bridge.budget == Decimal("1440.00")
    assert bridge.outlook == Decimal("1515.00")
    # The currency effect is the actuals to date at 0.9 rather than 0.8: 750 × 0.1 = 75.
    assert steps["currency_effect"] == Decimal("75.00")
    # Volume to date at the TAX budget price: (80 - 75) units × 600 / 75 = 40.
    # WAGE alone: (60 - 55) × 440 / 55 = 40; BIRT: 0. Mix = 40 - 40 = 0.
    assert steps["volume"] == Decimal("40.00")
    assert steps["mix"] == Decimal("0.00")
    # To date at plan rates: 750 × 0.8 - 600 = 0, so the price step is -40.
    assert steps["price"] == Decimal("-40.00")
    assert sum(steps.values()) == bridge.outlook - bridge.budget


def test_kpi_formulas_on_lines() -> None:
    from ipm_performance.domain.formulas import formula_of_kind, parse_formula
    from ipm_performance.domain.kpis import KpiDefinition, KpiTarget, kpi_values
    from ipm_performance.domain.leaf_figures import LeafFigures

    margin = formula_of_kind("gross_margin", {"revenue": "TAX", "cost_of_sales": "BIRT"})
    assert margin == "({TAX} - {BIRT}) / {TAX}"
    definitions = [KpiDefinition("margin", "Gross margin", margin, Direction.HIGHER_IS_BETTER),
                   KpiDefinition("share", "Wage share", "WAGE / (WAGE - WAGE)", Direction.HIGHER_IS_BETTER)]
    targets = {"margin": KpiTarget("margin", FY, Decimal("0.7"), ToleranceBand(Decimal("0.05"), Decimal(0)))}

    values = kpi_values(definitions, targets, LeafFigures(inputs(), USD), tax_tree(), period(5))

    by_key = {(value.kpi_id, value.span): value for value in values}
    # Period: (150 - 50) / 150 = 0.666667; against 0.7: -0.033333, -0.033333 / 0.7 = -0.047619.
    assert by_key[("margin", Span.PERIOD)].value == Decimal("0.666667")
    assert by_key[("margin", Span.PERIOD)].variance == Decimal("-0.033333")
    assert by_key[("margin", Span.PERIOD)].variance_pct == Decimal("-0.047619")
    # Dividing by zero gives no value.
    assert by_key[("share", Span.PERIOD)].value is None
    assert parse_formula("-(A + 2) * {B c} / prior(A)").references == {
        *parse_formula("A").references, *parse_formula("{B c}").references, *parse_formula("prior(A)").references}


def test_formula_errors_name_the_position() -> None:
    from ipm_common.errors import InvalidInput
    from ipm_performance.domain.formulas import parse_formula

    for text, position in (("SALES +", 7), ("(SALES", 6), ("SALES ** 2", 7), ("__import__('os')", 11),
                           ("SALES; 1", 5)):
        with pytest.raises(InvalidInput, match=f"at position {position}"):
            parse_formula(text)


def test_formula_arithmetic_is_decimal() -> None:
    from ipm_performance.domain.formulas import parse_formula

    values = {"A": Decimal("0.1"), "B": Decimal("0.2")}
    result = parse_formula("A + B * 3 - (A - B) / 2").evaluate(lambda ref: values[ref.line])

    # 0.1 + 0.6 - (-0.1 / 2) = 0.75, exactly.
    assert result == Decimal("0.75")


def test_scorecard_status_bands_and_trend() -> None:
    from ipm_performance.domain.scorecard import Status, Trend, status_of, trend_of

    band = ToleranceBand(Decimal("0.05"), Decimal("10"))
    # Against 1000: -40 is 4 %, inside the band; -80 is 8 % and 80, inside twice the band; -120 beyond.
    assert status_of(Decimal("-40"), Decimal("1000"), band) is Status.ON_TRACK
    assert status_of(Decimal("-80"), Decimal("1000"), band) is Status.AT_RISK
    assert status_of(Decimal("-120"), Decimal("1000"), band) is Status.OFF_TRACK
    assert status_of(Decimal("500"), Decimal("1000"), band) is Status.ON_TRACK
    assert status_of(None, Decimal("1000"), band) is None
    assert trend_of([Decimal(-3), Decimal(-2), Decimal(1)]) is Trend.IMPROVING
    assert trend_of([Decimal(3), Decimal(2), Decimal(1)]) is Trend.WORSENING
    assert trend_of([Decimal(1), Decimal(1), Decimal(1)]) is Trend.FLAT
    assert trend_of([Decimal(1), Decimal(3), Decimal(1)]) is Trend.MIXED
    assert trend_of([None, Decimal(3), Decimal(1)]) is None


def test_lag_twelve_reaches_the_previous_year() -> None:
    year_ago = ForecastVersion(0, period(5, FY - 1), {period(p): Decimal("97.00") for p in range(1, 13)})

    found = report(forecasts={("WAGE", ""): [year_ago, *wage_versions()]})

    # The version made after FY2023-P05 forecast 97 for FY2024-P05, and the actual was 100.
    lag = found[("WAGE", "actual_vs_forecast_lag_12", Span.PERIOD)]
    assert lag.comparator == Decimal("97.00")
    assert lag.variance == Decimal("3.00")
    # Lag 6 for P05 is the version in force after FY2023-P11: still the one made after FY2023-P05.
    assert found[("WAGE", "actual_vs_forecast_lag_6", Span.PERIOD)].comparator == Decimal("97.00")


def test_named_hierarchies_roll_up_separately() -> None:
    by_tax = LineTree.from_hierarchies([Hierarchy("revenue", "account", {"WAGE": "TAX", "BIRT": "TAX"})])
    by_source = LineTree.from_hierarchies([Hierarchy("sources", "account", {"WAGE": "PEOPLE", "BIRT": "FIRMS"})])

    tax = report(tree=by_tax)
    source = report(tree=by_source)

    assert tax[("TAX", "actual_vs_budget", Span.PERIOD)].value == Decimal("150.00")
    assert ("PEOPLE", "actual_vs_budget", Span.PERIOD) not in tax
    assert source[("PEOPLE", "actual_vs_budget", Span.PERIOD)].value == Decimal("100.00")
    assert source[("FIRMS", "actual_vs_budget", Span.PERIOD)].value == Decimal("50.00")


def test_node_budget_replaces_leaf_sum() -> None:
    budgets = {"WAGE": {period(p): Decimal("110.00") for p in range(1, 13)},
               "BIRT": {period(p): Decimal("40.00") for p in range(1, 13)},
               "TAX": {period(p): Decimal("140.00") for p in range(1, 13)}}

    found = report(budgets=budgets, tree=tax_tree(WAGE="TAX", BIRT="TAX", TAX="ALL"))

    # TAX's own budget of 140 wins over 110 + 40; its parent ALL sums the leaves again: 150.
    assert found[("TAX", "actual_vs_budget", Span.PERIOD)].comparator == Decimal("140.00")
    assert found[("TAX", "actual_vs_budget", Span.PERIOD)].variance == Decimal("10.00")
    assert found[("ALL", "actual_vs_budget", Span.PERIOD)].comparator == Decimal("150.00")


def test_report_lines_convert_for_alert_rules() -> None:
    from ipm_performance.domain.comparisons import Comparison
    from ipm_performance.domain.reports import to_variance_line

    found = report()

    ytd = to_variance_line(found[("WAGE", "actual_vs_budget", Span.YTD)], "PHL", FY, figures_version=7)
    assert ytd is not None
    assert ytd.comparison is Comparison.ACTUAL_VS_BUDGET_YTD
    # YTD: 500 against 550.
    assert ytd.variance == Decimal("-50.00")
    assert ytd.figures_version == 7
    assert to_variance_line(found[("WAGE", "actual_vs_budget", Span.QTD)], "PHL", FY, 7) is None
    assert to_variance_line(found[("WAGE", "actual_vs_forecast_lag_6", Span.PERIOD)], "PHL", FY, 7) is None
