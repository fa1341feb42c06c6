"""The strategy service's HTTP API: organisation model, plans, targets and strategy reviews."""

import uuid
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from ipm_common.errors import NotFound
from ipm_common.http import ExactJSONRoute
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_strategy.adapters import repository
from ipm_strategy.domain.hierarchies import Edge, build_tree
from ipm_strategy.domain.reviews import ReviewStatus
from ipm_strategy.entrypoints.schemas import (
    IDENTIFIER_PATTERN,
    AccountIn,
    AccountItemIn,
    AccountOut,
    AccountSaved,
    AcknowledgeIn,
    AuditEntryOut,
    CurrentTargetOut,
    DecisionIn,
    EntityIn,
    EntityOut,
    EntitySaved,
    HierarchyIn,
    HierarchyOut,
    HierarchySaved,
    PlanIn,
    PlanLineOut,
    PlanOut,
    PlanSummary,
    ReviewDetail,
    ReviewOut,
    TargetOut,
)
from ipm_strategy.service_layer import organisation, plans, reviews
from ipm_strategy.service_layer.plans import StoredPlan

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, tags=["strategy"])

DatabaseDependency = Annotated[Database, Depends(get_database)]
IdentifierPath = Annotated[str, Path(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)]


def correlation_id(x_correlation_id: Annotated[str | None, Header(max_length=128)] = None) -> str:
    """Take the caller's X-Correlation-ID, or start a new correlation for this request."""
    return x_correlation_id or str(uuid.uuid4())


CorrelationDependency = Annotated[str, Depends(correlation_id)]


# --- entities ----------------------------------------------------------------------------------


@router.put("/entities/{entity_id}", response_model=EntitySaved,
            responses={409: {"description": "the request changes the currency or the calendar"}})
async def put_entity(entity_id: IdentifierPath, body: EntityIn, database: DatabaseDependency,
                     correlation: CorrelationDependency) -> EntitySaved:
    """Register or rename an entity and publish it. Its currency and calendar never change once registered."""
    saved = await organisation.put_entity(database, entity_id, body.name, body.currency,
                                          body.calendar.model_dump(), correlation_id=correlation)
    return EntitySaved.of(saved.record, saved.version, changed=saved.changed)


@router.get("/entities", response_model=list[EntityOut])
async def list_entities(database: DatabaseDependency) -> list[EntityOut]:
    """List the registered entities with their calendars and versions."""
    async with database.reading() as connection:
        stored = await repository.entities(connection)
    return [EntityOut.of(entity, version) for entity, version in stored]


@router.get("/entities/{entity_id}", response_model=EntityOut)
async def get_entity(entity_id: str, database: DatabaseDependency) -> EntityOut:
    """Return one entity with its fiscal calendar and version."""
    async with database.reading() as connection:
        stored = await repository.entity(connection, entity_id)
    if stored is None:
        raise NotFound(f"entity {entity_id!r} not found; register it with PUT /v1/entities/{entity_id}")
    return EntityOut.of(*stored)


# --- accounts ----------------------------------------------------------------------------------


@router.put("/accounts/{account_id}", response_model=AccountSaved,
            responses={409: {"description": "the request changes the type, statement or normal balance"}})
async def put_account(account_id: IdentifierPath, body: AccountIn, database: DatabaseDependency,
                      correlation: CorrelationDependency) -> AccountSaved:
    """Define or change an account and publish it. Its type, statement and normal balance never change."""
    saved = await organisation.put_account(database, body.to_request(account_id), correlation_id=correlation)
    return AccountSaved.of(saved.record, saved.version, changed=saved.changed)


@router.put("/accounts", response_model=list[AccountSaved],
            responses={409: {"description": "an item changes the type, statement or normal balance"}})
async def put_accounts(body: list[AccountItemIn], database: DatabaseDependency,
                       correlation: CorrelationDependency) -> list[AccountSaved]:
    """Define or change many accounts at once. One rejected item rejects all, and nothing is stored."""
    requests = [item.to_request(item.account_id) for item in body]
    saved = await organisation.put_accounts(database, requests, correlation_id=correlation)
    return [AccountSaved.of(item.record, item.version, changed=item.changed) for item in saved]


@router.get("/accounts", response_model=list[AccountOut])
async def list_accounts(database: DatabaseDependency) -> list[AccountOut]:
    """List the chart of accounts."""
    async with database.reading() as connection:
        stored = await repository.accounts(connection)
    return [AccountOut.of(account, version) for account, version in stored.values()]


@router.get("/accounts/{account_id}", response_model=AccountOut)
async def get_account(account_id: str, database: DatabaseDependency) -> AccountOut:
    """Return one account with its version."""
    async with database.reading() as connection:
        stored = (await repository.accounts(connection, [account_id])).get(account_id)
    if stored is None:
        raise NotFound(f"account {account_id!r} not found; define it with PUT /v1/accounts/{account_id}")
    return AccountOut.of(*stored)


# --- hierarchies -------------------------------------------------------------------------------


@router.put("/hierarchies/{name}", response_model=HierarchySaved)
async def put_hierarchy(name: IdentifierPath, body: HierarchyIn, database: DatabaseDependency,
                        correlation: CorrelationDependency) -> HierarchySaved:
    """Replace a hierarchy with a new forest of edges and publish it."""
    edges = [Edge(edge.child, edge.parent) for edge in body.edges]
    saved = await organisation.put_hierarchy(database, name, body.dimension, edges, correlation_id=correlation)
    tree = build_tree(saved.record.tree)
    return HierarchySaved.of(saved.record, saved.version, tree, changed=saved.changed)


@router.get("/hierarchies/{name}", response_model=HierarchyOut)
async def get_hierarchy(name: str, database: DatabaseDependency) -> HierarchyOut:
    """Return a hierarchy as a tree in which every node lists the leaves below it."""
    async with database.reading() as connection:
        stored = await repository.hierarchy(connection, name)
    if stored is None:
        raise NotFound(f"hierarchy {name!r} not found; create it with PUT /v1/hierarchies/{name}")
    definition, version = stored
    return HierarchyOut.of(definition, version, build_tree(definition.tree))


# --- plans and targets -------------------------------------------------------------------------


@router.post("/plans", response_model=PlanOut, status_code=HTTPStatus.CREATED,
             responses={200: {"description": "the same plan was stored before; nothing changed"},
                        409: {"description": "the plan id is taken by a plan with other content"}})
async def post_plan(body: PlanIn, response: Response, database: DatabaseDependency,
                    correlation: CorrelationDependency) -> PlanOut:
    """Store a plan vintage. The targets of an adopted or revised plan replace earlier ones and are published."""
    stored = await plans.submit_plan(
        database, plan_id=body.plan_id, entity_id=body.entity_id, name=body.name, kind=body.kind,
        adopted_for_fiscal_year=body.adopted_for_fiscal_year, lines=[line.to_line() for line in body.lines],
        targets=[target.to_request() for target in body.targets], correlation_id=correlation,
    )
    if not stored.created:
        response.status_code = HTTPStatus.OK
    return _plan_out(stored)


@router.get("/plans", response_model=list[PlanSummary])
async def list_plans(database: DatabaseDependency, entity_id: str | None = None) -> list[PlanSummary]:
    """List plan vintages, newest first, optionally of one entity."""
    async with database.reading() as connection:
        rows = await repository.plan_headers(connection, entity_id)
    return [PlanSummary(plan_id=row.plan_id, entity_id=row.entity_id, name=row.name, kind=row.kind,
                        adopted_for_fiscal_year=row.adopted_for_fiscal_year, targets_version=row.targets_version,
                        created_at=repository.aware(row.created_at)) for row in rows]


@router.get("/plans/{plan_id}", response_model=PlanOut)
async def get_plan(plan_id: str, database: DatabaseDependency) -> PlanOut:
    """Return one plan vintage with its lines and targets."""
    async with database.reading() as connection:
        stored = await repository.plan(connection, plan_id)
    if stored is None:
        raise NotFound(f"plan {plan_id!r} not found; list plans with GET /v1/plans")
    plan, targets_version, created_at = stored
    return _plan_out(StoredPlan(plan, targets_version, created_at, created=False))


@router.get("/targets", response_model=list[CurrentTargetOut])
async def list_targets(database: DatabaseDependency, entity_id: str,
                       fiscal_year: Annotated[int | None, Query(ge=1900, le=2999)] = None) -> list[CurrentTargetOut]:
    """List an entity's targets in force, each with the plan that set it."""
    current = await plans.list_current_targets(database, entity_id, fiscal_year)
    return [CurrentTargetOut(**TargetOut.fields_of(item.target), entity_id=item.entity_id, plan_id=item.plan_id,
                             plan_name=item.plan_name, version=item.version) for item in current]


def _plan_out(stored: StoredPlan) -> PlanOut:
    plan = stored.plan
    return PlanOut(
        plan_id=plan.plan_id, entity_id=plan.entity_id, name=plan.name, kind=plan.kind,
        adopted_for_fiscal_year=plan.adopted_for_fiscal_year, targets_version=stored.targets_version,
        created_at=stored.created_at,
        lines=[PlanLineOut(line=line.line, fiscal_year=line.fiscal_year, amount=line.amount) for line in plan.lines],
        targets=[TargetOut(**TargetOut.fields_of(target)) for target in plan.targets],
    )


# --- reviews -----------------------------------------------------------------------------------


@router.get("/reviews", response_model=list[ReviewOut])
async def list_reviews(database: DatabaseDependency, status: ReviewStatus | None = None,
                       entity_id: str | None = None) -> list[ReviewOut]:
    """List strategy reviews, newest first, optionally by status and entity."""
    async with database.reading() as connection:
        found = await repository.reviews(connection, status, entity_id)
    return [ReviewOut.of(review) for review in found]


@router.get("/reviews/{review_id}", response_model=ReviewDetail)
async def get_review(review_id: str, database: DatabaseDependency) -> ReviewDetail:
    """Return a review with its audit trail: every state change with who, when and what."""
    review, trail = await reviews.review_with_trail(database, review_id)
    return ReviewDetail.of(review, audit=[AuditEntryOut.of(entry) for entry in trail])


@router.post("/reviews/{review_id}/acknowledge", response_model=ReviewOut)
async def acknowledge_review(review_id: str, body: AcknowledgeIn, database: DatabaseDependency) -> ReviewOut:
    """Acknowledge an opened review. Any other status is a conflict."""
    review = await reviews.acknowledge_review(database, review_id, by=body.by, comment=body.comment)
    return ReviewOut.of(review)


@router.post("/reviews/{review_id}/decision", response_model=ReviewOut)
async def decide_review(review_id: str, body: DecisionIn, database: DatabaseDependency,
                        correlation: CorrelationDependency) -> ReviewOut:
    """Decide an undecided review and publish the decision. A retry of the same decision is a no-op."""
    review = await reviews.decide_review(database, review_id, decision=body.decision, by=body.by,
                                         reason=body.reason, correlation_id=correlation,
                                         revised_plan_id=body.revised_plan_id)
    return ReviewOut.of(review)
