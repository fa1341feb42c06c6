"""Commands on alert rules: create or replace, delete (a built-in rule goes back to its defaults), list."""

import logging
from datetime import datetime
from decimal import Decimal

from ipm_common.storage import Database, utcnow
from ipm_common.variance import BandScope
from ipm_performance.adapters import results
from ipm_performance.domain.rule_settings import RuleSettings, build_rule, check_rule_id, unknown_rule
from ipm_performance.domain.rules import AlertRule, Severity, Tier, threshold_text_of

logger = logging.getLogger(__name__)


async def put_rule(database: Database, rule_id: str, settings: RuleSettings) -> tuple[AlertRule, datetime]:
    """Store a rule, which later evaluations use; return it and when it was stored."""
    rule = build_rule(rule_id, settings)
    now = utcnow()
    async with database.transaction() as transaction:
        await results.save_rule(transaction.connection, rule, now)

    logger.info("rule %s set: %s, comparisons %s, persistence %s, opens_review %s", rule.name,
                threshold_text_of(rule.tiers, rule.direction, rule.floor), ",".join(sorted(rule.comparisons)),
                rule.persistence, rule.opens_review)
    return rule, now


async def update_rule(database: Database, rule_id: str, *, pct: Decimal, absolute: Decimal, scope: BandScope,
                      severity: Severity, opens_review: bool) -> tuple[AlertRule, datetime]:
    """Store a rule with one tier of both thresholds, keeping a built-in rule's comparisons."""
    settings = RuleSettings(tiers=[Tier(severity, pct, absolute)], direction=scope, opens_review=opens_review)
    return await put_rule(database, rule_id, settings)


async def delete_rule(database: Database, rule_id: str) -> None:
    """Delete a rule; a built-in rule cannot be removed, so deleting it restores its defaults."""
    check_rule_id(rule_id)
    async with database.transaction() as transaction:
        deleted = await results.delete_rule(transaction.connection, rule_id)
        known = rule_id in await results.load_rules(transaction.connection)
    if not deleted and not known:
        raise unknown_rule(rule_id)
    logger.info("rule %s deleted%s", rule_id, "; its defaults apply again" if known else "")


async def rules_in_force(database: Database) -> list[tuple[AlertRule, datetime | None]]:
    """List every rule with the time its settings were stored, or None while it runs on its defaults."""
    async with database.reading() as connection:
        rules = await results.load_rules(connection)
        configured = await results.configured_rules(connection)
    return [(rule, configured.get(name)) for name, rule in sorted(rules.items())]


async def get_rule(database: Database, rule_id: str) -> tuple[AlertRule, datetime | None]:
    for rule, updated_at in await rules_in_force(database):
        if rule.name == rule_id:
            return rule, updated_at
    raise unknown_rule(rule_id)
