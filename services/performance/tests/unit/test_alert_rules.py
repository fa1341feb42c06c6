"""Rule judgement with worked numbers: tiers, floor, direction, persistence, scope, restatement and validation.

Most cases compare with a comparator of 10,000,000 on a line where higher is better, so a
variance of -600,000 is 6 % unfavourable and +1,200,000 is 12 % favourable.
"""

from decimal import Decimal

import pytest

from ipm_common.errors import InvalidInput
from ipm_common.variance import Direction, ToleranceBand
from ipm_performance.domain.alerts import AlertState, AlertStatus, assess, decide, preceding_periods
from ipm_performance.domain.comparisons import Comparison, VarianceLine, compare
from ipm_performance.domain.figures import Target
from ipm_performance.domain.rule_settings import RuleSettings, build_rule
from ipm_performance.domain.rules import (
    DEFAULT_RULES,
    AlertRule,
    RuleName,
    RuleScope,
    Tier,
    judge,
    split_line,
    threshold_text_of,
)
from ipm_performance.service_layer.webhooks import RetryPolicy

COMPARATOR = Decimal("10000000")
YTD = frozenset({Comparison.ACTUAL_VS_BUDGET_YTD.value})


def rule(*tiers: Tier, floor: str | None = None, direction: str = "both", persistence: int = 1,
         scope: RuleScope | None = None) -> AlertRule:
    return AlertRule("spending", tiers, direction, False, YTD,  # type: ignore[arg-type]
                     scope or RuleScope(), Decimal(floor) if floor else None, persistence)


WARNING_5_CRITICAL_10 = rule(Tier("warning", Decimal("0.05")), Tier("critical", Decimal("0.10")))


def severity(judged: AlertRule, variance: str, comparator: Decimal = COMPARATOR) -> str | None:
    return judge(judged, Decimal(variance), comparator).severity


# --- tiers, floor and direction ------------------------------------------------------------------


def test_tier_needs_both_thresholds_when_both_are_set() -> None:
    # 600,000 is 6 %: above 5 % and above 500,000, but not above 1,000,000.
    both_reached = rule(Tier("warning", Decimal("0.05"), Decimal("500000")))
    absolute_missed = rule(Tier("warning", Decimal("0.05"), Decimal("1000000")))

    assert severity(both_reached, "-600000") == "warning"
    assert severity(absolute_missed, "-600000") is None


def test_highest_tier_reached_sets_severity() -> None:
    # 700,000 is 7 %: warning only. 1,200,000 is 12 %: critical. 400,000 is 4 %: below every tier.
    assert severity(WARNING_5_CRITICAL_10, "-700000") == "warning"
    assert severity(WARNING_5_CRITICAL_10, "-1200000") == "critical"
    assert severity(WARNING_5_CRITICAL_10, "-400000") is None


def test_floor_holds_back_small_variances() -> None:
    # On a comparator of 2,000,000, 600,000 is 30 %: far above 5 %, but below the floor of 1,000,000.
    floored = rule(Tier("warning", Decimal("0.05")), floor="1000000")

    assert severity(floored, "-600000", Decimal("2000000")) is None
    assert severity(floored, "-1200000", Decimal("2000000")) == "warning"


def test_unfavourable_direction_ignores_favourable() -> None:
    unfavourable = rule(Tier("warning", Decimal("0.05")), direction="unfavourable")

    assert severity(unfavourable, "1200000") is None
    assert severity(unfavourable, "-1200000") == "warning"
    assert severity(WARNING_5_CRITICAL_10, "1200000") == "critical"


def test_zero_comparator_needs_absolute_threshold() -> None:
    # The percentage of a zero comparator is undefined, so only an absolute threshold can decide.
    pct_only = rule(Tier("warning", Decimal("0.05")))
    with_absolute = rule(Tier("warning", Decimal("0.05"), Decimal("100000")))

    assert severity(pct_only, "-200000", Decimal(0)) is None
    assert severity(with_absolute, "-200000", Decimal(0)) == "warning"


def test_target_band_replaces_strategic_tiers() -> None:
    # The target's own band of 2 % and 100,000: 300,000 below 10,000,000 is 3 %, so it breaches,
    # while the rule's default band of 5 % and 1,000,000 would not.
    strategic = DEFAULT_RULES[RuleName.STRATEGIC_TARGET_BAND]
    target = Target("WAGE", 2024, COMPARATOR, ToleranceBand(Decimal("0.02"), Decimal("100000")), "plan", 1)

    assert judge(strategic, Decimal("-300000"), COMPARATOR, target).severity == "critical"
    assert judge(strategic, Decimal("-300000"), COMPARATOR, None).severity is None


# --- persistence ---------------------------------------------------------------------------------


def ytd_line(variance: str, period: str = "FY2024-P03") -> VarianceLine:
    value = COMPARATOR + Decimal(variance)
    return compare("PHL", "PAYROLL", Comparison.ACTUAL_VS_BUDGET_YTD, period, 2024, value=value,
                   comparator=COMPARATOR, direction=Direction.HIGHER_IS_BETTER, figures_version=3)


def test_persistence_needs_consecutive_breaches() -> None:
    three = rule(Tier("warning", Decimal("0.05")), persistence=3)
    breach = (Decimal("-600000"), COMPARATOR)
    within = (Decimal("-100000"), COMPARATOR)

    assert assess(ytd_line("-700000"), three, None, [breach, breach]).breached is True
    assert assess(ytd_line("-700000"), three, None, [breach, within]).breached is False
    assert assess(ytd_line("-700000"), three, None, [breach]).breached is False


def test_preceding_periods_cross_the_year() -> None:
    assert preceding_periods("FY2024-P02", 3) == ["FY2024-P01", "FY2023-P12", "FY2023-P11"]
    assert preceding_periods("FY2024", 2) == ["FY2023", "FY2022"]


# --- scope ---------------------------------------------------------------------------------------


def test_scope_separates_entity_and_cost_centre_lines() -> None:
    entity_only = RuleScope()
    every_centre = RuleScope(cost_centre="*")
    police = RuleScope(entity_id="PHL-GF", cost_centre="11")

    assert entity_only.covers("PHL-GF", "obligations") is True
    assert entity_only.covers("PHL-GF", "obligations@11") is False
    assert every_centre.covers("PHL-GF", "obligations@11") is True
    assert every_centre.covers("PHL-GF", "obligations") is False
    assert police.covers("PHL-GF", "obligations@11") is True
    assert police.covers("PHL-GF", "obligations@12") is False
    assert police.covers("OTHER", "obligations@11") is False


def test_scope_node_covers_lines_below_it() -> None:
    taxes = RuleScope(node="TAX")

    assert taxes.covers("PHL", "WAGE", ancestors={"TAX", "REVENUE"}) is True
    assert taxes.covers("PHL", "TAX") is True
    assert taxes.covers("PHL", "PARKING", ancestors={"OTHER"}) is False
    assert RuleScope(line="WAGE").covers("PHL", "WAGE") is True


def test_split_line_of_cost_centre() -> None:
    assert split_line("obligations@35-EB") == ("obligations", "35-EB")
    assert split_line("WAGE") == ("WAGE", None)


# --- restatement ---------------------------------------------------------------------------------


def test_new_figures_for_past_period_restate() -> None:
    judged = WARNING_5_CRITICAL_10
    before = assess(ytd_line("-700000"), judged, None)
    after_past = assess(ytd_line("-800000"), judged, None, past_period=True)
    after_current = assess(ytd_line("-800000"), judged, None, past_period=False)
    stored = AlertState(AlertStatus.RAISED, before.figures, False)

    assert decide(stored, after_past).restated is True
    assert decide(stored, after_past).status is AlertStatus.UPDATED
    assert decide(stored, after_current).restated is False


def test_same_batch_figures_do_not_restate() -> None:
    # The first events of one ERP batch see its figures in part, and they share its correlation id.
    before = assess(ytd_line("-700000"), WARNING_5_CRITICAL_10, None)
    after = assess(ytd_line("-800000"), WARNING_5_CRITICAL_10, None, past_period=True)
    stored = AlertState(AlertStatus.RAISED, before.figures, False, correlation_id="batch-7")

    assert decide(stored, after, "batch-7").restated is False
    assert decide(stored, after, "batch-8").restated is True


def test_redelivered_figures_change_nothing() -> None:
    judged = assess(ytd_line("-700000"), WARNING_5_CRITICAL_10, None, past_period=True)

    assert decide(AlertState(AlertStatus.UPDATED, judged.figures, False), judged).status is None


# --- settings validation -------------------------------------------------------------------------


def settings(**changes: object) -> RuleSettings:
    base: dict[str, object] = {"tiers": [Tier("warning", Decimal("0.05"))], "comparisons": ["actual_vs_budget_ytd"]}
    return RuleSettings(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "field"), [
    ({"comparisons": None}, "comparisons"),
    ({"comparisons": ["actual_vs_budget_ytd", "forecast_vs_moon"]}, "comparisons[1]"),
    ({"tiers": []}, "tiers"),
    ({"tiers": [Tier("warning")]}, "tiers[0]"),
    ({"tiers": [Tier("warning", Decimal("0.05")), Tier("warning", Decimal("0.1"))]}, "tiers[1].severity"),
    ({"tiers": [Tier("critical", Decimal("5"))]}, "tiers[0].pct"),
    ({"tiers": [Tier("critical", Decimal("0.1"))], "tier_fields": [""]}, None),
    ({"tiers": [Tier("critical", absolute=Decimal("-1"))], "tier_fields": [""]}, "absolute"),
    ({"floor": Decimal("-5")}, "floor"),
    ({"persistence": 0}, "persistence"),
    ({"persistence": 25}, "persistence"),
])
def test_invalid_settings_name_the_field(changes: dict[str, object], field: str | None) -> None:
    if field is None:
        assert build_rule("spending", settings(**changes)).severity == "critical"
        return
    with pytest.raises(InvalidInput) as raised:
        build_rule("spending", settings(**changes))
    assert raised.value.field == field


def test_builtin_rule_keeps_its_comparisons() -> None:
    kept = build_rule("budget_variance", settings(comparisons=None))

    assert kept.comparisons == DEFAULT_RULES[RuleName.BUDGET_VARIANCE].comparisons
    with pytest.raises(InvalidInput) as raised:
        build_rule("budget_variance", settings(comparisons=["outlook_vs_target"]))
    assert raised.value.field == "comparisons"


def test_tiers_are_sorted_and_described() -> None:
    built = build_rule("spending", settings(tiers=[Tier("critical", Decimal("0.10")), Tier("warning", Decimal("0.05"))],
                                            floor=Decimal("1000000"), direction="unfavourable"))

    assert [tier.severity for tier in built.tiers] == ["warning", "critical"]
    assert threshold_text_of(built.tiers, built.direction, built.floor) == (
        "warning at 5%, critical at 10%, floor 1000000, unfavourable only")


def test_retry_delay_doubles_to_the_cap() -> None:
    policy = RetryPolicy(first=1.0, cap=300.0)

    assert [policy.delay(attempt) for attempt in (1, 2, 3, 10)] == [1.0, 2.0, 4.0, 300.0]
