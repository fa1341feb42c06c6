"""Investment envelopes: capital and operating amounts per fiscal year that an initiative requests from a plan.

An envelope is requested, then approved or rejected once, with who decided and when. Approval
checks that, in every fiscal year of the envelope, the approved envelopes of its kind, this one
included, stay within the plan's budget: the ``capital_expenditure`` line for capital envelopes
and the ``operating_expenses`` line for operating envelopes.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Literal

from ipm_common.errors import Conflict, InvalidInput
from ipm_common.money import parse_amount

EnvelopeKind = Literal["capital", "operating"]
EnvelopeStatus = Literal["requested", "approved", "rejected"]
BUDGET_LINES: dict[EnvelopeKind, str] = {"capital": "capital_expenditure", "operating": "operating_expenses"}


@dataclass(frozen=True)
class Envelope:
    envelope_id: str
    plan_id: str
    initiative: str
    kind: EnvelopeKind
    amounts: Mapping[int, Decimal]
    status: EnvelopeStatus
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None

    def approve(self, by: str, at: datetime, budget: Mapping[int, Decimal],
                approved: Mapping[int, Decimal]) -> "Envelope":
        """Approve a requested envelope when every year stays within the budget left by the approved envelopes."""
        self._check_requested(by)
        excesses = [_excess(year, amount, budget.get(year, Decimal(0)), approved.get(year, Decimal(0)))
                    for year, amount in sorted(self.amounts.items())]
        over = [text for text in excesses if text]
        if over:
            raise Conflict(
                f"envelope {self.envelope_id} exceeds the plan's {BUDGET_LINES[self.kind]} budget: {'; '.join(over)}; "
                "reduce the envelope, reject another, or revise the plan",
                reason="envelope_exceeds_budget",
            )
        return replace(self, status="approved", decided_by=by, decided_at=at)

    def reject(self, by: str, at: datetime, reason: str) -> "Envelope":
        self._check_requested(by)
        if not reason.strip():
            raise InvalidInput("reason: missing; say why the envelope is rejected", field="reason")
        return replace(self, status="rejected", decided_by=by, decided_at=at, reason=reason)

    def _check_requested(self, by: str) -> None:
        if not by.strip():
            raise InvalidInput("by: missing; give who decides the envelope", field="by")
        if self.status != "requested":
            raise Conflict(f"envelope {self.envelope_id} is already {self.status} by {self.decided_by}",
                           reason="envelope_decided")


def request_envelope(envelope_id: str, plan_id: str, initiative: str, kind: EnvelopeKind,
                     amounts: Sequence[tuple[int, object]], requested_by: str, at: datetime) -> Envelope:
    """Build a requested envelope, rejecting repeated years and negative amounts."""
    if not amounts:
        raise InvalidInput("amounts: missing; give at least one fiscal year and amount", field="amounts")
    parsed: dict[int, Decimal] = {}
    for index, (fiscal_year, value) in enumerate(amounts):
        amount = parse_amount(value, field=f"amounts[{index}].amount")
        if fiscal_year in parsed:
            raise InvalidInput(f"amounts[{index}].fiscal_year: {fiscal_year} is given twice",
                               field=f"amounts[{index}].fiscal_year")
        if amount < 0:
            raise InvalidInput(f"amounts[{index}].amount: {amount} is negative; an envelope is zero or more",
                               field=f"amounts[{index}].amount")
        parsed[fiscal_year] = amount
    return Envelope(envelope_id, plan_id, initiative, kind, parsed, "requested", requested_by, at)


def approved_totals(envelopes: Sequence[Envelope], kind: EnvelopeKind) -> dict[int, Decimal]:
    """Sum the approved envelopes of one kind per fiscal year."""
    totals: dict[int, Decimal] = {}
    for envelope in envelopes:
        if envelope.status == "approved" and envelope.kind == kind:
            for year, amount in envelope.amounts.items():
                totals[year] = totals.get(year, Decimal(0)) + amount
    return totals


def check_budget_covers_approved(plan_id: str, envelopes: Sequence[Envelope],
                                 budgets: Mapping[EnvelopeKind, Mapping[int, Decimal]]) -> None:
    """Raise ``Conflict`` when a budget line of a changed plan falls below the envelopes approved against it."""
    short = [f"FY{year} {BUDGET_LINES[kind]} {budgets[kind].get(year, Decimal(0))} is below the approved {approved}"
             for kind in BUDGET_LINES for year, approved in sorted(approved_totals(envelopes, kind).items())
             if approved > budgets[kind].get(year, Decimal(0))]
    if short:
        raise Conflict(f"operating plan {plan_id}: {'; '.join(short)}; keep each budget at or above its approved "
                       "envelopes", reason="budget_below_approved")


def _excess(year: int, amount: Decimal, budget: Decimal, approved: Decimal) -> str:
    if approved + amount <= budget:
        return ""
    return (f"FY{year} budget {budget}, already approved {approved}, requested {amount}, "
            f"over by {approved + amount - budget}")
