"""Review the gate at the end of a project's current DMAIC phase."""

import logging
from dataclasses import dataclass

from ipm_common.errors import NotFound
from ipm_common.storage import Database, command_transaction, utcnow
from ipm_projects.adapters import repository
from ipm_projects.adapters.repository import ProjectHeader
from ipm_projects.domain.charter import Decision, GateReview, Phase, review_gate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReviewedGate:
    review: GateReview
    phase: Phase
    header: ProjectHeader
    changed: bool = True


async def decide_gate(database: Database, project_id: str, *, gate: Phase, decision: Decision, decided_by: str,
                      comment: str) -> ReviewedGate:
    """Record a gate review; an approval moves the project to its next phase, or completes it after control.

    A request that repeats the latest review returns it and changes nothing. Raises ``Conflict`` when
    ``gate`` is not the project's current phase or the project is completed.
    """
    async with command_transaction(database, subject="project") as transaction:
        connection = transaction.connection
        stored = await repository.project(connection, project_id)
        if stored is None:
            raise NotFound(f"project {project_id!r} not found; list projects with GET /v1/projects")
        project, previous = stored
        reviews = await repository.gate_reviews(connection, project_id)
        if reviews and reviews[-1].repeats(gate, decision, decided_by, comment):
            logger.info("project %s gate %s %s by %s repeated; nothing changed", project_id, gate, decision,
                        decided_by)
            return ReviewedGate(reviews[-1], project.phase, previous, changed=False)

        outcome = review_gate(project.phase, previous.completed_at is not None, gate, decision)
        review = GateReview(len(reviews) + 1, gate, decision, decided_by, comment, utcnow())
        await repository.insert_gate_review(connection, project_id, review)
        header = await repository.advance_project(connection, project_id, previous, outcome.phase, outcome.completed)

    logger.info("project %s gate %s %s by %s; phase now %s%s", project_id, gate, decision, decided_by,
                outcome.phase, " (completed)" if outcome.completed else "")
    return ReviewedGate(review, outcome.phase, header)
