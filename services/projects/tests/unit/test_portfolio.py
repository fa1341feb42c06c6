from decimal import Decimal

from ipm_common.periods import PeriodKey
from ipm_projects.domain.portfolio import LineFigures, per_project, per_target, totals
from ipm_projects.domain.projects import LinkedTarget

FY23_P01, FY23_P02, FY24_P01 = PeriodKey(2023, 1), PeriodKey(2023, 2), PeriodKey(2024, 1)

SALES = LineFigures("tax-drive", "PHL", "sales", "USD", validated=True,
                    planned={FY23_P01: Decimal("1000000"), FY23_P02: Decimal("1000000"), FY24_P01: Decimal("500000")},
                    realised={FY23_P01: Decimal("750000.50"), FY23_P02: Decimal("-100000")})
SALARIES = LineFigures("tax-drive", "PHL", "salaries", "USD", validated=False,
                       planned={FY23_P01: Decimal("75000")}, realised={FY23_P01: Decimal("59999.75")})
SHOP = LineFigures("shop-lean", "SHOP", "sales", "AUD", validated=False,
                   planned={FY23_P01: Decimal("10.10")}, realised={})


def under_city_taxes(account_id: str, line: str) -> bool:
    return account_id == line or (line == "city_taxes" and account_id == "sales")


def test_project_gap_is_realised_minus_measured_plan() -> None:
    amounts = per_project([SALES, SALARIES, SHOP])["tax-drive"].sorted()

    assert len(amounts) == 1
    usd = amounts[0]
    # Expected: 1,000,000 + 1,000,000 + 500,000 + 75,000 = 2,575,000; validated: the sales line only.
    assert usd.expected == Decimal("2575000")
    assert usd.validated == Decimal("2500000")
    # Measured periods: sales P01 and P02 (2,000,000 planned), salaries P01 (75,000 planned).
    assert usd.planned_measured == Decimal("2075000")
    # Realised: 750,000.50 − 100,000 + 59,999.75 = 710,000.25; gap 710,000.25 − 2,075,000 = −1,364,999.75.
    assert usd.realised == Decimal("710000.25")
    assert usd.gap == Decimal("-1364999.75")


def test_target_counts_lines_under_it() -> None:
    target = LinkedTarget("PHL", "city_taxes", 2023)
    links = {"tax-drive": [target]}

    amounts = per_target([SALES, SALARIES], links, under_city_taxes)[target].sorted()[0]

    # Sales lies under city_taxes, salaries does not; FY2024 is outside the target's year.
    assert amounts.expected == Decimal("2000000")
    assert amounts.realised == Decimal("650000.50")
    assert amounts.gap == Decimal("-1349999.50")


def test_totals_keep_currencies_apart() -> None:
    result = totals([SALES, SALARIES, SHOP]).sorted()

    assert [(item.currency, item.expected, item.realised) for item in result] == [
        ("AUD", Decimal("10.10"), Decimal(0)),
        ("USD", Decimal("2575000"), Decimal("710000.25")),
    ]
