from decimal import Decimal

import pytest

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import InvalidInput
from ipm_common.periods import PeriodKey
from ipm_projects.domain.projects import BenefitRequest, LinkedTarget, changed_lines, define_project, lines_to_publish

CALENDARS = {
    "PHL": FiscalCalendar(start_month=7, year_named_by="end"),
    "SHOP": FiscalCalendar(),
    "RETAIL": FiscalCalendar(week_pattern="4-4-5"),
}
ACCOUNTS = {"4100", "5100"}


def project(benefits: list[BenefitRequest], linked: list[LinkedTarget] | None = None) -> object:
    return define_project("p1", "Faster wage tax collection", "revenue office", "improve", linked or [], benefits,
                          CALENDARS, ACCOUNTS)


def test_benefits_grouped_per_line_by_period() -> None:
    planned = define_project("p1", "Collections", "revenue office", "improve", [], [
        BenefitRequest("PHL", "4100", "FY2024-P03", Decimal("1250.50")),
        BenefitRequest("PHL", "5100", "FY2024-P01", Decimal("-300")),
        BenefitRequest("PHL", "4100", "FY2024-P01", Decimal("999.99")),
        BenefitRequest("PHL", "4100", "FY2024-P02", Decimal("1250.50")),
    ], CALENDARS, ACCOUNTS)

    lines = planned.benefit_lines()

    assert list(lines) == [("PHL", "4100"), ("PHL", "5100")]
    assert [str(benefit.period) for benefit in lines[("PHL", "4100")]] == ["FY2024-P01", "FY2024-P02", "FY2024-P03"]
    assert planned.total_benefits() == {("PHL", "4100"): Decimal("3500.99"), ("PHL", "5100"): Decimal("-300")}


@pytest.mark.parametrize(("entity_id", "text", "period"), [
    ("SHOP", "2024-03", PeriodKey(2024, 3)),
    # A July-June year named by its end: March 2024 is the ninth period of FY2024.
    ("PHL", "2024-03", PeriodKey(2024, 9)),
    ("PHL", "2023-07", PeriodKey(2024, 1)),
    ("RETAIL", "FY2024-P05", PeriodKey(2024, 5)),
])
def test_period_parsed_with_entity_calendar(entity_id: str, text: str, period: PeriodKey) -> None:
    planned = define_project("p1", "n", "o", "define", [], [BenefitRequest(entity_id, "4100", text, Decimal(1))],
                             CALENDARS, ACCOUNTS)

    assert planned.benefits[0].period == period


@pytest.mark.parametrize(("entity_id", "text"), [("RETAIL", "2024-03"), ("SHOP", "2024-13"), ("SHOP", "202403"),
                                                 ("SHOP", "FY2024-P13")])
def test_invalid_period_names_benefit(entity_id: str, text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        project([BenefitRequest(entity_id, "4100", text, Decimal(1))])

    assert raised.value.field == "benefits[0].period"
    assert str(raised.value).startswith(f"benefits[0].period: {text!r} is invalid")


def test_unknown_entity_names_benefit() -> None:
    with pytest.raises(InvalidInput) as raised:
        project([BenefitRequest("SHOP", "4100", "2024-01", Decimal(1)),
                 BenefitRequest("NYC", "4100", "2024-01", Decimal(1))])

    assert raised.value.field == "benefits[1].entity_id"
    assert "'NYC' is not registered" in str(raised.value)


def test_unknown_account_names_benefit() -> None:
    with pytest.raises(InvalidInput) as raised:
        project([BenefitRequest("SHOP", "9999", "2024-01", Decimal(1))])

    assert raised.value.field == "benefits[0].account_id"


def test_unknown_linked_entity_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        project([], [LinkedTarget("NYC", "wage_tax", 2025)])

    assert raised.value.field == "linked_targets[0].entity_id"


def test_same_period_twice_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        project([BenefitRequest("SHOP", "4100", "2024-03", Decimal(1)),
                 BenefitRequest("SHOP", "4100", "FY2024-P03", Decimal(2))])

    assert raised.value.field == "benefits[1].period"
    assert "repeats benefits[0]" in str(raised.value)


def test_line_total_overflow_names_benefit() -> None:
    # Each amount fits in 18 integer digits, but 999999999999999999.99 twice is 1999999999999999999.98.
    largest = Decimal("999999999999999999.99")

    with pytest.raises(InvalidInput) as raised:
        project([BenefitRequest("SHOP", "4100", "2024-01", largest), BenefitRequest("SHOP", "5100", "2024-01", largest),
                 BenefitRequest("SHOP", "4100", "2024-02", largest)])

    assert raised.value.field == "benefits[2].amount"
    assert "SHOP/4100" in str(raised.value)


def test_emptied_line_still_published() -> None:
    before = define_project("p1", "n", "o", "improve", [], [
        BenefitRequest("SHOP", "4100", "2024-01", Decimal(1)), BenefitRequest("SHOP", "5100", "2024-01", Decimal(1)),
    ], CALENDARS, ACCOUNTS)
    after = define_project("p1", "n", "o", "control", [], [
        BenefitRequest("SHOP", "5100", "2024-02", Decimal(1)), BenefitRequest("PHL", "4100", "2024-02", Decimal(1)),
    ], CALENDARS, ACCOUNTS)

    assert lines_to_publish(before, after) == [("PHL", "4100"), ("SHOP", "4100"), ("SHOP", "5100")]
    assert lines_to_publish(None, after) == [("PHL", "4100"), ("SHOP", "5100")]
    assert after.benefit_lines().get(("SHOP", "4100")) is None


def test_content_order_does_not_matter() -> None:
    benefits = [BenefitRequest("SHOP", "4100", "2024-01", Decimal("10")),
                BenefitRequest("SHOP", "4100", "2024-02", Decimal("20"))]
    rewritten = [BenefitRequest("SHOP", "4100", "FY2024-P02", Decimal("20.00")),
                 BenefitRequest("SHOP", "4100", "FY2024-P01", Decimal("10"))]

    assert project(benefits) == project(rewritten)


def test_one_benefit_type_per_line() -> None:
    with pytest.raises(InvalidInput) as raised:
        project([BenefitRequest("SHOP", "5100", "2024-01", Decimal(-1), "hard_savings"),
                 BenefitRequest("SHOP", "4100", "2024-01", Decimal(1), "revenue_uplift"),
                 BenefitRequest("SHOP", "5100", "2024-02", Decimal(-1), "cost_avoidance")])

    assert raised.value.field == "benefits[2].benefit_type"
    assert "differs from 'hard_savings' of benefits[0]" in str(raised.value)


def test_changed_lines_by_amount_and_type() -> None:
    before = project([BenefitRequest("SHOP", "4100", "2024-01", Decimal(10)),
                      BenefitRequest("SHOP", "5100", "2024-01", Decimal(-5), "hard_savings"),
                      BenefitRequest("PHL", "4100", "2024-01", Decimal(7))])
    after = project([BenefitRequest("SHOP", "4100", "2024-01", Decimal("10.00")),
                     BenefitRequest("SHOP", "5100", "2024-01", Decimal(-5), "cost_avoidance"),
                     BenefitRequest("RETAIL", "4100", "FY2024-P01", Decimal(3))])

    # SHOP/4100 is unchanged; SHOP/5100 changed type; PHL/4100 was dropped; RETAIL/4100 is new.
    assert changed_lines(before, after) == [("PHL", "4100"), ("RETAIL", "4100"), ("SHOP", "5100")]  # type: ignore[arg-type]
