"""The forecast service's HTTP API: actuals, periods, exchange rates, budgets and forecasts."""

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select

from ipm_common.errors import NotFound
from ipm_common.events import BudgetApproved
from ipm_common.http import ExactJSONRoute
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_forecast.adapters import repository, tables
from ipm_forecast.entrypoints.schemas import (
    BudgetIn,
    ClosedPeriodOut,
    IngestOut,
    PeriodCloseIn,
    PostingBatchIn,
    RateIn,
    RateKeyIn,
    RateOut,
)
from ipm_forecast.service_layer import periods, rates
from ipm_forecast.service_layer.budgets import approve_budget
from ipm_forecast.service_layer.ingestion import ingest_batch

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, tags=["forecast"])


@router.post("/actuals", response_model=IngestOut)
async def post_actuals(batch: PostingBatchIn, request: Request,
                       database: Database = Depends(get_database)) -> IngestOut:
    """Post a batch of ERP postings; replays of known source ids change nothing."""
    settings = request.app.state.runtime.settings
    result = await ingest_batch(database, batch.to_requests(), batch_id=batch.batch_id, channel="http",
                                base_currency=settings.fx_base_currency)
    return IngestOut(**result.__dict__)


@router.get("/actuals/{entity_id}/{account_id}")
async def get_actuals(entity_id: str, account_id: str, cost_centre: str = "",
                      database: Database = Depends(get_database)) -> dict[str, Any]:
    """Return a series' period balances in natural sign and functional currency."""
    async with database.reading() as connection:
        totals, version = await repository.period_totals(connection, entity_id, account_id, cost_centre)
    if not totals:
        raise NotFound(f"no actuals for {entity_id}/{account_id}")
    return {"entity_id": entity_id, "account_id": account_id, "ledger_version": version,
            "periods": [{"period": str(period), "amount": str(amount)} for period, amount in sorted(totals.items())]}


@router.post("/periods/{entity_id}/{period}/close")
async def close_period(entity_id: str, period: str, body: PeriodCloseIn,
                       database: Database = Depends(get_database)) -> dict[str, str]:
    """Close a period (FY2024-P03, or 2024-03 in month calendars starting on day 1) against later postings."""
    key = await periods.close_period(database, entity_id, period, body.by)
    return {"entity_id": entity_id, "period": str(key), "status": "closed"}


@router.post("/periods/{entity_id}/{period}/reopen")
async def reopen_period(entity_id: str, period: str, body: PeriodCloseIn,
                        database: Database = Depends(get_database)) -> dict[str, str]:
    """Reopen a closed period so that it accepts postings again; 409 when it is not closed."""
    key = await periods.reopen_period(database, entity_id, period, body.by)
    return {"entity_id": entity_id, "period": str(key), "status": "open", "by": body.by}


@router.get("/periods/{entity_id}/closed", response_model=list[ClosedPeriodOut])
async def list_closed_periods(entity_id: str, database: Database = Depends(get_database)) -> list[ClosedPeriodOut]:
    """List an entity's closed periods in period order, with who closed each and when."""
    closed = await periods.closed_periods(database, entity_id)
    return [ClosedPeriodOut(period=str(item.period), closed_at=item.closed_at, closed_by=item.closed_by)
            for item in closed]


@router.put("/fx-rates")
async def put_rates(body: list[RateIn], request: Request,
                    database: Database = Depends(get_database)) -> dict[str, int]:
    """Store exchange rates by rate type and period, replacing the rate of the same key; all or none."""
    base_currency = request.app.state.runtime.settings.fx_base_currency
    stored = await rates.store_rates(database, [item.to_request() for item in body], base_currency)
    return {"stored": stored}


@router.delete("/fx-rates")
async def delete_rates(body: list[RateKeyIn], database: Database = Depends(get_database)) -> dict[str, int]:
    """Delete the stored rates of the given keys; 404 and nothing deleted when one is not stored."""
    deleted = await rates.delete_rates(database, [item.to_key() for item in body])
    return {"deleted": deleted}


@router.get("/fx-rates", response_model=list[RateOut])
async def list_rates(database: Database = Depends(get_database)) -> list[RateOut]:
    """List the stored exchange rates by currency pair, rate type and period."""
    stored = await rates.list_rates(database)
    return [RateOut(**{**row, "rate": _text(row["rate"])}) for row in stored]


@router.post("/budgets", response_model=BudgetApproved)
async def post_budget(budget: BudgetIn, database: Database = Depends(get_database)) -> BudgetApproved:
    """Approve a budget for an entity's fiscal year, spread to periods to the cent."""
    return await approve_budget(database, entity_id=budget.entity_id, fiscal_year=budget.fiscal_year,
                                approved_by=budget.approved_by, lines=[line.to_request() for line in budget.lines],
                                budget_id=budget.budget_id)


def _text(amount: Decimal) -> str:
    return format(amount, "f")


@router.get("/reference")
async def get_reference(database: Database = Depends(get_database)) -> dict[str, Any]:
    """Return which entities, how many accounts and which hierarchies this service holds."""
    async with database.reading() as connection:
        entities = await repository.reference.entities(connection)
        accounts = await repository.reference.accounts(connection)
        hierarchies = await repository.reference.hierarchies(connection)
    return {"entities": sorted(entities), "accounts": len(accounts),
            "hierarchies": [hierarchy.name for hierarchy in hierarchies]}


@router.get("/stats")
async def get_stats(database: Database = Depends(get_database)) -> dict[str, int]:
    """Count stored postings, late postings and kept forecast versions."""
    async with database.reading() as connection:
        postings = (await connection.execute(select(func.count()).select_from(tables.postings))).scalar_one()
        late = (await connection.execute(select(func.count()).select_from(tables.postings).where(
            tables.postings.c.late.is_(True)))).scalar_one()
        versions = (await connection.execute(select(func.count()).select_from(tables.forecasts))).scalar_one()
    return {"postings": postings, "late_postings": late, "forecast_versions": versions}
