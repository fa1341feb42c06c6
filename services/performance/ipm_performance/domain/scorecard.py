"""Scorecard status and trend of a variance against its target's tolerance band.

Status: a favourable or zero variance is on track. An unfavourable one is on track while it does
not breach the band, at risk while it does not breach twice the band (both limits doubled), and
off track beyond. Trend: the direction of the variance over the last three report periods. It is "improving"
when the variance rose at each step, "worsening" when it fell at each step, "flat" when it stayed
equal, and "mixed" otherwise. It is None while one of the three is missing.
"""

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from ipm_common.variance import ToleranceBand


class Status(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"


class Trend(StrEnum):
    IMPROVING = "improving"
    WORSENING = "worsening"
    FLAT = "flat"
    MIXED = "mixed"


def status_of(variance: Decimal | None, comparator: Decimal | None, band: ToleranceBand) -> Status | None:
    """Rate a signed variance (positive is favourable) against the band and twice the band."""
    if variance is None or comparator is None:
        return None
    if variance >= 0:
        return Status.ON_TRACK

    doubled = ToleranceBand(band.pct * 2, band.absolute * 2, "both")
    if not ToleranceBand(band.pct, band.absolute, "both").breached(variance, comparator):
        return Status.ON_TRACK
    if not doubled.breached(variance, comparator):
        return Status.AT_RISK
    return Status.OFF_TRACK


def trend_of(variances: Sequence[Decimal | None]) -> Trend | None:
    """Return the direction of the variances, oldest first, or None when one is missing."""
    known = [item for item in variances if item is not None]
    if len(known) < 2 or len(known) < len(variances):
        return None
    steps = [later - earlier for earlier, later in pairwise(known)]
    if all(step > 0 for step in steps):
        return Trend.IMPROVING
    if all(step < 0 for step in steps):
        return Trend.WORSENING
    if all(step == 0 for step in steps):
        return Trend.FLAT
    return Trend.MIXED
