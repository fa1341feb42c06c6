"""The budget workflow: which step may follow which status."""

import pytest

from ipm_common.errors import Conflict
from ipm_forecast.domain.budget_workflow import BudgetAction, BudgetStatus, next_status

DRAFT, SUBMITTED, APPROVED, SUPERSEDED = (BudgetStatus.DRAFT, BudgetStatus.SUBMITTED, BudgetStatus.APPROVED,
                                          BudgetStatus.SUPERSEDED)


@pytest.mark.parametrize(("status", "action", "result"), [
    (DRAFT, BudgetAction.LINES_REPLACED, DRAFT),
    (DRAFT, BudgetAction.SUBMITTED, SUBMITTED),
    (SUBMITTED, BudgetAction.APPROVED, APPROVED),
    (SUBMITTED, BudgetAction.REJECTED, DRAFT),
    (APPROVED, BudgetAction.SUPERSEDED, SUPERSEDED),
])
def test_allowed_step_leads_to_status(status: BudgetStatus, action: BudgetAction, result: BudgetStatus) -> None:
    assert next_status("b1", status, action) == result


@pytest.mark.parametrize("status", [SUBMITTED, APPROVED, SUPERSEDED])
def test_lines_change_only_in_draft(status: BudgetStatus) -> None:
    with pytest.raises(Conflict) as raised:
        next_status("b1", status, BudgetAction.LINES_REPLACED)

    assert raised.value.reason == "budget_not_draft"
    assert f"budget b1 is {status}" in str(raised.value)


@pytest.mark.parametrize(("status", "action"), [
    (DRAFT, BudgetAction.APPROVED),
    (DRAFT, BudgetAction.REJECTED),
    (SUBMITTED, BudgetAction.SUBMITTED),
    (APPROVED, BudgetAction.APPROVED),
    (APPROVED, BudgetAction.REJECTED),
    (SUPERSEDED, BudgetAction.APPROVED),
    (DRAFT, BudgetAction.SUPERSEDED),
])
def test_step_out_of_order_rejected(status: BudgetStatus, action: BudgetAction) -> None:
    with pytest.raises(Conflict) as raised:
        next_status("b1", status, action)

    assert raised.value.reason == "invalid_transition"
