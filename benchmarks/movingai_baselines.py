"""The compiled path-finding libraries ``planners_movingai.py`` times beside
``GridMap.plan``: tcod (libtcod) and pyastar2d, imported only when asked for, set up once
per map, each on the movement rules it supports, and the checks of the paths they return.

Movement rules (the MovingAI rule: 8-connected, diagonals cost sqrt(2), no corner cutting):

- ``tcod A*`` and ``tcod Dijkstra``: ``tcod.path.Pathfinder`` on a ``CustomGraph`` whose
  diagonal edges carry a condition array (both orthogonal neighbours free): the MovingAI
  rule exactly. Edge costs are integers, 80782 and 114243 (a convergent of sqrt(2), off by
  5e-11, so paths rank as by their octile length); A* sets the graph's octile heuristic,
  Dijkstra sets none and stops at the goal.
- ``tcod AStar (classic)``: libtcod's older A* (``tcod.path.AStar``) on a float32 cost
  array with diagonal multiplier sqrt(2): octile costs, but it cuts corners and has no
  option to forbid it.
- ``pyastar2d``: ``allow_diagonal=True``: 8-connected, every move costs the weight of the
  cell entered, so diagonals cost 1 (Chebyshev distance), and it cuts corners.
- ``pyastar2d 4-connected``: ``allow_diagonal=False``: unit moves, the rule of
  ``GridMap.plan(connectivity=4)``, which it is timed and checked against.

A library that does not import leaves its baselines out and says why
(:data:`NOT_INSTALLED`); the benchmark still runs.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra

from planners import GridMap

#: The libraries this module knows, in the order their columns appear.
LIBRARIES = ("tcod", "pyastar2d")
#: What a baseline's column says when its library does not import.
NOT_INSTALLED = "not installed (pip install -e '.[bench]')"
SQRT2 = math.sqrt(2.0)
#: tcod's integer edge costs: cardinal, diagonal (114243 / 80782 = sqrt(2) + 5e-11).
TCOD_CARDINAL, TCOD_DIAGONAL = 80782, 114243
TOLERANCE = 1e-4

Cell = tuple[int, int]
Path = npt.NDArray[np.integer[Any]]
PathQuery = Callable[[Cell, Cell], Any]


@dataclass(frozen=True)
class Rule:
    """A movement rule: its description, whether it is the MovingAI rule, its
    connectivity and the cost of a diagonal move."""

    text: str
    movingai: bool
    connectivity: int
    diagonal: float
    corner_cutting: bool


RULES = {
    "movingai": Rule("8-connected, diagonal sqrt(2), no corner cutting (MovingAI)",
                     True, 8, SQRT2, False),
    "octile-cut": Rule("8-connected, diagonal sqrt(2), cuts corners", False, 8, SQRT2, True),
    "chebyshev-cut": Rule("8-connected, diagonal 1 (Chebyshev), cuts corners",
                          False, 8, 1.0, True),
    "4": Rule("4-connected, unit moves (as GridMap.plan(connectivity=4))", False, 4, 0.0, False),
}  # fmt: skip


#: Every baseline: its library and movement rule (a key of :data:`RULES`), column order.
BASELINES = {
    "tcod A*": ("tcod", "movingai"),
    "tcod Dijkstra": ("tcod", "movingai"),
    "tcod AStar (classic)": ("tcod", "octile-cut"),
    "pyastar2d": ("pyastar2d", "chebyshev-cut"),
    "pyastar2d 4-connected": ("pyastar2d", "4"),
}


@dataclass(frozen=True)
class Baseline:
    """One library's planner on one map: ``query(start, goal)`` returns the path's cells
    (start to goal, as rows of ``(row, col)``); ``setup_s`` is what the per-map build
    took (arrays, graph, objects, and one trivial query for what they build lazily)."""

    name: str
    library: str
    rule: str
    query: PathQuery
    setup_s: float
    note: str = ""


def import_library(name: str) -> Any:
    """The module ``name``, or None when it does not import (lazily: a baseline that is
    not installed costs nothing)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def library_status(libraries: Sequence[str]) -> dict[str, str]:
    """``{library: version, or NOT_INSTALLED}`` for each of ``libraries``."""
    from scripting import version

    return {
        name: (version(name) or "installed") if import_library(name) else NOT_INSTALLED
        for name in libraries
    }


def _timed(build: Callable[[], PathQuery], probe: Cell) -> tuple[PathQuery, float]:
    """``build()``'s query function and the seconds the build and one trivial query
    (``probe`` to itself) took."""
    start = time.perf_counter()
    query = build()
    query(probe, probe)
    return query, time.perf_counter() - start


def _neighbour_free(free: npt.NDArray[np.bool_], dr: int, dc: int) -> npt.NDArray[np.bool_]:
    """Whether the cell at offset ``(dr, dc)`` of each cell is on the map and free."""
    rows, cols = free.shape
    out = np.zeros_like(free)
    out[max(-dr, 0) : rows - max(dr, 0), max(-dc, 0) : cols - max(dc, 0)] = free[
        max(dr, 0) : rows + min(dr, 0), max(dc, 0) : cols + min(dc, 0)
    ]
    return out


def _tcod_graph(tcod_path: Any, free: npt.NDArray[np.bool_], *, heuristic: bool) -> Any:
    """A tcod ``CustomGraph`` of the MovingAI rule: diagonal edges only where both
    orthogonal neighbours are free."""
    cost = free.astype(np.int8)
    graph = tcod_path.CustomGraph(free.shape)
    for move in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        graph.add_edge(move, TCOD_CARDINAL, cost=cost)
    for dr in (-1, 1):
        for dc in (-1, 1):
            corner_free = _neighbour_free(free, dr, 0) & _neighbour_free(free, 0, dc)
            graph.add_edge((dr, dc), TCOD_DIAGONAL, cost=cost, condition=corner_free.view(np.int8))
    if heuristic:
        graph.set_heuristic(cardinal=TCOD_CARDINAL, diagonal=TCOD_DIAGONAL)
    return graph


def tcod_baselines(grid: GridMap, probe: Cell) -> list[Baseline]:
    """tcod's A* and Dijkstra (MovingAI rule) and its classic A* (cuts corners)."""
    tcod_path = import_library("tcod.path")
    free = grid.free

    def pathfinder(heuristic: bool) -> PathQuery:
        graph = _tcod_graph(tcod_path, free, heuristic=heuristic)

        def query(start: Cell, goal: Cell) -> Path:
            pf = tcod_path.Pathfinder(graph)  # a fresh search: tcod keeps no state per goal
            pf.add_root(start)
            return pf.path_to(goal)

        return query

    def classic() -> PathQuery:
        astar = tcod_path.AStar(free.astype(np.float32), diagonal=SQRT2)
        return lambda start, goal: [start, *astar.get_path(*start, *goal)]

    made = []
    for name, build in (
        ("tcod A*", partial(pathfinder, True)),
        ("tcod Dijkstra", partial(pathfinder, False)),
        ("tcod AStar (classic)", classic),
    ):
        query, setup = _timed(build, probe)
        made.append(Baseline(name, *BASELINES[name], query, setup))
    return made


def pyastar2d_baselines(grid: GridMap, probe: Cell) -> list[Baseline]:
    """pyastar2d with diagonals (Chebyshev, cuts corners) and 4-connected."""
    pyastar2d = import_library("pyastar2d")
    rows, cols = grid.shape

    def build(diagonal: bool) -> PathQuery:
        weights = np.where(grid.free, 1.0, np.inf).astype(np.float32)
        flat = np.ascontiguousarray(weights.ravel())

        # The C entry on the map's flat weights: astar_path() checks weights.min() and
        # copies the array on every call, O(cells) that is no part of the search.
        def query(start: Cell, goal: Cell) -> Any:
            s, g = start[0] * cols + start[1], goal[0] * cols + goal[1]
            return pyastar2d.astar.astar(flat, rows, cols, s, g, diagonal, 0)

        def public(start: Cell, goal: Cell) -> Any:
            return pyastar2d.astar_path(weights, start, goal, allow_diagonal=diagonal)

        try:
            query(probe, probe)
        except TypeError:  # another version's C signature: the public function then
            return public
        return query

    made = []
    for name, diagonal in (("pyastar2d", True), ("pyastar2d 4-connected", False)):
        query, setup = _timed(partial(build, diagonal), probe)
        entry = "C entry" if query.__name__ == "query" else "astar_path"
        made.append(Baseline(name, *BASELINES[name], query, setup, note=entry))
    return made


BUILDERS = {"tcod": tcod_baselines, "pyastar2d": pyastar2d_baselines}


def make_baselines(grid: GridMap, libraries: Sequence[str], probe: Cell) -> list[Baseline]:
    """The baselines of the ``libraries`` that import, set up on ``grid``."""
    status = library_status(libraries)
    return [
        baseline
        for name in libraries
        if status[name] != NOT_INSTALLED
        for baseline in BUILDERS[name](grid, probe)
    ]


# ---------------------------------------------------------------------- checks


def steps(path: Any) -> npt.NDArray[np.int64]:
    """The moves of ``path`` as rows of ``(dr, dc)``."""
    return np.diff(np.asarray(path, dtype=np.int64).reshape(-1, 2), axis=0)


def octile_length(path: Any) -> float:
    """The path's length by the MovingAI costs: 1 a straight move, sqrt(2) a diagonal."""
    moves = np.abs(steps(path))
    diagonal = int(np.count_nonzero((moves[:, 0] == 1) & (moves[:, 1] == 1)))
    return len(moves) - diagonal + SQRT2 * diagonal


def rule_length(path: Any, rule: Rule) -> float:
    """The path's cost under ``rule`` (free cells cost 1)."""
    if rule.diagonal == 1.0:  # every move costs 1
        return float(len(steps(path)))
    return octile_length(path)


def corner_cuts(path: Any, occupancy: npt.NDArray[np.bool_]) -> int:
    """Diagonal moves of ``path`` that pass a blocked orthogonal neighbour."""
    cells = np.asarray(path, dtype=np.int64).reshape(-1, 2)[:-1]
    moves = steps(path)
    diagonal = (moves[:, 0] != 0) & (moves[:, 1] != 0)
    r, c = cells[diagonal, 0], cells[diagonal, 1]
    dr, dc = moves[diagonal, 0], moves[diagonal, 1]
    return int(np.count_nonzero(occupancy[r + dr, c] | occupancy[r, c + dc]))


def walk_problem(path: Any, start: Cell, goal: Cell, grid: GridMap, rule: Rule) -> str | None:
    """Why ``path`` is not a walk from ``start`` to ``goal`` on free cells by ``rule``'s
    moves (None when it is one)."""
    cells = np.asarray(path, dtype=np.int64).reshape(-1, 2) if path is not None else None
    if cells is None or len(cells) == 0:
        return "no path returned"
    if tuple(cells[0]) != tuple(start) or tuple(cells[-1]) != tuple(goal):
        return f"runs from {tuple(cells[0])} to {tuple(cells[-1])}, not {start} to {goal}"
    rows, cols = grid.shape
    inside = (cells[:, 0] >= 0) & (cells[:, 0] < rows) & (cells[:, 1] >= 0) & (cells[:, 1] < cols)
    if not inside.all() or grid.occupancy[cells[:, 0], cells[:, 1]].any():
        return "enters a blocked or off-map cell"
    moves = np.abs(steps(cells))
    reach = moves.sum(axis=1) if rule.connectivity == 4 else moves.max(axis=1, initial=0)
    if len(moves) and (reach != 1).any():
        return "has a move that is no single step"
    return None


@dataclass
class RuleOptimum:
    """Optimal costs on ``grid`` under each rule: the scenario's published optimum for
    the MovingAI rule, ``GridMap.plan(connectivity=4)`` for 4-connected moves, and scipy's
    Dijkstra on a corner-cutting graph (built once per diagonal cost) for the others."""

    grid: GridMap
    _graphs: dict[float, csr_matrix] = field(default_factory=dict)

    def cost(self, rule: Rule, start: Cell, goal: Cell, optimal_length: float,
             upper: float) -> float:  # fmt: skip
        """The cheapest cost from ``start`` to ``goal`` by ``rule``; ``upper`` (a cost
        known to be reachable) bounds the search."""
        if rule.movingai:
            return optimal_length
        if rule.connectivity == 4:
            return self.grid.plan(start, goal, connectivity=4).cost
        graph = self._graph(rule.diagonal)
        cols = self.grid.shape[1]
        s, g = start[0] * cols + start[1], goal[0] * cols + goal[1]
        limit = upper + TOLERANCE if math.isfinite(upper) else np.inf
        found = float(dijkstra(graph, directed=False, indices=s, limit=limit)[g])
        if math.isinf(found) and math.isfinite(limit):
            found = float(dijkstra(graph, directed=False, indices=s)[g])
        return found

    def _graph(self, diagonal: float) -> csr_matrix:
        if diagonal not in self._graphs:
            self._graphs[diagonal] = corner_cutting_graph(self.grid.free, diagonal)
        return self._graphs[diagonal]


def corner_cutting_graph(free: npt.NDArray[np.bool_], diagonal: float) -> csr_matrix:
    """The 8-connected move graph of ``free`` cells, corners cut, diagonals costing
    ``diagonal`` (one direction per edge: search it undirected)."""
    rows, cols = free.shape
    index = np.arange(rows * cols).reshape(rows, cols)
    sources, targets, weights = [], [], []
    for dr, dc, weight in ((0, 1, 1.0), (1, 0, 1.0), (1, 1, diagonal), (1, -1, diagonal)):
        c0, c1 = max(0, -dc), cols - max(0, dc)
        both = free[: rows - dr, c0:c1] & free[dr:, c0 + dc : c1 + dc]
        sources.append(index[: rows - dr, c0:c1][both])
        targets.append(index[dr:, c0 + dc : c1 + dc][both])
        weights.append(np.full(int(both.sum()), weight))
    shape = (rows * cols, rows * cols)
    edges = (np.concatenate(sources), np.concatenate(targets))
    return coo_matrix((np.concatenate(weights), edges), shape=shape).tocsr()


def check_path(
    baseline: Baseline,
    path: Any,
    start: Cell,
    goal: Cell,
    optimal_length: float,
    grid: GridMap,
    optimum: RuleOptimum,
) -> dict[str, Any]:
    """What one returned path is worth: a walk by the baseline's rule or why not, its
    octile length (against the MovingAI optimum), its cost and the optimum by its own
    rule, and its corner cuts."""
    rule = RULES[baseline.rule]
    problem = walk_problem(path, start, goal, grid, rule)
    if problem is not None:
        return {"valid": False, "problem": problem}
    own = rule_length(path, rule)
    return {
        "valid": True,
        "octile_length": octile_length(path),
        "rule_cost": own,
        "rule_optimum": optimum.cost(rule, start, goal, optimal_length, own),
        "corner_cuts": corner_cuts(path, grid.occupancy),
    }
