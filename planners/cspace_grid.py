"""The grid planner of :func:`planners.cspace.plan`: arms of up to three joints.

Joint space is cut into a regular grid (a torus along continuous joints); the free cells
and the edges between neighbours whose motions are free make a sparse graph, searched
with :func:`scipy.sparse.csgraph.dijkstra` from the goals. :func:`grid_plan` runs the
steps in order: build the grid, weigh the edges between cells, join the goals and the
start, search, and check the path found (forbidding a failing edge and searching again).
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from planners.arm_plan import ArmLike, ArmPlan, path_plan
from planners.graph import NoPath
from planners.joints import MOTION_RESOLUTION, BoolArray, FloatArray, IntArray, interpolation_steps

__all__ = ["MAX_CELLS", "grid_extents", "grid_plan"]

#: Largest grid the grid planner builds (cells); finer requests raise ValueError.
MAX_CELLS = 2_000_000


def grid_extents(arm: ArmLike, res: float) -> list[tuple[float, int]]:
    """Per joint ``(extent / res, 0 or 1)``: the grid has ``ceil(extent / res) + extra``
    values along it (a continuous joint wraps, so it needs no extra end value).

    Raises ValueError, before anything is allocated, if the grid would have more than
    :data:`MAX_CELLS` cells (also for a ``res`` so small that the count overflows).

    Examples
    --------
    >>> from planners.arm import PlanarArm
    >>> len(grid_extents(PlanarArm([1.0, 1.0]), math.radians(5)))
    2
    >>> grid_extents(PlanarArm([1.0, 1.0]), 1e-300)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: resolution_deg = 5.72958e-299 gives inf grid cells (at most 2000000); ...
    """
    if not res > 0:  # also a degrees value so small that it is 0 in radians
        raise ValueError(f"resolution_deg = {math.degrees(res):g} gives no grid: use a coarser one")
    joints = zip(arm.lower.tolist(), arm.upper.tolist(), arm.continuous, strict=True)
    # A continuous joint takes a whole turn; -pi and pi are the same angle, so keep one.
    extents = [(2 * math.pi / res - 1e-9, 0) if wraps else ((hi - lo) / res - 1e-9, 1)
               for lo, hi, wraps in joints]  # fmt: skip
    size = math.prod(extent + extra for extent, extra in extents)
    if not size <= MAX_CELLS:  # also inf, from a vanishing res
        raise ValueError(
            f"resolution_deg = {math.degrees(res):g} gives {size:.3g} grid cells (at most "
            f"{MAX_CELLS}); use a coarser resolution or method='prm'"
        )
    return extents


def _grid_axes(arm: ArmLike, res: float) -> tuple[list[FloatArray], FloatArray]:
    """Return the grid values of every joint and the spacing of each axis."""
    joints = list(zip(arm.lower.tolist(), arm.upper.tolist(), arm.continuous, strict=True))
    extents = grid_extents(arm, res)
    axes: list[FloatArray] = []
    spacing: list[float] = []
    for (lo, hi, wraps), (extent, extra) in zip(joints, extents, strict=True):
        m = math.ceil(extent) + extra
        step = 2 * math.pi / m if wraps else (hi - lo) / (m - 1)
        start = -math.pi if wraps else lo
        axes.append((start + step * np.arange(m)).astype(np.float64))
        spacing.append(step)
    return axes, np.asarray(spacing, dtype=np.float64)


class _JointGrid:
    """A grid of spacing ``res`` radians over the joint space of ``arm``.

    Cells are numbered by their flat (C-order) index; along a continuous joint the grid
    wraps round.

    Raises
    ------
    ValueError
        If the grid would have more than :data:`MAX_CELLS` cells.
    """

    def __init__(self, arm: ArmLike, res: float) -> None:
        self.axes, self.spacing = _grid_axes(arm, res)
        self.shape = tuple(len(a) for a in self.axes)
        self.size = math.prod(self.shape)
        if self.size > MAX_CELLS:
            raise ValueError(
                f"resolution_deg = {math.degrees(res):g} gives {self.size} grid cells (at most "
                f"{MAX_CELLS}); use a coarser resolution or method='prm'"
            )
        # Flat index of cell c + o as a sum of per-axis terms: terms[j][o_j] broadcasts
        # along axis j, with whether c_j + o_j is still on the grid (always, for a joint
        # that wraps).
        n = len(self.shape)
        strides = np.cumprod((1, *self.shape[:0:-1]))[::-1]
        self._terms: list[dict[int, tuple[IntArray, BoolArray]]] = []
        for j, m in enumerate(self.shape):
            axis_shape = (1,) * j + (m,) + (1,) * (n - j - 1)
            self._terms.append({})
            for o in (-1, 0, 1):
                moved = np.arange(m) + o
                inside = (moved >= 0) & (moved < m) | bool(arm.continuous[j])
                moved = np.clip(moved % m if arm.continuous[j] else moved, 0, m - 1)
                self._terms[j][o] = (
                    (moved * strides[j]).reshape(axis_shape),
                    inside.reshape(axis_shape),
                )

    def cells(self, index: IntArray) -> FloatArray:
        """Return the configurations of the cells ``index``, shape ``(len(index), n)``."""
        return np.stack(
            [a[i] for a, i in zip(self.axes, np.unravel_index(index, self.shape), strict=True)],
            -1,
        )

    def shifted(self, offset: tuple[int, ...]) -> tuple[IntArray, BoolArray]:
        """Return, for every cell ``c``, the index of ``c + offset`` and whether it exists."""
        terms = self._terms
        index = sum((terms[j][o][0] for j, o in enumerate(offset)), np.zeros(self.shape, np.int64))
        inside = functools.reduce(np.logical_and, [terms[j][o][1] for j, o in enumerate(offset)])
        return index.ravel(), np.broadcast_to(inside, self.shape).ravel()

    def corners(self, arm: ArmLike, q: FloatArray) -> IntArray:
        """Return the flat indices of the corners of the grid box holding ``q``."""
        per_axis = []
        for j, (values, step) in enumerate(zip(self.axes, self.spacing, strict=True)):
            m = len(values)
            i0 = math.floor((arm.wrap(q)[j] - values[0]) / step)
            if arm.continuous[j]:
                per_axis.append(((i0) % m, (i0 + 1) % m))
            else:
                i0 = min(max(i0, 0), m - 2)
                per_axis.append((i0, i0 + 1))
        corners = np.array(list(itertools.product(*per_axis))).T
        return np.unique(np.ravel_multi_index(tuple(corners), self.shape))


def grid_plan(
    arm: ArmLike, start: FloatArray, goals: FloatArray, res: float, label: str
) -> ArmPlan:
    """Return a shortest grid path from ``start`` to one of ``goals`` (nearest first).

    ``res`` is the spacing in radians; ``label`` names the query in a :class:`NoPath`.
    """
    grid = _JointGrid(arm, res)
    free = ~arm.in_collision_grid(grid.axes).ravel()
    nbr, weight = _cell_edges(arm, grid, free)
    graph = _graph(arm, grid, free, goals, nbr, weight)
    start_cells, start_cost = _start_edges(arm, grid, free, start)
    while True:
        dist, pred = dijkstra(graph, indices=graph.shape[0] - 1, return_predecessors=True)
        path_cells, goal_node = _route(dist, pred, start_cells, start_cost, grid.size)
        if goal_node is None:
            raise NoPath(
                f"no collision-free motion {label} on a grid of {math.degrees(res):g} degrees"
            )
        path = np.vstack([start, grid.cells(path_cells), goals[goal_node - grid.size]])
        # The eager checks skipped samples of long edges: check every segment of the path
        # fully and, if one collides, forbid that edge and search again.
        bad = np.flatnonzero(arm.motion_collides(path[:-1], path[1:]))
        if bad.size == 0:
            return path_plan(arm, path, "grid", int(np.isfinite(dist[: grid.size]).sum()))
        _forbid(graph, nbr, bad, path_cells, goal_node, start_cells, start_cost)


def _midpoints_free(arm: ArmLike, grid: _JointGrid) -> dict[tuple[int, ...], BoolArray]:
    """Whether the midpoint of each edge is free, by the set of joints the edge moves.

    Midpoints of edges moving the joints in a set S form one grid, shifted half a step
    along S: 2**n - 1 calls to ``in_collision_grid``. Key: 1 for each joint in S.
    """
    return {
        support: ~arm.in_collision_grid(
            [a + s * step / 2 for a, s, step in zip(grid.axes, support, grid.spacing, strict=True)]
        ).ravel()
        for support in itertools.product((0, 1), repeat=len(grid.shape))
        if any(support)
    }


def _cell_edges(arm: ArmLike, grid: _JointGrid, free: BoolArray) -> tuple[IntArray, FloatArray]:
    """Return every cell's neighbours and edge costs, both shape ``(cells, 3**n - 1)``.

    An edge costs its joint-space length, or ``inf`` unless both cells, the midpoint (at
    1 degree it is the only sample ``motion_collides`` adds) and the neighbour's place
    on the grid are fine.
    """
    midpoint_free = _midpoints_free(arm, grid)
    # Every neighbour offset, both directions: CSR rows list all out-edges. In this order
    # offsets[-1 - k] == -offsets[k], so the second half reuses the checks of the first.
    offsets = [o for o in itertools.product((-1, 0, 1), repeat=len(grid.shape)) if any(o)]
    half = len(offsets) // 2
    nbr = np.empty((len(offsets), grid.size), dtype=np.int32)  # scipy's index type
    weight = np.empty((len(offsets), grid.size))
    for k, offset in enumerate(offsets):
        nbr[k], inside = grid.shifted(offset)
        if k >= half:  # the edge c -> c + o is the edge c + o -> c, checked already
            weight[k] = np.where(inside, weight[len(offsets) - 1 - k, nbr[k]], np.inf)
            continue
        delta = np.array(offset) * grid.spacing
        ok = free & free[nbr[k]] & inside
        if interpolation_steps(np.abs(delta).max(), MOTION_RESOLUTION) > 1:
            # the midpoint of c -> c + o is at c + min(o, 0) of that shifted grid
            mid, _ = grid.shifted(tuple(min(o, 0) for o in offset))
            ok &= midpoint_free[tuple(int(o != 0) for o in offset)][mid]
        weight[k] = np.where(ok, np.linalg.norm(delta), np.inf)
    return nbr.T.copy(), weight.T.copy()  # row-major for the CSR rows


def _graph(
    arm: ArmLike,
    grid: _JointGrid,
    free: BoolArray,
    goals: FloatArray,
    nbr: IntArray,
    weight: FloatArray,
) -> sp.csr_array:
    """Return the search graph: the cells, one node per goal, then a virtual target.

    The target (the last node) is joined to every goal at no cost, each goal to the free
    corners of its grid box it moves to freely. Dijkstra runs from the target (the graph
    is symmetric), so the start needs no node: see :func:`_start_edges`.
    """
    target = grid.size + len(goals)
    rows: list[tuple[IntArray, FloatArray]] = []
    for goal in goals:
        corners = grid.corners(arm, goal)
        corners = corners[free[corners]]
        corners = corners[~arm.motion_collides(grid.cells(corners), goal)]
        rows.append((corners, arm.distance(grid.cells(corners), goal)))
    rows.append((np.arange(grid.size, target), np.zeros(len(goals))))
    extra_idx = np.concatenate([r[0] for r in rows])
    extra_w = np.concatenate([r[1] for r in rows])
    per_cell = nbr.shape[1]
    indptr = np.concatenate(
        [
            np.arange(grid.size + 1) * per_cell,
            grid.size * per_cell + np.cumsum([len(r[0]) for r in rows]),
        ]
    )
    return sp.csr_array(
        (
            np.concatenate([weight.ravel(), extra_w]),
            np.concatenate([nbr.ravel(), extra_idx.astype(np.int32)]),
            indptr.astype(np.int32),
        ),
        shape=(target + 1, target + 1),
    )


def _start_edges(
    arm: ArmLike, grid: _JointGrid, free: BoolArray, start: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Return the free corners of the start's grid box it moves to freely, and the costs."""
    start_cells = grid.corners(arm, start)
    start_cells = start_cells[free[start_cells]]
    start_cells = start_cells[~arm.motion_collides(start, grid.cells(start_cells))]
    return start_cells, arm.distance(start, grid.cells(start_cells))


def _route(
    dist: FloatArray, pred: IntArray, start_cells: IntArray, start_cost: FloatArray, n_cells: int
) -> tuple[IntArray, int | None]:
    """Return the cells of the cheapest route from the start and the goal node it ends
    at; ``None`` for the goal when no route exists.
    """
    total = dist[start_cells] + start_cost
    if start_cells.size == 0 or not np.isfinite(total.min()):
        return start_cells[:0], None
    node = int(start_cells[np.argmin(total)])
    chain = [node]
    while node < n_cells:
        node = int(pred[node])
        chain.append(node)
    return np.array(chain[:-1]), chain[-1]


def _forbid(
    graph: sp.csr_array,
    nbr: IntArray,
    bad: IntArray,
    path_cells: IntArray,
    goal_node: int,
    start_cells: IntArray,
    start_cost: FloatArray,
) -> None:
    """Make the colliding segments ``bad`` of the path found impassable (cost ``inf``)."""
    per_cell = nbr.shape[1]
    for i in bad.tolist():
        if i == 0:
            start_cost[start_cells == path_cells[0]] = np.inf
        elif i == len(path_cells):
            row = slice(graph.indptr[goal_node], graph.indptr[goal_node + 1])
            graph.data[row][graph.indices[row] == path_cells[-1]] = np.inf
        else:
            a, b = path_cells[i - 1], path_cells[i]
            graph.data[a * per_cell + np.flatnonzero(nbr[a] == b)] = np.inf
            graph.data[b * per_cell + np.flatnonzero(nbr[b] == a)] = np.inf
