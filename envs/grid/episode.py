"""Episodes of GridNav: a map, a start, a goal and the planner's tables for them.

:class:`EpisodeSampler` is shared by :class:`~envs.grid.env.GridNavEnv` and
:class:`~envs.grid.vector.GridNavVectorEnv`, so that both draw the same episode from
the same random generator. Every fact about moves and distances comes from the
planner: legal moves and their costs from :meth:`planners.GridMap.move_table` (the moves
:meth:`~planners.GridMap.plan` searches) and cost-to-go from
:meth:`~planners.GridMap.distance_field`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from envs.grid.layouts import Layout
from planners import GridMap

__all__ = ["Episode", "EpisodeSampler", "move_table"]

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]

#: Attempts at drawing a procedural map with two connected free cells before giving up.
MAX_ATTEMPTS = 100
#: Distance fields cached (per map and goal) on fixed maps and map sets, in cells (32 MiB).
_FIELD_CACHE_CELLS = 1 << 22
#: Maps of a map set kept with their move tables, in table entries (about 64 MiB).
_MAP_CACHE_ENTRIES = 1 << 21

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Episode:
    """Everything fixed for one episode; cells are flat indices ``row * cols + col``.

    Attributes
    ----------
    grid : GridMap
        The map.
    start, goal : int
        Flat cells; ``start != goal`` and the goal is reachable from the start.
    dist : numpy.ndarray of float, shape (rows * cols,)
        The planner's cost-to-go to the goal (``inf`` where unreachable). Read-only.
    next_cell : numpy.ndarray of int, shape (rows * cols, n_actions)
        Cell reached by each action; the cell itself where the move is illegal.
    move_cost : numpy.ndarray of float, shape (rows * cols, n_actions)
        Cost of each move (1, sqrt(2), times terrain); 0 where the move is illegal.
    """

    grid: GridMap
    start: int
    goal: int
    dist: FloatArray
    next_cell: IntArray
    move_cost: FloatArray

    @property
    def optimal_length(self) -> float:
        """The planner's optimal cost from the start to the goal."""
        return float(self.dist[self.start])


def move_table(grid: GridMap, *, diagonal: bool = False) -> tuple[IntArray, FloatArray]:
    """Successor and cost of every (cell, action), read off the planner's move graph.

    Actions follow :data:`planners.MOVES_4` (or :data:`planners.MOVES_8` with
    ``diagonal``). An illegal move (off the map, into a wall, or cutting a corner)
    leaves the agent in place at cost 0.

    Examples
    --------
    >>> nxt, cost = move_table(GridMap.from_ascii("..\\n#."))
    >>> nxt[0].tolist(), cost[0].tolist()  # from (0, 0): up, down, left, right
    ([0, 0, 0, 1], [0.0, 0.0, 0.0, 1.0])
    """
    table = grid.move_table(8 if diagonal else 4)
    return table.next_cell, table.cost


class _LRU(Generic[K, V]):
    """A dict of at most ``size`` items that forgets the least recently used."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, make: Callable[[], V]) -> V:
        value = self._items.get(key)
        if value is None:
            value = self._items[key] = make()
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        return value


@dataclass(frozen=True)
class _Map:
    """A map with its move tables and the cells that can be goals (they have a legal move)."""

    grid: GridMap
    next_cell: IntArray
    move_cost: FloatArray
    goals: IntArray


class EpisodeSampler:
    """Draws episodes (map, start, goal) for a layout; the single env and the vector env share it.

    Parameters
    ----------
    layout : Layout
        The map family.
    size : (int, int)
        ``(rows, cols)`` for procedural layouts (a :class:`FixedLayout` has its own).
    start, goal : (row, col) or None
        Fixed cells, or ``None`` for a random cell each episode. Only with a fixed map.
    diagonal : bool
        8-connected moves (no corner cutting) instead of 4.
    num_maps : int or None
        ``None``: a procedural layout makes a new map every episode. An int ``K``: each
        episode uses one of ``K`` maps, map ``i`` made from seed ``(map_seed, i)`` (as
        Procgen's ``num_levels``): a fixed training set, and far cheaper resets.
    map_seed : int
        Seed of the map set.

    Raises
    ------
    ValueError
        If start/goal are given for a procedural layout, lie off the map or on a wall,
        coincide, or cannot reach each other; or the map has no two connected free cells.
    """

    def __init__(
        self,
        layout: Layout,
        size: tuple[int, int],
        *,
        start: Sequence[int] | None = None,
        goal: Sequence[int] | None = None,
        diagonal: bool = False,
        num_maps: int | None = None,
        map_seed: int = 0,
    ) -> None:
        self.layout = layout
        self.diagonal = diagonal
        self.connectivity: Literal[4, 8] = 8 if diagonal else 4
        self._fixed: _Map | None = None
        if num_maps is not None and (
            not isinstance(num_maps, int | np.integer) or isinstance(num_maps, bool) or num_maps < 1
        ):
            raise ValueError(f"num_maps must be None or an int >= 1, got {num_maps!r}")
        if not isinstance(map_seed, int | np.integer) or map_seed < 0:
            raise ValueError(f"map_seed must be an int >= 0, got {map_seed!r}")
        if num_maps is not None and layout.fixed:
            raise ValueError(
                f"num_maps picks among procedural maps, but layout {layout!r} has one fixed "
                "map: drop num_maps"
            )
        self.num_maps = None if num_maps is None else int(num_maps)
        self.map_seed = int(map_seed)
        if not layout.fixed:
            if start is not None or goal is not None:
                raise ValueError(
                    f"start= and goal= need a fixed map, but layout {layout!r} draws a new "
                    "map every episode: pass map=... (rlkit/GridNav-Map-v0) or drop them"
                )
            self.shape = size
            self.start = self.goal = None
            self._init_caches()
            return
        fixed = self._fixed = self._make_map(layout.generate(np.random.default_rng(0), *size))
        grid = fixed.grid  # the same map whatever the generator
        self.shape = grid.shape
        self._init_caches()
        cols = self.shape[1]
        self.start = self._check(grid, start, "start")
        self.goal = self._check(grid, goal, "goal")
        if self.start is not None and self.goal is not None:
            if self.start == self.goal:
                raise ValueError(f"start and goal are the same cell {tuple(start or ())}")
            if not np.isfinite(self._field(fixed, -1, self.goal)[0][self.start]):
                raise ValueError(
                    f"goal {divmod(self.goal, cols)} is unreachable from start "
                    f"{divmod(self.start, cols)} on {grid!r}: pick cells in the same region"
                )
        anchor = self.start if self.start is not None else self.goal
        if anchor is not None:  # the other end is drawn from the anchor's region
            region = np.isfinite(self._field(fixed, -1, anchor)[0])
            region[anchor] = False
            self._candidates = np.flatnonzero(region)
            if self._candidates.size == 0:
                which = "start" if self.start is not None else "goal"
                raise ValueError(
                    f"{which} {divmod(anchor, cols)} is walled in on {grid!r}: "
                    "no other free cell can be reached from it"
                )
        elif fixed.goals.size == 0:
            raise ValueError(
                f"map {grid!r} has no two connected free cells: free a neighbour of some free cell"
            )

    def _init_caches(self) -> None:
        n_cells = self.shape[0] * self.shape[1]
        self._fields: _LRU[tuple[int, int], tuple[FloatArray, IntArray]] = _LRU(
            _FIELD_CACHE_CELLS // n_cells
        )
        n_entries = n_cells * (8 if self.diagonal else 4)
        self._maps: _LRU[int, _Map] = _LRU(_MAP_CACHE_ENTRIES // n_entries)

    @property
    def fixed_map(self) -> bool:
        """Whether every episode has the same map."""
        return self._fixed is not None

    @property
    def fixed_goal(self) -> bool:
        """Whether every episode has the same map and goal (tabular settings)."""
        return self._fixed is not None and self.goal is not None

    @property
    def grid(self) -> GridMap:
        """The fixed map; ValueError for a procedural layout."""
        return self._require_fixed().grid

    @property
    def tables(self) -> tuple[IntArray, FloatArray]:
        """``(next_cell, move_cost)`` of the fixed map."""
        fixed = self._require_fixed()
        return fixed.next_cell, fixed.move_cost

    def goal_field(self) -> FloatArray:
        """Distance field of the fixed goal on the fixed map."""
        if self.goal is None or self._fixed is None:
            raise ValueError("there is no fixed goal: pass map=... and goal=(row, col)")
        return self._field(self._fixed, -1, self.goal)[0]

    def _require_fixed(self) -> _Map:
        if self._fixed is None:
            raise ValueError(f"layout {self.layout!r} has no fixed map")
        return self._fixed

    @staticmethod
    def _check(grid: GridMap, cell: Sequence[int] | None, what: str) -> int | None:
        if cell is None:
            return None
        r, c = grid.check_cell(cell, what)
        return r * grid.shape[1] + c

    def _make_map(self, grid: GridMap) -> _Map:
        next_cell, cost = move_table(grid, diagonal=self.diagonal)
        here = np.arange(next_cell.shape[0])[:, None]
        goals = np.flatnonzero((next_cell != here).any(axis=1))
        return _Map(grid, next_cell, cost, goals)

    def _distance_field(self, grid: GridMap, goal: int) -> tuple[FloatArray, IntArray]:
        """The planner's distance field to ``goal``, and the cells that may start."""
        cell = divmod(goal, grid.shape[1])
        field = grid.distance_field(cell, connectivity=self.connectivity).ravel()
        field.flags.writeable = False
        return field, np.flatnonzero(np.isfinite(field) & (field > 0))

    def _field(self, entry: _Map, key: int, goal: int) -> tuple[FloatArray, IntArray]:
        """:meth:`_distance_field` on a fixed map (key -1) or map ``key`` of the set, cached."""
        return self._fields.get((key, goal), lambda: self._distance_field(entry.grid, goal))

    def _set_map(self, index: int) -> _Map:
        """Map ``index`` of the map set: made from seed ``(map_seed, index)`` alone."""

        def make() -> _Map:
            rng = np.random.default_rng((self.map_seed, index))
            return self._make_map(self.layout.generate(rng, *self.shape))

        return self._maps.get(index, make)

    def sample(self, rng: np.random.Generator) -> Episode:
        """A new episode; every random draw comes from ``rng``.

        Raises
        ------
        RuntimeError
            If a procedural layout fails to give two connected free cells
            :data:`MAX_ATTEMPTS` times in a row (e.g. a far too dense RandomLayout).
        """
        if self._fixed is not None:
            return self._sample_fixed(self._fixed, rng)
        rows, cols = self.shape
        for _ in range(MAX_ATTEMPTS):
            if self.num_maps is None:
                key = -1
                entry = self._make_map(self.layout.generate(rng, rows, cols))
            else:
                key = int(rng.integers(self.num_maps))
                entry = self._set_map(key)
            if entry.goals.size == 0:
                continue
            goal = int(entry.goals[rng.integers(entry.goals.size)])
            if key < 0:  # a map of its own: nothing to cache
                dist, starts = self._distance_field(entry.grid, goal)
            else:
                dist, starts = self._field(entry, key, goal)
            start = int(starts[rng.integers(starts.size)])  # non-empty: the goal can move
            return Episode(entry.grid, start, goal, dist, entry.next_cell, entry.move_cost)
        raise RuntimeError(
            f"{self.layout!r} gave no map with two connected free cells in "
            f"{MAX_ATTEMPTS} attempts at size {rows}x{cols}: lower the obstacle density"
        )

    def _sample_fixed(self, fixed: _Map, rng: np.random.Generator) -> Episode:
        goal, start = self.goal, self.start
        if goal is None:
            goals = self._candidates if start is not None else fixed.goals
            goal = int(goals[rng.integers(goals.size)])
        dist, starts = self._field(fixed, -1, goal)
        if start is None:
            start = int(starts[rng.integers(starts.size)])
        return Episode(fixed.grid, start, goal, dist, fixed.next_cell, fixed.move_cost)
