"""Inputs of variance reports: actuals, budgets, every kept forecast version, targets, rates and the request.

Figures are natural amounts in the entity's functional currency. ``LeafFigures`` returns, per
leaf account and period, the actuals, the budget and each kind of forecast, translated into the
report currency and rounded to the cent when the report currency differs.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import MissingRate
from ipm_common.fx import RateTable, RateType
from ipm_common.money import CENT
from ipm_common.periods import PeriodKey
from ipm_common.spreading import Phasing
from ipm_common.variance import ToleranceBand

SeriesKey = tuple[str, str]
"""An account id and a cost centre, the empty string when the series has none."""

LAGS = (1, 3, 6, 12)


@dataclass(frozen=True)
class ForecastVersion:
    """One kept version of a series' forecast: made after the actuals of ``origin``, values for later periods."""

    version: int
    origin: PeriodKey
    values: Mapping[PeriodKey, Decimal]
    benefits: Mapping[PeriodKey, Decimal] = field(default_factory=dict)
    """The improvement projects' benefit layer inside ``values``."""


@dataclass(frozen=True)
class Translation:
    """Translation of the functional currency into the report ``currency``.

    Actuals use ``actual_rate_type``; budgets, forecasts and targets use ``plan_rate_type``. With
    ``constant_currency`` the actuals use the plan rates too, so a variance shows no currency effect.
    """

    functional: str
    currency: str
    rates: RateTable | None = None
    actual_rate_type: RateType = "average"
    plan_rate_type: RateType = "budget"
    constant_currency: bool = False

    @property
    def translates(self) -> bool:
        return self.currency != self.functional

    def actual(self, amount: Decimal, period: PeriodKey) -> Decimal:
        rate_type = self.plan_rate_type if self.constant_currency else self.actual_rate_type
        return self._convert(amount, rate_type, period)

    def plan(self, amount: Decimal, period: PeriodKey) -> Decimal:
        return self._convert(amount, self.plan_rate_type, period)

    def at(self, amount: Decimal, rate_type: RateType, period: PeriodKey) -> Decimal:
        return self._convert(amount, rate_type, period)

    def _convert(self, amount: Decimal, rate_type: RateType, period: PeriodKey) -> Decimal:
        """Convert at the period's rate and round half-even to the cent; raise ``MissingRate`` without a rate."""
        if not self.translates:
            return amount
        if self.rates is None:
            raise MissingRate(f"rate: no rates are loaded to translate {self.functional} into {self.currency}; "
                              "load them with PUT /v1/fx-rates", field="rate")
        converted = self.rates.convert(amount, self.functional, self.currency, rate_type, period)
        return converted.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class ReportRequest:
    """Report parameters: the period it ends at, the phasing of an unfinished period, and the band."""

    period: PeriodKey
    as_of: date | None = None
    phasing: Phasing = Phasing.FULL_PERIOD
    band: ToleranceBand | None = None
    hierarchy: str | None = None


@dataclass(frozen=True)
class ReportInputs:
    """Stored figures of one entity: actuals and forecast versions per series, budgets per line, targets per line.

    ``actuals`` and ``budgets`` may span several fiscal years, so that ``prior`` and lagged
    forecasts can reach back. ``forecasts`` lists each series' versions in version order. Planned
    and realised project benefits are summed per account and period over the projects.
    """

    entity_id: str
    calendar: FiscalCalendar
    actuals: Mapping[SeriesKey, Mapping[PeriodKey, Decimal]]
    budgets: Mapping[str, Mapping[PeriodKey, Decimal]]
    forecasts: Mapping[SeriesKey, Sequence[ForecastVersion]]
    targets: Mapping[str, Decimal] = field(default_factory=dict)
    planned_benefits: Mapping[str, Mapping[PeriodKey, Decimal]] = field(default_factory=dict)
    realised_benefits: Mapping[str, Mapping[PeriodKey, Decimal]] = field(default_factory=dict)
    volume_drivers: Mapping[str, str] = field(default_factory=dict)
    """The statistical (volume) account of each line that has one, for price, volume and mix."""

    def series_of(self, leaf: str) -> list[SeriesKey]:
        return self._series_by_leaf.get(leaf, [])

    @cached_property
    def _series_by_leaf(self) -> dict[str, list[SeriesKey]]:
        found: dict[str, list[SeriesKey]] = {}
        for key in sorted({*self.actuals, *self.forecasts}):
            found.setdefault(key[0], []).append(key)
        return found

    @property
    def leaves(self) -> set[str]:
        return {key[0] for key in (*self.actuals, *self.forecasts)} | set(self.budgets)
