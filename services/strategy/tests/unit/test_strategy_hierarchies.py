import pytest

from ipm_common.errors import InvalidInput
from ipm_strategy.domain.hierarchies import Edge, build_tree, check_forest, define_hierarchy

REVENUE_EDGES = [
    Edge("taxes", "general_fund"),
    Edge("non_tax", "general_fund"),
    Edge("wage_tax", "taxes"),
    Edge("real_estate_tax", "taxes"),
    Edge("licenses", "non_tax"),
]


def test_forest_lists_leaves_per_node() -> None:
    hierarchy = define_hierarchy("revenue", "account", REVENUE_EDGES)

    (root,) = build_tree(hierarchy.tree)
    assert root.node == "general_fund"
    assert root.leaves == ("licenses", "real_estate_tax", "wage_tax")
    assert [child.node for child in root.children] == ["non_tax", "taxes"]
    assert root.children[1].leaves == ("real_estate_tax", "wage_tax")
    assert root.children[1].children[0].leaves == ("real_estate_tax",)


def test_two_roots_make_two_trees() -> None:
    hierarchy = define_hierarchy("mixed", "cost_centre", [Edge("cc1", "ops"), Edge("cc2", "admin")])

    assert [root.node for root in build_tree(hierarchy.tree)] == ["admin", "ops"]


def test_empty_hierarchy_is_a_forest() -> None:
    assert build_tree(define_hierarchy("empty", "entity", []).tree) == ()


def test_second_parent_is_rejected() -> None:
    edges = [Edge("wage_tax", "taxes"), Edge("licenses", "non_tax"), Edge("wage_tax", "non_tax")]

    with pytest.raises(InvalidInput) as raised:
        check_forest(edges)

    assert raised.value.field == "edges[2]"
    assert "already has parent 'taxes' in edges[0]" in str(raised.value)


def test_edge_closing_cycle_is_named() -> None:
    edges = [Edge("a", "b"), Edge("b", "c"), Edge("x", "y"), Edge("c", "a")]

    with pytest.raises(InvalidInput) as raised:
        check_forest(edges)

    assert raised.value.field == "edges[3]"
    assert "closes the cycle c -> a -> b -> c" in str(raised.value)


def test_cycle_found_in_any_edge_order() -> None:
    edges = [Edge("c", "a"), Edge("a", "b"), Edge("b", "c")]

    with pytest.raises(InvalidInput) as raised:
        check_forest(edges)

    assert raised.value.field == "edges[2]"
    assert "b -> c -> a -> b" in str(raised.value)


def test_node_cannot_be_own_parent() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_forest([Edge("taxes", "taxes")])

    assert raised.value.field == "edges[0]"
    assert "taxes -> taxes" in str(raised.value)
