"""Shortest paths on networkx graphs: same answers and same errors as networkx.

The property tests draw small random graphs of every kind networkx has (directed or
not, multigraph or not), with zero weights, missing weight attributes, self-loops,
isolated nodes and edges hidden by a callable weight, and compare each function with its
networkx namesake. Paths are checked edge by edge, not just by cost, since two
different optimal paths may exist.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import planners
from planners.graph import (
    NoPath,
    astar_path,
    astar_path_length,
    bidirectional_dijkstra,
    dijkstra_path,
    dijkstra_path_length,
    distance_field,
)

# Node labels of mixed, mutually unorderable types: a search that compares nodes on
# priority ties (instead of using a tie-breaking counter) fails on these.
LABELS: tuple[Hashable, ...] = (0, "a", (1, 2), 2.5, "b", (0,), 7, frozenset({1}), "c", 11)
# Dyadic fractions add up exactly in floating point, so costs can be compared tightly
# whatever order a search sums them in; 0 is drawn often to stress zero-cost edges.
WEIGHTS = st.sampled_from([0, 0, 0.5, 1, 1, 2, 3, 4.25, 7])

Weight = str | Callable[[Any, Any, dict[str, Any]], "float | None"]
PROPERTY = settings(max_examples=300, deadline=None)


class Case:
    """A graph, a query on it and the weight argument to pass."""

    # a plain class, not a dataclass: hypothesis would print a dataclass field by field
    # and show the graph as <networkx.classes.graph.Graph object at ...>
    def __init__(self, G: nx.Graph, source: Hashable, target: Hashable, weight: Weight) -> None:
        self.G, self.source, self.target, self.weight = G, source, target, weight

    def __repr__(self) -> str:
        edges = list(self.G.edges(data=True))
        return (
            f"Case({type(self.G).__name__} nodes={list(self.G)} edges={edges} "
            f"source={self.source!r} target={self.target!r} weight={self.weight!r})"
        )


def visible_weight(G: nx.Graph) -> Weight:
    """A callable weight that hides edges marked ``hidden`` by returning None."""
    if G.is_multigraph():

        def multi(u: Any, v: Any, d: dict[str, Any]) -> float | None:
            costs = [attr.get("weight", 1) for attr in d.values() if not attr["hidden"]]
            return min(costs) if costs else None

        return multi

    def simple(u: Any, v: Any, d: dict[str, Any]) -> float | None:
        return None if d["hidden"] else d.get("weight", 1)

    return simple


@st.composite
def graphs(draw: st.DrawFn) -> nx.Graph:
    directed, multi = draw(st.booleans()), draw(st.booleans())
    G = {
        (False, False): nx.Graph,
        (True, False): nx.DiGraph,
        (False, True): nx.MultiGraph,
        (True, True): nx.MultiDiGraph,
    }[directed, multi]()
    nodes = list(LABELS[: draw(st.integers(1, len(LABELS)))])
    G.add_nodes_from(nodes)  # nodes without edges make disconnected parts
    node = st.sampled_from(nodes)
    edges = draw(
        st.lists(
            st.tuples(node, node, WEIGHTS, st.booleans(), st.booleans()),
            max_size=3 * len(nodes),
        )
    )
    for u, v, w, hidden, weighted in edges:
        # edges without a weight attribute cost 1, as in networkx
        G.add_edge(u, v, hidden=hidden, **({"weight": w} if weighted else {}))
    return G


@st.composite
def cases(draw: st.DrawFn) -> Case:
    G = draw(graphs())
    node = st.sampled_from(list(G))
    # "cost" is on no edge: every edge then costs 1
    weight = draw(st.sampled_from(["weight", "cost", "visible"]))
    return Case(G, draw(node), draw(node), visible_weight(G) if weight == "visible" else weight)


def edge_cost(G: nx.Graph, u: Any, v: Any, weight: Weight) -> float | None:
    """Cost of the edge ``u -> v`` (cheapest parallel edge), None if hidden."""
    data = G[u][v]
    if callable(weight):
        return weight(u, v, data)
    if G.is_multigraph():
        return min(attr.get(weight, 1) for attr in data.values())
    result: float = data.get(weight, 1)
    return result


def assert_is_path(case: Case, path: list[Any], cost: float) -> None:
    """``path`` joins source to target along visible edges and costs ``cost``."""
    assert path[0] == case.source
    assert path[-1] == case.target
    total = 0.0
    for u, v in itertools.pairwise(path):
        assert v in case.G[u], f"{u!r} -> {v!r} is not an edge"
        step = edge_cost(case.G, u, v, case.weight)
        assert step is not None, f"{u!r} -> {v!r} is hidden by the weight function"
        total += step
    assert math.isclose(total, cost, abs_tol=1e-9)


def reversed_weight(weight: Weight) -> Weight:
    """``weight`` for ``G.reverse()``: the reversed edge ``v -> u`` is ``u -> v`` of G."""
    if callable(weight):
        return lambda u, v, d: weight(v, u, d)
    return weight


def distances_to(G: nx.Graph, target: Any, weight: Weight) -> dict[Any, float]:
    """Exact cost from every node that can reach ``target``, by networkx."""
    H = G.reverse() if G.is_directed() else G
    result: dict[Any, float] = nx.single_source_dijkstra_path_length(
        H, target, weight=reversed_weight(weight)
    )
    return result


def networkx_length(case: Case) -> float | None:
    """The cheapest cost by networkx; None when networkx finds no path."""
    try:
        length: float = nx.dijkstra_path_length(case.G, case.source, case.target, case.weight)
    except nx.NetworkXNoPath:
        return None
    return length


# ---------------------------------------------------------------------- A* and Dijkstra


@PROPERTY
@given(
    case=cases(),
    # mostly the extremes: 0 next to an exact estimate is what makes a heuristic inconsistent
    slack=st.lists(st.sampled_from([0.0, 1.0, 0.5]), min_size=len(LABELS), max_size=len(LABELS)),
)
def test_astar_matches_networkx(case: Case, slack: list[float]) -> None:
    # An admissible heuristic that is inconsistent (a random fraction of the true
    # distance per node) forces A* to reopen nodes; the result must still be optimal.
    exact = distances_to(case.G, case.target, case.weight)
    fraction = dict(zip(case.G, slack, strict=False))
    calls: list[tuple[Any, Any]] = []

    def heuristic(u: Any, v: Any) -> float:
        calls.append((u, v))
        # nodes that cannot reach the target may get any estimate: no path through them
        return exact[u] * fraction[u] if u in exact else 100.0

    expected = networkx_length(case)
    if expected is None:
        with pytest.raises(NoPath):
            astar_path(case.G, case.source, case.target, heuristic, case.weight)
        with pytest.raises(NoPath):
            astar_path_length(case.G, case.source, case.target, weight=case.weight)
        with pytest.raises(nx.NetworkXNoPath):
            nx.astar_path(case.G, case.source, case.target, heuristic, case.weight)
        return
    path = astar_path(case.G, case.source, case.target, heuristic, case.weight)
    length = astar_path_length(case.G, case.source, case.target, heuristic, case.weight)
    reference = nx.astar_path_length(case.G, case.source, case.target, heuristic, case.weight)
    assert math.isclose(length, expected, abs_tol=1e-9)
    assert math.isclose(reference, expected, abs_tol=1e-9)
    assert_is_path(case, path, length)
    # networkx's convention: the heuristic is asked about (node, target), never the reverse
    assert all(v == case.target and u in case.G for u, v in calls)


@PROPERTY
@given(case=cases())
def test_dijkstra_matches_networkx(case: Case) -> None:
    expected = networkx_length(case)
    if expected is None:
        with pytest.raises(NoPath):
            dijkstra_path(case.G, case.source, case.target, case.weight)
        with pytest.raises(NoPath):
            dijkstra_path_length(case.G, case.source, case.target, case.weight)
        return
    path = dijkstra_path(case.G, case.source, case.target, case.weight)
    length = dijkstra_path_length(case.G, case.source, case.target, case.weight)
    assert math.isclose(length, expected, abs_tol=1e-9)
    assert_is_path(case, path, length)


@PROPERTY
@given(case=cases())
def test_bidirectional_dijkstra_matches_networkx(case: Case) -> None:
    try:
        expected, _ = nx.bidirectional_dijkstra(case.G, case.source, case.target, case.weight)
    except nx.NetworkXNoPath:
        with pytest.raises(NoPath):
            bidirectional_dijkstra(case.G, case.source, case.target, case.weight)
        return
    cost, path = bidirectional_dijkstra(case.G, case.source, case.target, case.weight)
    assert math.isclose(cost, expected, abs_tol=1e-9)
    assert_is_path(case, path, cost)


@PROPERTY
@given(case=cases(), data=st.data())
def test_distance_field_matches_networkx(case: Case, data: st.DataObject) -> None:
    goals = data.draw(st.lists(st.sampled_from(list(case.G)), min_size=1, max_size=4))
    # cost-to-go on G is cost-from-goals on the reversed graph
    H = case.G.reverse() if case.G.is_directed() else case.G
    expected = nx.multi_source_dijkstra_path_length(
        H, set(goals), weight=reversed_weight(case.weight)
    )
    field = distance_field(case.G, goals, weight=case.weight)
    assert field.keys() == expected.keys()
    for node, cost in field.items():
        assert math.isclose(cost, expected[node], abs_tol=1e-9), node
    # the package-level function dispatches graphs here
    assert planners.distance_field(case.G, goals, weight=case.weight) == field


@PROPERTY
@given(case=cases(), cutoff=st.sampled_from([0, 0.5, 1, 2, 2.5, 3, 4.25, 6, 10, 100]))
def test_cutoff_keeps_exactly_the_paths_within_it(case: Case, cutoff: float) -> None:
    expected = networkx_length(case)
    if expected is None or expected > cutoff:
        with pytest.raises(NoPath):
            astar_path_length(case.G, case.source, case.target, weight=case.weight, cutoff=cutoff)
        return
    path = astar_path(case.G, case.source, case.target, weight=case.weight, cutoff=cutoff)
    length = astar_path_length(case.G, case.source, case.target, weight=case.weight, cutoff=cutoff)
    assert math.isclose(length, expected, abs_tol=1e-9)
    assert_is_path(case, path, length)


def test_cutoff_equal_to_the_cost_still_finds_the_path() -> None:
    G = nx.path_graph(4)
    assert astar_path_length(G, 0, 3, cutoff=3) == 3
    with pytest.raises(NoPath, match="no path from 0 to 3"):
        astar_path(G, 0, 3, cutoff=2.99)


def test_heuristic_is_called_with_node_and_target() -> None:
    G = nx.DiGraph([("s", "a"), ("a", "t"), ("s", "b"), ("b", "t")])
    calls: list[tuple[str, str]] = []

    def heuristic(u: str, v: str) -> float:
        calls.append((u, v))
        return 0.0

    assert astar_path(G, "s", "t", heuristic) in (["s", "a", "t"], ["s", "b", "t"])
    assert calls
    assert {v for _, v in calls} == {"t"}


def test_astar_reopens_a_node_when_the_heuristic_is_inconsistent() -> None:
    # h is admissible but not consistent (h(b) = 11 > cost(b, a) + h(a) = 0): A* closes
    # a at cost 2 via s -> a, then finds it for 1 via b and must expand it again
    G = nx.DiGraph()
    G.add_weighted_edges_from(
        [("s", "a", 2), ("s", "b", 1), ("b", "a", 0), ("a", "c", 1), ("c", "t", 10)]
    )
    h = {"s": 0, "a": 0, "b": 11, "c": 0, "t": 0}
    assert astar_path_length(G, "s", "t", lambda u, v: h[u]) == 12
    assert astar_path(G, "s", "t", lambda u, v: h[u]) == ["s", "b", "a", "c", "t"]
    assert nx.astar_path_length(G, "s", "t", lambda u, v: h[u]) == 12


def test_astar_uses_the_heuristic_to_expand_less() -> None:
    # on a long corridor with a side branch, a perfect heuristic never enters the branch
    G = nx.path_graph(10)
    G.add_edge(0, "branch")
    seen: list[Any] = []

    def heuristic(u: Any, v: Any) -> float:
        seen.append(u)
        return 100.0 if u == "branch" else float(abs(v - u))

    assert astar_path(G, 0, 9, heuristic) == list(range(10))
    assert "branch" in seen  # estimated once when first met...
    assert seen.count("branch") == 1  # ...and never again


# ---------------------------------------------------------------------- errors


GRAPH_FUNCTIONS: list[Callable[[nx.Graph, Any, Any], Any]] = [
    astar_path,
    astar_path_length,
    dijkstra_path,
    dijkstra_path_length,
    bidirectional_dijkstra,
]


@pytest.mark.parametrize("function", GRAPH_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("source", "target"), [("x", 0), (0, "x")])
def test_unknown_node_raises_node_not_found(
    function: Callable[[nx.Graph, Any, Any], Any], source: Any, target: Any
) -> None:
    with pytest.raises(nx.NodeNotFound, match="'x' is not in the graph"):
        function(nx.path_graph(3), source, target)


def test_distance_field_unknown_goal_raises_node_not_found() -> None:
    with pytest.raises(nx.NodeNotFound, match="'x' is not in the graph"):
        distance_field(nx.path_graph(3), [0, "x"])


@pytest.mark.parametrize("goals", [[], (), iter([])], ids=["list", "tuple", "iterator"])
def test_distance_field_needs_a_goal(goals: Any) -> None:
    with pytest.raises(ValueError, match="goals is empty"):
        distance_field(nx.path_graph(3), goals)


@pytest.mark.parametrize("function", GRAPH_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("directed", [False, True])
def test_negative_weight_raises_value_error(
    function: Callable[[nx.Graph, Any, Any], Any], directed: bool
) -> None:
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_weighted_edges_from([(0, 1, 1.0), (1, 2, -1.0), (2, 3, 1.0)])
    with pytest.raises(ValueError, match=r"negative weight -1\.0"):
        function(G, 0, 3)


def test_distance_field_negative_weight_raises_value_error() -> None:
    G = nx.Graph()
    G.add_weighted_edges_from([(0, 1, 1.0), (1, 2, -2.0)])
    with pytest.raises(ValueError, match=r"negative weight -2\.0"):
        distance_field(G, [0])


def test_no_path_is_a_networkx_no_path() -> None:
    assert issubclass(NoPath, nx.NetworkXNoPath)
    assert planners.NoPath is NoPath
    G = nx.Graph()
    G.add_nodes_from([0, 1])
    # code written against networkx keeps working with our functions
    with pytest.raises(nx.NetworkXNoPath):
        astar_path(G, 0, 1)
    try:
        dijkstra_path_length(G, 0, 1)
    except nx.NetworkXNoPath as err:
        assert isinstance(err, NoPath)
        assert "no path from 0 to 1" in str(err)
    else:
        pytest.fail("no exception raised")


def test_hidden_edges_are_not_used() -> None:
    G = nx.Graph()
    G.add_edge(0, 1, weight=1, hidden=True)
    G.add_edge(0, 2, weight=5, hidden=False)
    G.add_edge(2, 1, weight=5, hidden=False)
    weight = visible_weight(G)
    assert dijkstra_path(G, 0, 1, weight) == [0, 2, 1]
    G[2][1]["hidden"] = True
    with pytest.raises(NoPath):
        astar_path(G, 0, 1, weight=weight)


def test_multigraph_uses_the_cheapest_parallel_edge() -> None:
    G = nx.MultiDiGraph()
    G.add_edge("a", "b", weight=5)
    G.add_edge("a", "b", weight=2)
    G.add_edge("b", "a", weight=1)
    assert dijkstra_path_length(G, "a", "b") == 2
    assert bidirectional_dijkstra(G, "a", "b") == (2, ["a", "b"])
    assert distance_field(G, ["b"]) == {"b": 0, "a": 2}


def test_source_equal_to_target() -> None:
    G = nx.path_graph(3)
    assert astar_path(G, 1, 1) == [1]
    assert dijkstra_path_length(G, 1, 1) == 0
    assert bidirectional_dijkstra(G, 1, 1) == (0, [1])
