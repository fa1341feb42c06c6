"""The alert API: rules, alerts, the alert event stream, webhooks and projections from outside."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from ipm_common.errors import InvalidInput, NotFound
from ipm_common.http import ExactJSONRoute
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_performance.adapters import alert_queries, subscriptions
from ipm_performance.domain.alerts import AlertStatus
from ipm_performance.domain.rules import Severity
from ipm_performance.entrypoints.alerts_schemas import (
    AlertOut,
    DeliveryOut,
    ProjectionsIn,
    ProjectionsOut,
    RuleIn,
    RuleOut,
    WebhookIn,
    WebhookOut,
)
from ipm_performance.service_layer import rules, webhooks
from ipm_performance.service_layer.cost_centres import put_projections

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, tags=["alerts"])

DatabaseDependency = Annotated[Database, Depends(get_database)]
RuleId = Annotated[str, Path(max_length=64, description="rule id, such as budget_variance or department_spending")]
Limit = Annotated[int, Query(ge=1, le=10_000)]

# The event stream polls the alert change log; a comment line keeps idle connections open through proxies.
STREAM_POLL_SECONDS = 0.5
STREAM_HEARTBEAT_SECONDS = 15.0
STREAM_BATCH = 500


# --- rules ---------------------------------------------------------------------------------------


@router.get("/rules", response_model=list[RuleOut])
async def list_rules(database: DatabaseDependency) -> list[RuleOut]:
    """List the alert rules in force: the built-in ones and those created through the API."""
    return [RuleOut.of(rule, updated_at) for rule, updated_at in await rules.rules_in_force(database)]


@router.get("/rules/{rule}", response_model=RuleOut)
async def get_rule(database: DatabaseDependency, rule: RuleId) -> RuleOut:
    """Show one rule."""
    return RuleOut.of(*await rules.get_rule(database, rule))


@router.put("/rules/{rule}", response_model=RuleOut)
async def put_rule(database: DatabaseDependency, rule: RuleId, body: RuleIn) -> RuleOut:
    """Create or replace a rule; it applies from the next evaluation."""
    return RuleOut.of(*await rules.put_rule(database, rule, body.settings()))


@router.delete("/rules/{rule}", status_code=204)
async def delete_rule(database: DatabaseDependency, rule: RuleId) -> Response:
    """Delete a rule; deleting a built-in rule restores its defaults."""
    await rules.delete_rule(database, rule)
    return Response(status_code=204)


# --- alerts --------------------------------------------------------------------------------------


@router.get("/alerts", response_model=list[AlertOut])
async def list_alerts(database: DatabaseDependency, entity_id: str | None = None, status: AlertStatus | None = None,
                      rule: str | None = None, severity: Severity | None = None, line: str | None = None,
                      comparison: str | None = None,
                      open_only: Annotated[bool, Query(alias="open", description="only open alerts")] = False,
                      limit: Limit = 1000) -> list[AlertOut]:
    """List alerts, the most recently changed first, filtered by entity, status, rule, severity, line and comparison."""
    filters = {"entity_id": entity_id, "status": status.value if status else None, "rule": rule,
               "severity": severity, "line": line, "comparison": comparison}
    async with database.reading() as connection:
        rows = await alert_queries.list_alerts(connection, filters, limit, open_only=open_only)
    return [AlertOut.model_validate(row._asdict()) for row in rows]


@router.get("/alerts/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream_alerts(request: Request, database: DatabaseDependency, entity_id: str | None = None,
                        severity: Annotated[Severity | None, Query(description="this severity or higher")] = None,
                        after: Annotated[int | None, Query(ge=0, description="start after this change id")] = None,
                        limit: Annotated[int | None, Query(ge=1, description="end the stream after this many")] = None,
                        last_event_id: Annotated[str | None, Header()] = None) -> StreamingResponse:
    """Stream alert changes as server-sent events; ``Last-Event-ID`` or ``after`` resumes, else only new ones come."""
    start = _resume_point(last_event_id, after)
    if start is None:
        async with database.reading() as connection:
            start = await subscriptions.last_change_sequence(connection)
    events = _alert_events(request, database, start, entity_id, severity, limit)
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/alerts/{alert_id}", response_model=AlertOut)
async def get_alert(database: DatabaseDependency, alert_id: Annotated[str, Path(max_length=64)]) -> AlertOut:
    """Show one alert."""
    async with database.reading() as connection:
        row = await alert_queries.get_alert(connection, alert_id)
    if row is None:
        raise NotFound(f"alert {alert_id!r} does not exist; list alerts with GET /v1/alerts")
    return AlertOut.model_validate(row._asdict())


def _resume_point(last_event_id: str | None, after: int | None) -> int | None:
    if last_event_id is not None and last_event_id.strip().isdigit():
        return int(last_event_id)
    return after


async def _alert_events(request: Request, database: Database, cursor: int, entity_id: str | None,
                        severity: str | None, limit: int | None) -> AsyncIterator[str]:
    """Yield one event per committed alert change after ``cursor``, and a heartbeat comment when idle."""
    sent = 0
    idle = 0.0
    yield f"retry: 2000\n: alert changes after {cursor}\n\n"
    while limit is None or sent < limit:
        async with database.reading() as connection:
            rows = await subscriptions.changes_after(connection, cursor, entity_id=entity_id, min_severity=severity,
                                                     limit=STREAM_BATCH)
        for row in rows[:None if limit is None else limit - sent]:
            cursor = row.sequence
            sent += 1
            yield f"id: {row.sequence}\nevent: alert.changed\ndata: {_compact(row.payload)}\n\n"
        if rows:
            idle = 0.0
            continue
        if await request.is_disconnected():
            return
        await asyncio.sleep(STREAM_POLL_SECONDS)
        idle += STREAM_POLL_SECONDS
        if idle >= STREAM_HEARTBEAT_SECONDS:
            idle = 0.0
            yield ": heartbeat\n\n"


def _compact(payload: str) -> str:
    """Re-encode the payload on one line, because a line break would end the event's data field."""
    return json.dumps(json.loads(payload), separators=(",", ":"))


# --- webhooks ------------------------------------------------------------------------------------


@router.post("/webhooks", response_model=WebhookOut, status_code=201)
async def register_webhook(database: DatabaseDependency, body: WebhookIn) -> WebhookOut:
    """Register a webhook for alert changes; deliveries are signed with the secret (header ``IPM-Signature``)."""
    row = await webhooks.register(database, body.url, body.secret, body.entity_id, body.min_severity)
    return WebhookOut.model_validate(row._asdict())


@router.get("/webhooks", response_model=list[WebhookOut])
async def list_webhooks(database: DatabaseDependency) -> list[WebhookOut]:
    """List the webhooks; secrets are never returned."""
    async with database.reading() as connection:
        rows = await subscriptions.list_webhooks(connection)
    return [WebhookOut.model_validate(row._asdict()) for row in rows]


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(database: DatabaseDependency,
                         webhook_id: Annotated[str, Path(max_length=36)]) -> Response:
    """Delete a webhook and its deliveries."""
    await webhooks.remove(database, webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut])
async def list_deliveries(database: DatabaseDependency, webhook_id: Annotated[str, Path(max_length=36)],
                          limit: Limit = 100) -> list[DeliveryOut]:
    """List a webhook's deliveries, the newest first, with attempts and the last status code or error."""
    return [DeliveryOut.model_validate(row) for row in await webhooks.deliveries(database, webhook_id, limit)]


# --- projections ---------------------------------------------------------------------------------


@router.put("/projections", response_model=ProjectionsOut)
async def put_projections_route(database: DatabaseDependency, body: ProjectionsIn) -> ProjectionsOut:
    """Store cost centres' full-year projections made outside IPM and compare them with their budgets."""
    amounts = {item.cost_centre: item.projection for item in body.projections}
    if len(amounts) < len(body.projections):
        repeated = next(index for index, item in enumerate(body.projections)
                        if [other.cost_centre for other in body.projections].index(item.cost_centre) < index)
        raise InvalidInput(f"projections[{repeated}].cost_centre: {body.projections[repeated].cost_centre!r} appears "
                           "twice; send one projection per cost centre", field=f"projections[{repeated}].cost_centre")
    variance_lines, alerts_changed = await put_projections(database, body.entity_id, body.line, body.fiscal_year,
                                                           amounts, body.as_of, body.source)
    return ProjectionsOut(entity_id=body.entity_id, line=body.line, fiscal_year=body.fiscal_year,
                          stored=len(amounts), variance_lines=variance_lines, alerts_changed=alerts_changed)
