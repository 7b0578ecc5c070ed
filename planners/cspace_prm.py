"""The roadmap planner of :func:`planners.cspace.plan`: arms of four joints and more.

A probabilistic roadmap (PRM): random valid configurations, each joined to its nearest
neighbours in joint space by the straight motions that are free, searched with
:func:`planners.graph.astar_path` and shortcut greedily. Probabilistically complete, not
optimal.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from planners.arm_plan import ArmLike, ArmPlan, path_plan
from planners.graph import NoPath, astar_path
from planners.joints import FloatArray, IntArray

__all__ = ["prm_plan"]


def _nearest(arm: ArmLike, nodes: FloatArray, k: int) -> tuple[IntArray, IntArray]:
    """Return the pairs ``(i, j)``, ``i < j``, where one is among the other's ``k`` nearest."""
    k = min(k, len(nodes) - 1)
    pairs = []
    for lo in range(0, len(nodes), 128):  # rows in blocks bound the distance matrix memory
        block = nodes[lo : lo + 128]
        d = arm.distance(block[:, None, :], nodes[None, :, :])
        d[np.arange(len(block)), lo + np.arange(len(block))] = np.inf
        near = np.argpartition(d, k - 1, axis=1)[:, :k]
        pairs.append(np.stack([np.repeat(lo + np.arange(len(block)), k), near.ravel()]))
    both = np.sort(np.concatenate(pairs, axis=1), axis=0)
    both = np.unique(both, axis=1)
    return both[0], both[1]


def prm_plan(
    arm: ArmLike,
    start: FloatArray,
    goals: FloatArray,
    samples: int,
    neighbors: int,
    rng: np.random.Generator,
    label: str,
) -> ArmPlan:
    """Return a roadmap path from ``start`` to one of ``goals``, shortcut.

    ``samples`` configurations are drawn from ``rng``, each joined to its ``neighbors``
    nearest; ``label`` names the query in a :class:`NoPath`.
    """
    drawn = arm.sample(samples, rng)
    nodes = np.vstack([start, goals, drawn[~arm.in_collision(drawn)]])
    src, dst = _nearest(arm, nodes, neighbors)
    collides = np.concatenate(
        [
            arm.motion_collides(nodes[src[lo : lo + 256]], nodes[dst[lo : lo + 256]])
            for lo in range(0, len(src), 256)  # batches bound the memory of the samples
        ]
    )
    graph = nx.Graph()
    graph.add_nodes_from(range(len(nodes)))
    free_src, free_dst = src[~collides], dst[~collides]
    lengths = arm.distance(nodes[free_src], nodes[free_dst])
    graph.add_weighted_edges_from(
        zip(free_src.tolist(), free_dst.tolist(), lengths.tolist(), strict=True)
    )
    target = -1  # virtual node joined to every goal at no cost
    graph.add_weighted_edges_from((1 + i, target, 0.0) for i in range(len(goals)))

    def heuristic(u: int, _: int) -> float:
        return 0.0 if u == target else float(arm.distance(nodes[u], goals).min())

    while True:
        try:
            route = astar_path(graph, 0, target, heuristic=heuristic)[:-1]
        except nx.NetworkXNoPath:
            raise NoPath(
                f"no collision-free motion {label} on a roadmap of {len(nodes)} "
                "configurations; more samples may find one"
            ) from None
        path = nodes[np.array(route, dtype=np.int64)]
        # Edges were checked from the lower index; walked the other way, rounding could
        # in principle differ, and the promise is about the path as returned.
        bad = np.flatnonzero(arm.motion_collides(path[:-1], path[1:]))
        if bad.size == 0:
            break
        graph.remove_edges_from((route[i], route[i + 1]) for i in bad.tolist())
    # Greedy shortcuts: from each kept configuration jump to the furthest one reachable
    # by a free straight motion; never longer, by the triangle inequality.
    keep = [0]
    while keep[-1] < len(path) - 1:
        i = keep[-1]
        later = np.arange(i + 1, len(path))
        free = np.flatnonzero(~arm.motion_collides(path[i], path[later]))
        keep.append(int(later[free[-1]]))  # i + 1 at least: checked just above
    return path_plan(arm, path[keep], "prm", graph.number_of_nodes() - 1)
