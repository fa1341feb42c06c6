from decimal import Decimal

import pytest

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import InvalidInput
from ipm_common.events import EventData, ForecastPoint
from ipm_common.periods import PeriodKey
from ipm_forecast.domain.diff import BENEFIT_CHANGE, NEW_ACTUALS, OVERRIDE, PointLayers, diff_points, lineage_reasons
from ipm_forecast.domain.drivers import driver_layer, driver_path, month_of_period, overlap, trailing_run
from ipm_forecast.domain.layers import Layers, compose_points
from ipm_forecast.domain.overrides import allocate_top_down
from ipm_forecast.domain.regression import Regression

D = Decimal
JULY, AUGUST = PeriodKey(2024, 7), PeriodKey(2024, 8)


def layers(driver: str = "0", benefits: str = "0") -> Layers:
    return Layers([JULY, AUGUST], p10=[D(90), D(90)], baseline=[D(100), D(100)], p90=[D(110), D(110)],
                  driver=[D(driver)] * 2, benefits=[D(benefits)] * 2)


def test_layers_add_up_to_value() -> None:
    july, _ = compose_points(layers(driver="12.50", benefits="5"), {})

    # 100 + 12.50 + 5 = 117.50; the quantiles move by the same 17.50.
    assert (july.value, july.p10, july.p90) == (D("117.50"), D("107.50"), D("127.50"))
    assert (july.driver, july.benefits, july.override) == (D("12.50"), D(5), None)


def test_override_shows_what_it_added() -> None:
    july, august = compose_points(layers(driver="10"), {AUGUST: D(150)})

    # Computed 110; the override to 150 adds 40, and the quantiles move with it.
    assert (august.value, august.override, august.p10, august.p90) == (D(150), D(40), D(140), D(160))
    assert (july.value, july.override) == (D(110), None)


def test_top_down_allocation_exact_to_cent() -> None:
    # Weights 1, 1, 1: exact thirds of 100.00 are 33.333…; the one leftover cent goes to the first leaf.
    parts = allocate_top_down(D("100.00"), {"a": D(10), "b": D(10), "c": D(10)})

    assert parts == {"a": D("33.34"), "b": D("33.33"), "c": D("33.33")}
    assert sum(parts.values()) == D("100.00")


def test_top_down_keeps_sign_of_each_leaf() -> None:
    # Gross 40 and returns −10 make a node of 30; setting it to 100 scales every leaf by 100 / 30:
    # gross 133.33… and returns −33.33…, so the returns stay negative and the parts still sum to 100.00.
    parts = allocate_top_down(D("100.00"), {"gross": D(40), "returns": D(-10)})

    assert parts == {"gross": D("133.33"), "returns": D("-33.33")}


def test_top_down_of_negative_leaves_keeps_their_sign() -> None:
    # Weights |−30| and |−10|: 75 % and 25 % of −200 are −150 and −50.
    assert allocate_top_down(D(-200), {"a": D(-30), "b": D(-10)}) == {"a": D("-150.00"), "b": D("-50.00")}


def test_top_down_against_node_sign_rejected() -> None:
    # The node is 40 − 10 = 30; a value of −100 would turn every leaf's sign.
    with pytest.raises(InvalidInput, match="opposite sign"):
        allocate_top_down(D(-100), {"gross": D(40), "returns": D(-10)})


def test_top_down_on_leaves_netting_to_zero_rejected() -> None:
    with pytest.raises(InvalidInput, match="net to zero"):
        allocate_top_down(D(100), {"gross": D(10), "returns": D(-10)})


def test_top_down_on_zero_leaves_shares_equally() -> None:
    assert allocate_top_down(D("0.03"), {"a": D(0), "b": D(0)}) == {"a": D("0.02"), "b": D("0.01")}


def test_top_down_rejects_fractions_of_cent() -> None:
    with pytest.raises(InvalidInput, match="fractions of a cent"):
        allocate_top_down(D("1.001"), {"a": D(1)})


def test_driver_layer_against_baseline() -> None:
    regression = Regression(intercept=D(10), slope=D(2), r_squared=D(1), observations=6)

    # 10 + 2 × 150 = 310 against a baseline of 234: +76. An unknown month adds nothing.
    assert driver_layer(regression, [D(150), None], [D(234), D(238)], non_negative=False) == [D(76), D(0)]


def test_driver_layer_clamps_non_negative_line() -> None:
    regression = Regression(intercept=D(-100), slope=D(1), r_squared=None, observations=3)

    # −100 + 20 = −80 is clamped to 0, so the layer is 0 − 5 = −5.
    assert driver_layer(regression, [D(20)], [D(5)], non_negative=True) == [D(-5)]


def test_driver_path_prefers_scenario() -> None:
    path = driver_path(["2024-07", "2024-08", "2024-09", "2024-10"], actual={"2024-07": D(1), "2024-08": D(2)},
                       scenario={"2024-08": D(20)}, own_forecast={"2024-09": D(3)})

    assert path == [D(1), D(20), D(3), None]


def test_trailing_run_stops_at_gap() -> None:
    # April is missing, so the run is May and June only: a gap is never read as zero.
    values = {"2024-02": D(1), "2024-03": D(2), "2024-05": D(5), "2024-06": D(6)}

    assert trailing_run(values) == ("2024-05", [D(5), D(6)])


def test_overlap_pairs_known_months() -> None:
    xs, ys = overlap(["2024-01", "2024-02", "2024-03"], [D(10), D(20), D(30)], {"2024-01": D(1), "2024-03": D(3)})

    assert (xs, ys) == ([D(1), D(3)], [D(10), D(30)])


def test_fiscal_period_reads_month_it_ends_in() -> None:
    city = FiscalCalendar.from_dict({"start_month": 7, "year_named_by": "end"})

    # The City's FY2024 starts in July 2023, so its first period ends in July 2023.
    assert month_of_period(city, PeriodKey(2024, 1)) == "2023-07"


def test_diff_names_moved_layer() -> None:
    old = {"FY2024-P07": PointLayers(D(100), D(0), D(0), None, D(100)),
           "FY2024-P08": PointLayers(D(100), D(0), D(0), None, D(100))}
    new = {"FY2024-P08": PointLayers(D(100), D(0), D(5), None, D(105)),
           "FY2024-P09": PointLayers(D(90), D(0), D(5), None, D(95))}

    changes = diff_points(old, new, [NEW_ACTUALS])

    assert [(change.period, change.old_value, change.new_value, change.change, change.reasons)
            for change in changes] == [
        ("FY2024-P07", D(100), None, D(-100), (NEW_ACTUALS,)),
        ("FY2024-P08", D(100), D(105), D(5), (BENEFIT_CHANGE,)),
        ("FY2024-P09", None, D(95), D(95), (NEW_ACTUALS,)),
    ]


def test_lineage_reasons() -> None:
    old = {"ledger_version": 4, "origin": "FY2024-P06", "driver": None, "benefits": {}, "overrides": []}
    new = {**old, "overrides": ["o1"], "benefits": {"P1": 2}}

    assert lineage_reasons(old, new) == [BENEFIT_CHANGE, OVERRIDE]


def test_older_point_payload_reads_without_layers() -> None:
    # A forecast point published before the driver and override layers existed.
    point = ForecastPoint.model_validate({"period": "FY2024-P07", "baseline": "100", "benefits": "5",
                                          "value": "105", "p10": "95", "p90": "115"})

    assert (point.driver, point.override) == (D(0), None)


def test_older_consumer_ignores_new_layers() -> None:
    # A consumer with a model that lacks the new fields ignores them, because EventData ignores extras.
    class OlderPoint(EventData):
        period: str
        value: Decimal

    point = OlderPoint.model_validate({"period": "FY2024-P07", "value": "105", "driver": "3", "override": "2"})

    assert point.value == D(105)
