"""The workflow of a budget version: draft, submitted, approved, then superseded by a newer approval.

Lines change only in draft. A rejection sends a submitted version back to draft. An approval
makes the version the one approved budget of its entity and fiscal year, and the version that
was approved before becomes superseded.
"""

from enum import StrEnum

from ipm_common.errors import Conflict


class BudgetStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


class BudgetAction(StrEnum):
    """A step of the workflow, recorded with who took it and when."""

    CREATED = "created"
    LINES_REPLACED = "lines_replaced"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


# Each action: the statuses it may start from and the status it leads to.
TRANSITIONS: dict[BudgetAction, tuple[frozenset[BudgetStatus], BudgetStatus]] = {
    BudgetAction.LINES_REPLACED: (frozenset({BudgetStatus.DRAFT}), BudgetStatus.DRAFT),
    BudgetAction.SUBMITTED: (frozenset({BudgetStatus.DRAFT}), BudgetStatus.SUBMITTED),
    BudgetAction.APPROVED: (frozenset({BudgetStatus.SUBMITTED}), BudgetStatus.APPROVED),
    BudgetAction.REJECTED: (frozenset({BudgetStatus.SUBMITTED}), BudgetStatus.DRAFT),
    BudgetAction.SUPERSEDED: (frozenset({BudgetStatus.APPROVED}), BudgetStatus.SUPERSEDED),
}

_FIX = {
    BudgetAction.LINES_REPLACED: "lines change only in draft; a submitted version must be rejected first, and an "
                                 "approved one is replaced by approving a new version",
    BudgetAction.SUBMITTED: "only a draft can be submitted",
    BudgetAction.APPROVED: "only a submitted version can be approved; submit it first",
    BudgetAction.REJECTED: "only a submitted version can be rejected",
    BudgetAction.SUPERSEDED: "only the approved version can be superseded",
}


def next_status(budget_id: str, status: BudgetStatus, action: BudgetAction) -> BudgetStatus:
    """Return the status that ``action`` leads to; raise ``Conflict`` when ``status`` does not allow it."""
    allowed, result = TRANSITIONS[action]
    if status not in allowed:
        reason = "budget_not_draft" if action is BudgetAction.LINES_REPLACED else "invalid_transition"
        raise Conflict(f"budget {budget_id} is {status}: {_FIX[action]}", reason=reason)
    return result
