"""Budget lines: checks of the amounts as entered and their spread to the periods of a fiscal year.

A line is entered either per period or as an annual figure with a spread method. The methods
are ``even``, ``profile`` (the prior year's actuals of the line), ``days`` (the days of each
period in the entity's calendar) and ``driver`` (the values of a named driver series that the
request carries).
Every spread keeps the annual total to the cent.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import InvalidInput
from ipm_common.events import BudgetLine, BudgetPeriod
from ipm_common.money import parse_amount
from ipm_common.periods import PeriodKey
from ipm_common.reference import Entity
from ipm_common.spreading import spread_by_profile, spread_even
from ipm_forecast.adapters import repository
from ipm_forecast.domain.budget_spreading import driver_weights, spread_by_days, spread_by_driver

SPREADS = ("even", "profile", "days", "driver")


@dataclass(frozen=True)
class BudgetLineRequest:
    line: str
    cost_centre: str
    annual: Decimal | None
    periods: dict[str, Decimal] | None
    spread: str  # one of SPREADS
    driver: str | None = None  # the driver series that a "driver" spread follows


def line_fields(count: int, prefixes: Sequence[str] | None = None) -> list[str]:
    """Return the field prefix of each line: ``lines[i]``, or the caller's names such as rows of a file."""
    return list(prefixes) if prefixes is not None else [f"lines[{index}]" for index in range(count)]


def check_lines(lines: Sequence[BudgetLineRequest], periods: list[PeriodKey],
                drivers: Mapping[str, object] | None = None, prefixes: Sequence[str] | None = None) -> None:
    """Reject repeated lines, unknown spreads or drivers and amounts that cannot be spread to the cent."""
    names = line_fields(len(lines), prefixes)
    first_index: dict[tuple[str, str], int] = {}
    for index, line in enumerate(lines):
        earlier = first_index.setdefault((line.line, line.cost_centre), index)
        if earlier != index:
            where = f" with cost centre {line.cost_centre!r}" if line.cost_centre else ""
            raise InvalidInput(f"{names[index]}.line: {line.line!r}{where} repeats {names[earlier]}; send one entry "
                               "per line and cost centre", field=f"{names[index]}.line")
        _check_amounts(names[index], line, periods, drivers or {})


def _check_amounts(name: str, line: BudgetLineRequest, periods: list[PeriodKey],
                   drivers: Mapping[str, object]) -> None:
    if line.periods is None and line.annual is None:
        raise InvalidInput(f"{name}.annual: missing, and so are periods; give annual or periods",
                           field=f"{name}.annual")
    if line.annual is not None:
        check_cents(line.annual, f"{name}.annual")
    if line.periods is None:
        _check_spread(name, line, drivers)
        return

    total = _monthly_total(name, line, periods)
    if line.annual is not None and line.annual != total:
        raise InvalidInput(f"{name}.annual: {line.annual} differs from the sum of periods, {total}; give "
                           "either annual or periods, not both", field=f"{name}.annual")


def _monthly_total(name: str, line: BudgetLineRequest, periods: list[PeriodKey]) -> Decimal:
    """Check the amounts per period and return their sum."""
    assert line.periods is not None
    for period, amount in line.periods.items():
        check_cents(amount, f"{name}.periods.{period}")
    total = sum(_monthly_amounts(name, line, periods), Decimal(0))
    try:
        parse_amount(total, field=f"{name}.periods")
    except InvalidInput as error:
        limit = str(error).rpartition("; ")[2]
        raise InvalidInput(f"{name}.periods: their sum {total} becomes the annual amount and is out of "
                           f"range ({limit}); lower the amounts", field=f"{name}.periods") from None
    return total


def _check_spread(name: str, line: BudgetLineRequest, drivers: Mapping[str, object]) -> None:
    if line.spread not in SPREADS:
        raise InvalidInput(f"{name}.spread: {line.spread!r} is unknown; use one of {', '.join(SPREADS)}",
                           field=f"{name}.spread")
    if line.spread != "driver":
        if line.driver is not None:
            raise InvalidInput(f"{name}.driver: a driver applies only to the spread \"driver\", not "
                               f"{line.spread!r}; remove it or set spread to \"driver\"", field=f"{name}.driver")
        return
    if line.driver is None:
        raise InvalidInput(f"{name}.driver: missing; the spread \"driver\" needs the name of a driver given in "
                           "drivers", field=f"{name}.driver")
    if line.driver not in drivers:
        known = ", ".join(sorted(drivers)) or "none"
        raise InvalidInput(f"{name}.driver: {line.driver!r} is not among the drivers of the request ({known}); "
                           "add its values under drivers or correct the name", field=f"{name}.driver")


def check_cents(amount: Decimal, field: str) -> None:
    if (Fraction(amount) * 100).denominator != 1:
        raise InvalidInput(f"{field}: {amount} has fractions of a cent; budgets are set to the cent, so round it "
                           "to two decimal places", field=field)


def check_drivers(drivers: Mapping[str, Mapping[str, Decimal]], periods: list[PeriodKey]) -> dict[str, list[Decimal]]:
    """Check every driver series of a request and return its values in period order."""
    return {name: driver_weights(name, values, periods, f"drivers.{name}") for name, values in drivers.items()}


async def check_known_lines(connection: AsyncConnection, lines: Sequence[BudgetLineRequest],
                            prefixes: Sequence[str] | None = None) -> None:
    """Reject lines that are neither an account nor a node of an account hierarchy, listing every such line."""
    names = line_fields(len(lines), prefixes)
    accounts = await repository.reference.accounts(connection)
    nodes: set[str] = set()
    for hierarchy in await repository.reference.hierarchies(connection, "account"):
        nodes |= hierarchy.nodes

    unknown = [
        {"field": f"{names[index]}.line", "type": "unknown_line",
         "message": f"{names[index]}.line: {line.line!r} is neither a defined account nor a node of an account "
                    "hierarchy; define it in the strategy service first, or correct the id"}
        for index, line in enumerate(lines) if line.line not in accounts and line.line not in nodes
    ]
    if unknown:
        # One unknown line is reported as the message itself; several are listed one by one.
        raise InvalidInput(unknown[0]["message"], field=unknown[0]["field"],
                           details=unknown if len(unknown) > 1 else None)


async def spread_line(connection: AsyncConnection, entity: Entity, fiscal_year: int, periods: list[PeriodKey],
                      line: BudgetLineRequest, drivers: Mapping[str, list[Decimal]] | None = None) -> BudgetLine:
    """Spread one checked line to the periods; the result records the spread method actually used."""
    if line.periods is not None:
        amounts = [line.periods.get(str(period), Decimal(0)) for period in periods]
        return BudgetLine(line=line.line, cost_centre=line.cost_centre or None, annual=sum(amounts, Decimal(0)),
                          spread_method="monthly", periods=_budget_periods(periods, amounts))

    assert line.annual is not None
    method: str
    if line.spread == "profile":
        profile = await _prior_year_profile(connection, entity.entity_id, line.line, fiscal_year - 1)
        amounts, method = spread_by_profile(line.annual, profile)
    elif line.spread == "days":
        amounts, method = spread_by_days(line.annual, entity.calendar, periods), "days"
    elif line.spread == "driver":
        assert drivers is not None and line.driver is not None
        amounts, method = spread_by_driver(line.annual, drivers[line.driver]), "driver"
    else:
        amounts, method = spread_even(line.annual, len(periods)), "even"
    return BudgetLine(line=line.line, cost_centre=line.cost_centre or None, annual=line.annual, spread_method=method,
                      periods=_budget_periods(periods, amounts))


def _monthly_amounts(name: str, line: BudgetLineRequest, periods: list[PeriodKey]) -> list[Decimal]:
    assert line.periods is not None
    expected = {str(period) for period in periods}
    unknown = sorted(set(line.periods) - expected)
    if unknown:
        raise InvalidInput(f"{name}.periods: {unknown[0]} is not a period of this fiscal year",
                           field=f"{name}.periods")
    return [line.periods.get(str(period), Decimal(0)) for period in periods]


def _budget_periods(periods: list[PeriodKey], amounts: Sequence[Decimal]) -> tuple[BudgetPeriod, ...]:
    return tuple(BudgetPeriod(period=str(period), amount=amount) for period, amount in zip(periods, amounts,
                                                                                          strict=True))


async def _prior_year_profile(connection: AsyncConnection, entity_id: str, line: str,
                              fiscal_year: int) -> list[Decimal]:
    """Sum the prior year's actuals of the line's leaf accounts per period."""
    leaves = [line]
    for hierarchy in await repository.reference.hierarchies(connection, "account"):
        if line in hierarchy.nodes:
            leaves = hierarchy.leaves_under(line)
            break

    profile = [Decimal(0)] * 12
    for account_id in leaves:
        totals, _ = await repository.period_totals(connection, entity_id, account_id, "")
        for period, amount in totals.items():
            if period.fiscal_year == fiscal_year:
                profile[period.period - 1] += amount
    return profile
