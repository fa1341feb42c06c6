"""Envelopes against a capital budget of 100 in FY2025 and 120 in FY2026.

Approved A: 60 in FY2025 and 50 in FY2026. B requests 50 in FY2025: 60 + 50 = 110 > 100, over by 10.
C requests 40 in FY2025 and 70 in FY2026: 100 <= 100 and 120 <= 120, so it fits exactly.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ipm_common.errors import Conflict, InvalidInput
from ipm_strategy.domain.investments import Envelope, approved_totals, request_envelope

AT = datetime(2025, 1, 10, tzinfo=UTC)
BUDGET = {2025: Decimal(100), 2026: Decimal(120)}


def envelope(envelope_id: str, amounts: list[tuple[int, object]]) -> Envelope:
    return request_envelope(envelope_id, "op", "new line", "capital", amounts, "pm", AT)


def test_envelopes_fill_budget_exactly() -> None:
    first = envelope("A", [(2025, "60"), (2026, "50")]).approve("cfo", AT, BUDGET, {})
    approved = approved_totals([first], "capital")
    third = envelope("C", [(2025, "40"), (2026, "70")]).approve("cfo", AT, BUDGET, approved)

    assert approved == {2025: Decimal(60), 2026: Decimal(50)}
    assert (third.status, third.decided_by) == ("approved", "cfo")


def test_envelope_over_budget_is_rejected() -> None:
    approved = {2025: Decimal(60), 2026: Decimal(50)}

    with pytest.raises(Conflict) as raised:
        envelope("B", [(2025, "50")]).approve("cfo", AT, BUDGET, approved)

    assert raised.value.reason == "envelope_exceeds_budget"
    assert "FY2025 budget 100, already approved 60, requested 50, over by 10" in str(raised.value)


def test_year_without_budget_has_none() -> None:
    with pytest.raises(Conflict):
        envelope("D", [(2027, "1")]).approve("cfo", AT, BUDGET, {})


def test_decided_envelope_cannot_change() -> None:
    rejected = envelope("B", [(2025, "50")]).reject("cfo", AT, "not a priority")

    with pytest.raises(Conflict) as raised:
        rejected.approve("cfo", AT, BUDGET, {})

    assert rejected.reason == "not a priority"
    assert raised.value.reason == "envelope_decided"


@pytest.mark.parametrize(("amounts", "field"), [
    ([(2025, "-1")], "amounts[0].amount"),
    ([(2025, "1"), (2025, "2")], "amounts[1].fiscal_year"),
    ([], "amounts"),
])
def test_invalid_envelope_names_field(amounts: list[tuple[int, object]], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        envelope("E", amounts)

    assert raised.value.field == field
