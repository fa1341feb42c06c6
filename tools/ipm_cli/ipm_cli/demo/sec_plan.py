"""Import a listed company's reported statements into the strategy service and compare its cash flows.

The strategy service derives each year's operating cash flow by the indirect method from the
reported income statement and balance-sheet movements, and compares it with the operating cash
flow the company reported.
"""

import json
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ENTITY = "AAPL"
COMPANY_FACTS = Path("sec") / "companyfacts-CIK0000320193.json"
PLAN_ID = "aapl-history"
# Apple's fiscal year ends in late September and is named by the calendar year in which it ends.
ENTITY_BODY = {"name": "Apple Inc.", "currency": "USD", "calendar": {"start_month": 10, "year_named_by": "end"}}

Call = Callable[..., Awaitable[Any]]


async def compare_cash_flows(call: Call, data_dir: Path) -> str:
    """Import the company facts as a history plan and return the demo's summary line of the comparison.

    ``call(method, service, path, **kwargs)`` sends one request to a service and returns its JSON.
    """
    document = json.loads((data_dir / COMPANY_FACTS).read_text(encoding="utf-8"), parse_float=Decimal)
    company = str(document.get("entityName", ENTITY))

    await call("PUT", "strategy", f"/v1/entities/{ENTITY}", json=ENTITY_BODY)
    existing = await call("GET", "strategy", "/v1/operating-plans", params={"entity_id": ENTITY})
    if not any(plan["plan_id"] == PLAN_ID for plan in existing):
        # The document travels in the body, because the service may run with another IPM_DATA_DIR.
        await call("POST", "strategy", "/v1/operating-plans/imports/sec",
                   content=json.dumps({"plan_id": PLAN_ID, "entity_id": ENTITY, "companyfacts": document},
                                      default=str),
                   headers={"content-type": "application/json"})

    comparison = await call("GET", "strategy", f"/v1/operating-plans/{PLAN_ID}/cash-flow-comparison")
    logger.info("compared %s years of %s", comparison["periods_compared"], company)
    return summary_line(company, comparison)


def summary_line(company: str, comparison: dict[str, Any]) -> str:
    gap = comparison["largest_gap"]
    gap_text = "n/a" if gap is None else f"{Decimal(gap):,} {comparison['currency']}"
    return (f"plan: {company} derived vs reported operating cash flow, largest gap {gap_text} over "
            f"{comparison['periods_compared']} periods")
