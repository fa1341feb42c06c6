"""Request and response bodies of the projects API, with amounts as decimal strings."""

from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from ipm_common.money import Money
from ipm_projects.adapters.benefits import BenefitLine
from ipm_projects.adapters.repository import ProjectHeader
from ipm_projects.domain.charter import Charter, Decision, GateReview, Milestone, Phase, Status, derived_status
from ipm_projects.domain.projects import BenefitRequest, BenefitType, LinkedTarget, Project

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
Identifier = Field(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)


def _reject_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("contains only whitespace; give a name")
    return value


# A name or a person: at least one character that is not whitespace.
NonBlank = Annotated[str, AfterValidator(_reject_blank)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LinkedTargetIn(Body):
    entity_id: str = Identifier
    line: str = Identifier
    fiscal_year: int = Field(ge=1900, le=2999)

    def to_target(self) -> LinkedTarget:
        return LinkedTarget(self.entity_id, self.line, self.fiscal_year)


class BenefitIn(Body):
    entity_id: str = Identifier
    account_id: str = Identifier
    period: str = Field(description="period key such as FY2024-P03; YYYY-MM for calendar-month entities",
                        examples=["FY2024-P03", "2024-03"])
    amount: Money = Field(description="revenue uplift or saving in the line's natural sign")
    benefit_type: BenefitType = Field("revenue_uplift", description="one type per entity and account")

    def to_request(self) -> BenefitRequest:
        return BenefitRequest(self.entity_id, self.account_id, self.period, self.amount, self.benefit_type)


class MilestoneIn(Body):
    name: NonBlank = Field(min_length=1, max_length=255)
    due: date
    done: date | None = Field(None, description="the day the milestone was reached; null while open")

    def to_milestone(self) -> Milestone:
        return Milestone(self.name, self.due, self.done)


class CharterFields(Body):
    """The charter fields of a request; on update, a field left out keeps its stored value."""

    sponsor: str | None = Field(None, max_length=128)
    problem: str | None = Field(None, max_length=4000)
    goal: str | None = Field(None, max_length=4000)
    scope: str | None = Field(None, max_length=4000)
    start_date: date | None = Field(None, description="first day of the project; its baseline is the forecast "
                                                      "made before the period of this day")
    milestones: list[MilestoneIn] | None = None
    status: Status | None = Field(None, description="set the status by hand; left out, it is derived from the "
                                                    "milestones")

    @field_validator("milestones")
    @classmethod
    def _unique_milestones(cls, milestones: list[MilestoneIn] | None) -> list[MilestoneIn] | None:
        names = [milestone.name for milestone in milestones or []]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"milestone {repeated[0]!r} is given more than once; give each name once")
        return milestones

    def charter_changes(self) -> dict[str, Any]:
        """Return the charter fields the request sets, as ``Charter`` attributes."""
        names = {"sponsor", "problem", "goal", "scope", "start_date"} & self.model_fields_set
        changes: dict[str, Any] = {name: getattr(self, name) or ("" if name != "start_date" else None)
                                   for name in names}
        if "milestones" in self.model_fields_set:
            changes["milestones"] = tuple(sorted(item.to_milestone() for item in self.milestones or []))
        if "status" in self.model_fields_set:
            changes["status_set"] = self.status
        return changes

    def to_charter(self) -> Charter:
        return Charter(**self.charter_changes())


class ProjectIn(CharterFields):
    project_id: str | None = Field(None, min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN,
                                   description="left out, the service assigns a uuid4")
    name: NonBlank = Field(min_length=1, max_length=255)
    owner: NonBlank = Field(min_length=1, max_length=128)
    phase: Phase = Field("define", description="DMAIC phase to start in; later phases follow approved gates")
    linked_targets: list[LinkedTargetIn] = Field(default_factory=list)
    benefits: list[BenefitIn] = Field(default_factory=list)


class ProjectUpdateIn(CharterFields):
    name: NonBlank | None = Field(None, min_length=1, max_length=255, description="left out, the name is kept")
    owner: NonBlank | None = Field(None, min_length=1, max_length=128,
                                   description="left out, the owner is kept")
    phase: Phase | None = Field(None, description="must equal the stored phase; phases change through gate reviews")
    linked_targets: list[LinkedTargetIn] | None = Field(None, description="left out, the linked targets are kept")
    benefits: list[BenefitIn] = Field(description="replace every planned benefit; [] removes them all")
    reason: str | None = Field(None, min_length=1, max_length=1000,
                               description="why the benefits changed; published with the change")


class GateReviewIn(Body):
    phase: Phase = Field(description="the phase whose gate is reviewed: the project's current phase")
    decision: Decision
    decided_by: NonBlank = Field(min_length=1, max_length=128)
    comment: str = Field("", max_length=4000)


class BenefitOut(BaseModel):
    entity_id: str
    account_id: str
    period: str
    amount: Money
    benefit_type: BenefitType


class MilestoneOut(BaseModel):
    name: str
    due: date
    done: date | None


class GateReviewOut(BaseModel):
    sequence: int
    phase: Phase
    decision: str
    decided_by: str
    comment: str
    decided_at: datetime

    @classmethod
    def of(cls, review: GateReview) -> Self:
        return cls(sequence=review.sequence, phase=review.phase, decision=review.decision,
                   decided_by=review.decided_by, comment=review.comment, decided_at=review.decided_at)


class BenefitLineOut(BaseModel):
    entity_id: str
    account_id: str
    benefit_type: str
    stage: str = Field(description="expected, validated (by finance) or realised (every planned period measured)")
    validated_by: str | None
    validated_at: datetime | None

    @classmethod
    def of(cls, line: BenefitLine) -> Self:
        return cls(entity_id=line.entity_id, account_id=line.account_id, benefit_type=line.benefit_type,
                   stage=line.stage, validated_by=line.validated_by, validated_at=line.validated_at)


class BenefitTotalOut(BaseModel):
    entity_id: str
    account_id: str
    total: Money


class ProjectSummary(BaseModel):
    project_id: str
    name: str
    owner: str
    phase: Phase
    version: int
    updated_at: datetime


class ProjectOut(ProjectSummary):
    created_at: datetime
    completed: bool = Field(description="true once the control gate was approved")
    sponsor: str
    problem: str
    goal: str
    scope: str
    start_date: date | None
    milestones: list[MilestoneOut]
    status: Status = Field(description="the status set by hand, or else the derived one")
    status_derived: Status = Field(description="late when an open milestone is past due, at_risk when one is "
                                               "due within 14 days, else on_track")
    status_set: Status | None
    gates: list[GateReviewOut]
    linked_targets: list[LinkedTargetIn]
    benefit_lines: list[BenefitLineOut]
    benefits: list[BenefitOut]
    totals: list[BenefitTotalOut] = Field(description="total planned benefit per entity and account")

    @classmethod
    def of(cls, project: Project, header: ProjectHeader, reviews: list[GateReview], lines: list[BenefitLine],
           today: date, **extra: Any) -> Self:
        charter = project.charter
        derived = derived_status(charter.milestones, today)
        return cls(
            project_id=project.project_id, name=project.name, owner=project.owner, phase=project.phase,
            completed=header.completed_at is not None, sponsor=charter.sponsor, problem=charter.problem,
            goal=charter.goal, scope=charter.scope, start_date=charter.start_date,
            milestones=[MilestoneOut(name=item.name, due=item.due, done=item.done) for item in charter.milestones],
            status=charter.status_set or derived, status_derived=derived, status_set=charter.status_set,
            gates=[GateReviewOut.of(review) for review in reviews],
            linked_targets=[LinkedTargetIn(entity_id=target.entity_id, line=target.line,
                                           fiscal_year=target.fiscal_year) for target in project.linked_targets],
            benefit_lines=[BenefitLineOut.of(line) for line in lines],
            benefits=[BenefitOut(entity_id=benefit.entity_id, account_id=benefit.account_id,
                                 period=str(benefit.period), amount=benefit.amount,
                                 benefit_type=benefit.benefit_type) for benefit in project.benefits],
            totals=[BenefitTotalOut(entity_id=entity_id, account_id=account_id, total=total)
                    for (entity_id, account_id), total in project.total_benefits().items()],
            version=header.version, created_at=header.created_at, updated_at=header.updated_at, **extra,
        )


class ProjectSaved(ProjectOut):
    changed: bool = Field(description="false when the request repeated the stored content and nothing was published")
