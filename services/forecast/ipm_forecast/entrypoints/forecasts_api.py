"""The forecast service's HTTP routes for rolling forecasts: versions, diff, drivers, overrides, accuracy."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from ipm_common.errors import NotFound
from ipm_common.http import ExactJSONRoute
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_forecast.adapters import forecast_store
from ipm_forecast.adapters.forecast_store import DriverLine, OverrideRecord
from ipm_forecast.entrypoints.forecast_schemas import DriverLineIn, DriverValuesIn, OverrideIn, ScenarioIn, TopDownIn
from ipm_forecast.entrypoints.schemas import IDENTIFIER_PATTERN
from ipm_forecast.service_layer import drivers, forecast_views, overrides
from ipm_forecast.service_layer.drivers import DriverChange
from ipm_forecast.service_layer.rerolling import reroll_entity

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, tags=["forecasts"])

# Versions are stored as 32-bit integers on PostgreSQL.
MAX_VERSION = 2**31 - 1
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_VERSION,
                                           description="a kept version; leave it out for the latest")]
IdentifierPath = Annotated[str, Path(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)]
LagQuery = Annotated[int | None, Query(ge=1, le=36, description="one lag in periods; leave it out for 1, 3, 6, "
                                                                "12 and every lag together")]


def _horizon(request: Request) -> int:
    horizon: int = request.app.state.runtime.settings.horizon
    return horizon


@router.get("/forecasts/{entity_id}/{account_id}")
async def get_forecast(entity_id: str, account_id: str, version: VersionQuery = None, cost_centre: str = "",
                       database: Database = Depends(get_database)) -> dict[str, Any]:
    """Return the latest forecast version of a series, or the version asked for, with its layers and lineage."""
    return await forecast_views.forecast_version(database, (entity_id, account_id, cost_centre), version)


@router.get("/forecasts/{entity_id}/{account_id}/versions")
async def list_forecast_versions(entity_id: str, account_id: str, cost_centre: str = "",
                                 database: Database = Depends(get_database)) -> list[dict[str, Any]]:
    """List every kept forecast version of a series, newest first, with what produced each."""
    return await forecast_views.forecast_versions(database, (entity_id, account_id, cost_centre))


@router.get("/forecasts/{entity_id}/{account_id}/diff")
async def diff_forecast(entity_id: str, account_id: str, from_version: VersionQuery = None,
                        to_version: VersionQuery = None, cost_centre: str = "",
                        database: Database = Depends(get_database)) -> dict[str, Any]:
    """Compare two versions period by period, with a reason per change (by default the latest and the one before)."""
    return await forecast_views.forecast_diff(database, (entity_id, account_id, cost_centre), from_version,
                                              to_version)


@router.post("/entities/{entity_id}/reroll")
async def post_entity_reroll(entity_id: str, request: Request,
                             database: Database = Depends(get_database)) -> dict[str, Any]:
    """Re-roll every series of an entity that has actuals, each into a new version."""
    trigger, versions = await reroll_entity(database, entity_id, horizon=_horizon(request))
    return {"entity_id": entity_id, "series": len(versions), "command_id": trigger.event_id}


# --- drivers -----------------------------------------------------------------------------------


@router.put("/drivers/{driver_id}")
async def put_driver(driver_id: IdentifierPath, body: DriverValuesIn,
                     request: Request, database: Database = Depends(get_database)) -> dict[str, Any]:
    """Store a driver's published monthly values and re-roll the lines regressed on it. Other months are kept."""
    change = await drivers.put_driver_values(database, driver_id, dict(body.values), name=body.name,
                                             horizon=_horizon(request))
    return _change(change)


@router.get("/drivers/{driver_id}")
async def get_driver(driver_id: str, database: Database = Depends(get_database)) -> dict[str, Any]:
    """Return a driver's values by month, its scenarios and the lines regressed on it."""
    async with database.reading() as connection:
        record = await forecast_store.driver(connection, driver_id)
        if record is None:
            raise NotFound(f"driver {driver_id!r} not found; PUT /v1/drivers/{driver_id} stores its values")
        values = await forecast_store.driver_values(connection, driver_id)
        scenarios = {name: await forecast_store.scenario_values(connection, driver_id, name)
                     for name in await forecast_store.scenario_names(connection, driver_id)}
        lines = await forecast_store.lines_of_driver(connection, driver_id)
    return {"driver_id": driver_id, "name": record.name, "version": record.version,
            "updated_at": record.updated_at.isoformat(), "values": _months(values),
            "scenarios": {name: _months(path) for name, path in scenarios.items()},
            "lines": [_line(line) for line in lines]}


@router.put("/drivers/{driver_id}/scenarios/{scenario}")
async def put_scenario(driver_id: str, scenario: IdentifierPath, body: ScenarioIn,
                       request: Request, database: Database = Depends(get_database)) -> dict[str, Any]:
    """Replace a named scenario path of a driver and re-roll the lines that follow it."""
    change = await drivers.put_scenario(database, driver_id, scenario, dict(body.values), horizon=_horizon(request))
    return {**_change(change), "scenario": scenario}


@router.put("/driver-lines/{entity_id}/{account_id}")
async def put_driver_line(entity_id: str, account_id: str, body: DriverLineIn, request: Request,
                          database: Database = Depends(get_database)) -> dict[str, Any]:
    """Regress a line on a driver and re-roll it. The response has the fitted coefficients and R²."""
    series = (entity_id, account_id, body.cost_centre or "")
    change = await drivers.configure_line(database, series, body.driver_id, body.scenario, body.configured_by,
                                          horizon=_horizon(request))
    return {**_change(change), **await _line_view(database, series)}


@router.get("/driver-lines/{entity_id}/{account_id}")
async def get_driver_line(entity_id: str, account_id: str, cost_centre: str = "",
                          database: Database = Depends(get_database)) -> dict[str, Any]:
    """Return a line's driver configuration and the regression of its latest forecast version."""
    return await _line_view(database, (entity_id, account_id, cost_centre))


@router.delete("/driver-lines/{entity_id}/{account_id}")
async def delete_driver_line(entity_id: str, account_id: str, request: Request, cost_centre: str = "",
                             database: Database = Depends(get_database)) -> dict[str, Any]:
    """Stop regressing a line on its driver and re-roll it without a driver effect."""
    change = await drivers.remove_line(database, (entity_id, account_id, cost_centre), horizon=_horizon(request))
    return {"driver_id": change.driver_id, "command_id": change.trigger_id,
            "lines": _change(change)["lines"]}


async def _line_view(database: Database, series: forecast_store.Series) -> dict[str, Any]:
    async with database.reading() as connection:
        line = await forecast_store.driver_line(connection, series)
        if line is None:
            raise NotFound(f"line {series[0]}/{series[1]} is not regressed on a driver; PUT /v1/driver-lines/"
                           f"{series[0]}/{series[1]} configures it")
        header = await forecast_store.forecast_header(connection, series, None)
    regression = None if header is None else forecast_store.lineage_of(header).get("regression")
    return {"line": _line(line), "regression": regression,
            "forecast_version": None if header is None else header.version}


def _change(change: DriverChange) -> dict[str, Any]:
    return {"driver_id": change.driver_id, "version": change.version, "command_id": change.trigger_id,
            "lines": [{"entity_id": entity_id, "account_id": account_id, "cost_centre": cost_centre or None}
                      for entity_id, account_id, cost_centre in change.rerolled]}


def _line(line: DriverLine) -> dict[str, Any]:
    return {"entity_id": line.entity_id, "account_id": line.account_id, "cost_centre": line.cost_centre or None,
            "driver_id": line.driver_id, "scenario": line.scenario, "version": line.version,
            "configured_by": line.configured_by, "updated_at": line.updated_at.isoformat()}


def _months(values: dict[str, Any]) -> dict[str, str]:
    return {month: format(values[month], "f") for month in sorted(values)}


# --- overrides ---------------------------------------------------------------------------------


@router.post("/overrides", status_code=201)
async def post_override(body: OverrideIn, request: Request,
                        database: Database = Depends(get_database)) -> dict[str, Any]:
    """Replace the forecast value of one series and period, with author and reason, and re-roll the series."""
    record = await overrides.set_override(database, body.to_request(), horizon=_horizon(request))
    return _override(record)


@router.post("/overrides/top-down", status_code=201)
async def post_top_down_override(body: TopDownIn, request: Request,
                                 database: Database = Depends(get_database)) -> dict[str, Any]:
    """Set a hierarchy node's value for one period, allocated to its leaves by their current forecast."""
    records = await overrides.set_top_down(database, body.to_request(), horizon=_horizon(request))
    return {"top_down_id": records[0].top_down_id, "node": body.node, "hierarchy": body.hierarchy,
            "value": format(body.value, "f"), "leaves": [_override(record) for record in records]}


@router.get("/overrides")
async def list_overrides(entity_id: str, account_id: str | None = None,
                         database: Database = Depends(get_database)) -> list[dict[str, Any]]:
    """List an entity's overrides, newest first, the replaced and withdrawn ones marked inactive."""
    async with database.reading() as connection:
        records = await forecast_store.override_list(connection, entity_id, account_id)
    return [_override(record) for record in records]


@router.delete("/overrides/{override_id}")
async def delete_override(override_id: str, request: Request,
                          database: Database = Depends(get_database)) -> dict[str, Any]:
    """Withdraw an active override and re-roll the series with its computed value."""
    record = await overrides.withdraw_override(database, override_id, horizon=_horizon(request))
    return {**_override(record), "active": False}


def _override(record: OverrideRecord) -> dict[str, Any]:
    return {"override_id": record.override_id, "entity_id": record.entity_id, "account_id": record.account_id,
            "cost_centre": record.cost_centre or None, "period": record.period, "value": format(record.value, "f"),
            "author": record.author, "reason": record.reason, "top_down_id": record.top_down_id,
            "active": record.active, "created_at": record.created_at.isoformat()}


# --- accuracy ----------------------------------------------------------------------------------


@router.get("/accuracy")
async def get_accuracy(entity_id: str, account_id: str | None = None, lag: LagQuery = None,
                       database: Database = Depends(get_database)) -> dict[str, Any]:
    """Report WAPE and bias of earlier forecast versions against actuals, per series and for the entity."""
    return await forecast_views.accuracy_report(database, entity_id, account_id, lag)
