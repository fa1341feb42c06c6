"""Request and response bodies of the strategy API, with amounts as decimal strings."""

from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from ipm_common.events import AccountType
from ipm_common.money import Money
from ipm_common.variance import BandScope
from ipm_strategy.domain.accounts import Account, Direction, NormalBalance, Statement
from ipm_strategy.domain.entities import Entity
from ipm_strategy.domain.hierarchies import Dimension, HierarchyDefinition, TreeNode
from ipm_strategy.domain.plans import PlanKind, PlanLine, Target, TargetRequest
from ipm_strategy.domain.reviews import AuditEntry, Decision, Review, ReviewStatus
from ipm_strategy.service_layer.organisation import AccountRequest

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
Identifier = Field(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)
FiscalYear = Field(ge=1900, le=2999)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- entities ----------------------------------------------------------------------------------


class CalendarIn(Body):
    """Fiscal calendar settings. The defaults describe calendar months, each year named by its start."""

    start_month: StrictInt = Field(1, description="month (1-12) in which period 1 starts")
    start_day: StrictInt = Field(1, description="day of the month (1-28) on which every period starts")
    year_named_by: Literal["start", "end"] = Field("start", description="calendar year that names a fiscal year")
    week_pattern: Literal["4-4-5", "4-5-4", "5-4-4"] | None = Field(None, description="weeks per period of a quarter")
    week_year_end: Literal["last", "nearest"] = Field("last", description="week calendars: the weekday ending the year")
    year_end_weekday: StrictInt = Field(5, description="week calendars: weekday (0 Monday - 6 Sunday) ending the year")


class EntityIn(Body):
    name: str = Field(min_length=1, max_length=255)
    currency: str = Field(description="functional currency, an active ISO 4217 code; fixed once registered",
                          examples=["USD"])
    calendar: CalendarIn


class EntityOut(BaseModel):
    entity_id: str
    name: str
    currency: str
    calendar: dict[str, Any]
    version: int

    @classmethod
    def of(cls, entity: Entity, version: int, **extra: Any) -> Self:
        return cls(entity_id=entity.entity_id, name=entity.name, currency=entity.currency,
                   calendar=entity.calendar.to_dict(), version=version, **extra)


class EntitySaved(EntityOut):
    changed: bool = Field(description="false when the request repeated the stored content and nothing was published")


# --- accounts ----------------------------------------------------------------------------------


class AccountIn(Body):
    """An account. Its type, statement and normal balance are fixed once defined; the other fields may change."""

    name: str = Field(min_length=1, max_length=255)
    account_type: AccountType
    statement: Statement | None = Field(None, description="defaults by type: income_statement, balance_sheet, "
                                                          "or statistical")
    normal_balance: NormalBalance | None = Field(None, description="defaults to credit for revenue, liability and "
                                                                   "equity, debit otherwise")
    direction: Direction | None = Field(None, description="required for asset, liability and statistical accounts")
    non_negative: StrictBool = Field(False, description="forecasts of this account are never below zero")

    def to_request(self, account_id: str) -> AccountRequest:
        return AccountRequest(account_id, self.name, self.account_type, self.statement, self.normal_balance,
                              self.direction, self.non_negative)


class AccountItemIn(AccountIn):
    account_id: str = Identifier


class AccountOut(BaseModel):
    account_id: str
    name: str
    account_type: AccountType
    statement: Statement
    normal_balance: NormalBalance
    direction: Direction
    non_negative: bool
    version: int

    @classmethod
    def of(cls, account: Account, version: int, **extra: Any) -> Self:
        return cls(account_id=account.account_id, name=account.name, account_type=account.account_type,
                   statement=account.statement, normal_balance=account.normal_balance, direction=account.direction,
                   non_negative=account.non_negative, version=version, **extra)


class AccountSaved(AccountOut):
    changed: bool


# --- hierarchies -------------------------------------------------------------------------------


class EdgeIn(Body):
    child: str = Identifier
    parent: str = Identifier


class HierarchyIn(Body):
    dimension: Dimension
    edges: list[EdgeIn] = Field(description="child-to-parent edges; together they replace the hierarchy")


class TreeNodeOut(BaseModel):
    node: str
    leaves: list[str]
    children: list["TreeNodeOut"]

    @classmethod
    def of(cls, node: TreeNode) -> "TreeNodeOut":
        return cls(node=node.node, leaves=list(node.leaves), children=[cls.of(child) for child in node.children])


class HierarchyOut(BaseModel):
    hierarchy: str
    dimension: Dimension
    version: int
    edges: list[EdgeIn]
    tree: list[TreeNodeOut] = Field(description="roots sorted by name; every node lists the leaves below it")

    @classmethod
    def of(cls, definition: HierarchyDefinition, version: int, tree: tuple[TreeNode, ...], **extra: Any) -> Self:
        return cls(hierarchy=definition.name, dimension=definition.dimension, version=version,
                   edges=[EdgeIn(child=edge.child, parent=edge.parent) for edge in definition.edges],
                   tree=[TreeNodeOut.of(node) for node in tree], **extra)


class HierarchySaved(HierarchyOut):
    changed: bool


# --- plans and targets -------------------------------------------------------------------------


class PlanLineIn(Body):
    line: str = Identifier
    fiscal_year: int = FiscalYear
    amount: Money

    def to_line(self) -> PlanLine:
        return PlanLine(self.line, self.fiscal_year, self.amount)


class TargetIn(Body):
    """A target for a defined account or an account hierarchy node, in a fiscal year of the plan's horizon."""

    line: str = Identifier
    fiscal_year: int = FiscalYear
    amount: Money
    band_pct: Money | None = Field(None, description="fraction of the target above 0 and at most 1, 0.05 for 5 %; "
                                                     "default 0.05")
    band_absolute: Money | None = Field(None, description="amount in the entity's currency, zero or more; "
                                                          "default 1000000")
    band_scope: BandScope | None = Field(None, description="'both' directions (default) or only 'unfavourable'")

    def to_request(self) -> TargetRequest:
        return TargetRequest(self.line, self.fiscal_year, self.amount, self.band_pct, self.band_absolute,
                             self.band_scope)


class PlanIn(Body):
    plan_id: str = Identifier
    entity_id: str = Identifier
    name: str = Field(min_length=1, max_length=255)
    kind: PlanKind
    adopted_for_fiscal_year: int = FiscalYear
    lines: list[PlanLineIn] = Field(default_factory=list)
    targets: list[TargetIn] = Field(default_factory=list, description="only adopted and revised plans set targets")


class PlanLineOut(BaseModel):
    line: str
    fiscal_year: int
    amount: Money


class TargetOut(BaseModel):
    line: str
    fiscal_year: int
    amount: Money
    band_pct: Money
    band_absolute: Money
    band_scope: BandScope

    @classmethod
    def fields_of(cls, target: Target) -> dict[str, Any]:
        return {"line": target.line, "fiscal_year": target.fiscal_year, "amount": target.amount,
                "band_pct": target.band.pct, "band_absolute": target.band.absolute, "band_scope": target.band.scope}


class PlanSummary(BaseModel):
    plan_id: str
    entity_id: str
    name: str
    kind: PlanKind
    adopted_for_fiscal_year: int
    targets_version: int | None
    created_at: datetime


class PlanOut(PlanSummary):
    lines: list[PlanLineOut]
    targets: list[TargetOut]


class CurrentTargetOut(TargetOut):
    entity_id: str
    plan_id: str
    plan_name: str
    version: int = Field(description="the entity's targets version that set this target")


# --- reviews -----------------------------------------------------------------------------------


class AcknowledgeIn(Body):
    by: str = Field(min_length=1, max_length=128)
    comment: str | None = Field(None, max_length=4000)


class DecisionIn(Body):
    decision: Decision
    by: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=4000, description="why the plan is kept or revised")
    revised_plan_id: str | None = Field(None, min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN,
                                        description="revise_plan only: a proposed operating plan of the review's "
                                                    "entity, adopted with the decision")


class AnalysisIn(Body):
    by: str = Field(min_length=1, max_length=128)
    analysis: str = Field(min_length=1, max_length=4000, description="the causes found and the options weighed")


class AssignmentIn(Body):
    by: str = Field(min_length=1, max_length=128)
    owner: str = Field(min_length=1, max_length=128)
    due_date: date | None = None


class CommentIn(Body):
    by: str = Field(min_length=1, max_length=128)
    text: str = Field(min_length=1, max_length=4000)


class AuditEntryOut(BaseModel):
    at: datetime
    by: str
    action: str
    from_status: ReviewStatus | None
    to_status: ReviewStatus
    note: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditEntryOut":
        return cls(at=entry.at, by=entry.by, action=entry.action, from_status=entry.from_status,
                   to_status=entry.to_status, note=entry.note)


class ReviewOut(BaseModel):
    review_id: str
    alert_id: str
    entity_id: str
    line: str
    fiscal_year: int
    outlook: Money
    target: Money
    variance: Money
    variance_pct: Money | None = Field(description="variance / |target| as a fraction; null when the target is 0")
    threshold: str
    status: ReviewStatus
    decision: Decision | None
    decided_by: str | None
    reason: str | None
    owner: str | None = None
    due_date: date | None = None
    analysis: str | None = None
    revised_plan_id: str | None = None
    opened_at: datetime

    @classmethod
    def of(cls, review: Review, **extra: Any) -> Self:
        breach = review.breach
        return cls(review_id=review.review_id, alert_id=breach.alert_id, entity_id=breach.entity_id,
                   line=breach.line, fiscal_year=breach.fiscal_year, outlook=breach.outlook, target=breach.target,
                   variance=breach.variance, variance_pct=breach.variance_pct, threshold=breach.threshold,
                   status=review.status, decision=review.decision, decided_by=review.decided_by,
                   reason=review.reason, owner=review.owner, due_date=review.due_date, analysis=review.analysis,
                   revised_plan_id=review.revised_plan_id, opened_at=review.opened_at, **extra)


class ReviewDetail(ReviewOut):
    audit: list[AuditEntryOut] = Field(description="every state change, oldest first")
