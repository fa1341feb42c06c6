"""Request and response bodies of the forecast API (and the ERP topic's message body)."""

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ipm_common.calendar import parse_posting_date
from ipm_common.errors import InvalidInput
from ipm_common.money import Money
from ipm_forecast.domain.ledger import PostingRequest
from ipm_forecast.service_layer.budgets import BudgetLineRequest

MAX_BATCH_POSTINGS = 10_000
Identifier = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")


class PostingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: str = Field(min_length=1, max_length=128, description="the ERP's unique id of this posting")
    entity_id: str = Identifier
    account_id: str = Identifier
    cost_centre: str | None = Field(None, min_length=1, max_length=64)
    posting_date: date = Field(description="ISO date YYYY-MM-DD; the period follows the entity's fiscal calendar")
    amount: Money = Field(description="debit-positive ledger amount as a decimal string, e.g. \"-1250.00\"")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code of the amount")
    reverses: str | None = Field(None, min_length=1, max_length=128,
                                 description="source id of the posting this one cancels")

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

    batch_id: str | None = Field(None, min_length=1, max_length=64,
                                 description="the ERP's batch id; becomes the correlation id of every event")
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
    cost_centre: str | None = None
    annual: Money | None = None
    periods: dict[str, Money] | None = Field(None, description="amount per period key, e.g. {\"FY2024-P01\": \"10\"}")
    spread: Literal["even", "profile"] = "even"

    def to_request(self) -> BudgetLineRequest:
        return BudgetLineRequest(self.line, self.cost_centre or "", self.annual, self.periods, self.spread)


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget_id: str | None = Field(None, min_length=1, max_length=64)
    entity_id: str = Identifier
    fiscal_year: int = Field(ge=1900, le=2999)
    approved_by: str = Field(min_length=1, max_length=128)
    lines: list[BudgetLineIn] = Field(min_length=1)


class RateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_currency: str = Field(pattern=r"^[A-Z]{3}$")
    to_currency: str = Field(pattern=r"^[A-Z]{3}$")
    rate_type: Literal["actual", "budget", "average", "closing"]
    period: str = Field(pattern=r"^FY\d{4}-P\d{2}$")
    rate: Money

    @field_validator("rate")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("a rate must be greater than zero")
        return value


class PeriodCloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=128)
