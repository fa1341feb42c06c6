"""A project's charter: the DMAIC phases with their gate reviews, milestones and delivery status.

A project moves through define → measure → analyse → improve → control. It leaves a phase only
when the gate review of that phase is approved, and gates are reviewed in that order. Approving
the control gate completes the project.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from ipm_common.errors import Conflict

Phase = Literal["define", "measure", "analyse", "improve", "control"]
PHASES: tuple[Phase, ...] = ("define", "measure", "analyse", "improve", "control")

Decision = Literal["approved", "rejected"]
Status = Literal["on_track", "at_risk", "late"]

# An open milestone due within this many days puts the project at risk.
AT_RISK_WITHIN = timedelta(days=14)


@dataclass(frozen=True, order=True)
class Milestone:
    name: str
    due: date
    done: date | None = None


@dataclass(frozen=True)
class Charter:
    """The project's purpose and its sponsor, besides its name and owner."""

    sponsor: str = ""
    problem: str = ""
    goal: str = ""
    scope: str = ""
    start_date: date | None = None
    milestones: tuple[Milestone, ...] = field(default=())
    status_set: Status | None = None  # a status set by hand, which wins over the derived one


@dataclass(frozen=True)
class GateReview:
    """The review of the gate at the end of ``phase``."""

    sequence: int
    phase: Phase
    decision: Decision
    decided_by: str
    comment: str
    decided_at: datetime

    def repeats(self, phase: Phase, decision: Decision, decided_by: str, comment: str) -> bool:
        """Return whether a request carries this review's phase, decision, reviewer and comment."""
        return (self.phase, self.decision, self.decided_by, self.comment) == (phase, decision, decided_by, comment)


@dataclass(frozen=True)
class GateOutcome:
    phase: Phase
    completed: bool


def review_gate(current: Phase, completed: bool, gate: Phase, decision: Decision) -> GateOutcome:
    """Apply a gate review: an approved gate of the current phase moves the project to the next phase.

    Raises ``Conflict`` when the project is already completed or ``gate`` is not the current phase.
    """
    if completed:
        raise Conflict("the project is completed: its control gate was approved, so no gate is open",
                       reason="project_completed")
    if gate != current:
        raise Conflict(
            f"gate {gate!r} is out of order: the project is in phase {current!r}, so review gate {current!r} first",
            reason="gate_out_of_order",
        )

    if decision == "rejected":
        return GateOutcome(current, False)
    if current == PHASES[-1]:
        return GateOutcome(current, True)
    return GateOutcome(PHASES[PHASES.index(current) + 1], False)


def derived_status(milestones: tuple[Milestone, ...], today: date) -> Status:
    """Derive the delivery status: late when an open milestone is past due, at risk when one is due soon."""
    open_milestones = [milestone for milestone in milestones if milestone.done is None]
    if any(milestone.due < today for milestone in open_milestones):
        return "late"
    if any(milestone.due <= today + AT_RISK_WITHIN for milestone in open_milestones):
        return "at_risk"
    return "on_track"


def effective_status(charter: Charter, today: date) -> Status:
    """Return the status set by hand, or else the one derived from the milestones."""
    return charter.status_set or derived_status(charter.milestones, today)
