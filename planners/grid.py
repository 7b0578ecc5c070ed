"""Occupancy grids with terrain costs, planned on with compiled graph search.

A :class:`GridMap` searches its occupancy array with the compiled searches of
``planners._gridsearch``: jump point search on maps of uniform cost with 8-connected
moves, A* on the others; or, where they were not built, with
:func:`scipy.sparse.csgraph.dijkstra` on a sparse graph built with numpy (no Python
loop over cells); all in :mod:`planners.grid_backends`. :meth:`GridMap.plan_many`
answers many queries in one call. The move rules are those of
:mod:`planners.grid_moves`: 4- or 8-connected, diagonals cost ``sqrt(2)`` and cut no
corner (as in the MovingAI benchmarks), and terrain costs are averaged over a move, so
costs are symmetric and the graph is undirected.

:class:`GridMap` is assembled from one base per idea: :class:`~planners.grid_base.GridBase`
(the map, its text forms and single cells) and :class:`~planners.grid_moves.GridMoves`
(moves, move tables and graphs); this module adds the planning (:meth:`GridMap.plan`,
:meth:`GridMap.plan_many`, :meth:`GridMap.distance_field`, :meth:`GridMap.heuristic`).
A compiled :meth:`GridMap.plan` is one C call for the common case (cells checked, the
search, the :class:`~planners.grid_plan.Plan` built): on a small map the search takes
about a microsecond, so Python around it would cost more than the search.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import numpy.typing as npt
from scipy.sparse.csgraph import dijkstra

from planners.graph import NoPath
from planners.grid_backends import ALL_BACKENDS as ALL_BACKENDS
from planners.grid_backends import BACKENDS as BACKENDS
from planners.grid_backends import UNIFORM_BACKENDS as UNIFORM_BACKENDS
from planners.grid_backends import Backend as Backend
from planners.grid_backends import bounded_dijkstra, compiled_route, resolve_backend, search_many
from planners.grid_base import Cell as Cell
from planners.grid_moves import MOVES_4 as MOVES_4
from planners.grid_moves import MOVES_8 as MOVES_8
from planners.grid_moves import SQRT2 as SQRT2
from planners.grid_moves import Connectivity as Connectivity
from planners.grid_moves import GridMoves, check_connectivity
from planners.grid_moves import MoveTable as MoveTable
from planners.grid_plan import Plan as Plan

if TYPE_CHECKING:  # the extension is optional: only its types are needed here
    from planners import _gridsearch

__all__ = [
    "ALL_BACKENDS",
    "BACKENDS",
    "MOVES_4",
    "MOVES_8",
    "UNIFORM_BACKENDS",
    "GridMap",
    "MoveTable",
    "Plan",
]


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
        backend : {"auto", "jps", "astar", "dijkstra"}, default "auto"
            ``"jps"``: compiled jump point search (Harabor & Grastien 2011, without
            corner cutting), for maps of uniform cost with 8-connected moves only; it
            expands a few jump points instead of every cell on the way. ``"astar"``:
            compiled A* with the octile (or Manhattan) heuristic straight on the
            occupancy array; its work grows with the cells it expands. ``"dijkstra"``:
            :func:`scipy.sparse.csgraph.dijkstra` on :meth:`csgraph`, bounded by a cost
            limit that starts at 1.5 times the heuristic and doubles until the goal is
            reached. ``"auto"`` takes jump point search where it applies, else A*, each
            where it was built (see :data:`BACKENDS` and :data:`UNIFORM_BACKENDS`). All
            return optimal costs; among equally cheap paths they may pick different ones.

        Returns
        -------
        Plan
            Path (every cell, jump points expanded), cost and search effort (cells or
            jump points expanded, or cells labelled for Dijkstra).

        Raises
        ------
        ValueError
            If ``start`` or ``goal`` is off the map, blocked or not an integer pair, or
            ``backend`` is unknown, not built here, or ``"jps"`` where it does not apply.
        NoPath
            If ``goal`` cannot be reached from ``start``.
        """
        try:
            compiled = self._routes[backend, connectivity][1]
        except (KeyError, TypeError):  # not built yet, or bad arguments that _route explains
            compiled = self._route(backend, connectivity)[1]
        found = None if compiled is None else compiled.plan(start, goal)
        if isinstance(found, Plan):
            return found  # the common case: checks, search and Plan in one C call
        s = self.check_cell(start, "start")  # raises on a bad cell, else normalises it
        g = self.check_cell(goal, "goal")
        if found is None and compiled is not None:  # cells C leaves to Python (numpy ints)
            found = compiled.plan(s, g)
        elif found is None:
            cols = self._shape[1]
            limit = 1.5 * self.heuristic(s, g, connectivity=connectivity) + 1.0
            graph = self.csgraph(connectivity)
            cost, expanded, flat = bounded_dijkstra(
                graph, s[0] * cols + s[1], g[0] * cols + g[1], limit, cols
            )
            found = False if flat is None else Plan(flat, cost, expanded)
        if not isinstance(found, Plan):
            raise NoPath(
                f"no path from start {s} to goal {g} on {self!r} ({connectivity}-connected moves)"
            )
        return found

    @overload
    def plan_many(
        self, starts: npt.ArrayLike, goals: npt.ArrayLike, *, connectivity: Connectivity = 8,
        backend: Backend = "auto", paths: Literal[False] = False,
    ) -> npt.NDArray[np.float64]: ...  # fmt: skip
    @overload
    def plan_many(
        self, starts: npt.ArrayLike, goals: npt.ArrayLike, *, connectivity: Connectivity = 8,
        backend: Backend = "auto", paths: Literal[True],
    ) -> tuple[npt.NDArray[np.float64], list[npt.NDArray[np.int64]]]: ...  # fmt: skip
    def plan_many(
        self,
        starts: npt.ArrayLike,
        goals: npt.ArrayLike,
        *,
        connectivity: Connectivity = 8,
        backend: Backend = "auto",
        paths: bool = False,
    ) -> npt.NDArray[np.float64] | tuple[npt.NDArray[np.float64], list[npt.NDArray[np.int64]]]:
        """Plan many queries in one call: the cost from each ``starts[i]`` to ``goals[i]``.

        The same searches as :meth:`plan`, looped in C over the queries with the search
        buffers reused, so a query costs no Python work.

        Parameters
        ----------
        starts, goals : array_like of int, shape (n, 2)
            ``(row, col)`` of free cells, one query per row (or sequences of pairs).
        connectivity : {4, 8}, default 8
            As in :meth:`plan`.
        backend : {"auto", "jps", "astar", "dijkstra"}, default "auto"
            As in :meth:`plan` (``"dijkstra"`` loops in Python).
        paths : bool, default False
            Also return every path.

        Returns
        -------
        costs : numpy.ndarray of float64, shape (n,)
            Cost of each query, ``inf`` where the goal cannot be reached.
        paths : list of numpy.ndarray of int64, shape (k, 2)
            Only with ``paths=True``: each query's cells from start to goal, ``(0, 2)``
            where the goal cannot be reached.

        Raises
        ------
        ValueError
            If ``starts`` or ``goals`` is not an ``(n, 2)`` integer array, they differ in
            length, a cell is off the map or blocked, or ``backend`` is as :meth:`plan`
            refuses.

        Examples
        --------
        >>> grid = GridMap.from_ascii('''
        ... ..#.
        ... ..#.
        ... ....
        ... ''')
        >>> grid.plan_many([(0, 0), (0, 0), (0, 3)], [(2, 3), (0, 1), (0, 3)]).round(4)
        array([4.4142, 1.    , 0.    ])
        >>> costs, paths = grid.plan_many([[0, 3]], [[2, 1]], paths=True)
        >>> paths[0].tolist()
        [[0, 3], [1, 3], [2, 3], [2, 2], [2, 1]]
        >>> walled = GridMap.from_ascii(".#.")
        >>> walled.plan_many([(0, 0)], [(0, 2)])
        array([inf])
        """
        compiled = self._route(backend, connectivity)[1]
        s_idx = self._flat_cells(starts, "starts")
        g_idx = self._flat_cells(goals, "goals")
        if len(s_idx) != len(g_idx):
            raise ValueError(
                f"starts and goals must hold as many cells, got {len(s_idx)} starts and "
                f"{len(g_idx)} goals"
            )
        if compiled is None:
            costs, found = self._dijkstra_many(s_idx, g_idx, connectivity)
        else:
            costs, _, found = search_many(compiled, s_idx, g_idx, paths)
        if not paths:
            return costs
        return costs, found or []

    def _route(self, backend: str, connectivity: int) -> tuple[str, _gridsearch.Route | None]:
        """The backend that serves ``backend`` and ``connectivity``, and its compiled
        route (:func:`~planners.grid_backends.compiled_route`; ``None`` for Dijkstra).

        Checked and built once per pair, then cached in ``_routes``: the per-query cost
        of a small map.
        """
        check_connectivity(connectivity)
        key = (backend, connectivity)
        route = self._routes.get(key)
        if route is None:
            chosen = resolve_backend(
                backend, uniform=self._has_uniform_cost(), connectivity=connectivity
            )
            compiled = None
            if chosen in ("jps", "astar"):
                grid = self._jump_bitmaps() if chosen == "jps" else self._move_bits(connectivity)
                compiled = compiled_route(
                    self._astar, chosen, grid, self.terrain, self.occupancy, connectivity,
                    self._terrain_floor,
                )  # fmt: skip
            route = self._routes[key] = (chosen, compiled)
        return route

    def _flat_cells(self, cells: npt.ArrayLike, what: str) -> npt.NDArray[np.int64]:
        """Free cells ``(n, 2)`` as flat indices ``row * cols + col``; errors name ``what``."""
        arr = np.asarray(cells)
        if arr.size == 0 and arr.ndim <= 2 and arr.shape[-1:] in ((0,), (2,)):
            return np.zeros(0, dtype=np.int64)  # no queries
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(
                f"{what} must be an (n, 2) array of (row, col) pairs, got shape {arr.shape}"
            )
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{what} must hold integers, got dtype {arr.dtype}")
        rows, cols = self._shape
        r, c = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)
        off = (r < 0) | (r >= rows) | (c < 0) | (c >= cols)
        if off.any():
            i = int(np.argmax(off))
            raise ValueError(
                f"{what}[{i}] ({r[i]}, {c[i]}) is outside the {rows}x{cols} map "
                f"(rows 0..{rows - 1}, cols 0..{cols - 1})"
            )
        flat = r * cols + c
        blocked = self.occupancy.ravel()[flat]
        if blocked.any():
            i = int(np.argmax(blocked))
            raise ValueError(f"{what}[{i}] ({r[i]}, {c[i]}) is a blocked cell")
        return flat

    def _dijkstra_many(
        self,
        s_idx: npt.NDArray[np.int64],
        g_idx: npt.NDArray[np.int64],
        connectivity: Connectivity,
    ) -> tuple[npt.NDArray[np.float64], list[npt.NDArray[np.int64]] | None]:
        """The fallback of :meth:`plan_many` without the C extension: one query at a time."""
        costs = np.full(len(s_idx), np.inf)
        found = []
        graph, cols = self.csgraph(connectivity), self._shape[1]
        for i, (s, g) in enumerate(zip(s_idx.tolist(), g_idx.tolist(), strict=True)):
            a, b = divmod(s, cols), divmod(g, cols)
            limit = 1.5 * self.heuristic(a, b, connectivity=connectivity) + 1.0
            cost, _, path = bounded_dijkstra(graph, s, g, limit, cols)
            costs[i] = cost
            found.append(np.array(path or [], dtype=np.int64).reshape(-1, 2))
        return costs, found

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
