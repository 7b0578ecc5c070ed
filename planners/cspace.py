"""Collision-free motion planning in the joint space of a :class:`~planners.arm.PlanarArm`.

Arms of up to three joints are planned on a regular grid over joint space (a torus for
continuous joints) searched with :func:`scipy.sparse.csgraph.dijkstra`; longer arms on a
probabilistic roadmap searched with :func:`planners.graph.astar_path`. Either way every
segment of a returned path passes :meth:`PlanarArm.motion_collides`.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra

from planners.arm import (
    MOTION_RESOLUTION,
    BoolArray,
    FloatArray,
    PlanarArm,
    interpolation_steps,
)
from planners.graph import NoPath, astar_path

__all__ = ["ArmPlan", "plan", "plan_reach"]

IntArray = NDArray[np.int64]
GRID_MAX_JOINTS = 3
#: Largest grid the grid planner builds (cells); finer requests raise ValueError.
MAX_CELLS = 2_000_000


@dataclass(frozen=True)
class ArmPlan:
    """A collision-free joint-space path.

    Attributes
    ----------
    path : ndarray, shape (k, n)
        Configurations from ``q_start`` (as given) to the goal configuration; in between,
        continuous joints lie in ``[-pi, pi]``. Consecutive configurations are joined by
        straight joint-space motions (the short way round continuous joints).
    cost : float
        Joint-space length of the path: the sum of :meth:`PlanarArm.distance` over its
        segments, in radians.
    method : {"direct", "grid", "prm"}
        What found the path; ``"direct"`` is a single straight motion.
    nodes : int
        Vertices the search reached (grid cells or roadmap nodes); 0 for ``"direct"``.
    """

    path: FloatArray
    cost: float
    method: str
    nodes: int


def plan(
    arm: PlanarArm,
    q_start: ArrayLike,
    goal: ArrayLike,
    *,
    goal_kind: Literal["auto", "q", "xy"] = "auto",
    method: Literal["auto", "grid", "prm"] = "auto",
    resolution_deg: float | None = None,
    samples: int = 1500,
    neighbors: int = 12,
    seed: int = 0,
) -> ArmPlan:
    """Return a collision-free motion of ``arm`` from ``q_start`` to ``goal``.

    A straight motion to the nearest goal configuration is tried first (if free, it is
    optimal). Otherwise ``method="grid"`` discretises every joint at ``resolution_deg``
    (continuous joints wrap round), marks the colliding cells in one batch, joins each
    free cell to its free neighbours (8 in 2-D, 26 in 3-D; an edge costs its joint-space
    length) and runs Dijkstra's algorithm; ``q_start`` and each goal configuration join
    the corners of their grid boxes. Edges are checked at their midpoints while the
    graph is built (at 1 degree that is every sample :meth:`PlanarArm.motion_collides`
    takes) and fully on the path found; a failing edge is removed and the search rerun.
    So the path is a shortest one over the grid edges that pass ``motion_collides``.
    ``method="prm"`` samples ``samples`` configurations, joins each to its ``neighbors``
    nearest in joint space, keeps the edges whose motions are free, runs A* with the
    joint-space distance as heuristic and shortcuts the path: probabilistically
    complete, not optimal.

    Parameters
    ----------
    arm : PlanarArm
        The arm and its obstacles.
    q_start : array_like, shape (n,)
        Start configuration; it must be valid (not :meth:`PlanarArm.in_collision`).
    goal : array_like, shape (n,) or (2,)
        Goal configuration, or end-effector position; any collision-free inverse
        kinematics solution of a position is an acceptable end (see
        :meth:`PlanarArm.inverse`; for three or more joints a sample of the solutions).
    goal_kind : {"auto", "q", "xy"}, default "auto"
        How to read ``goal``; ``"auto"`` goes by its length, which is ambiguous for a
        two-joint arm, so there it must be given.
    method : {"auto", "grid", "prm"}, default "auto"
        ``"auto"`` is ``"grid"`` for up to 3 joints, ``"prm"`` beyond.
    resolution_deg : float, optional
        Grid spacing in degrees, at most 45. Default 1 for up to two joints, 5 for three.
    samples : int, default 1500
        Roadmap size (PRM).
    neighbors : int, default 12
        Nearest neighbours each roadmap node is joined to (PRM).
    seed : int, default 0
        Seed of the roadmap samples and of the inverse kinematics restarts.

    Returns
    -------
    ArmPlan

    Raises
    ------
    ValueError
        If an argument is malformed, or ``q_start`` or a goal configuration is invalid
        (in collision or outside the joint limits); the message names it.
    NoPath
        If no collision-free motion to the goal was found (enclosed, or an
        end-effector goal outside the reach or reachable only in collision).

    Examples
    --------
    >>> from planners.arm import Box, PlanarArm
    >>> arm = PlanarArm([1.0, 1.0], obstacles=[Box((0.8, -0.3), (1.2, 0.3))])
    >>> result = plan(arm, [0.5, 0.0], [-0.5, 0.0], goal_kind="q")
    >>> result.method, round(result.cost, 4)  # the long way round: 2 pi - 1
    ('grid', 5.2832)
    >>> plan(arm, [0.5, 0.0], [0.0, 2.0], goal_kind="xy").path[-1].round(4)
    array([1.5708, 0.    ])
    """
    n = arm.n_joints
    chosen, res = _check_options(n, method, resolution_deg, samples, neighbors)
    start = np.asarray(q_start, dtype=np.float64)
    if start.shape != (n,) or not np.isfinite(start).all():
        raise ValueError(f"q_start must be finite with shape ({n},), got {start.tolist()}")
    if arm.in_collision(start):
        raise ValueError(f"q_start = {start.tolist()} is in collision or outside the limits")
    goals = _goal_configurations(arm, goal, goal_kind, seed)
    # Any motion to goal g costs at least distance(start, g), so a free straight motion
    # to the nearest goal is optimal.
    lengths = arm.distance(start, goals)
    nearest = int(np.argmin(lengths))  # the first of equals, as a stable sort puts it
    if not arm.motion_collides(start, goals[nearest]):
        return _direct(start[None], goals[nearest][None], lengths[nearest][None])[0]
    goals = goals[np.argsort(lengths, kind="stable")]
    label = f"from q_start = {start.tolist()} to goal {np.asarray(goal).tolist()}"
    if chosen == "grid":
        return _grid_plan(arm, start, goals, math.radians(res), label)
    rng = np.random.default_rng(seed)
    return _prm_plan(arm, start, goals, samples, neighbors, rng, label)


def plan_reach(
    arm: PlanarArm,
    q_starts: ArrayLike,
    goals: ArrayLike,
    *,
    method: Literal["auto", "grid", "prm"] = "auto",
    resolution_deg: float | None = None,
    samples: int = 1500,
    neighbors: int = 12,
    seed: int = 0,
) -> list[ArmPlan | None]:
    """Plan from many starts to end-effector points: :func:`plan` of each pair at once.

    Item ``i`` equals ``plan(arm, q_starts[i], goals[i], goal_kind="xy", ...)`` with the
    same options, or is ``None`` where that raises :class:`~planners.graph.NoPath`;
    ValueErrors are raised as :func:`plan` raises them. For arms of one or two joints
    it is much faster: the inverse kinematics (closed form,
    :meth:`~planners.arm.PlanarArm.inverse_many`), the nearest goal configurations and
    the checks of the straight motions to them run in one batch, and :func:`plan` runs
    only for the pairs whose straight motion is blocked or whose start is invalid. In
    free space without joint limits no motion is blocked, so none is checked: a batch
    of 4096 pairs takes about 10 milliseconds where :func:`plan` takes about 0.4 ms a
    pair. Longer arms are planned pair by pair.

    Parameters
    ----------
    arm : PlanarArm
        The arm and its obstacles.
    q_starts : array_like, shape (m, n)
        Start configurations.
    goals : array_like, shape (m, 2)
        End-effector goal points.
    method, resolution_deg, samples, neighbors, seed
        As for :func:`plan`.

    Returns
    -------
    list of ArmPlan or None

    Examples
    --------
    >>> from planners.arm import PlanarArm
    >>> arm = PlanarArm([1.0, 1.0])
    >>> [p.cost for p in plan_reach(arm, [[0.0, 0.0], [0.0, 1.0]], [[0.0, 2.0], [2.0, 0.0]])]
    [1.5707963267948966, 1.0]
    """
    n = arm.n_joints
    _check_options(n, method, resolution_deg, samples, neighbors)
    starts = np.asarray(q_starts, dtype=np.float64)
    targets = np.asarray(goals, dtype=np.float64)
    if starts.ndim != 2 or starts.shape[1] != n or targets.shape != (len(starts), 2):
        raise ValueError(
            f"q_starts must have shape (m, {n}) and goals shape (m, 2), got {starts.shape} "
            f"and {targets.shape}"
        )
    if not (np.isfinite(starts).all() and np.isfinite(targets).all()):
        raise ValueError("q_starts and goals must be finite")

    def one(i: int) -> ArmPlan | None:
        try:
            return plan(
                arm,
                starts[i],
                targets[i],
                goal_kind="xy",
                method=method,
                resolution_deg=resolution_deg,
                samples=samples,
                neighbors=neighbors,
                seed=seed,
            )
        except NoPath:
            return None

    if n > 2:
        return [one(i) for i in range(len(starts))]
    candidates, valid = arm.inverse_many(targets)  # (m, k, n), (m, k), within the limits
    if arm.obstacles:
        valid &= ~arm.in_collision(candidates)
    lengths = np.where(valid, arm.distance(starts[:, None, :], candidates), np.inf)
    nearest = np.argmin(lengths, axis=1)  # the first of equals, as plan() picks
    rows = np.arange(len(starts))
    ends, costs = candidates[rows, nearest], lengths[rows, nearest]
    start_ok = ~arm.in_collision(starts)
    reached = np.asarray(valid.any(axis=1))
    direct = start_ok & reached
    check = np.flatnonzero(direct)
    if check.size and (arm.obstacles or not arm.continuous.all()):
        direct[check] = ~arm.motion_collides(starts[check], ends[check])
    plans = _direct(starts, ends, costs)
    out: list[ArmPlan | None] = []
    flags = zip(direct.tolist(), start_ok.tolist(), reached.tolist(), strict=True)
    for i, (is_direct, ok, any_goal) in enumerate(flags):
        if is_direct:
            out.append(plans[i])
        elif ok and not any_goal:  # plan() raises NoPath: no valid goal configuration
            out.append(None)
        else:  # blocked straight motion (a search), or an invalid start (its ValueError)
            out.append(one(i))
    return out


def _check_options(
    n: int, method: str, resolution_deg: float | None, samples: int, neighbors: int
) -> tuple[str, float]:
    """Return the planning method and grid resolution (degrees) for ``n`` joints."""
    if method == "auto":
        method = "grid" if n <= GRID_MAX_JOINTS else "prm"
    if method not in ("grid", "prm"):
        raise ValueError(f"method must be 'auto', 'grid' or 'prm', got {method!r}")
    if method == "grid" and n > GRID_MAX_JOINTS:
        raise ValueError(f"method='grid' needs at most {GRID_MAX_JOINTS} joints, got {n}")
    res = resolution_deg if resolution_deg is not None else (1.0 if n <= 2 else 5.0)
    if not 0 < res <= 45:
        raise ValueError(f"resolution_deg must be in (0, 45], got {resolution_deg}")
    if samples < 1 or neighbors < 1:
        raise ValueError(f"samples and neighbors must be >= 1, got {samples}, {neighbors}")
    return method, res


def _direct(starts: FloatArray, ends: FloatArray, costs: FloatArray) -> list[ArmPlan]:
    """The plans of straight motions ``starts[i] -> ends[i]`` of length ``costs[i]``.

    As :func:`_result` makes them: an end equal to its start is not repeated.
    """
    paths = np.stack([starts, ends], axis=1)
    same = (starts == ends).all(axis=1).tolist()
    return [
        ArmPlan(path=path[:1] if still else path, cost=cost, method="direct", nodes=0)
        for path, still, cost in zip(paths, same, costs.tolist(), strict=True)
    ]


def _result(arm: PlanarArm, path: FloatArray, method: str, nodes: int) -> ArmPlan:
    # a start or goal exactly on a grid cell would repeat it; compare values, not
    # distances, which underflow to 0 for tiny differences and would drop the exact goal
    moved = np.any(path[1:] != path[:-1], axis=1)
    path = path[np.concatenate([[True], moved])]
    cost = float(arm.distance(path[:-1], path[1:]).sum())
    return ArmPlan(path=path, cost=cost, method=method, nodes=nodes)


def _goal_configurations(arm: PlanarArm, goal: ArrayLike, kind: str, seed: int) -> FloatArray:
    """Return the valid goal configurations, shape (g, n), g >= 1."""
    n = arm.n_joints
    target = np.asarray(goal, dtype=np.float64)
    if kind == "auto":
        if n == 2:
            raise ValueError(
                "goal is ambiguous for a 2-joint arm: pass goal_kind='q' (joint angles) "
                "or goal_kind='xy' (end-effector position)"
            )
        kind = "q" if target.shape == (n,) else "xy"
    if kind == "q":
        if target.shape != (n,) or not np.isfinite(target).all():
            raise ValueError(
                f"goal must be finite with shape ({n},) for goal_kind='q', got {target.tolist()}"
            )
        if arm.in_collision(target):
            raise ValueError(f"goal = {target.tolist()} is in collision or outside the limits")
        return target[None, :]
    if kind != "xy":
        raise ValueError(f"goal_kind must be 'auto', 'q' or 'xy', got {kind!r}")
    if target.shape != (2,):
        raise ValueError(f"goal must have shape (2,) for goal_kind='xy', got {target.shape}")
    try:
        # a redundant arm has a continuum of solutions: take a generous sample of them
        solutions = arm.inverse(target, restarts=32, seed=seed)
    except ValueError as err:
        raise NoPath(f"goal {target.tolist()} is out of reach: {err}") from None
    valid = [q for q in solutions if not arm.in_collision(q)]
    if not valid:
        within = "" if arm.continuous.all() else " within the joint limits"
        raise NoPath(f"goal {target.tolist()}: no inverse kinematics solution{within} is free")
    return np.stack(valid)


# ---------------------------------------------------------------------------- grid
def _grid_axes(arm: PlanarArm, res: float) -> tuple[list[FloatArray], FloatArray]:
    """Return the grid values of every joint and the spacing of each axis."""
    axes: list[FloatArray] = []
    spacing: list[float] = []
    for lo, hi, wraps in zip(arm.lower.tolist(), arm.upper.tolist(), arm.continuous, strict=True):
        if wraps:  # a whole turn; -pi and pi are the same angle, so keep one of them
            m = math.ceil(2 * math.pi / res - 1e-9)
            step = 2 * math.pi / m
            axes.append((-math.pi + step * np.arange(m)).astype(np.float64))
        else:
            m = math.ceil((hi - lo) / res - 1e-9) + 1
            step = (hi - lo) / (m - 1)
            axes.append((lo + step * np.arange(m)).astype(np.float64))
        spacing.append(step)
    return axes, np.asarray(spacing, dtype=np.float64)


def _corner_cells(
    arm: PlanarArm,
    q: FloatArray,
    axes: list[FloatArray],
    spacing: FloatArray,
    shape: tuple[int, ...],
) -> IntArray:
    """Return the flat indices of the corners of the grid box holding ``q``."""
    per_axis = []
    for j, (values, step) in enumerate(zip(axes, spacing, strict=True)):
        m = len(values)
        i0 = math.floor((arm.wrap(q)[j] - values[0]) / step)
        if arm.continuous[j]:
            per_axis.append(((i0) % m, (i0 + 1) % m))
        else:
            i0 = min(max(i0, 0), m - 2)
            per_axis.append((i0, i0 + 1))
    corners = np.array(list(itertools.product(*per_axis))).T
    return np.unique(np.ravel_multi_index(tuple(corners), shape))


def _grid_plan(
    arm: PlanarArm, start: FloatArray, goals: FloatArray, res: float, label: str
) -> ArmPlan:
    n = arm.n_joints
    axes, spacing = _grid_axes(arm, res)
    shape = tuple(len(a) for a in axes)
    n_cells = math.prod(shape)
    if n_cells > MAX_CELLS:
        raise ValueError(
            f"resolution_deg = {math.degrees(res):g} gives {n_cells} grid cells (at most "
            f"{MAX_CELLS}); use a coarser resolution or method='prm'"
        )
    free = ~arm.in_collision_grid(axes).ravel()

    def cells(index: IntArray) -> FloatArray:
        return np.stack(
            [a[i] for a, i in zip(axes, np.unravel_index(index, shape), strict=True)], -1
        )

    # Flat index of cell c + o as a sum of per-axis terms: terms[j][o_j] broadcasts along
    # axis j, with whether c_j + o_j is still on the grid (always, for a joint that wraps).
    strides = np.cumprod((1, *shape[:0:-1]))[::-1]
    terms: list[dict[int, tuple[IntArray, BoolArray]]] = []
    for j, m in enumerate(shape):
        axis_shape = (1,) * j + (m,) + (1,) * (n - j - 1)
        terms.append({})
        for o in (-1, 0, 1):
            moved = np.arange(m) + o
            inside = (moved >= 0) & (moved < m) | bool(arm.continuous[j])
            moved = np.clip(moved % m if arm.continuous[j] else moved, 0, m - 1)
            terms[j][o] = (
                (moved * strides[j]).reshape(axis_shape),
                inside.reshape(axis_shape),
            )

    def shifted(offset: tuple[int, ...]) -> tuple[IntArray, BoolArray]:
        index = sum((terms[j][o][0] for j, o in enumerate(offset)), np.zeros(shape, np.int64))
        inside = functools.reduce(np.logical_and, [terms[j][o][1] for j, o in enumerate(offset)])
        return index.ravel(), np.broadcast_to(inside, shape).ravel()

    # The midpoint of every edge between free cells is checked too (at 1 degree it is the
    # only sample motion_collides adds). Midpoints of edges moving the joints in a set S
    # form one grid, shifted half a step along S: 2**n - 1 calls to in_collision_grid.
    midpoint_free = {
        support: ~arm.in_collision_grid(
            [a + s * step / 2 for a, s, step in zip(axes, support, spacing, strict=True)]
        ).ravel()
        for support in itertools.product((0, 1), repeat=n)
        if any(support)
    }
    # Every neighbour offset, both directions: CSR rows list all out-edges. In this order
    # offsets[-1 - k] == -offsets[k], so the second half reuses the checks of the first.
    offsets = [o for o in itertools.product((-1, 0, 1), repeat=n) if any(o)]
    half = len(offsets) // 2
    nbr = np.empty((len(offsets), n_cells), dtype=np.int32)  # scipy's index type
    weight = np.empty((len(offsets), n_cells))
    for k, offset in enumerate(offsets):
        nbr[k], inside = shifted(offset)
        if k >= half:  # the edge c -> c + o is the edge c + o -> c, checked already
            weight[k] = np.where(inside, weight[len(offsets) - 1 - k, nbr[k]], np.inf)
            continue
        delta = np.array(offset) * spacing
        ok = free & free[nbr[k]] & inside
        if interpolation_steps(np.abs(delta).max(), MOTION_RESOLUTION) > 1:
            # the midpoint of c -> c + o is at c + min(o, 0) of that shifted grid
            mid, _ = shifted(tuple(min(o, 0) for o in offset))
            ok &= midpoint_free[tuple(int(o != 0) for o in offset)][mid]
        weight[k] = np.where(ok, np.linalg.norm(delta), np.inf)
    nbr, weight = nbr.T.copy(), weight.T.copy()  # row-major for the CSR rows
    # Extra nodes after the cells: one per goal, then a virtual target joined to every
    # goal at no cost. Dijkstra runs from the target (the graph is symmetric), so the
    # start needs no node: it joins the cells at the corners of its own grid box.
    target = n_cells + len(goals)
    rows: list[tuple[IntArray, FloatArray]] = []
    for goal in goals:
        corners = _corner_cells(arm, goal, axes, spacing, shape)
        corners = corners[free[corners]]
        corners = corners[~arm.motion_collides(cells(corners), goal)]
        rows.append((corners, arm.distance(cells(corners), goal)))
    rows.append((np.arange(n_cells, target), np.zeros(len(goals))))
    extra_idx = np.concatenate([r[0] for r in rows])
    extra_w = np.concatenate([r[1] for r in rows])
    indptr = np.concatenate(
        [
            np.arange(n_cells + 1) * len(offsets),
            n_cells * len(offsets) + np.cumsum([len(r[0]) for r in rows]),
        ]
    )
    graph = sp.csr_array(
        (
            np.concatenate([weight.ravel(), extra_w]),
            np.concatenate([nbr.ravel(), extra_idx.astype(np.int32)]),
            indptr.astype(np.int32),
        ),
        shape=(target + 1, target + 1),
    )
    start_cells = _corner_cells(arm, start, axes, spacing, shape)
    start_cells = start_cells[free[start_cells]]
    start_cells = start_cells[~arm.motion_collides(start, cells(start_cells))]
    start_cost = arm.distance(start, cells(start_cells))
    while True:
        dist, pred = dijkstra(graph, indices=target, return_predecessors=True)
        total = dist[start_cells] + start_cost
        if start_cells.size == 0 or not np.isfinite(total.min()):
            raise NoPath(
                f"no collision-free motion {label} on a grid of {math.degrees(res):g} degrees"
            )
        node = int(start_cells[np.argmin(total)])
        chain = [node]
        while node < n_cells:
            node = int(pred[node])
            chain.append(node)
        path_cells, goal_node = np.array(chain[:-1]), chain[-1]
        path = np.vstack([start, cells(path_cells), goals[goal_node - n_cells]])
        # The eager checks skipped samples of long edges: check every segment of the path
        # fully and, if one collides, forbid that edge and search again.
        bad = np.flatnonzero(arm.motion_collides(path[:-1], path[1:]))
        if bad.size == 0:
            break
        for i in bad.tolist():
            if i == 0:
                start_cost[start_cells == path_cells[0]] = np.inf
            elif i == len(path_cells):
                row = slice(graph.indptr[goal_node], graph.indptr[goal_node + 1])
                graph.data[row][graph.indices[row] == path_cells[-1]] = np.inf
            else:
                a, b = path_cells[i - 1], path_cells[i]
                graph.data[a * len(offsets) + np.flatnonzero(nbr[a] == b)] = np.inf
                graph.data[b * len(offsets) + np.flatnonzero(nbr[b] == a)] = np.inf
    return _result(arm, path, "grid", int(np.isfinite(dist[:n_cells]).sum()))


# ---------------------------------------------------------------------------- PRM
def _nearest(arm: PlanarArm, nodes: FloatArray, k: int) -> tuple[IntArray, IntArray]:
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


def _prm_plan(
    arm: PlanarArm,
    start: FloatArray,
    goals: FloatArray,
    samples: int,
    neighbors: int,
    rng: np.random.Generator,
    label: str,
) -> ArmPlan:
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
    return _result(arm, path[keep], "prm", graph.number_of_nodes() - 1)
