"""Alert rules: which comparisons each rule watches, its tolerance band, severity and review flag."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from ipm_common.errors import InvalidInput, NotFound
from ipm_common.variance import DEFAULT_TARGET_BAND, BandScope, ToleranceBand
from ipm_performance.domain.comparisons import Comparison
from ipm_performance.domain.figures import Target

Severity = Literal["info", "warning", "critical"]


class RuleName(StrEnum):
    STRATEGIC_TARGET_BAND = "strategic_target_band"
    BUDGET_VARIANCE = "budget_variance"


@dataclass(frozen=True)
class AlertRule:
    """One alert rule's settings.

    For ``strategic_target_band`` the band applies only to targets that strategy set without a
    band of their own; a target's own band always wins.
    """

    name: RuleName
    band: ToleranceBand
    severity: Severity
    opens_review: bool


DEFAULT_RULES: dict[RuleName, AlertRule] = {
    RuleName.STRATEGIC_TARGET_BAND: AlertRule(RuleName.STRATEGIC_TARGET_BAND, DEFAULT_TARGET_BAND, "critical", True),
    RuleName.BUDGET_VARIANCE: AlertRule(
        RuleName.BUDGET_VARIANCE, ToleranceBand(Decimal("0.10"), Decimal("1000000"), "both"), "warning", False
    ),
}

RULE_OF_COMPARISON: dict[Comparison, RuleName] = {
    Comparison.OUTLOOK_VS_TARGET: RuleName.STRATEGIC_TARGET_BAND,
    Comparison.OUTLOOK_VS_BUDGET: RuleName.BUDGET_VARIANCE,
    Comparison.ACTUAL_VS_BUDGET_YTD: RuleName.BUDGET_VARIANCE,
}


def parse_rule_name(text: str) -> RuleName:
    """Return the rule named ``text``, or raise ``NotFound`` listing the rules that exist."""
    try:
        return RuleName(text)
    except ValueError:
        known = ", ".join(rule.value for rule in RuleName)
        raise NotFound(f"rule {text!r} does not exist; expected one of {known}") from None


def target_band(pct: Decimal, absolute: Decimal, scope: str) -> ToleranceBand | None:
    """Build a target's own band; a band of 0 % and 0 means strategy set none, so None."""
    if pct == 0 and absolute == 0:
        return None
    return ToleranceBand(pct, absolute, "unfavourable" if scope == "unfavourable" else "both")


def band_for(rule: AlertRule, target: Target | None) -> ToleranceBand:
    """Return the band that decides a breach: the target's own band, else the rule's."""
    if rule.name is RuleName.STRATEGIC_TARGET_BAND and target is not None and target.band is not None:
        return target.band
    return rule.band


def threshold_text(band: ToleranceBand) -> str:
    """Describe a band for people, such as ``5% and 1000000 either direction``."""
    pct = _plain(band.pct * 100)
    scope = "either direction" if band.scope == "both" else "unfavourable only"
    return f"{pct}% and {_plain(band.absolute)} {scope}"


def _plain(amount: Decimal) -> str:
    """Format without exponent or trailing zeros: 5.00 as 5, 1E+6 as 1000000."""
    return format(amount.normalize(), "f")


def build_rule(name: RuleName, pct: Decimal, absolute: Decimal, scope: BandScope, severity: Severity,
               opens_review: bool) -> AlertRule:
    """Build a rule from its settings; ``pct`` is a fraction of the comparator, at most 1 (100 %)."""
    if pct > 1:
        raise InvalidInput(
            f"pct: {pct} is above 1; send the band as a fraction of the comparator, such as 0.05 for 5 %",
            field="pct",
        )
    return AlertRule(name, ToleranceBand(pct, absolute, scope), severity, opens_review)
