"""Read models that need the domain: full-year outlooks per line."""

from dataclasses import dataclass
from decimal import Decimal

from ipm_common.storage import Database
from ipm_common.variance import Direction
from ipm_performance.adapters import repository
from ipm_performance.domain.comparisons import OUTLOOK_COMPARISONS, Comparison, VarianceLine
from ipm_performance.domain.evaluation import evaluate_line, lines_of_entity
from ipm_performance.domain.figures import Outlook, Target


@dataclass(frozen=True)
class OutlookLine:
    """The full-year outlook of one line with its budget, target and the variances against both."""

    line: str
    leaves: tuple[str, ...]
    direction: Direction
    outlook: Outlook
    budget: Decimal | None
    target: Target | None
    versus_budget: VarianceLine | None
    versus_target: VarianceLine | None


async def outlooks(database: Database, entity_id: str, fiscal_year: int) -> list[OutlookLine]:
    """Compute the outlook of every line of the entity that has a forecast, from the stored figures."""
    async with database.reading() as connection:
        tree = await repository.line_tree(connection)
        directions = await repository.account_directions(connection)
        figures = await repository.load_figures(connection, entity_id, fiscal_year)

    accounts = {account for account, _ in (*figures.balances, *figures.forecasts)}
    found: list[OutlookLine] = []
    for line in sorted(lines_of_entity(figures, tree) | accounts):
        leaves = tree.leaves_of(line)
        outlook = figures.outlook(leaves)
        if outlook is None:
            continue

        evaluation = evaluate_line(figures, tree, directions, line, OUTLOOK_COMPARISONS)
        by_comparison = {variance_line.comparison: variance_line for variance_line in evaluation.variance_lines}
        found.append(OutlookLine(
            line=line,
            leaves=leaves,
            direction=tree.direction_of(line, directions).direction,
            outlook=outlook,
            budget=figures.full_year_budget(line, leaves),
            target=figures.target(line),
            versus_budget=by_comparison.get(Comparison.OUTLOOK_VS_BUDGET),
            versus_target=by_comparison.get(Comparison.OUTLOOK_VS_TARGET),
        ))
    return found
