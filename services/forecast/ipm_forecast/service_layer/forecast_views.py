"""Read models of forecasts: a version with its layers and lineage, the diff of two versions, accuracy."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import InvalidInput, NotFound
from ipm_common.storage import Database
from ipm_forecast.adapters import forecast_store, repository
from ipm_forecast.adapters.forecast_store import Series
from ipm_forecast.domain.accuracy import ScoredPoint, measure, measures_by_lag
from ipm_forecast.domain.diff import PointLayers, diff_points, lineage_reasons

LAYERS = ("baseline", "driver", "benefits", "override", "value", "p10", "p90")


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount, "f")


def _layers(point: Any) -> PointLayers:
    return PointLayers(point.baseline, point.driver or Decimal(0), point.benefits, point.override, point.value)


async def forecast_version(database: Database, series: Series, version: int | None) -> dict[str, Any]:
    """Return one kept version (the latest when ``version`` is None) with its layers per point and lineage."""
    async with database.reading() as connection:
        header = await forecast_store.forecast_header(connection, series, version)
        if header is None:
            raise _no_forecast(series, version)
        points = await forecast_store.forecast_point_rows(connection, header.forecast_id)
    lineage = forecast_store.lineage_of(header)
    regression = lineage.get("regression")
    return {
        "forecast_id": header.forecast_id, "entity_id": series[0], "account_id": series[1],
        "cost_centre": series[2] or None, "version": header.version, "origin": header.origin,
        "method": header.method, "methods": {"baseline": header.method,
                                             "driver": None if not regression else regression.get("method")},
        "clamped": header.clamped, "ledger_version": header.ledger_version,
        "created_at": header.created_at.isoformat(), "lineage": lineage,
        "points": [{"period": point.period, **{name: _text(_layer(point, name)) for name in LAYERS}}
                   for point in points],
    }


def _layer(point: Any, name: str) -> Decimal | None:
    value: Decimal | None = getattr(point, name)
    if name == "driver" and value is None:
        return Decimal(0)
    return value


async def forecast_versions(database: Database, series: Series) -> list[dict[str, Any]]:
    """List every kept version of a series, newest first, with what produced it."""
    async with database.reading() as connection:
        headers = await forecast_store.forecast_headers(connection, series)
    return [{"version": header.version, "forecast_id": header.forecast_id, "origin": header.origin,
             "method": header.method, "ledger_version": header.ledger_version,
             "created_at": header.created_at.isoformat(), "lineage": forecast_store.lineage_of(header)}
            for header in headers]


async def forecast_diff(database: Database, series: Series, from_version: int | None,
                        to_version: int | None) -> dict[str, Any]:
    """Compare two versions line by line; the defaults are the latest version and the one before it."""
    async with database.reading() as connection:
        new = await forecast_store.forecast_header(connection, series, to_version)
        if new is None:
            raise _no_forecast(series, to_version)
        old_version = new.version - 1 if from_version is None else from_version
        if old_version < 1:
            raise InvalidInput(f"from_version: version {new.version} is the first; there is nothing to compare "
                               "it with", field="from_version")
        if old_version > new.version:
            raise InvalidInput(f"from_version: version {old_version} is newer than to_version {new.version}; send "
                               "the older version as from_version", field="from_version")
        old = await forecast_store.forecast_header(connection, series, old_version)
        if old is None:
            raise _no_forecast(series, old_version)
        old_points = await _points(connection, old.forecast_id)
        new_points = await _points(connection, new.forecast_id)

    reasons = lineage_reasons(forecast_store.lineage_of(old), forecast_store.lineage_of(new))
    changes = diff_points(old_points, new_points, reasons)
    return {
        "entity_id": series[0], "account_id": series[1], "cost_centre": series[2] or None,
        "from_version": old.version, "to_version": new.version, "from_origin": old.origin, "to_origin": new.origin,
        "reasons": reasons,
        "trigger": forecast_store.lineage_of(new).get("trigger"),
        "changes": [{"period": change.period, "old_value": _text(change.old_value),
                     "new_value": _text(change.new_value), "change": _text(change.change),
                     "reasons": list(change.reasons)} for change in changes],
    }


async def _points(connection: AsyncConnection, forecast_id: str) -> dict[str, PointLayers]:
    return {point.period: _layers(point) for point in await forecast_store.forecast_point_rows(connection,
                                                                                              forecast_id)}


def _no_forecast(series: Series, version: int | None) -> NotFound:
    name = f"{series[0]}/{series[1]}"
    if version is None:
        return NotFound(f"no forecast for {name}; a forecast is rolled after actuals of the series are posted")
    return NotFound(f"no forecast for {name} version {version}; GET /v1/forecasts/{name}/versions lists the "
                    "kept versions")


async def accuracy_report(database: Database, entity_id: str, account_id: str | None,
                          lag: int | None) -> dict[str, Any]:
    """Report WAPE and bias per series and for the whole entity, by lag or for one lag."""
    async with database.reading() as connection:
        await repository.reference.entity(connection, entity_id)
        rows = await forecast_store.accuracy_rows(connection, entity_id, account_id)
    selected = [row for row in rows if lag is None or row.lag == lag]
    series = []
    for key, series_rows in forecast_store.group_by_series(selected).items():
        entry: dict[str, Any] = {"account_id": key[1], "cost_centre": key[2] or None,
                                 "measures": _measures(series_rows, lag)}
        if account_id is not None:
            entry["points"] = [{"period": row.period, "version": row.version, "lag": row.lag,
                                "forecast": _text(row.forecast), "actual": _text(row.actual)} for row in series_rows]
        series.append(entry)
    return {"entity_id": entity_id, "account_id": account_id, "lag": lag, "entity": _measures(selected, lag),
            "series": series}


def _measures(rows: Sequence[Any], lag: int | None) -> list[dict[str, Any]]:
    points = [ScoredPoint(row.lag, row.forecast, row.actual) for row in rows]
    measures = measures_by_lag(points) if lag is None else [measure(points, lag)]
    return [item.model_dump(mode="json") for item in measures]
