"""The actuals ledger's rules: validation of a posting batch, replays, reversals and late postings.

A batch is accepted whole or rejected whole, so an ERP that fixes the listed lines and sends the
batch again never leaves half of it behind. Ledger amounts arrive debit-positive in the posting
currency; the ledger stores them as sent and also in natural sign and functional currency.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ipm_common.errors import IPMError
from ipm_common.fx import RateTable
from ipm_common.periods import PeriodKey
from ipm_common.reference import Account, Entity
from ipm_common.variance import NormalBalance, natural_amount

TRANSLATED_QUANTUM = Decimal("0.000001")


@dataclass(frozen=True)
class PostingRequest:
    """One posting line as the ERP sent it."""

    source_id: str
    entity_id: str
    account_id: str
    cost_centre: str
    posting_date: date
    amount: Decimal
    currency: str
    reverses: str | None = None


@dataclass(frozen=True)
class StoredPosting:
    """A posting already in the ledger, as far as replay and reversal checks need it."""

    source_id: str
    entity_id: str
    account_id: str
    cost_centre: str
    posting_date: date
    ledger_amount: Decimal
    currency: str
    reverses: str | None
    reversed_by: str | None


@dataclass(frozen=True)
class LedgerPosting:
    """A validated posting ready to store: period, natural-sign amount and the late flag."""

    request: PostingRequest
    period: PeriodKey
    amount: Decimal
    late: bool

    @property
    def series(self) -> tuple[str, str, str]:
        return (self.request.entity_id, self.request.account_id, self.request.cost_centre)


@dataclass
class LedgerContext:
    """Ledger state that a batch is checked against."""

    entities: Mapping[str, Entity]
    accounts: Mapping[str, Account]
    closed_periods: set[tuple[str, PeriodKey]]
    stored: Mapping[str, StoredPosting]
    latest_period: Mapping[str, PeriodKey]
    rates: RateTable
    # Series (entity, account, cost centre) that ERP period balances feed. Postings into them are rejected.
    balance_series: set[tuple[str, str, str]] = field(default_factory=set)


@dataclass(frozen=True)
class LineError:
    index: int
    field: str
    message: str
    type: str = "invalid"

    def as_detail(self) -> dict[str, str]:
        return {"field": f"postings[{self.index}].{self.field}", "message": self.message, "type": self.type}


@dataclass
class BatchPlan:
    """The outcome of checking a batch: postings to store and the source ids that were replays."""

    accepted: list[LedgerPosting] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def plan_batch(lines: Sequence[PostingRequest], context: LedgerContext) -> BatchPlan:
    """Check every line of a batch against the ledger and each other; collect every error."""
    plan = BatchPlan()
    in_batch: dict[str, PostingRequest] = {}
    reversed_in_batch: set[str] = set()

    for index, line in enumerate(lines):
        replay = _check_replay(index, line, context.stored, in_batch, plan)
        if replay:
            continue
        posting = _check_line(index, line, context, in_batch, reversed_in_batch, plan)
        if posting is not None:
            plan.accepted.append(posting)
        in_batch[line.source_id] = line

    return plan


def _check_replay(index: int, line: PostingRequest, stored: Mapping[str, StoredPosting],
                  in_batch: Mapping[str, PostingRequest], plan: BatchPlan) -> bool:
    """Return True when the line repeats a posting already seen with the same content."""
    earlier = in_batch.get(line.source_id)
    if earlier is not None:
        if earlier == line:
            plan.replayed.append(line.source_id)
            return True
        plan.errors.append(LineError(index, "source_id", f"source id {line.source_id!r} appears twice in the batch "
                                     "with different content; give each distinct posting its own source id",
                                     "duplicate_source_id"))
        return True

    previous = stored.get(line.source_id)
    if previous is None:
        return False
    if _same_content(previous, line):
        plan.replayed.append(line.source_id)
    else:
        plan.errors.append(LineError(index, "source_id", f"source id {line.source_id!r} was already posted with "
                                     "different content; posted actuals are immutable, so post a reversal of it "
                                     "and a new posting instead", "source_id_reused"))
    return True


def _same_content(previous: StoredPosting, line: PostingRequest) -> bool:
    return (previous.entity_id, previous.account_id, previous.cost_centre, previous.posting_date,
            previous.ledger_amount, previous.currency, previous.reverses) == (
        line.entity_id, line.account_id, line.cost_centre, line.posting_date, line.amount, line.currency,
        line.reverses)


def _check_line(index: int, line: PostingRequest, context: LedgerContext, in_batch: Mapping[str, PostingRequest],
                reversed_in_batch: set[str], plan: BatchPlan) -> LedgerPosting | None:
    entity = context.entities.get(line.entity_id)
    if entity is None:
        plan.errors.append(LineError(index, "entity_id", f"entity {line.entity_id!r} is not registered; register "
                                     "it in the strategy service first", "unknown_entity"))
        return None
    account = context.accounts.get(line.account_id)
    if account is None:
        plan.errors.append(LineError(index, "account_id", f"account {line.account_id!r} is not defined; define it "
                                     "in the strategy service first", "unknown_account"))
        return None

    try:
        period = entity.calendar.period_of(line.posting_date)
    except IPMError as error:
        plan.errors.append(LineError(index, "posting_date", str(error), "invalid_date"))
        return None
    if (line.entity_id, period) in context.closed_periods:
        plan.errors.append(LineError(index, "posting_date", f"period {period} of entity {line.entity_id!r} is "
                                     "closed; reopen it before posting into it", "period_closed"))
        return None

    if (line.entity_id, line.account_id, line.cost_centre) in context.balance_series:
        plan.errors.append(LineError(index, "account_id", f"series {line.entity_id}/{line.account_id} is fed by "
                                     "ERP period balances; feed a series with postings or with period balances, "
                                     "never both", "mixed_feed"))
        return None

    if line.reverses is not None and not _check_reversal(index, line, context.stored, in_batch,
                                                         reversed_in_batch, plan):
        return None

    amount = _functional_amount(index, line, entity, period, context.rates, plan)
    if amount is None:
        return None

    latest = context.latest_period.get(line.entity_id)
    late = latest is not None and period < latest
    natural = natural_amount(amount, NormalBalance(account.normal_balance))
    return LedgerPosting(line, period, natural, late)


def _functional_amount(index: int, line: PostingRequest, entity: Entity, period: PeriodKey, rates: RateTable,
                       plan: BatchPlan) -> Decimal | None:
    if line.currency == entity.currency:
        return line.amount
    try:
        converted = rates.convert(line.amount, line.currency, entity.currency, "actual", str(period))
    except IPMError as error:
        plan.errors.append(LineError(index, "currency", str(error), "missing_rate"))
        return None
    # A triangulated rate can carry dozens of digits, so the translated amount keeps six decimal
    # places (half-even). The amount as sent is stored unchanged beside it.
    return converted.quantize(TRANSLATED_QUANTUM)


def _check_reversal(index: int, line: PostingRequest, stored: Mapping[str, StoredPosting],
                    in_batch: Mapping[str, PostingRequest], reversed_in_batch: set[str], plan: BatchPlan) -> bool:
    """Check that a reversal cancels exactly one posting of the same series, once."""
    target_id = line.reverses
    assert target_id is not None
    original = stored.get(target_id)
    original_line = in_batch.get(target_id)
    if original is None and original_line is None:
        plan.errors.append(LineError(index, "reverses", f"posting {target_id!r} to reverse is not in the ledger; "
                                     "post the original first", "unknown_original"))
        return False

    already = (original is not None and original.reversed_by is not None) or target_id in reversed_in_batch
    if already:
        plan.errors.append(LineError(index, "reverses", f"posting {target_id!r} is already reversed; a posting "
                                     "can be cancelled only once", "already_reversed"))
        return False

    series = (original.entity_id, original.account_id, original.cost_centre, original.ledger_amount,
              original.currency) if original else (
        original_line.entity_id, original_line.account_id, original_line.cost_centre,  # type: ignore[union-attr]
        original_line.amount, original_line.currency)  # type: ignore[union-attr]
    expected = (line.entity_id, line.account_id, line.cost_centre, -line.amount, line.currency)
    if series != expected:
        plan.errors.append(LineError(index, "amount", f"a reversal of {target_id!r} must carry the same entity, "
                                     f"account, cost centre and currency and the opposite amount {-series[3]}",
                                     "reversal_mismatch"))
        return False

    reversed_in_batch.add(target_id)
    return True


def period_balances(amounts_by_period: Mapping[PeriodKey, Sequence[Decimal]]) -> dict[PeriodKey, Decimal]:
    """Sum each period's natural-sign amounts exactly."""
    return {period: sum(amounts, Decimal(0)) for period, amounts in amounts_by_period.items()}
