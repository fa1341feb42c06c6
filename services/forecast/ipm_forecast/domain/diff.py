"""The difference between two forecast versions of one series, with a reason per change.

A reason names what changed between the versions and moved the value: ``new_actuals`` (the
ledger, and so the baseline, moved), ``driver_change`` (driver values, scenario or the line's
driver configuration), ``benefit_change`` (a project's benefits) or ``override``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

NEW_ACTUALS = "new_actuals"
DRIVER_CHANGE = "driver_change"
BENEFIT_CHANGE = "benefit_change"
OVERRIDE = "override"


@dataclass(frozen=True)
class PointLayers:
    """The layers of one stored forecast point."""

    baseline: Decimal
    driver: Decimal
    benefits: Decimal
    override: Decimal | None
    value: Decimal


@dataclass(frozen=True)
class LineChange:
    period: str
    old_value: Decimal | None
    new_value: Decimal | None
    change: Decimal
    reasons: tuple[str, ...]


def lineage_reasons(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Name what differs between two versions' lineage records."""
    reasons = []
    if old.get("ledger_version") != new.get("ledger_version") or old.get("origin") != new.get("origin"):
        reasons.append(NEW_ACTUALS)
    if old.get("driver") != new.get("driver"):
        reasons.append(DRIVER_CHANGE)
    if old.get("benefits") != new.get("benefits"):
        reasons.append(BENEFIT_CHANGE)
    if old.get("overrides") != new.get("overrides"):
        reasons.append(OVERRIDE)
    return reasons


def diff_points(old: Mapping[str, PointLayers], new: Mapping[str, PointLayers],
                version_reasons: Sequence[str]) -> list[LineChange]:
    """List the periods whose value differs, with the layers that moved as reasons.

    A period in only one version has None on the other side. When no layer explains a change on
    its own (a period that entered the horizon), the reasons of the versions' lineage apply.
    """
    changes = []
    for period in sorted(set(old) | set(new)):
        before, after = old.get(period), new.get(period)
        old_value = None if before is None else before.value
        new_value = None if after is None else after.value
        if old_value == new_value:
            continue
        reasons = _layer_reasons(before, after) or tuple(version_reasons)
        change = (new_value or Decimal(0)) - (old_value or Decimal(0))
        changes.append(LineChange(period, old_value, new_value, change, reasons))
    return changes


def _layer_reasons(before: PointLayers | None, after: PointLayers | None) -> tuple[str, ...]:
    if before is None or after is None:
        return ()
    reasons = []
    if before.override != after.override and (before.override is not None or after.override is not None):
        reasons.append(OVERRIDE)
    if before.baseline != after.baseline:
        reasons.append(NEW_ACTUALS)
    if before.driver != after.driver:
        reasons.append(DRIVER_CHANGE)
    if before.benefits != after.benefits:
        reasons.append(BENEFIT_CHANGE)
    return tuple(reasons)
