"""Hierarchies of accounts, cost centres or entities: forests of child-to-parent edges.

A parent is the sum of its leaves, so a hierarchy must be a forest: every node has at most one
parent and no chain of parents leads back to where it started.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ipm_common.errors import InvalidInput
from ipm_common.reference import Hierarchy

Dimension = Literal["account", "cost_centre", "entity"]


@dataclass(frozen=True)
class Edge:
    child: str
    parent: str


@dataclass(frozen=True)
class HierarchyDefinition:
    """A complete hierarchy as submitted. A new definition replaces the old one entirely."""

    name: str
    dimension: Dimension
    edges: tuple[Edge, ...]

    @property
    def tree(self) -> Hierarchy:
        return Hierarchy(self.name, self.dimension, {edge.child: edge.parent for edge in self.edges})


@dataclass(frozen=True)
class TreeNode:
    """A node with the leaves below it (itself when it has no children) and its child nodes."""

    node: str
    leaves: tuple[str, ...]
    children: tuple["TreeNode", ...]


def define_hierarchy(name: str, dimension: Dimension, edges: Sequence[Edge]) -> HierarchyDefinition:
    """Build a hierarchy after checking that its edges form a forest."""
    check_forest(edges)
    return HierarchyDefinition(name, dimension, tuple(edges))


def check_forest(edges: Sequence[Edge]) -> None:
    """Raise ``InvalidInput`` naming the first edge that gives a child a second parent or closes a cycle."""
    parent_of: dict[str, str] = {}
    edge_index_of: dict[str, int] = {}

    for index, edge in enumerate(edges):
        field = f"edges[{index}]"
        if edge.child in parent_of:
            first = edge_index_of[edge.child]
            raise InvalidInput(
                f"{field}: child {edge.child!r} already has parent {parent_of[edge.child]!r} in edges[{first}]; "
                "a node has one parent, so remove one of the two edges",
                field=field,
            )

        cycle = _cycle_closed_by(edge, parent_of)
        if cycle:
            raise InvalidInput(
                f"{field}: the edge from child {edge.child!r} to parent {edge.parent!r} closes the cycle "
                f"{' -> '.join(cycle)}; remove the edge or choose another parent",
                field=field,
            )

        parent_of[edge.child] = edge.parent
        edge_index_of[edge.child] = index


def _cycle_closed_by(edge: Edge, parent_of: dict[str, str]) -> list[str]:
    """Return the chain child -> parent -> ... -> child that the edge would close, or an empty list."""
    chain = [edge.child, edge.parent]
    node: str | None = edge.parent
    while node is not None:
        if node == edge.child:
            return chain
        node = parent_of.get(node)
        if node is not None:
            chain.append(node)
    return []


def build_tree(hierarchy: Hierarchy) -> tuple[TreeNode, ...]:
    """Arrange a forest's nodes under their roots, sorted by name, with the leaves of every node."""
    roots = sorted(node for node in hierarchy.nodes if node not in hierarchy.parent_of)
    return tuple(_tree_node(hierarchy, root) for root in roots)


def _tree_node(hierarchy: Hierarchy, node: str) -> TreeNode:
    children = tuple(_tree_node(hierarchy, child) for child in hierarchy.children_of(node))
    return TreeNode(node, tuple(hierarchy.leaves_under(node)), children)
