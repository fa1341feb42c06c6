"""Strategy reviews: the decision whether to keep or revise the plan after a target breach.

A review opens once per alert, may be acknowledged and then analysed, and ends with a decision
that gives a reason: keep the plan, revise it, or launch an improvement project. An owner and a
due date may be assigned, and comments added, until the review is decided. Every change adds an
entry to the review's audit trail. A decision is final, but a retry of the same request finds
the same decision and changes nothing.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ipm_common.errors import Conflict, InvalidInput

ReviewStatus = Literal["opened", "acknowledged", "analysed", "decided"]
Decision = Literal["keep_plan", "revise_plan", "launch_project"]
AuditAction = Literal["opened", "acknowledged", "analysed", "decided", "commented", "assigned"]
REVIEW_STATUSES: tuple[ReviewStatus, ...] = ("opened", "acknowledged", "analysed", "decided")


@dataclass(frozen=True)
class Breach:
    """A breach that the performance service found: the full-year outlook against a strategic target."""

    alert_id: str
    entity_id: str
    line: str
    fiscal_year: int
    outlook: Decimal
    target: Decimal
    variance: Decimal
    variance_pct: Decimal | None
    threshold: str


@dataclass(frozen=True)
class AuditEntry:
    """One state change of a review: who changed it, when, from which status to which, and why."""

    at: datetime
    by: str
    action: AuditAction
    from_status: ReviewStatus | None
    to_status: ReviewStatus
    note: str | None = None


@dataclass(frozen=True)
class Review:
    review_id: str
    breach: Breach
    status: ReviewStatus
    opened_at: datetime
    decision: Decision | None = None
    decided_by: str | None = None
    reason: str | None = None
    owner: str | None = None
    due_date: date | None = None
    analysis: str | None = None
    revised_plan_id: str | None = None

    def acknowledge(self, by: str, comment: str | None, at: datetime) -> tuple["Review", AuditEntry]:
        """Move an opened review to acknowledged."""
        _check_text("by", by)
        if self.status != "opened":
            raise Conflict(
                f"review {self.review_id} is {self.status}; only an opened review can be acknowledged",
                reason="review_not_opened",
            )
        entry = AuditEntry(at, by, "acknowledged", self.status, "acknowledged", comment or None)
        return replace(self, status="acknowledged"), entry

    def analyse(self, by: str, analysis: str, at: datetime) -> tuple["Review", AuditEntry]:
        """Record the analysis of an opened or acknowledged review, which moves it to analysed."""
        _check_text("by", by)
        _check_text("analysis", analysis)
        if self.status not in ("opened", "acknowledged"):
            raise Conflict(
                f"review {self.review_id} is {self.status}; only an opened or acknowledged review can be analysed",
                reason="review_not_open",
            )
        entry = AuditEntry(at, by, "analysed", self.status, "analysed", analysis)
        return replace(self, status="analysed", analysis=analysis), entry

    def comment(self, by: str, text: str, at: datetime) -> AuditEntry:
        """Return the audit entry of a comment; a comment changes no status."""
        _check_text("by", by)
        _check_text("text", text)
        return AuditEntry(at, by, "commented", self.status, self.status, text)

    def assign(self, by: str, owner: str, due_date: date | None, at: datetime) -> tuple["Review", AuditEntry]:
        """Give an undecided review an owner and a due date."""
        _check_text("by", by)
        _check_text("owner", owner)
        self._check_undecided("assigned")
        note = f"owner {owner}, due {due_date.isoformat() if due_date else 'none'}"
        entry = AuditEntry(at, by, "assigned", self.status, self.status, note)
        return replace(self, owner=owner, due_date=due_date), entry

    def repeats_decision(self, decision: Decision, by: str, reason: str, revised_plan_id: str | None = None) -> bool:
        """Return whether the review is already decided with this decision, by this person, for this reason,
        adopting the same operating plan (or none)."""
        stored = (self.decision, self.decided_by, self.reason, self.revised_plan_id)
        return self.status == "decided" and stored == (decision, by, reason, revised_plan_id)

    def decide(self, decision: Decision, by: str, reason: str, at: datetime) -> tuple["Review", AuditEntry]:
        """Record the decision on an opened, acknowledged or analysed review."""
        _check_text("by", by)
        _check_text("reason", reason)
        if self.status == "decided":
            raise Conflict(
                f"review {self.review_id} is already decided ({self.decision} by {self.decided_by}); "
                "a decision is final, and only a retry with the same decision, by, reason and revised_plan_id "
                "is accepted",
                reason="review_decided",
            )
        entry = AuditEntry(at, by, "decided", self.status, "decided", f"{decision}: {reason}")
        return replace(self, status="decided", decision=decision, decided_by=by, reason=reason), entry

    def with_revised_plan(self, plan_id: str) -> "Review":
        """Name the operating plan vintage that a revise_plan decision adopted."""
        return replace(self, revised_plan_id=plan_id)

    def _check_undecided(self, action: str) -> None:
        if self.status == "decided":
            raise Conflict(f"review {self.review_id} is already decided and cannot be {action}",
                           reason="review_decided")


def open_review(breach: Breach, opened_by: str, at: datetime) -> tuple[Review, AuditEntry]:
    """Open a new review of a breach under a fresh uuid4 id."""
    review = Review(str(uuid.uuid4()), breach, "opened", at)
    return review, AuditEntry(at, opened_by, "opened", None, "opened", f"alert {breach.alert_id}")


def _check_text(field: str, value: str) -> None:
    if not value or not value.strip():
        raise InvalidInput(f"{field}: missing; give a non-empty {field}", field=field)
