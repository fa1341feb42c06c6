"""The figures of one entity and fiscal year: actuals, forecasts, budgets and targets, summed per line.

Every amount is a natural amount (credit-normal accounts already negated upstream). A series is
one account and cost centre; a line sums its leaves' series over every cost centre.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ipm_common.periods import PeriodKey, period_range
from ipm_common.variance import ToleranceBand

SeriesKey = tuple[str, str]
"""An account id and a cost centre, the empty string when the series has none."""


@dataclass(frozen=True)
class Balance:
    amount: Decimal
    ledger_version: int


@dataclass(frozen=True)
class SeriesForecast:
    """The latest forecast of one series; ``origin`` is the last period with actuals."""

    origin: PeriodKey
    version: int
    values: Mapping[PeriodKey, Decimal]


@dataclass(frozen=True)
class Target:
    """A strategic target of one line and fiscal year; ``band`` is None when strategy set none."""

    line: str
    fiscal_year: int
    amount: Decimal
    band: ToleranceBand | None
    plan_id: str
    version: int


@dataclass(frozen=True)
class Figure:
    """An amount and the newest ledger or forecast version it was computed from."""

    amount: Decimal
    version: int


@dataclass(frozen=True)
class Outlook:
    """A full-year outlook: actuals up to each series' forecast origin plus the forecast after it."""

    actuals_to_date: Decimal
    remaining_forecast: Decimal
    forecast_version: int
    last_origin: PeriodKey

    @property
    def total(self) -> Decimal:
        return self.actuals_to_date + self.remaining_forecast


@dataclass(frozen=True)
class EntityFigures:
    """Stored inputs of one entity for one fiscal year.

    ``budgets`` maps a line to its budget per period, summed over cost centres; ``balances`` hold
    only the periods of ``fiscal_year``. ``forecasts`` contains the latest forecast of every series of
    the entity, with the values of ``fiscal_year`` only.
    """

    entity_id: str
    fiscal_year: int
    balances: Mapping[SeriesKey, Mapping[PeriodKey, Balance]]
    forecasts: Mapping[SeriesKey, SeriesForecast]
    budgets: Mapping[str, Mapping[PeriodKey, Decimal]]
    targets: Mapping[str, Target]

    @property
    def first_period(self) -> PeriodKey:
        return PeriodKey(self.fiscal_year, 1)

    @property
    def last_period(self) -> PeriodKey:
        return PeriodKey(self.fiscal_year, 12)

    def series_of(self, leaves: Iterable[str]) -> list[SeriesKey]:
        """List the series with actuals or a forecast whose account is one of ``leaves``."""
        accounts = set(leaves)
        keys = set(self.balances) | set(self.forecasts)
        return sorted(key for key in keys if key[0] in accounts)

    def last_actual_period(self, leaves: Iterable[str]) -> PeriodKey | None:
        """Return the latest period of the fiscal year in which any leaf has a balance."""
        periods = [period for key in self.series_of(leaves) for period in self.balances.get(key, {})]
        return max(periods, default=None)

    def actual(self, leaves: Iterable[str], first: PeriodKey, last: PeriodKey) -> Figure:
        """Sum the leaves' balances from ``first`` to ``last``; a period without a balance counts as zero."""
        wanted = set(period_range(first, last))
        total = Decimal(0)
        version = 0
        for key in self.series_of(leaves):
            for period, balance in self.balances.get(key, {}).items():
                if period in wanted:
                    total += balance.amount
                    version = max(version, balance.ledger_version)
        return Figure(total, version)

    def ledger_version_through(self, leaves: Iterable[str], last: PeriodKey) -> int:
        """Return the newest ledger version among the leaves' balances up to ``last``."""
        return self.actual(leaves, self.first_period, last).version

    def budget(self, line: str, leaves: Iterable[str], first: PeriodKey, last: PeriodKey) -> Decimal | None:
        """Sum the budget of ``line`` from ``first`` to ``last``.

        A line's own budget lines win; otherwise its leaves' budgets are summed, but only when
        every leaf has a budget this fiscal year. Without either there is no budget (None).
        """
        wanted = list(period_range(first, last))
        own = self.budgets.get(line)
        if own is not None:
            return _sum_periods(own, wanted)

        leaf_list = list(leaves)
        if leaf_list == [line] or any(leaf not in self.budgets for leaf in leaf_list):
            return None
        return sum((_sum_periods(self.budgets[leaf], wanted) for leaf in leaf_list), Decimal(0))

    def full_year_budget(self, line: str, leaves: Iterable[str]) -> Decimal | None:
        return self.budget(line, leaves, self.first_period, self.last_period)

    def target(self, line: str) -> Target | None:
        """Return the target set on ``line`` itself; targets are never derived from other lines."""
        return self.targets.get(line)

    @property
    def latest_origin(self) -> PeriodKey | None:
        """Return the latest forecast origin among the entity's series: its last period with actuals."""
        return max((forecast.origin for forecast in self.forecasts.values()), default=None)

    @property
    def is_outlook_year(self) -> bool:
        """Tell whether this is the fiscal year of the entity's latest forecast origin, the one year with an outlook.

        With the origin at P12 the year is complete, and its outlook is the year-end figure. A later
        year gets an outlook once its first actuals arrive.
        """
        latest = self.latest_origin
        return latest is not None and latest.fiscal_year == self.fiscal_year

    def uncovered_leaves(self, leaves: Iterable[str]) -> list[str]:
        """List the leaves whose actuals to date and forecast leave a period of the fiscal year uncovered.

        A leaf is covered when it has at least one series and the forecast of each of its series
        has a value for every period of the year after the series' origin.
        """
        series_by_leaf: dict[str, list[SeriesKey]] = {leaf: [] for leaf in leaves}
        for key in self.series_of(series_by_leaf):
            series_by_leaf[key[0]].append(key)
        return [leaf for leaf, keys in sorted(series_by_leaf.items())
                if not keys or not all(self._covers_rest_of_year(key) for key in keys)]

    def _covers_rest_of_year(self, key: SeriesKey) -> bool:
        forecast = self.forecasts.get(key)
        if forecast is None:
            return False
        first = max(forecast.origin.shift(1), self.first_period)
        return all(period in forecast.values for period in period_range(first, self.last_period))

    def outlook(self, leaves: Iterable[str]) -> Outlook | None:
        """Build the full-year outlook of the leaves, or None when none of their series has a forecast.

        Each series adds its actuals up to its forecast's origin and its forecast values after
        the origin within the fiscal year. A series without a forecast adds all its actuals.
        """
        series = self.series_of(leaves)
        forecasted = [key for key in series if key in self.forecasts]
        if not forecasted:
            return None

        actuals = Decimal(0)
        remaining = Decimal(0)
        for key in series:
            forecast = self.forecasts.get(key)
            for period, balance in self.balances.get(key, {}).items():
                if forecast is None or period <= forecast.origin:
                    actuals += balance.amount
            if forecast is not None:
                remaining += _sum_after(forecast, self.fiscal_year)

        latest = [self.forecasts[key] for key in forecasted]
        return Outlook(
            actuals_to_date=actuals,
            remaining_forecast=remaining,
            forecast_version=max(forecast.version for forecast in latest),
            last_origin=max(forecast.origin for forecast in latest),
        )


def _sum_periods(amounts: Mapping[PeriodKey, Decimal], periods: Iterable[PeriodKey]) -> Decimal:
    total = Decimal(0)
    for period in periods:
        total += amounts.get(period, Decimal(0))
    return total


def _sum_after(forecast: SeriesForecast, fiscal_year: int) -> Decimal:
    """Sum the forecast values of the fiscal year's periods after the forecast's origin."""
    total = Decimal(0)
    for period, value in forecast.values.items():
        if period.fiscal_year == fiscal_year and period > forecast.origin:
            total += value
    return total
