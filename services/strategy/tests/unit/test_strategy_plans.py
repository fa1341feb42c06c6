from decimal import Decimal

import pytest

from ipm_common.errors import InvalidInput
from ipm_common.variance import DEFAULT_TARGET_BAND
from ipm_strategy.domain.plans import PlanLine, TargetRequest, current_targets, draft_plan, target_band


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
