from datetime import date

import pytest

from ipm_common.errors import Conflict
from ipm_projects.domain.charter import Charter, Milestone, derived_status, effective_status, review_gate


def test_approved_gate_moves_to_next_phase() -> None:
    outcome = review_gate("define", False, "define", "approved")

    assert (outcome.phase, outcome.completed) == ("measure", False)


def test_rejected_gate_keeps_phase() -> None:
    outcome = review_gate("analyse", False, "analyse", "rejected")

    assert (outcome.phase, outcome.completed) == ("analyse", False)


def test_control_gate_completes_project() -> None:
    outcome = review_gate("control", False, "control", "approved")

    assert (outcome.phase, outcome.completed) == ("control", True)


@pytest.mark.parametrize(("current", "gate"), [("define", "measure"), ("improve", "analyse"), ("measure", "control")])
def test_gate_out_of_order_conflicts(current: str, gate: str) -> None:
    with pytest.raises(Conflict) as raised:
        review_gate(current, False, gate, "approved")  # type: ignore[arg-type]

    assert raised.value.reason == "gate_out_of_order"
    assert f"review gate {current!r} first" in str(raised.value)


def test_completed_project_has_no_gate() -> None:
    with pytest.raises(Conflict) as raised:
        review_gate("control", True, "control", "approved")

    assert raised.value.reason == "project_completed"


def test_phases_advance_in_order() -> None:
    phase, seen = "define", ["define"]
    for _ in range(4):
        phase = review_gate(phase, False, phase, "approved").phase  # type: ignore[arg-type]
        seen.append(phase)

    assert seen == ["define", "measure", "analyse", "improve", "control"]


TODAY = date(2024, 3, 1)


@pytest.mark.parametrize(("milestones", "status"), [
    ((), "on_track"),
    ((Milestone("charter signed", date(2024, 2, 1), date(2024, 2, 3)),), "on_track"),
    # Due in 20 days: more than 14 days away.
    ((Milestone("pilot", date(2024, 3, 21)),), "on_track"),
    # Due in exactly 14 days.
    ((Milestone("pilot", date(2024, 3, 15)),), "at_risk"),
    ((Milestone("pilot", date(2024, 3, 1)),), "at_risk"),
    # Due yesterday and still open.
    ((Milestone("pilot", date(2024, 2, 29)), Milestone("rollout", date(2024, 3, 5))), "late"),
])
def test_status_derived_from_milestones(milestones: tuple[Milestone, ...], status: str) -> None:
    assert derived_status(milestones, TODAY) == status


def test_status_set_by_hand_wins() -> None:
    charter = Charter(milestones=(Milestone("pilot", date(2024, 2, 1)),), status_set="on_track")

    assert derived_status(charter.milestones, TODAY) == "late"
    assert effective_status(charter, TODAY) == "on_track"
