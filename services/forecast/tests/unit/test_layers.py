from decimal import Decimal

from ipm_common.periods import PeriodKey
from ipm_forecast.domain.layers import benefit_layer

ORIGIN = PeriodKey(2023, 3)
FUTURE = [PeriodKey(2023, 4), PeriodKey(2023, 5), PeriodKey(2023, 6)]


def test_unstarted_project_adds_whole_benefit() -> None:
    planned = {PeriodKey(2023, 5): Decimal("100"), PeriodKey(2023, 6): Decimal("150")}

    assert benefit_layer(planned, ORIGIN, FUTURE) == [Decimal(0), Decimal("100"), Decimal("150")]


def test_running_benefit_is_not_counted_twice() -> None:
    # 100 a month already shows in the actuals at the origin; only the ramp to 130 is new.
    planned = {PeriodKey(2023, 3): Decimal("100"), PeriodKey(2023, 4): Decimal("100"),
               PeriodKey(2023, 5): Decimal("130"), PeriodKey(2023, 6): Decimal("130")}

    assert benefit_layer(planned, ORIGIN, FUTURE) == [Decimal(0), Decimal("30"), Decimal("30")]


def test_ended_project_removes_run_rate() -> None:
    planned = {PeriodKey(2023, 3): Decimal("100"), PeriodKey(2023, 4): Decimal("100")}

    assert benefit_layer(planned, ORIGIN, FUTURE) == [Decimal(0), Decimal("-100"), Decimal("-100")]
