from datetime import date
from typing import Any

from ipm_cli.faults.checks import duplicate_alerts, parse_metrics
from ipm_cli.faults.suite import Outcome, Totals
from ipm_cli.faults.traffic import _planned_years_first

METRICS = """# TYPE ipm_outbox_backlog gauge
ipm_outbox_backlog{service="forecast"} 3
# TYPE ipm_consumer_lag gauge
ipm_consumer_lag{service="forecast",group="a",topic="t",partition="0"} 2
ipm_consumer_lag{service="forecast",group="a",topic="t",partition="1"} 5
"""


def test_parse_metrics_sums_samples_per_name() -> None:
    metrics = parse_metrics(METRICS)

    assert metrics["ipm_outbox_backlog"] == 3
    # 2 + 5 over the two partitions.
    assert metrics["ipm_consumer_lag"] == 7


def _alert(rule: str = "budget_variance", period: str = "FY2024-P01", status: str = "raised") -> dict[str, str]:
    return {"entity_id": "PHL-GF", "line": "sales", "period": period, "comparison": "budget", "rule": rule,
            "status": status}


def test_duplicate_alerts_counts_repeats_of_one_identity() -> None:
    alerts = [_alert(), _alert(status="resolved"), _alert(), _alert(period="FY2024-P02"), _alert(rule="target")]

    # Three alerts share one identity: two of them are duplicates.
    assert duplicate_alerts(alerts) == 2


def test_distinct_alerts_are_not_duplicates() -> None:
    assert duplicate_alerts([_alert(), _alert(period="FY2024-P02"), _alert(rule="target")]) == 0


def test_outcome_passes_only_when_clean() -> None:
    clean = Outcome("relay-crash#0")
    clean.inject("kill -9", 1)
    lost = Outcome("relay-crash#1", lost=1)
    failing = Outcome("poison-messages#0", failures=["not JSON not dead-lettered"])
    slow = Outcome("broker-pause#0", quiescent=False)
    undetected = Outcome("commit-publish-crash#0", negative_control_detected=False)

    assert clean.passed
    assert not lost.passed
    assert not failing.passed
    assert not slow.passed
    assert not undetected.passed


def test_outcome_line_names_faults_and_verdict() -> None:
    outcome = Outcome("duplicate-delivery#0")
    outcome.inject("phl-2013-07 delivered 3 times", 2)

    assert outcome.line() == ("faults: duplicate-delivery#0: pass: injected 2 (phl-2013-07 delivered 3 times); "
                              "reconcile: 0 lost, 0 duplicated, 0 unpublished, 0 duplicate alerts of 0")


def test_totals_need_detected_negative_control() -> None:
    totals = Totals()
    crash = Outcome("relay-crash#0")
    crash.inject("kill -9", 1)
    totals.add(crash)
    totals.settle(Outcome("final"))

    assert not totals.clean

    control = Outcome("commit-publish-crash#0", negative_control_detected=True)
    control.inject("kill -9", 1)
    control.inject("undelivered posting", 1)
    totals.add(control)

    assert totals.clean
    assert totals.line() == "faults: 3 injected, 0 lost, 0 duplicated, 0 duplicate alerts, 0 unpublished"


def test_totals_take_losses_from_final_reconciliation() -> None:
    totals = Totals(negative_control_detected=True)
    totals.settle(Outcome("final", lost=2, duplicated=1, unpublished=4, duplicate_alerts=1))

    assert not totals.clean
    assert totals.line() == "faults: 0 injected, 2 lost, 1 duplicated, 1 duplicate alerts, 4 unpublished"


def test_totals_add_each_system_final() -> None:
    # The PostgreSQL system lost 2 postings; the SQLite system of the embedded scenarios left 1 unpublished.
    totals = Totals(negative_control_detected=True)
    totals.settle(Outcome("final", lost=2))
    totals.settle(Outcome("final", unpublished=1))

    assert totals.line() == "faults: 0 injected, 2 lost, 0 duplicated, 0 duplicate alerts, 1 unpublished"


def test_failed_scenario_makes_totals_unclean() -> None:
    totals = Totals(negative_control_detected=True)
    totals.add(Outcome("poison-messages#0", failures=["unknown type not dead-lettered"]))
    totals.settle(Outcome("final"))

    assert totals.failed == ["poison-messages#0"]
    assert not totals.clean


def test_skipped_outcome_passes_and_says_why() -> None:
    outcome = Outcome("database-outage#0", skipped="the services run on SQLite")

    assert outcome.passed
    assert outcome.line() == "faults: database-outage#0: skipped: the services run on SQLite"


def test_traffic_posts_planned_years_first() -> None:
    months = [date(2021, 6, 1), date(2021, 7, 1), date(2013, 7, 1), date(2022, 1, 1)]
    batches: list[tuple[date, list[dict[str, Any]]]] = [(month, []) for month in months]

    ordered = _planned_years_first(batches, 2022)  # FY2022 starts in July 2021

    assert [month for month, _ in ordered] == [date(2021, 7, 1), date(2022, 1, 1), date(2021, 6, 1),
                                               date(2013, 7, 1)]
