"""Per-leaf, per-period figures of a report: actuals, budgets, lagged forecasts and version estimates.

A version's estimate of a period is the series' actual when the period is at or before the
version's origin, else the version's forecast value. The estimate summed over the fiscal year
is the full-year outlook of that version, so the latest and the previous version give the drift.
"""

from collections.abc import Sequence
from decimal import Decimal

from ipm_common.periods import PeriodKey
from ipm_performance.domain.report_inputs import ForecastVersion, ReportInputs, SeriesKey, Translation


class LeafFigures:
    """Figures of one entity's leaves, translated into the report currency period by period."""

    def __init__(self, inputs: ReportInputs, translation: Translation) -> None:
        self.inputs = inputs
        self.translation = translation

    def actual(self, leaf: str, period: PeriodKey) -> Decimal:
        """Sum the leaf's actuals of ``period`` over its series; a period without a balance counts as zero."""
        total = Decimal(0)
        for key in self.inputs.series_of(leaf):
            total += self._series_actual(key, period)
        return total

    def budget(self, line: str, period: PeriodKey) -> Decimal | None:
        """Return the line's own budget of ``period``, zero for a period it left out, None without a budget."""
        amounts = self.inputs.budgets.get(line)
        if amounts is None or not any(key.fiscal_year == period.fiscal_year for key in amounts):
            return None
        return self.translation.plan(amounts.get(period, Decimal(0)), period)

    def lagged_forecast(self, leaf: str, period: PeriodKey, lag: int) -> Decimal | None:
        """Sum each series' forecast of ``period`` by the version made ``lag`` periods earlier.

        That is the latest version whose origin is at or before ``period`` − ``lag``. None when a
        series has no such version or the version has no value for the period.
        """
        made_by = period.shift(-lag)
        total = Decimal(0)
        series = self.inputs.series_of(leaf)
        if not series:
            return None
        for key in series:
            version = _version_at(self.inputs.forecasts.get(key, ()), made_by, back=0)
            if version is None or period not in version.values:
                return None
            total += self.translation.plan(version.values[period], period)
        return total

    def estimate(self, leaf: str, period: PeriodKey, as_of: PeriodKey, back: int) -> Decimal | None:
        """Sum each series' estimate of ``period`` by the version in force at ``as_of``, or ``back`` versions before it.

        A series without any forecast adds its actuals to the latest estimate. None when a series
        lacks the version asked for or a forecast value for the period.
        """
        total = Decimal(0)
        for key in self.inputs.series_of(leaf):
            versions = self.inputs.forecasts.get(key, ())
            version = _version_at(versions, as_of, back)
            if version is None:
                if back == 0 and not versions:
                    total += self._series_actual(key, period)
                    continue
                return None
            if period <= version.origin:
                total += self._series_actual(key, period)
            elif period in version.values:
                total += self.translation.plan(version.values[period], period)
            else:
                return None
        return total

    def _series_actual(self, key: SeriesKey, period: PeriodKey) -> Decimal:
        amount = self.inputs.actuals.get(key, {}).get(period)
        return Decimal(0) if amount is None else self.translation.actual(amount, period)


def _version_at(versions: Sequence[ForecastVersion], as_of: PeriodKey, back: int) -> ForecastVersion | None:
    """Return the latest version made at or before ``as_of``, or the one ``back`` versions before it."""
    made = [version for version in versions if version.origin <= as_of]
    if len(made) <= back:
        return None
    return sorted(made, key=lambda version: version.version)[-1 - back]
