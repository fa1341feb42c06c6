"""Request and response bodies of the projects API, with amounts as decimal strings."""

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from ipm_common.money import Money
from ipm_projects.adapters.repository import ProjectHeader
from ipm_projects.domain.projects import BenefitRequest, LinkedTarget, Phase, Project

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
Identifier = Field(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)


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

    def to_request(self) -> BenefitRequest:
        return BenefitRequest(self.entity_id, self.account_id, self.period, self.amount)


class ProjectIn(Body):
    project_id: str | None = Field(None, min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN,
                                   description="left out, the service assigns a uuid4")
    name: str = Field(min_length=1, max_length=255)
    owner: str = Field(min_length=1, max_length=128)
    phase: Phase = Field(description="DMAIC phase")
    linked_targets: list[LinkedTargetIn] = Field(default_factory=list)
    benefits: list[BenefitIn] = Field(default_factory=list)


class ProjectUpdateIn(Body):
    name: str | None = Field(None, min_length=1, max_length=255, description="left out, the name is kept")
    owner: str | None = Field(None, min_length=1, max_length=128, description="left out, the owner is kept")
    phase: Phase
    linked_targets: list[LinkedTargetIn] | None = Field(None, description="left out, the linked targets are kept")
    benefits: list[BenefitIn] = Field(description="replace every planned benefit; [] removes them all")


class BenefitOut(BaseModel):
    entity_id: str
    account_id: str
    period: str
    amount: Money


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
    linked_targets: list[LinkedTargetIn]
    benefits: list[BenefitOut]
    totals: list[BenefitTotalOut] = Field(description="total planned benefit per entity and account")

    @classmethod
    def of(cls, project: Project, header: ProjectHeader, **extra: Any) -> Self:
        return cls(
            project_id=project.project_id, name=project.name, owner=project.owner, phase=project.phase,
            linked_targets=[LinkedTargetIn(entity_id=target.entity_id, line=target.line,
                                           fiscal_year=target.fiscal_year) for target in project.linked_targets],
            benefits=[BenefitOut(entity_id=benefit.entity_id, account_id=benefit.account_id,
                                 period=str(benefit.period), amount=benefit.amount) for benefit in project.benefits],
            totals=[BenefitTotalOut(entity_id=entity_id, account_id=account_id, total=total)
                    for (entity_id, account_id), total in project.total_benefits().items()],
            version=header.version, created_at=header.created_at, updated_at=header.updated_at, **extra,
        )


class ProjectSaved(ProjectOut):
    changed: bool = Field(description="false when the request repeated the stored content and nothing was published")
