"""Request and response models of the alert API: rules, alerts, webhooks and projections."""

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from ipm_common.money import Money
from ipm_performance.domain.alerts import AlertStatus
from ipm_performance.domain.rule_settings import RuleSettings
from ipm_performance.domain.rules import AlertRule, RuleScope, Severity, Tier, threshold_text_of

Direction = Literal["both", "unfavourable"]


class TierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severity: Severity
    pct: Money | None = Field(None, description="percentage threshold as a fraction of the comparator: 0.05 is 5 %")
    absolute: Money | None = Field(None, description="absolute threshold in the entity's functional currency")


class RuleIn(BaseModel):
    """A rule: its lowest tier as ``pct``/``absolute``/``severity`` and, or, a list of ``tiers``."""

    model_config = ConfigDict(extra="forbid")

    pct: Money | None = Field(None, description="percentage threshold of the lowest tier: 0.05 is 5 %; at most 1")
    absolute: Money | None = Field(None, description="absolute threshold of the lowest tier")
    severity: Severity = "warning"
    tiers: list[TierIn] = Field(default_factory=list, description="further tiers, one per severity")
    direction: Direction = Field("both", validation_alias=AliasChoices("direction", "scope"),
                                 description="both, or unfavourable only; `scope` is accepted as the older name")
    floor: Money | None = Field(None, description="materiality floor: a smaller variance never breaches")
    persistence: int = Field(1, description="consecutive breached periods needed before an alert is raised")
    opens_review: bool | None = Field(None, description="request a strategy review on a raise; default false, "
                                                        "true for strategic_target_band")
    comparisons: list[str] | None = Field(None, description="comparisons watched; required for a rule of your own")
    entity_id: str | None = Field(None, max_length=64, description="only this entity")
    line: str | None = Field(None, max_length=64, description="only this line, account or KPI")
    node: str | None = Field(None, max_length=64, description="this hierarchy node and every line below it")
    cost_centre: str | None = Field(None, max_length=64,
                                    description="cost centre lines: a name, or * for all; omitted, entity lines only")

    def settings(self) -> RuleSettings:
        tiers = [Tier(tier.severity, tier.pct, tier.absolute) for tier in self.tiers]
        fields = [f"tiers[{index}]" for index in range(len(tiers))]
        if self.pct is not None or self.absolute is not None:
            tiers.insert(0, Tier(self.severity, self.pct, self.absolute))
            fields.insert(0, "")
        return RuleSettings(
            tiers=tiers, direction=self.direction, opens_review=self.opens_review, comparisons=self.comparisons,
            scope=RuleScope(self.entity_id, self.line, self.node, self.cost_centre), floor=self.floor,
            persistence=self.persistence, tier_fields=fields,
        )


class RuleOut(BaseModel):
    rule: str
    builtin: bool
    pct: Money = Field(description="the lowest tier's percentage threshold as a fraction; 0 when it has none")
    absolute: Money = Field(description="the lowest tier's absolute threshold; 0 when it has none")
    severity: Severity
    tiers: list[TierIn]
    direction: Direction
    scope: Direction = Field(description="the older name of direction")
    floor: Money | None
    persistence: int
    opens_review: bool
    comparisons: list[str]
    entity_id: str | None
    line: str | None
    node: str | None
    cost_centre: str | None
    threshold: str
    updated_at: datetime | None = Field(description="when the settings were stored; null while the defaults apply")

    @classmethod
    def of(cls, rule: AlertRule, updated_at: datetime | None) -> "RuleOut":
        band = rule.band
        return cls(
            rule=rule.name, builtin=rule.is_builtin, pct=band.pct, absolute=band.absolute, severity=rule.severity,
            tiers=[TierIn(severity=tier.severity, pct=tier.pct, absolute=tier.absolute) for tier in rule.tiers],
            direction=rule.direction, scope=rule.direction, floor=rule.floor, persistence=rule.persistence,
            opens_review=rule.opens_review, comparisons=sorted(rule.comparisons), entity_id=rule.scope.entity_id,
            line=rule.scope.line, node=rule.scope.node, cost_centre=rule.scope.cost_centre,
            threshold=threshold_text_of(rule.tiers, rule.direction, rule.floor), updated_at=updated_at,
        )


class AlertOut(BaseModel):
    alert_id: str
    status: AlertStatus
    entity_id: str
    line: str = Field(description="line, account or KPI; a cost centre's line reads `<account>@<cost centre>`")
    period: str
    comparison: str
    rule: str
    severity: str
    value: Money
    comparator: Money
    variance: Money
    variance_pct: Money | None
    threshold: str
    phasing: str
    figures_version: int
    opens_review: bool
    review_requested: bool
    restated: bool = Field(description="new figures changed a period before the entity's latest one")
    changes: int
    raised_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="http or https URL that receives a POST per alert change")
    secret: str = Field(min_length=16, max_length=256, description="key of the HMAC-SHA256 signature; never returned")
    entity_id: str | None = Field(None, max_length=64, description="only alerts of this entity")
    min_severity: Severity = Field("info", description="only alerts of this severity or higher")


class WebhookOut(BaseModel):
    webhook_id: str
    url: str
    entity_id: str | None
    min_severity: str
    created_at: datetime


class DeliveryOut(BaseModel):
    delivery_id: int
    change_sequence: int = Field(description="the alert change delivered, the id of the event stream")
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime


class ProjectionLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cost_centre: str = Field(min_length=1, max_length=64)
    projection: Money = Field(description="the full-year projection in the entity's functional currency")


class ProjectionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity_id: str = Field(min_length=1, max_length=64)
    line: str = Field(min_length=1, max_length=64, description="the account projected, such as obligations")
    fiscal_year: int = Field(ge=1900, le=2999)
    as_of: str = Field(min_length=1, max_length=16, description="report date or period of the projection")
    source: str = Field("api", max_length=128, description="who made the projection")
    projections: list[ProjectionLineIn] = Field(min_length=1, max_length=10_000)


class ProjectionsOut(BaseModel):
    entity_id: str
    line: str
    fiscal_year: int
    stored: int
    variance_lines: int
    alerts_changed: int
