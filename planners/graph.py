"""Shortest paths on any networkx graph, with networkx's semantics.

The functions here accept the same arguments as their namesakes in
``networkx.algorithms.shortest_paths`` (``heuristic(u, v)``, ``weight`` as an edge
attribute name or a callable ``(u, v, data) -> cost | None`` where ``None`` hides the
edge) and raise :class:`NoPath`, a subclass of :class:`networkx.NetworkXNoPath`, so code
written against networkx keeps working. Grids have a faster path: see
:class:`planners.GridMap`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable
from itertools import count
from typing import Any

import networkx as nx

__all__ = [
    "NoPath",
    "astar_path",
    "astar_path_length",
    "bidirectional_dijkstra",
    "dijkstra_path",
    "dijkstra_path_length",
    "distance_field",
]

Node = Hashable
WeightFunction = Callable[[Any, Any, dict[str, Any]], "float | None"]
Weight = str | WeightFunction
Heuristic = Callable[[Any, Any], float]


class NoPath(nx.NetworkXNoPath):
    """No path joins the source and the target.

    A subclass of :class:`networkx.NetworkXNoPath`, so ``except nx.NetworkXNoPath``
    written for networkx catches it too.
    """


def _weight_function(G: nx.Graph, weight: Weight) -> WeightFunction:
    """Return ``(u, v, data) -> cost | None`` for ``weight`` as networkx interprets it.

    For multigraphs the cheapest parallel edge counts, as in networkx.
    """
    if callable(weight):
        return weight
    if G.is_multigraph():
        return lambda u, v, d: min(attr.get(weight, 1) for attr in d.values())
    return lambda u, v, data: data.get(weight, 1)


def _check_nodes(G: nx.Graph, *nodes: Node) -> None:
    for node in nodes:
        if node not in G:
            raise nx.NodeNotFound(f"node {node!r} is not in the graph")


def _check_cost(cost: float, u: Node, v: Node) -> None:
    if cost < 0:
        raise ValueError(
            f"edge ({u!r}, {v!r}) has negative weight {cost}; shortest-path search needs "
            "weights >= 0 (use networkx.bellman_ford_path for negative weights)"
        )


def _edges(
    adjacency: dict[Node, dict[str, Any]], node: Node, cost_of: WeightFunction, incoming: bool
) -> list[tuple[Node, float]]:
    """Return ``(neighbour, cost)`` for the edges of ``node`` that ``cost_of`` does not hide.

    ``adjacency`` is ``node``'s row of ``G._adj`` (or ``G._pred``); ``incoming`` means the
    edges run from the neighbour to ``node``. ValueError on a negative cost. Every search
    here relaxes a node's edges through this (a list: measured cheaper than a generator).
    """
    edges = []
    for other, data in adjacency.items():
        u, v = (other, node) if incoming else (node, other)
        cost = cost_of(u, v, data)
        if cost is None:
            continue
        if cost < 0:
            _check_cost(cost, u, v)
        edges.append((other, cost))
    return edges


def _walk_back(parent: dict[Node, Node | None], node: Node) -> list[Node]:
    path = [node]
    while (prev := parent[node]) is not None:
        path.append(prev)
        node = prev
    path.reverse()
    return path


def _astar(
    G: nx.Graph,
    source: Node,
    target: Node,
    heuristic: Heuristic | None,
    weight: Weight,
    cutoff: float | None = None,
) -> tuple[list[Node], float]:
    _check_nodes(G, source, target)
    h = heuristic if heuristic is not None else (lambda u, v: 0.0)
    cost_of = _weight_function(G, weight)
    succ = G._adj  # the successors of a node, for Graph and DiGraph alike
    tie = count()  # breaks ties between equal priorities without comparing nodes
    queue: list[tuple[float, int, Node, float, Node | None]] = [(0, next(tie), source, 0, None)]
    # g-cost and heuristic of every node ever queued; the heuristic is evaluated once per node
    queued: dict[Node, tuple[float, float]] = {}
    parent: dict[Node, Node | None] = {}
    while queue:
        _, _, node, dist, prev = heapq.heappop(queue)
        if node == target:
            parent[node] = prev
            return _walk_back(parent, node), dist
        if node in parent:
            if parent[node] is None:  # the source never gets a parent
                continue
            # a stale entry queued before a cheaper route was found; with an
            # inconsistent heuristic a cheaper route may still reopen the node
            if queued[node][0] < dist:
                continue
        parent[node] = prev
        for nbr, cost in _edges(succ[node], node, cost_of, False):
            new_dist = dist + cost
            if cutoff is not None and new_dist > cutoff:
                continue
            if nbr in queued:
                old_dist, hval = queued[nbr]
                if old_dist <= new_dist:
                    continue
            else:
                hval = h(nbr, target)
            queued[nbr] = (new_dist, hval)
            heapq.heappush(queue, (new_dist + hval, next(tie), nbr, new_dist, node))
    raise NoPath(f"no path from {source!r} to {target!r}")


def astar_path(
    G: nx.Graph,
    source: Node,
    target: Node,
    heuristic: Heuristic | None = None,
    weight: Weight = "weight",
    *,
    cutoff: float | None = None,
) -> list[Node]:
    """Return a shortest path from ``source`` to ``target`` found by A*.

    Parameters
    ----------
    G : networkx.Graph
        Any networkx graph (directed, undirected, multigraph).
    source, target : node
        End points of the path.
    heuristic : callable, optional
        ``heuristic(u, target)`` estimates the cost from ``u`` to the target. It must
        not overestimate (admissible) for the result to be optimal. ``None`` means 0,
        which makes A* a Dijkstra search.
    weight : str or callable, default "weight"
        Edge attribute holding the cost (missing attributes count as 1), or a function
        ``(u, v, data) -> cost | None``; returning ``None`` hides the edge.
    cutoff : float, optional
        Do not explore paths costlier than this; :class:`NoPath` if none is cheaper.

    Returns
    -------
    list
        The nodes of the path, ``source`` first and ``target`` last.

    Raises
    ------
    networkx.NodeNotFound
        If ``source`` or ``target`` is not in ``G``.
    NoPath
        If ``target`` cannot be reached from ``source``.
    ValueError
        If the search meets a negative edge weight.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.path_graph(5)
    >>> astar_path(G, 0, 4)
    [0, 1, 2, 3, 4]
    >>> G = nx.grid_2d_graph(3, 3)
    >>> manhattan = lambda u, v: abs(u[0] - v[0]) + abs(u[1] - v[1])
    >>> len(astar_path(G, (0, 0), (2, 2), heuristic=manhattan))
    5
    """
    return _astar(G, source, target, heuristic, weight, cutoff)[0]


def astar_path_length(
    G: nx.Graph,
    source: Node,
    target: Node,
    heuristic: Heuristic | None = None,
    weight: Weight = "weight",
    *,
    cutoff: float | None = None,
) -> float:
    """Return the cost of a shortest path from ``source`` to ``target`` found by A*.

    Takes the same arguments and raises the same errors as :func:`astar_path`.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([("a", "b", 1.5), ("b", "c", 2.0), ("a", "c", 5.0)])
    >>> astar_path_length(G, "a", "c")
    3.5
    """
    return _astar(G, source, target, heuristic, weight, cutoff)[1]


def dijkstra_path(G: nx.Graph, source: Node, target: Node, weight: Weight = "weight") -> list[Node]:
    """Return a shortest path from ``source`` to ``target`` found by Dijkstra's algorithm.

    :func:`astar_path` without a heuristic or cutoff: it takes the same ``G``,
    ``source``, ``target`` and ``weight`` and raises the same errors.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([(0, 1, 1.0), (1, 2, 1.0), (0, 2, 3.0)])
    >>> dijkstra_path(G, 0, 2)
    [0, 1, 2]
    """
    return _astar(G, source, target, None, weight)[0]


def dijkstra_path_length(
    G: nx.Graph, source: Node, target: Node, weight: Weight = "weight"
) -> float:
    """Return the cost of a shortest path from ``source`` to ``target`` (Dijkstra).

    Takes the same arguments and raises the same errors as :func:`dijkstra_path`.

    Examples
    --------
    >>> import networkx as nx
    >>> dijkstra_path_length(nx.cycle_graph(6), 0, 4)
    2
    """
    return _astar(G, source, target, None, weight)[1]


def bidirectional_dijkstra(
    G: nx.Graph, source: Node, target: Node, weight: Weight = "weight"
) -> tuple[float, list[Node]]:
    """Return ``(cost, path)`` of a shortest path, searching from both ends at once.

    Expands roughly half the nodes of a one-sided search on large graphs. For a
    directed graph the backward search follows edges in reverse. Takes the same
    arguments and raises the same errors as :func:`dijkstra_path`; the result is in the
    order networkx's function of the same name uses.

    Examples
    --------
    >>> import networkx as nx
    >>> bidirectional_dijkstra(nx.path_graph(4), 0, 3)
    (3, [0, 1, 2, 3])
    """
    _check_nodes(G, source, target)
    if source == target:
        return 0, [source]
    cost_of = _weight_function(G, weight)
    # side 0 searches forward from source, side 1 backward from target
    neighbours = (G._adj, G._pred if G.is_directed() else G._adj)
    dist: tuple[dict[Node, float], dict[Node, float]] = ({}, {})
    seen: tuple[dict[Node, float], dict[Node, float]] = ({source: 0}, {target: 0})
    parent: tuple[dict[Node, Node | None], dict[Node, Node | None]] = (
        {source: None},
        {target: None},
    )
    tie = count()
    queues: tuple[list[tuple[float, int, Node]], list[tuple[float, int, Node]]] = (
        [(0, next(tie), source)],
        [(0, next(tie), target)],
    )
    best: float | None = None
    meet: Node | None = None
    side = 1
    while queues[0] and queues[1]:
        side = 1 - side
        d, _, node = heapq.heappop(queues[side])
        if node in dist[side]:
            continue
        dist[side][node] = d
        if node in dist[1 - side]:
            break  # settled from both sides: no cheaper meeting point remains
        for nbr, cost in _edges(neighbours[side][node], node, cost_of, side == 1):
            nd = d + cost
            if nbr in dist[side]:
                continue
            if nbr not in seen[side] or nd < seen[side][nbr]:
                seen[side][nbr] = nd
                parent[side][nbr] = node
                heapq.heappush(queues[side], (nd, next(tie), nbr))
                if nbr in seen[1 - side]:
                    total = nd + seen[1 - side][nbr]
                    if best is None or total < best:
                        best, meet = total, nbr
    if best is None or meet is None:
        raise NoPath(f"no path from {source!r} to {target!r}")
    forward = _walk_back(parent[0], meet)
    backward = _walk_back(parent[1], meet)
    backward.reverse()
    return best, forward + backward[1:]


def distance_field(
    G: nx.Graph, goals: Iterable[Node], weight: Weight = "weight"
) -> dict[Node, float]:
    """Return the cost-to-go from every node that can reach a goal to its nearest goal.

    This is a multi-source Dijkstra search run backwards from the goals, so on a
    directed graph it measures the cost of travelling *to* a goal. Nodes that cannot
    reach any goal are absent from the result. For a :class:`planners.GridMap` use
    :meth:`planners.GridMap.distance_field`, or :func:`planners.distance_field`, which
    accepts either.

    Parameters
    ----------
    G : networkx.Graph
        Any networkx graph.
    goals : iterable of nodes
        One or more goal nodes.
    weight : str or callable, default "weight"
        As in :func:`astar_path`.

    Returns
    -------
    dict
        ``{node: cost to the nearest goal}``; goals map to 0.

    Raises
    ------
    networkx.NodeNotFound
        If a goal is not in ``G``.
    ValueError
        If ``goals`` is empty.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([(0, 1), (1, 2), (3, 2)])
    >>> distance_field(G, [2])
    {2: 0, 1: 1, 3: 1, 0: 2}
    """
    goals = list(goals)
    if not goals:
        raise ValueError("goals is empty: give at least one goal node")
    _check_nodes(G, *goals)
    cost_of = _weight_function(G, weight)
    incoming = G._pred if G.is_directed() else G._adj
    result: dict[Node, float] = {}
    tie = count()
    queue: list[tuple[float, int, Node]] = [(0, next(tie), g) for g in goals]
    best: dict[Node, float] = dict.fromkeys(goals, 0)
    while queue:
        d, _, node = heapq.heappop(queue)
        if node in result:
            continue
        result[node] = d
        for prev, cost in _edges(incoming[node], node, cost_of, True):
            nd = d + cost
            if prev not in result and (prev not in best or nd < best[prev]):
                best[prev] = nd
                heapq.heappush(queue, (nd, next(tie), prev))
    return result
