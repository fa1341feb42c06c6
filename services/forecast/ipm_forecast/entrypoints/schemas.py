"""Request and response bodies of the forecast API (and the ERP topic's message body)."""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from ipm_common.calendar import parse_posting_date
from ipm_common.errors import InvalidInput
from ipm_common.money import Money
from ipm_forecast.domain.ledger import PostingRequest
from ipm_forecast.service_layer.budgets import BudgetLineRequest
from ipm_forecast.service_layer.rates import MAX_RATE_DECIMAL_PLACES, MAX_RATE_DIGITS, RateKey, RateRequest

MAX_BATCH_POSTINGS = 10_000
IDENTIFIER_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
PERIOD_KEY_PATTERN = r"^FY[0-9]{4}-P[0-9]{2}$"
Identifier = Field(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)
CostCentre = Field(None, min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN,
                   description="cost centre id; leave it out for the entity-wide series")

_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _check_text(value: str) -> str:
    """Reject text with leading or trailing whitespace or with control characters such as NUL."""
    if value != value.strip():
        raise ValueError(f"{value!r} has leading or trailing whitespace; remove it")
    control = _CONTROL_CHARACTER.search(value)
    if control is not None:
        raise ValueError(f"{value!r} contains the control character U+{ord(control.group()):04X}; remove it")
    return value


# Free-text ids (ERP source ids, batch and budget ids, names of people): any printable text
# without surrounding whitespace, so that "A1" and "A1 " can never be two different records.
Text64 = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_check_text)]
Text128 = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_check_text)]


class PostingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: Text128 = Field(description="the ERP's unique id of this posting")
    entity_id: str = Identifier
    account_id: str = Identifier
    cost_centre: str | None = CostCentre
    posting_date: date = Field(description="ISO date YYYY-MM-DD; the period follows the entity's fiscal calendar")
    amount: Money = Field(description="debit-positive ledger amount as a decimal string, e.g. \"-1250.00\"")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code of the amount")
    reverses: Text128 | None = Field(None, description="source id of the posting this one cancels")

    @field_validator("posting_date", mode="before")
    @classmethod
    def _strict_date(cls, value: Any) -> date:
        try:
            return parse_posting_date(value)
        except InvalidInput as error:
            raise ValueError(str(error)) from None

    def to_request(self) -> PostingRequest:
        return PostingRequest(self.source_id, self.entity_id, self.account_id, self.cost_centre or "",
                              self.posting_date, self.amount, self.currency, self.reverses)


class PostingBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: Text64 | None = Field(None, description="the ERP's batch id; becomes the correlation id of every event")
    postings: list[PostingIn] = Field(min_length=1, max_length=MAX_BATCH_POSTINGS)

    def to_requests(self) -> list[PostingRequest]:
        return [posting.to_request() for posting in self.postings]


class IngestOut(BaseModel):
    batch_id: str
    accepted: int
    replayed: int
    series: int
    late: int


class BudgetLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: str = Identifier
    cost_centre: str | None = CostCentre
    annual: Money | None = Field(None, description="the year's amount, spread to periods; or give periods instead")
    periods: dict[str, Money] | None = Field(None, description="amount per period key, e.g. {\"FY2024-P01\": \"10\"}")
    spread: Literal["even", "profile"] = "even"

    def to_request(self) -> BudgetLineRequest:
        return BudgetLineRequest(self.line, self.cost_centre or "", self.annual, self.periods, self.spread)


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget_id: Text64 | None = Field(None, description="your id of this budget; a repeat with the same content "
                                     "returns the stored budget, and one with other content gets 409")
    entity_id: str = Identifier
    fiscal_year: int = Field(ge=1900, le=2999)
    approved_by: Text128
    lines: list[BudgetLineIn] = Field(min_length=1)


class RateKeyIn(BaseModel):
    """The key of one stored exchange rate."""

    model_config = ConfigDict(extra="forbid")

    from_currency: str = Field(pattern=r"^[A-Z]{3}$")
    to_currency: str = Field(pattern=r"^[A-Z]{3}$")
    rate_type: Literal["actual", "budget", "average", "closing"]
    period: str = Field(pattern=PERIOD_KEY_PATTERN)

    def to_key(self) -> RateKey:
        return RateKey(self.from_currency, self.to_currency, self.rate_type, self.period)


class RateIn(RateKeyIn):
    """Units of to_currency per one from_currency, for one rate type and period."""

    rate: Money = Field(description=f"at most {MAX_RATE_DIGITS} significant digits and {MAX_RATE_DECIMAL_PLACES} "
                                    "decimal places, e.g. \"1.0850\"")

    @field_validator("rate")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError(f"{value} is not positive; send the units of to_currency per one from_currency")
        return value

    def to_request(self) -> RateRequest:
        return RateRequest(self.to_key(), self.rate)


class RateOut(BaseModel):
    """A stored exchange rate."""

    from_currency: str
    to_currency: str
    rate_type: str
    period: str
    rate: str = Field(description="units of to_currency per one from_currency, as a decimal string")


class ClosedPeriodOut(BaseModel):
    """A closed period and who closed it when."""

    period: str
    closed_at: datetime
    closed_by: str


class PeriodCloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Text128
