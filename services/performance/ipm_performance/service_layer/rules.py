"""Commands on alert rules."""

import logging
from datetime import datetime
from decimal import Decimal

from ipm_common.storage import Database, utcnow
from ipm_common.variance import BandScope
from ipm_performance.adapters import results
from ipm_performance.domain.rules import AlertRule, Severity, build_rule, parse_rule_name, threshold_text

logger = logging.getLogger(__name__)


async def update_rule(database: Database, name: str, *, pct: Decimal, absolute: Decimal, scope: BandScope,
                      severity: Severity, opens_review: bool) -> tuple[AlertRule, datetime]:
    """Store a rule's band, severity and review flag, which later evaluations use; return it and when it was stored."""
    rule = build_rule(parse_rule_name(name), pct, absolute, scope, severity, opens_review)
    now = utcnow()
    async with database.transaction() as transaction:
        await results.save_rule(transaction.connection, rule, now)

    logger.info("rule %s set to %s, severity %s, opens_review %s", rule.name.value, threshold_text(rule.band),
                rule.severity, rule.opens_review)
    return rule, now
