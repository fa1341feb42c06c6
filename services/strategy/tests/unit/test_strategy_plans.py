from decimal import Decimal

import pytest

from ipm_common.errors import InvalidInput
from ipm_common.variance import DEFAULT_TARGET_BAND
from ipm_strategy.domain.plans import (
    PlanLine,
    TargetRequest,
    check_target_lines,
    current_targets,
    draft_plan,
    target_band,
)


def test_default_band_is_five_percent_and_one_million() -> None:
    band = target_band()

    assert band == DEFAULT_TARGET_BAND
    assert band.pct == Decimal("0.05")
    assert band.absolute == Decimal(1000000)
    assert band.scope == "both"


@pytest.mark.parametrize(("target", "outlook", "breached"), [
    # 6 % short of 10,000,000 is only 600,000, below the absolute limit.
    ("10000000", "9400000", False),
    # 6 % short of 50,000,000 is 3,000,000: both limits reached.
    ("50000000", "47000000", True),
    # 4 % short of 50,000,000 is 2,000,000: the 5 % limit is not reached.
    ("50000000", "48000000", False),
    # Either direction counts: 6 % above the target breaches as well.
    ("50000000", "53000000", True),
])
def test_default_band_needs_both_limits(target: str, outlook: str, breached: bool) -> None:
    variance = Decimal(outlook) - Decimal(target)

    assert target_band().breached(variance, Decimal(target)) is breached


def test_band_fields_default_one_by_one() -> None:
    band = target_band(pct=Decimal("0.02"))

    assert band.pct == Decimal("0.02")
    assert band.absolute == Decimal(1000000)
    assert band.scope == "both"


def test_targets_take_default_band() -> None:
    plan = draft_plan("fyp-2025", "PHL", "Five-year plan FY2025", "adopted", 2025, [],
                      [TargetRequest("wage_tax", 2025, Decimal("2203000000"))])

    assert plan.targets[0].band == DEFAULT_TARGET_BAND


def test_proposed_plan_cannot_set_targets() -> None:
    with pytest.raises(InvalidInput) as raised:
        draft_plan("draft", "PHL", "Proposed", "proposed", 2025, [],
                   [TargetRequest("wage_tax", 2025, Decimal(1))])

    assert raised.value.field == "targets"


def test_proposed_plan_without_targets_is_valid() -> None:
    plan = draft_plan("draft", "PHL", "Proposed", "proposed", 2025, [PlanLine("wage_tax", 2025, Decimal(5))], [])

    assert plan.lines == (PlanLine("wage_tax", 2025, Decimal(5)),)
    assert plan.targets == ()


def test_repeated_line_is_rejected() -> None:
    lines = [PlanLine("wage_tax", 2025, Decimal(1)), PlanLine("wage_tax", 2026, Decimal(2)),
             PlanLine("wage_tax", 2025, Decimal(3))]

    with pytest.raises(InvalidInput) as raised:
        draft_plan("p", "PHL", "Plan", "adopted", 2025, lines, [])

    assert raised.value.field == "lines[2]"
    assert "repeats lines[0]" in str(raised.value)


def test_negative_band_names_target_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        draft_plan("p", "PHL", "Plan", "adopted", 2025, [],
                   [TargetRequest("wage_tax", 2025, Decimal(1), band_absolute=Decimal(-5))])

    assert raised.value.field == "targets[0].band_absolute"
    assert str(raised.value) == "targets[0].band_absolute: -5 is negative; expected zero or more"


def test_same_content_in_other_order_is_equal() -> None:
    first = draft_plan("p", "PHL", "Plan", "adopted", 2025,
                       [PlanLine("a", 2025, Decimal("100")), PlanLine("b", 2025, Decimal("7.5"))],
                       [TargetRequest("a", 2025, Decimal("100"))])
    second = draft_plan("p", "PHL", "Plan", "adopted", 2025,
                        [PlanLine("b", 2025, Decimal("7.50")), PlanLine("a", 2025, Decimal("100.00"))],
                        [TargetRequest("a", 2025, Decimal("100"), band_pct=Decimal("0.05"))])

    assert first == second


def test_latest_targets_version_wins() -> None:
    old = draft_plan("fyp-2024", "PHL", "Old", "adopted", 2024, [],
                     [TargetRequest("wage_tax", 2025, Decimal(100)), TargetRequest("bit", 2025, Decimal(50))])
    new = draft_plan("fyp-2025", "PHL", "New", "revised", 2025, [], [TargetRequest("wage_tax", 2025, Decimal(90))])

    current = current_targets([(2, "fyp-2025", new.targets[0]), (1, "fyp-2024", old.targets[0]),
                               (1, "fyp-2024", old.targets[1])])

    assert current[("wage_tax", 2025)] == ("fyp-2025", new.targets[0])
    assert current[("bit", 2025)] == ("fyp-2024", old.targets[0])


@pytest.mark.parametrize("pct", ["0.000001", "0.05", "1"])
def test_band_pct_within_fraction_range(pct: str) -> None:
    plan = draft_plan("p", "PHL", "Plan", "adopted", 2025, [],
                      [TargetRequest("wage_tax", 2025, Decimal(1), band_pct=Decimal(pct))])

    assert plan.targets[0].band.pct == Decimal(pct)


@pytest.mark.parametrize("pct", ["0", "-0.01", "1.000001", "5"])
def test_band_pct_outside_fraction_rejected(pct: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        draft_plan("p", "PHL", "Plan", "adopted", 2025, [],
                   [TargetRequest("wage_tax", 2025, Decimal(1), band_pct=Decimal(pct))])

    assert raised.value.field == "targets[0].band_pct"


def test_band_pct_five_explains_percent() -> None:
    with pytest.raises(InvalidInput) as raised:
        draft_plan("p", "PHL", "Plan", "adopted", 2025, [],
                   [TargetRequest("wage_tax", 2025, Decimal(1), band_pct=Decimal(5))])

    assert str(raised.value) == ("targets[0].band_pct: 5 is above 1 and would mean 500 % of the target; "
                                 "band_pct is a fraction, so write 5 % as 0.05")


@pytest.mark.parametrize("fiscal_year", [2025, 2034])
def test_horizon_edges_accepted(fiscal_year: int) -> None:
    plan = draft_plan("p", "PHL", "Plan", "adopted", 2025, [PlanLine("wage_tax", fiscal_year, Decimal(1))],
                      [TargetRequest("wage_tax", fiscal_year, Decimal(1))])

    assert plan.targets[0].fiscal_year == fiscal_year


@pytest.mark.parametrize("fiscal_year", [2024, 2035])
def test_target_outside_horizon_rejected(fiscal_year: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        draft_plan("p", "PHL", "Plan", "adopted", 2025, [],
                   [TargetRequest("bit", 2025, Decimal(1)), TargetRequest("wage_tax", fiscal_year, Decimal(1))])

    assert raised.value.field == "targets[1].fiscal_year"
    assert "outside the plan's horizon 2025-2034" in str(raised.value)


def test_line_outside_horizon_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        draft_plan("p", "PHL", "Plan", "proposed", 2025, [PlanLine("wage_tax", 2040, Decimal(1))], [])

    assert raised.value.field == "lines[0].fiscal_year"


def test_unknown_target_line_named() -> None:
    targets = [TargetRequest("wage_tax", 2025, Decimal(1)), TargetRequest("wage_taks", 2025, Decimal(1))]

    with pytest.raises(InvalidInput) as raised:
        check_target_lines(targets, {"wage_tax", "taxes"})

    assert raised.value.field == "targets[1].line"
    assert str(raised.value).startswith("targets[1].line: 'wage_taks' is neither a defined account")


def test_known_target_lines_pass() -> None:
    targets = [TargetRequest("wage_tax", 2025, Decimal(1)), TargetRequest("taxes", 2025, Decimal(1))]

    check_target_lines(targets, {"wage_tax", "taxes"})
