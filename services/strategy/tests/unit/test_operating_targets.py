"""Targets against the plan's own figures for FY2025: revenue 1000 and cost of sales 600.

- revenue target 1000: variance 0, within the band;
- cost_of_sales target 550: planned 600, less is better, so the variance is -50; the default
  band needs at least 1,000,000 as well as 5 %, so it stays within;
- gross_margin target 0.45 with band 5 % and no absolute floor: planned 0.4, variance -0.05,
  which is 11.1 % of the target, so the band is breached;
- receivable_days target 30: the plan has no receivables, so there is no figure.
"""

from datetime import UTC, datetime
from decimal import Decimal

from ipm_strategy.domain.drivers import STANDARD_LINES
from ipm_strategy.domain.kpis import kpis_by_year
from ipm_strategy.domain.operating_plans import OperatingPlan, OperatingTarget, PlanEntry, check_targets
from ipm_strategy.domain.plans import target_band

AT = datetime(2025, 1, 1, tzinfo=UTC)
ENTRIES = (PlanEntry(STANDARD_LINES["revenue"], 2025, Decimal(1000)),
           PlanEntry(STANDARD_LINES["cost_of_sales"], 2025, Decimal(600)))
TARGETS = (OperatingTarget("line", "revenue", 2025, Decimal(1000), target_band()),
           OperatingTarget("line", "cost_of_sales", 2025, Decimal(550), target_band()),
           OperatingTarget("kpi", "gross_margin", 2025, Decimal("0.45"), target_band(Decimal("0.05"), Decimal(0))),
           OperatingTarget("kpi", "receivable_days", 2025, Decimal(30), target_band(absolute=Decimal(0))))


def test_targets_against_plan_figures() -> None:
    plan = OperatingPlan("op", "ACME", "Plan", "proposed", 1, ENTRIES, targets=TARGETS)
    lines = plan.statement_lines

    checks = {check.target.line: check for check in check_targets(plan, kpis_by_year(lines))}

    assert (checks["revenue"].variance, checks["revenue"].within_band) == (Decimal(0), True)
    assert (checks["cost_of_sales"].planned, checks["cost_of_sales"].variance) == (Decimal(600), Decimal(-50))
    assert checks["cost_of_sales"].within_band is True
    assert checks["gross_margin"].planned == Decimal("0.400000")
    assert checks["gross_margin"].variance == Decimal("-0.050000")
    assert checks["gross_margin"].within_band is False
    assert (checks["receivable_days"].planned, checks["receivable_days"].within_band) == (None, None)
