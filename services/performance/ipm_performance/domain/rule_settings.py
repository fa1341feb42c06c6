"""Validation of rule settings sent by people: each problem is an ``InvalidInput`` naming the field and the fix."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ipm_common.errors import InvalidInput, NotFound
from ipm_common.variance import BandScope
from ipm_performance.domain.comparisons import Comparison
from ipm_performance.domain.rules import (
    DEFAULT_RULES,
    MAX_PERSISTENCE,
    SEVERITY_RANK,
    AlertRule,
    RuleScope,
    Severity,
    Tier,
)

RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class RuleSettings:
    """A rule as a client sends it; ``comparisons`` None keeps a built-in rule's own comparisons."""

    tiers: Sequence[Tier]
    direction: BandScope = "both"
    opens_review: bool | None = None
    comparisons: Sequence[str] | None = None
    scope: RuleScope = field(default_factory=RuleScope)
    floor: Decimal | None = None
    persistence: int = 1
    # The request field of each tier, named in error messages: "" for the tier sent as top-level
    # pct and absolute, else such as "tiers[0]". Without it, errors name the tier's position.
    tier_fields: Sequence[str] | None = None


def known_comparisons() -> list[str]:
    return sorted(comparison.value for comparison in Comparison)


def check_rule_id(rule_id: str) -> str:
    if RULE_ID.fullmatch(rule_id) is None:
        raise InvalidInput(f"rule: {rule_id!r} is invalid; use 1 to 64 letters, digits, '_', '.' or '-', "
                           "starting with a letter or digit", field="rule")
    return rule_id


def build_rule(rule_id: str, settings: RuleSettings) -> AlertRule:
    """Build a rule from validated settings; a built-in rule keeps its comparisons and review default."""
    check_rule_id(rule_id)
    default = DEFAULT_RULES.get(rule_id)
    comparisons = _comparisons(settings.comparisons, default)
    opens_review = settings.opens_review
    if opens_review is None:
        opens_review = default.opens_review if default is not None else False

    return AlertRule(
        name=rule_id,
        tiers=_tiers(settings.tiers, settings.tier_fields),
        direction=settings.direction,
        opens_review=opens_review,
        comparisons=comparisons,
        scope=settings.scope,
        floor=_non_negative(settings.floor, "floor"),
        persistence=_persistence(settings.persistence),
    )


def unknown_rule(rule_id: str) -> NotFound:
    return NotFound(f"rule {rule_id!r} does not exist; list the rules with GET /v1/rules")


def _comparisons(requested: Sequence[str] | None, default: AlertRule | None) -> frozenset[str]:
    if requested is None:
        if default is None:
            raise InvalidInput(f"comparisons: missing; send a list of one or more of {', '.join(known_comparisons())}",
                               field="comparisons")
        return default.comparisons

    chosen = frozenset(requested)
    for index, name in enumerate(requested):
        if name not in known_comparisons():
            raise InvalidInput(f"comparisons[{index}]: {name!r} is not a comparison; expected one of "
                               f"{', '.join(known_comparisons())}", field=f"comparisons[{index}]")
    if not chosen:
        raise InvalidInput("comparisons: empty; send one or more comparisons", field="comparisons")
    if default is not None and chosen != default.comparisons:
        raise InvalidInput(f"comparisons: the built-in rule {default.name} watches "
                           f"{', '.join(sorted(default.comparisons))}; create a rule of your own to watch others",
                           field="comparisons")
    return chosen


def _tiers(tiers: Sequence[Tier], fields: Sequence[str] | None) -> tuple[Tier, ...]:
    if not tiers:
        raise InvalidInput("tiers: empty; set pct or absolute, or send at least one tier", field="tiers")

    seen: set[Severity] = set()
    for index, tier in enumerate(tiers):
        prefix = fields[index] if fields is not None else f"tiers[{index}]"
        where = prefix or "pct"
        if tier.severity in seen:
            field_name = f"{prefix}.severity" if prefix else "severity"
            raise InvalidInput(f"{field_name}: {tier.severity} appears twice; send one tier per severity",
                               field=field_name)
        seen.add(tier.severity)
        if tier.pct is None and tier.absolute is None:
            raise InvalidInput(f"{where}: neither pct nor absolute is set; set one or both", field=where)
        _check_pct(tier.pct, f"{prefix}.pct" if prefix else "pct")
        _non_negative(tier.absolute, f"{prefix}.absolute" if prefix else "absolute")
    return tuple(sorted(tiers, key=lambda tier: SEVERITY_RANK[tier.severity]))


def _check_pct(pct: Decimal | None, field: str) -> None:
    _non_negative(pct, field)
    if pct is not None and pct > 1:
        raise InvalidInput(
            f"{field}: {pct} is above 1; send the threshold as a fraction of the comparator, such as 0.05 for 5 %",
            field=field,
        )


def _non_negative(amount: Decimal | None, field: str) -> Decimal | None:
    if amount is not None and amount < 0:
        raise InvalidInput(f"{field}: {amount} is negative; expected zero or more", field=field)
    return amount


def _persistence(persistence: int) -> int:
    if not 1 <= persistence <= MAX_PERSISTENCE:
        raise InvalidInput(f"persistence: {persistence} is out of range; expected 1 to {MAX_PERSISTENCE} "
                           "consecutive periods", field="persistence")
    return persistence
