"""Alert rules: what each rule watches, its severity tiers, floor, direction, persistence and review flag.

A rule watches some comparisons of the lines in its scope. Each severity tier sets a percentage
threshold, an absolute threshold or both, and a variance reaches the tier when it reaches every
threshold the tier sets. The materiality floor applies to every tier: a variance smaller than the
floor never breaches. The highest tier reached sets the alert's severity.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from ipm_common.variance import DEFAULT_TARGET_BAND, BandScope, ToleranceBand, variance_pct
from ipm_performance.domain.comparisons import Comparison
from ipm_performance.domain.figures import Target

Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}

# A line of one cost centre is reported as ``<account>@<cost centre>``, such as ``obligations@Police``.
COST_CENTRE_SEPARATOR = "@"
ANY_COST_CENTRE = "*"
MAX_PERSISTENCE = 24


class RuleName(StrEnum):
    """The rules that always exist; their settings can be changed and reset but not removed."""

    STRATEGIC_TARGET_BAND = "strategic_target_band"
    BUDGET_VARIANCE = "budget_variance"


@dataclass(frozen=True)
class Tier:
    """One severity level: reached when the variance reaches each threshold that is set."""

    severity: Severity
    pct: Decimal | None = None
    absolute: Decimal | None = None

    def reached(self, variance: Decimal, comparator: Decimal) -> bool:
        """Check both thresholds; a percentage threshold alone cannot judge a zero comparator, so it is not reached."""
        if self.absolute is not None and variance.copy_abs() < self.absolute:
            return False
        if self.pct is None:
            return True

        pct = variance_pct(variance, comparator)
        if pct is None:
            return self.absolute is not None
        return pct.copy_abs() >= self.pct


@dataclass(frozen=True)
class RuleScope:
    """The lines a rule watches; a field left as None matches every value.

    ``node`` matches a hierarchy node and every line below it. ``cost_centre`` None matches only
    lines of the whole entity, ``*`` matches every cost centre line, and a name matches that one.
    """

    entity_id: str | None = None
    line: str | None = None
    node: str | None = None
    cost_centre: str | None = None

    def covers(self, entity_id: str, line: str, ancestors: Iterable[str] = ()) -> bool:
        account, cost_centre = split_line(line)
        if self.entity_id is not None and entity_id != self.entity_id:
            return False
        if self.line is not None and self.line not in (line, account):
            return False
        if self.node is not None and self.node != account and self.node not in set(ancestors):
            return False
        if self.cost_centre is None:
            return cost_centre is None
        return cost_centre is not None and self.cost_centre in (ANY_COST_CENTRE, cost_centre)


@dataclass(frozen=True)
class AlertRule:
    """One alert rule's settings. ``tiers`` are sorted from the lowest severity to the highest.

    For ``strategic_target_band`` a target's own band replaces the rule's tiers and direction;
    the rule's settings apply only to targets that strategy set without a band.
    """

    name: str
    tiers: tuple[Tier, ...]
    direction: BandScope
    opens_review: bool
    comparisons: frozenset[str]
    scope: RuleScope = field(default_factory=RuleScope)
    floor: Decimal | None = None
    persistence: int = 1

    @property
    def is_builtin(self) -> bool:
        return self.name in set(RuleName)

    @property
    def severity(self) -> Severity:
        """The severity of the lowest tier, which a breach has at least."""
        return self.tiers[0].severity

    @property
    def band(self) -> ToleranceBand:
        """The lowest tier as a tolerance band, with zero for a threshold it does not set."""
        tier = self.tiers[0]
        return ToleranceBand(tier.pct or Decimal(0), tier.absolute or Decimal(0), self.direction)


@dataclass(frozen=True)
class Judgement:
    """The severity of the highest tier reached, None below every tier, and the threshold text."""

    severity: Severity | None
    threshold: str


def judge(rule: AlertRule, variance: Decimal, comparator: Decimal, target: Target | None = None) -> Judgement:
    """Judge one variance: direction first, then the floor, then the highest tier reached."""
    tiers, direction = _tiers_for(rule, target)
    text = threshold_text_of(tiers, direction, rule.floor)
    if direction == "unfavourable" and variance >= 0:
        return Judgement(None, text)
    if rule.floor is not None and variance.copy_abs() < rule.floor:
        return Judgement(None, text)

    highest: Severity | None = None
    for tier in tiers:
        if tier.reached(variance, comparator) and (highest is None
                                                   or SEVERITY_RANK[tier.severity] > SEVERITY_RANK[highest]):
            highest = tier.severity
    return Judgement(highest, text)


def _tiers_for(rule: AlertRule, target: Target | None) -> tuple[tuple[Tier, ...], BandScope]:
    if rule.name == RuleName.STRATEGIC_TARGET_BAND and target is not None and target.band is not None:
        band = target.band
        return (Tier(rule.severity, band.pct, band.absolute),), band.scope
    return rule.tiers, rule.direction


def split_line(line: str) -> tuple[str, str | None]:
    """Split ``obligations@Police`` into the account and the cost centre; a line of the entity has none."""
    account, separator, cost_centre = line.partition(COST_CENTRE_SEPARATOR)
    return (account, cost_centre) if separator else (line, None)


def cost_centre_line(account: str, cost_centre: str) -> str:
    return f"{account}{COST_CENTRE_SEPARATOR}{cost_centre}"


# --- the built-in rules --------------------------------------------------------------------------

BUDGET_COMPARISONS = frozenset({Comparison.OUTLOOK_VS_BUDGET.value, Comparison.ACTUAL_VS_BUDGET_YTD.value})

DEFAULT_RULES: dict[str, AlertRule] = {
    RuleName.STRATEGIC_TARGET_BAND: AlertRule(
        RuleName.STRATEGIC_TARGET_BAND,
        (Tier("critical", DEFAULT_TARGET_BAND.pct, DEFAULT_TARGET_BAND.absolute),),
        DEFAULT_TARGET_BAND.scope, True, frozenset({Comparison.OUTLOOK_VS_TARGET.value})),
    RuleName.BUDGET_VARIANCE: AlertRule(
        RuleName.BUDGET_VARIANCE, (Tier("warning", Decimal("0.10"), Decimal("1000000")),), "both", False,
        BUDGET_COMPARISONS),
}


def target_band(pct: Decimal, absolute: Decimal, scope: str) -> ToleranceBand | None:
    """Build a target's own band; a band of 0 % and 0 means strategy set none, so None."""
    if pct == 0 and absolute == 0:
        return None
    return ToleranceBand(pct, absolute, "unfavourable" if scope == "unfavourable" else "both")


def band_for(rule: AlertRule, target: Target | None) -> ToleranceBand:
    """Return the band that decides a breach of the lowest tier: the target's own band, else the rule's."""
    if rule.name == RuleName.STRATEGIC_TARGET_BAND and target is not None and target.band is not None:
        return target.band
    return rule.band


# --- describing rules ----------------------------------------------------------------------------


def threshold_text(band: ToleranceBand) -> str:
    """Describe a band for people, such as ``5% and 1000000 either direction``."""
    pct = _plain(band.pct * 100)
    scope = "either direction" if band.scope == "both" else "unfavourable only"
    return f"{pct}% and {_plain(band.absolute)} {scope}"


def threshold_text_of(tiers: Sequence[Tier], direction: BandScope, floor: Decimal | None) -> str:
    """Describe tiers; one tier with both thresholds and no floor reads as its band, like the built-in rules."""
    only = tiers[0]
    if len(tiers) == 1 and floor is None and only.pct is not None and only.absolute is not None:
        return threshold_text(ToleranceBand(only.pct, only.absolute, direction))

    parts = [f"{tier.severity} at {_tier_text(tier)}" for tier in tiers]
    if floor is not None:
        parts.append(f"floor {_plain(floor)}")
    parts.append("either direction" if direction == "both" else "unfavourable only")
    return ", ".join(parts)


def _tier_text(tier: Tier) -> str:
    limits = []
    if tier.pct is not None:
        limits.append(f"{_plain(tier.pct * 100)}%")
    if tier.absolute is not None:
        limits.append(_plain(tier.absolute))
    return " and ".join(limits)


def _plain(amount: Decimal) -> str:
    """Format without exponent or trailing zeros: 5.00 as 5, 1E+6 as 1000000."""
    return format(amount.normalize(), "f")
