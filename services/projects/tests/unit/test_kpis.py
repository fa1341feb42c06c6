from datetime import date
from decimal import Decimal

import pytest

from ipm_common.errors import InvalidInput
from ipm_projects.domain.kpis import Measurement, define_kpi, latest, progress


def test_progress_higher_is_better() -> None:
    kpi = define_kpi("compliance", "Filing compliance", "%", Decimal("82.5"), Decimal("90"), "higher_is_better")
    measured = [Measurement(date(2024, 2, 29), Decimal("85")), Measurement(date(2024, 1, 31), Decimal("84"))]

    # The latest is 85 on 29 February: (85 − 82.5) / (90 − 82.5) = 2.5 / 7.5 = 0.333333 (six places).
    assert progress(kpi, latest(measured)) == Decimal("0.333333")


def test_progress_lower_is_better() -> None:
    kpi = define_kpi("days", "Days to collect", "days", Decimal("45"), Decimal("30"), "lower_is_better")

    # (36 − 45) / (30 − 45) = −9 / −15 = 0.6
    assert progress(kpi, Measurement(date(2024, 3, 31), Decimal("36"))) == Decimal("0.600000")


def test_progress_past_target_and_backwards() -> None:
    kpi = define_kpi("days", "Days to collect", "days", Decimal("45"), Decimal("30"), "lower_is_better")

    # 27 days beats the target: (27 − 45) / (−15) = 1.2. 48 days is worse than the baseline: 3 / −15 = −0.2.
    assert progress(kpi, Measurement(date(2024, 3, 31), Decimal("27"))) == Decimal("1.200000")
    assert progress(kpi, Measurement(date(2024, 3, 31), Decimal("48"))) == Decimal("-0.200000")


def test_progress_null_when_target_equals_baseline() -> None:
    kpi = define_kpi("rate", "Error rate", "%", Decimal("2"), Decimal("2.00"), "lower_is_better")

    assert progress(kpi, Measurement(date(2024, 3, 31), Decimal("1"))) is None


def test_progress_null_without_measurement() -> None:
    kpi = define_kpi("rate", "Error rate", "%", Decimal("2"), Decimal("1"), "lower_is_better")

    assert progress(kpi, latest([])) is None


@pytest.mark.parametrize(("baseline", "target", "direction"), [("10", "9", "higher_is_better"),
                                                               ("10", "11", "lower_is_better")])
def test_target_on_wrong_side_rejected(baseline: str, target: str, direction: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        define_kpi("k", "k", "u", Decimal(baseline), Decimal(target), direction)  # type: ignore[arg-type]

    assert raised.value.field == "target"
