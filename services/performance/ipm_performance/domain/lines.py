"""Lines that performance evaluates: accounts, and nodes of account hierarchies that sum their leaves.

A line is a leaf account or a node of one of the account hierarchies that strategy publishes,
such as a tax made of three revenue accounts. A node's figures are always recomputed from its
leaves, so a re-parented account moves its figures to its new parent at the next evaluation.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ipm_common.reference import Hierarchy
from ipm_common.variance import Direction


@dataclass(frozen=True)
class LineDirection:
    """The direction of a line, and a problem to log when its leaves do not give one direction."""

    direction: Direction
    problem: str | None = None


@dataclass(frozen=True)
class LineTree:
    """Parent-to-children edges of every account hierarchy, merged into one tree.

    ``problems`` lists the nodes that two hierarchies define with different children; the
    hierarchy whose name sorts first wins for those.
    """

    children: Mapping[str, tuple[str, ...]]
    problems: tuple[str, ...] = field(default=())

    @classmethod
    def from_hierarchies(cls, hierarchies: Iterable[Hierarchy]) -> "LineTree":
        """Merge hierarchies, visited in name order, into one parent-to-children map."""
        children: dict[str, tuple[str, ...]] = {}
        owner: dict[str, str] = {}
        problems: list[str] = []
        for hierarchy in sorted(hierarchies, key=lambda item: item.name):
            for parent in sorted(set(hierarchy.parent_of.values())):
                node_children = tuple(hierarchy.children_of(parent))
                if parent not in children:
                    children[parent] = node_children
                    owner[parent] = hierarchy.name
                elif children[parent] != node_children:
                    problems.append(
                        f"node {parent!r} has other children in hierarchy {hierarchy.name!r} than in "
                        f"{owner[parent]!r}; using {owner[parent]!r}"
                    )
        return cls(children, tuple(problems))

    @property
    def nodes(self) -> set[str]:
        """Return every parent and child of the tree."""
        found = set(self.children)
        for node_children in self.children.values():
            found.update(node_children)
        return found

    def leaves_of(self, line: str) -> tuple[str, ...]:
        """List the leaves below ``line`` in sorted order; a line without children is its own leaf."""
        leaves: set[str] = set()
        visited: set[str] = set()
        pending = [line]
        while pending:
            node = pending.pop()
            # A cycle in the edges would otherwise loop forever; each node is expanded once.
            if node in visited:
                continue
            visited.add(node)
            node_children = self.children.get(node, ())
            if node_children:
                pending.extend(node_children)
            else:
                leaves.add(node)
        return tuple(sorted(leaves))

    def ancestors_of(self, line: str) -> set[str]:
        """Return every node above ``line`` in any hierarchy."""
        parents_of: dict[str, set[str]] = {}
        for parent, node_children in self.children.items():
            for child in node_children:
                parents_of.setdefault(child, set()).add(parent)

        ancestors: set[str] = set()
        pending = list(parents_of.get(line, ()))
        while pending:
            node = pending.pop()
            if node in ancestors:
                continue
            ancestors.add(node)
            pending.extend(parents_of.get(node, ()))
        ancestors.discard(line)
        return ancestors

    def direction_of(self, line: str, account_directions: Mapping[str, str]) -> LineDirection:
        """Return the direction that the leaves of ``line`` share; disagreement falls back to higher is better."""
        leaves = self.leaves_of(line)
        known = {leaf: account_directions[leaf] for leaf in leaves if leaf in account_directions}
        directions = {Direction(direction) for direction in known.values()}
        if len(directions) == 1:
            direction = directions.pop()
            missing = sorted(set(leaves) - set(known))
            problem = None
            if missing:
                problem = f"line {line!r} has leaves that are not defined accounts: {', '.join(missing)}"
            return LineDirection(direction, problem)

        if not directions:
            return LineDirection(
                Direction.HIGHER_IS_BETTER,
                f"line {line!r} has no defined account among its leaves; treating higher as better",
            )
        by_direction = ", ".join(f"{leaf}={direction}" for leaf, direction in sorted(known.items()))
        return LineDirection(
            Direction.HIGHER_IS_BETTER,
            f"leaves of line {line!r} disagree on direction ({by_direction}); treating higher as better",
        )
