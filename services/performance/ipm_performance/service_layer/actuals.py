"""Apply ``ActualsPosted`` events: one event, or all events of one fetch, as one unit of work.

The unit first stores everything its events carry, deciding in memory and in order of arrival
which balance is newer than the stored one. Only then does it evaluate, each changed line once,
so a fetch of many events costs a few statements per step instead of a few per event. A single
event is the same unit with one item, so both dispatch paths share this code and its results.
"""

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ipm_common.envelope import Envelope
from ipm_common.events import ActualsPosted, ForecastRerolled, PostedLine
from ipm_common.periods import PeriodKey
from ipm_common.storage import Transaction, utcnow
from ipm_performance.adapters import batches, ledger
from ipm_performance.adapters.ledger import BalanceKey, SeriesId, StoredForecast, series_of
from ipm_performance.domain.comparisons import ACTUAL_COMPARISONS, OUTLOOK_COMPARISONS
from ipm_performance.service_layer.batches import EvaluationPlan, Origin, carry_out
from ipm_performance.service_layer.evaluation import Evaluator

logger = logging.getLogger(__name__)

ACTUALS = frozenset(ACTUAL_COMPARISONS)
OUTLOOKS = frozenset(OUTLOOK_COMPARISONS)


@dataclass
class AppliedActuals:
    """The changes of one ``ActualsPosted``, and its series' newest ledger version before and after it."""

    envelope: Envelope
    data: ActualsPosted
    new_postings: int = 0
    applied: list[PeriodKey] = field(default_factory=list)
    stale: list[PeriodKey] = field(default_factory=list)
    version_before: int = 0
    version_after: int = 0

    @property
    def series(self) -> SeriesId:
        return series_of(self.data)

    @property
    def origin(self) -> Origin:
        return Origin(self.data.batch_id, self.envelope.correlationid)


class LedgerState:
    """The stored postings and balance versions of a unit's series, updated in memory as each event is applied."""

    def __init__(self, known_postings: set[str], balance_versions: dict[BalanceKey, int],
                 series_versions: dict[SeriesId, int]) -> None:
        self.known_postings = known_postings
        self.balance_versions = balance_versions
        self.series_versions = series_versions
        self.posting_rows: list[dict[str, Any]] = []
        self.balance_rows: dict[BalanceKey, dict[str, Any]] = {}

    @classmethod
    async def read(cls, transaction: Transaction, events: Sequence[ActualsPosted]) -> "LedgerState":
        """Read what is stored of the postings, period balances and series that ``events`` carry."""
        connection = transaction.connection
        source_ids = {posting.source_id for data in events for posting in data.postings}
        keys = {(*series_of(data), str(PeriodKey.parse(balance.period)))
                for data in events for balance in data.balances}
        return cls(
            await ledger.known_postings(connection, source_ids),
            await ledger.balance_versions(connection, keys),
            await ledger.series_ledger_versions(connection, {series_of(data) for data in events}),
        )

    def apply(self, envelope: Envelope, data: ActualsPosted, now: datetime) -> AppliedActuals:
        """Keep the event's new postings and those of its balances that are newer than the stored ones."""
        series = series_of(data)
        result = AppliedActuals(envelope, data, version_before=self.series_versions[series])
        for posting in data.postings:
            if posting.source_id not in self.known_postings:
                self.known_postings.add(posting.source_id)
                self.posting_rows.append(_posting_row(data, posting, now))
                result.new_postings += 1

        for balance in data.balances:
            period = PeriodKey.parse(balance.period)
            key = (*series, str(period))
            stored = self.balance_versions.get(key)
            if stored is not None and balance.ledger_version <= stored:
                result.stale.append(period)
                continue
            self.balance_versions[key] = balance.ledger_version
            self.balance_rows[key] = {
                "entity_id": data.entity_id, "account_id": data.account_id, "cost_centre": series[2],
                "period": str(period), "fiscal_year": period.fiscal_year, "amount": balance.amount,
                "ledger_version": balance.ledger_version, "batch_id": data.batch_id, "updated_at": now}
            result.applied.append(period)

        applied_versions = [self.balance_versions[(*series, str(period))] for period in result.applied]
        result.version_after = max([result.version_before, *applied_versions])
        self.series_versions[series] = result.version_after
        return result


def _posting_row(data: ActualsPosted, posting: PostedLine, now: datetime) -> dict[str, Any]:
    return {"source_id": posting.source_id, "entity_id": data.entity_id, "account_id": data.account_id,
            "cost_centre": data.cost_centre or "", "period": str(PeriodKey.parse(posting.period)),
            "posting_date": posting.posting_date, "amount": posting.amount, "ledger_amount": posting.ledger_amount,
            "currency": posting.currency, "reverses": posting.reverses, "late": posting.late,
            "batch_id": data.batch_id, "received_at": now}


async def apply_actuals(transaction: Transaction, items: Sequence[tuple[Envelope, ActualsPosted]]) -> None:
    """Store postings and period balances, then compare the accounts' actuals with their budgets.

    When a stored forecast of a series was waiting for these actuals, its outlook is compared
    now, and the batches that waited for them may be complete.
    """
    connection = transaction.connection
    now = utcnow()
    events = [data for _, data in items]
    state = await LedgerState.read(transaction, events)
    results = [state.apply(envelope, data, now) for envelope, data in items]

    await ledger.insert_postings(connection, state.posting_rows)
    await ledger.save_balances(connection, list(state.balance_rows.values()))

    years = {(data.batch_id, data.entity_id, PeriodKey.parse(balance.period).fiscal_year)
             for data in events for balance in data.balances}
    await batches.note_batches(connection, series_counts(events), {(data.batch_id, data.entity_id) for data in events},
                               years, now)
    for result in results:
        _log_actuals(result)

    evaluator = Evaluator(transaction)
    plan = await _plan(evaluator, results)
    outcome = await carry_out(evaluator, plan)
    logger.info("applied %s actuals events: %s variance lines, %s alert changes", len(items),
                outcome.variance_lines, outcome.alerts_changed)


async def _plan(evaluator: Evaluator, results: list[AppliedActuals]) -> EvaluationPlan:
    """Note the accounts to compare with their budgets, the waiting outlooks, and the batches that these release."""
    connection = evaluator.transaction.connection
    plan = EvaluationPlan()

    # Balances that arrive after their batch's barrier would leave the parents behind, so they
    # re-evaluate every node above the account as well.
    late = await batches.evaluated_batches(connection, {result.data.batch_id for result in results})
    for result in results:
        if _waits_for_barrier(result, late):
            continue
        lines = {result.data.account_id}
        if result.data.batch_id in late:
            lines |= (await evaluator.tree()).ancestors_of(result.data.account_id)
        for fiscal_year in sorted({period.fiscal_year for period in result.applied}):
            plan.add(result.data.entity_id, fiscal_year, lines, ACTUALS, result.origin)

    forecasts = await ledger.stored_forecasts(connection, {result.series for result in results})
    for result in results:
        if not _waits_for_barrier(result, late):
            _plan_waiting_outlook(plan, result, forecasts.get(result.series))

    # The last result of a series carries its newest version. A released batch takes the unit's last correlation id.
    held_versions = {result.series: result.version_after for result in results}
    for batch_id in await batches.release_waiting_series(connection, held_versions):
        plan.check_batch(batch_id, results[-1].envelope.correlationid)
    return plan


def _waits_for_barrier(result: AppliedActuals, late: Collection[str]) -> bool:
    """Tell whether a series is compared only at its batch's barrier.

    The series of one account's cost centres arrive as separate events of one batch, and the
    account's line sums them, so comparing the line on each arrival would judge part of the batch.
    A batch of one series has no other part to wait for.
    """
    data = result.data
    return bool(data.cost_centre) and data.batch_series_count > 1 and data.batch_id not in late


def _plan_waiting_outlook(plan: EvaluationPlan, result: AppliedActuals, forecast: StoredForecast | None) -> None:
    """Note the outlook of a stored forecast that was built on actuals this event just delivered."""
    if forecast is None or not result.version_before < forecast.ledger_version <= result.version_after:
        return
    plan.add(result.data.entity_id, forecast.origin.fiscal_year, {result.data.account_id}, OUTLOOKS, result.origin)


def _log_actuals(result: AppliedActuals) -> None:
    data = result.data
    versions = {str(PeriodKey.parse(balance.period)): balance.ledger_version for balance in data.balances}
    for period in result.stale:
        logger.info("ignored stale balance of %s %s %s %s: ledger version %s is not newer than the stored one",
                    data.entity_id, data.account_id, data.cost_centre or "-", period, versions[str(period)])
    logger.info("actuals of %s %s %s in batch %s: %s new postings, %s balances applied, %s stale",
                data.entity_id, data.account_id, data.cost_centre or "-", data.batch_id, result.new_postings,
                len(result.applied), len(result.stale))


def series_counts(events: Iterable[ActualsPosted | ForecastRerolled]) -> dict[str, int]:
    """Return each batch's series count as its first event states it."""
    counts: dict[str, int] = {}
    for data in events:
        counts.setdefault(data.batch_id, data.batch_series_count)
    return counts
