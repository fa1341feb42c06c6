"""The HTTP API of budget versions (draft, submit, approve, reject, file uploads) and period balances."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ipm_common.errors import InvalidInput, NotFound
from ipm_common.http import ExactJSONRoute
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_forecast.adapters import balance_store
from ipm_forecast.entrypoints.budget_files import CSV_TYPES, XLSX_TYPE, FileKind, file_kind, read_budget_file
from ipm_forecast.entrypoints.budget_schemas import (
    BalanceBatchIn,
    BalanceIngestOut,
    BudgetSummaryOut,
    BudgetVersionOut,
    DraftIn,
    LinesIn,
    RejectionIn,
    StepIn,
    StoredBalanceOut,
)
from ipm_forecast.service_layer import budget_versions
from ipm_forecast.service_layer.balances import ingest_balances

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, tags=["budgets"])

_UPLOAD_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    CSV_TYPES[0]: {"schema": {"type": "string"}},
    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}}}


@router.post("/budgets/drafts", response_model=BudgetVersionOut, status_code=201)
async def create_draft(body: DraftIn, database: Database = Depends(get_database)) -> BudgetVersionOut:
    """Create a draft budget version for an entity and fiscal year, with or without lines."""
    version = await budget_versions.create_draft(database, budget_id=body.budget_id, entity_id=body.entity_id,
                                                 fiscal_year=body.fiscal_year, by=body.by, entered=body.to_input())
    return BudgetVersionOut.of_version(version)


@router.get("/budgets", response_model=list[BudgetSummaryOut])
async def list_budgets(entity_id: Annotated[str, Query(min_length=1, max_length=64)],
                       fiscal_year: Annotated[int | None, Query(ge=1900, le=2999)] = None,
                       database: Database = Depends(get_database)) -> list[BudgetSummaryOut]:
    """List an entity's budget versions, newest fiscal year and approval first, drafts after the approvals."""
    headers = await budget_versions.list_versions(database, entity_id, fiscal_year)
    return [BudgetSummaryOut.of(header) for header in headers]


@router.get("/budgets/{budget_id}", response_model=BudgetVersionOut)
async def get_budget(budget_id: str, database: Database = Depends(get_database)) -> BudgetVersionOut:
    """Return a budget version with its spread lines and its workflow history."""
    return BudgetVersionOut.of_version(await budget_versions.get_version(database, budget_id))


@router.put("/budgets/{budget_id}/lines", response_model=BudgetVersionOut)
async def replace_lines(budget_id: str, body: LinesIn, database: Database = Depends(get_database)) -> BudgetVersionOut:
    """Replace every line of a draft; 409 once it is submitted or approved."""
    version = await budget_versions.replace_lines(database, budget_id, by=body.by, entered=body.to_input())
    return BudgetVersionOut.of_version(version)


@router.put("/budgets/{budget_id}/lines/file", response_model=BudgetVersionOut, openapi_extra=_UPLOAD_BODY)
async def upload_lines(budget_id: str, request: Request,
                       by: Annotated[str, Query(min_length=1, max_length=128, description="who uploads the lines")],
                       database: Database = Depends(get_database)) -> BudgetVersionOut:
    """Replace every line of a draft from a CSV or .xlsx file: a multipart field "file", or the raw body."""
    content, kind = await _uploaded_file(request)
    current = await budget_versions.get_version(database, budget_id)
    # Reading a large workbook takes a second or more, so it runs in a worker thread, not on the event loop.
    entered = await run_in_threadpool(read_budget_file, content, kind, current.header.fiscal_year)
    version = await budget_versions.replace_lines(database, budget_id, by=by, entered=entered)
    return BudgetVersionOut.of_version(version)


@router.post("/budgets/{budget_id}/submit", response_model=BudgetVersionOut)
async def submit(budget_id: str, body: StepIn, database: Database = Depends(get_database)) -> BudgetVersionOut:
    """Submit a draft for approval."""
    return BudgetVersionOut.of_version(await budget_versions.submit(database, budget_id, by=body.by))


@router.post("/budgets/{budget_id}/approve", response_model=BudgetVersionOut)
async def approve(budget_id: str, body: StepIn, database: Database = Depends(get_database)) -> BudgetVersionOut:
    """Approve a submitted version; it supersedes the approved one and is published as ``budget approved``."""
    return BudgetVersionOut.of_version(await budget_versions.approve(database, budget_id, by=body.by))


@router.post("/budgets/{budget_id}/reject", response_model=BudgetVersionOut)
async def reject(budget_id: str, body: RejectionIn, database: Database = Depends(get_database)) -> BudgetVersionOut:
    """Send a submitted version back to draft with the reason."""
    version = await budget_versions.reject(database, budget_id, by=body.by, reason=body.reason)
    return BudgetVersionOut.of_version(version)


@router.post("/balances", response_model=BalanceIngestOut)
async def post_balances(batch: BalanceBatchIn, database: Database = Depends(get_database)) -> BalanceIngestOut:
    """Post an entity's versioned period balances; the newest version of each wins, stale ones are ignored."""
    result = await ingest_balances(database, batch.to_lines(), batch_id=batch.batch_id, entity_id=batch.entity_id,
                                   channel="http")
    return BalanceIngestOut(**result.__dict__)


@router.get("/balances/{entity_id}/{account_id}", response_model=list[StoredBalanceOut])
async def list_balances(entity_id: str, account_id: str, cost_centre: str = "",
                        database: Database = Depends(get_database)) -> list[StoredBalanceOut]:
    """List a series' stored balance versions by period, newest first; the first of each period counts."""
    async with database.reading() as connection:
        rows = await balance_store.stored_versions(connection, entity_id, account_id, cost_centre)
    if not rows:
        raise NotFound(f"no period balances for {entity_id}/{account_id}")
    return [StoredBalanceOut.model_validate(row) for row in rows]


async def _uploaded_file(request: Request) -> tuple[bytes, FileKind]:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return await request.body(), file_kind(content_type, None)

    # The form closes its spooled temporary files when the block ends.
    async with request.form() as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file: missing; send the CSV or .xlsx file in the multipart field \"file\"",
                               field="file")
        return await upload.read(), file_kind(upload.content_type, upload.filename)

