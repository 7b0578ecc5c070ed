"""Occupancy grids with terrain costs, planned on with compiled graph search.

A :class:`GridMap` turns its free cells into a sparse graph built with numpy (no
Python loop over cells) and searches it with the compiled A* of ``planners._gridsearch``
or :func:`scipy.sparse.csgraph.dijkstra` (both in :mod:`planners.grid_backends`). The
move rules are those of :mod:`planners.grid_moves`: 4- or 8-connected, diagonals cost
``sqrt(2)`` and cut no corner (as in the MovingAI benchmarks), and terrain costs are
averaged over a move, so costs are symmetric and the graph is undirected.

:class:`GridMap` is assembled from one base per idea: :class:`~planners.grid_base.GridBase`
(the map, its text forms and single cells) and :class:`~planners.grid_moves.GridMoves`
(moves, move tables and graphs); this module adds the planning (:meth:`GridMap.plan`,
:meth:`GridMap.distance_field`, :meth:`GridMap.heuristic`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse.csgraph import dijkstra

from planners.graph import NoPath
from planners.grid_backends import BACKENDS as BACKENDS
from planners.grid_backends import Backend as Backend
from planners.grid_backends import bounded_dijkstra, resolve_backend
from planners.grid_base import Cell as Cell
from planners.grid_moves import MOVES_4 as MOVES_4
from planners.grid_moves import MOVES_8 as MOVES_8
from planners.grid_moves import SQRT2 as SQRT2
from planners.grid_moves import Connectivity as Connectivity
from planners.grid_moves import GridMoves, check_connectivity
from planners.grid_moves import MoveTable as MoveTable

__all__ = ["BACKENDS", "MOVES_4", "MOVES_8", "GridMap", "MoveTable", "Plan"]


@dataclass(frozen=True)
class Plan:
    """A planned path on a grid.

    Attributes
    ----------
    path : list of (row, col)
        Cells from start to goal, both included.
    cost : float
        Sum of the move costs along ``path``.
    expanded : int
        Nodes the search labelled (all search rounds together): a measure of effort.
    """

    path: list[Cell]
    cost: float
    expanded: int = field(default=0, compare=False)

    def __len__(self) -> int:
        """Number of moves (one less than the number of cells)."""
        return len(self.path) - 1


class GridMap(GridMoves):
    """An occupancy grid with optional per-cell terrain costs.

    Parameters
    ----------
    occupancy : array_like of bool, shape (rows, cols)
        ``True`` where a cell is blocked.
    terrain : array_like of float, optional
        Cost multiplier of each cell (finite and > 0 on free cells); default all 1.
    name : str, optional
        Shown in error messages and ``repr``.

    Examples
    --------
    >>> grid = GridMap.from_ascii('''
    ... ...
    ... ...
    ... ...
    ... ''')
    >>> grid.shape
    (3, 3)
    >>> plan = grid.plan((0, 0), (2, 2))
    >>> plan.path
    [(0, 0), (1, 1), (2, 2)]
    >>> round(plan.cost, 4)
    2.8284
    >>> grid.plan((0, 0), (2, 2), connectivity=4).cost
    4.0

    Diagonal moves may not cut a blocked corner:

    >>> walled = GridMap.from_ascii('''
    ... .#.
    ... ...
    ... ''')
    >>> walled.plan((0, 0), (0, 2)).path
    [(0, 0), (1, 0), (1, 1), (1, 2), (0, 2)]
    """

    def heuristic(
        self, a: Sequence[int], b: Sequence[int], *, connectivity: Connectivity = 8
    ) -> float:
        """Admissible estimate of the cost from ``a`` to ``b``: octile or Manhattan distance.

        Examples
        --------
        >>> round(GridMap([[0] * 5] * 5).heuristic((0, 0), (2, 4)), 4)
        4.8284
        """
        dr, dc = abs(a[0] - b[0]), abs(a[1] - b[1])
        octile = max(dr, dc) + (SQRT2 - 1.0) * min(dr, dc)
        dist = float(dr + dc) if connectivity == 4 else octile
        return dist * self._min_terrain()

    # ------------------------------------------------------------------ planning
    def plan(
        self,
        start: Sequence[int],
        goal: Sequence[int],
        *,
        connectivity: Connectivity = 8,
        backend: Backend = "auto",
    ) -> Plan:
        """Plan a cheapest path from ``start`` to ``goal``.

        Parameters
        ----------
        start, goal : (row, col)
            Free cells on the map.
        connectivity : {4, 8}, default 8
            Cardinal moves only, or with diagonals (no corner cutting).
        backend : {"auto", "astar", "dijkstra"}, default "auto"
            ``"astar"``: compiled A* with the octile (or Manhattan) heuristic straight on
            the occupancy array; its work grows with the cells it expands. ``"dijkstra"``:
            :func:`scipy.sparse.csgraph.dijkstra` on :meth:`csgraph`, bounded by a cost
            limit that starts at 1.5 times the heuristic and doubles until the goal is
            reached. ``"auto"`` takes A* when it was built (see :data:`BACKENDS`). Both
            return optimal costs; among equally cheap paths they may pick different ones.

        Returns
        -------
        Plan
            Path, cost and search effort (cells expanded, or labelled for Dijkstra).

        Raises
        ------
        ValueError
            If ``start`` or ``goal`` is off the map, blocked or not an integer pair, or
            ``backend`` is unknown or not built here.
        NoPath
            If ``goal`` cannot be reached from ``start``.
        """
        check_connectivity(connectivity)
        s = self.check_cell(start, "start")
        g = self.check_cell(goal, "goal")
        chosen = resolve_backend(backend)
        rows, cols = self._shape
        s_idx, g_idx = s[0] * cols + s[1], g[0] * cols + g[1]
        if chosen == "astar":
            bits = self._move_bits(connectivity)
            found = self._astar.search(
                bits, self.terrain, rows, cols, s_idx, g_idx, connectivity, self._min_terrain()
            )
        else:
            limit = 1.5 * self.heuristic(s, g, connectivity=connectivity) + 1.0
            found = bounded_dijkstra(self.csgraph(connectivity), s_idx, g_idx, limit, cols)
        cost, expanded, flat = found
        if flat is None:
            raise NoPath(
                f"no path from start {s} to goal {g} on {self!r} ({connectivity}-connected moves)"
            )
        return Plan(flat, cost, expanded)

    def distance_field(
        self, goals: Sequence[int] | Iterable[Sequence[int]], *, connectivity: Connectivity = 8
    ) -> npt.NDArray[np.float64]:
        """Cost-to-go from every cell to the nearest goal.

        Parameters
        ----------
        goals : (row, col) or iterable of (row, col)
            One goal cell or several.
        connectivity : {4, 8}, default 8
            As in :meth:`plan`.

        Returns
        -------
        numpy.ndarray of float, shape (rows, cols)
            0 at goals, ``inf`` on blocked cells and cells that cannot reach a goal.

        Raises
        ------
        ValueError
            If a goal is off the map or blocked, or no goal is given.

        Examples
        --------
        >>> GridMap.from_ascii("...#.").distance_field((0, 0), connectivity=4)
        array([[ 0.,  1.,  2., inf, inf]])
        """
        goal_list = _as_cell_list(goals)
        if not goal_list:
            raise ValueError("goals is empty: give at least one goal cell")
        cols = self.shape[1]
        idx = [r * cols + c for r, c in (self.check_cell(g, "goal") for g in goal_list)]
        # moves cost the same both ways, so distance from the goals is cost-to-go
        dist = dijkstra(self.csgraph(connectivity), directed=True, indices=idx, min_only=True)
        return np.asarray(dist, dtype=np.float64).reshape(self.shape)


def _as_cell_list(goals: Sequence[int] | Iterable[Sequence[int]]) -> list[Sequence[int]]:
    items: list[Any] = list(goals)
    if len(items) == 2 and all(isinstance(v, int | np.integer) for v in items):
        return [items]  # a single (row, col)
    return items
