"""Occupancy grids with terrain costs, planned on with compiled graph search.

A :class:`GridMap` turns its free cells into a sparse graph built with numpy (no
Python loop over cells) and searches it with :func:`scipy.sparse.csgraph.dijkstra`,
which runs in compiled code. Moves are 4- or 8-connected; a diagonal move costs
``sqrt(2)`` and may not cut a corner: both cardinal cells it passes between must be
free (the rule of the MovingAI benchmarks, Sturtevant 2012). With terrain costs, a
move from ``a`` to ``b`` costs ``step * (terrain[a] + terrain[b]) / 2``, so costs are
symmetric and the graph is undirected.
"""

from __future__ import annotations

import itertools
import math
import operator
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planners.graph import NoPath

try:  # built from _gridsearch.c at install time; optional where no C compiler exists
    from planners import _gridsearch
except ImportError:  # pragma: no cover - depends on the build machine
    _gridsearch = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["BACKENDS", "MOVES_4", "MOVES_8", "GridMap", "MoveTable", "Plan"]

#: Search backends :meth:`GridMap.plan` can use here: ``"astar"`` (compiled A*, present
#: when the C extension was built) and ``"dijkstra"`` (scipy's compiled Dijkstra).
BACKENDS: tuple[str, ...] = ("astar", "dijkstra") if _gridsearch is not None else ("dijkstra",)
Backend = Literal["auto", "astar", "dijkstra"]
# one per cell, as the C search's `Cell` record: cost so far, query stamp, arriving move
_ASTAR_RECORD = np.dtype([("g", np.float64), ("stamp", np.uint32), ("move", np.uint32)])

Cell = tuple[int, int]
Connectivity = Literal[4, 8]

#: ``(d_row, d_col)`` of the four cardinal moves: up, down, left, right.
MOVES_4: tuple[Cell, ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))
#: The cardinal moves followed by the four diagonals: up-left, up-right, down-left, down-right.
MOVES_8: tuple[Cell, ...] = (*MOVES_4, (-1, -1), (-1, 1), (1, -1), (1, 1))

SQRT2 = math.sqrt(2.0)
_BLOCKED_CHARS = frozenset("#@OTW")
_FREE_CHARS = frozenset(".SG")


class MoveTable(NamedTuple):
    """Moves from every cell (see :meth:`GridMap.move_table`); arrays ``(cells, k)``."""

    legal: npt.NDArray[np.bool_]
    next_cell: npt.NDArray[np.intp]
    cost: npt.NDArray[np.float64]


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


def _src_dst(d: int, n: int) -> tuple[slice, slice]:
    """Slices of the cells that move by ``d`` along an axis of length ``n``, and where they land."""
    return slice(max(0, -d), n - max(0, d)), slice(max(0, d), n + min(0, d))


class GridMap:
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

    def __init__(
        self,
        occupancy: npt.ArrayLike,
        terrain: npt.ArrayLike | None = None,
        *,
        name: str | None = None,
    ) -> None:
        occ = np.asarray(occupancy)
        if occ.ndim != 2 or occ.shape[0] < 1 or occ.shape[1] < 1:
            raise ValueError(
                f"occupancy must be a 2-D array with at least one cell, got shape {occ.shape}"
            )
        if occ.dtype != bool:
            if not np.isin(occ, (0, 1)).all():
                raise ValueError("occupancy must be boolean (True = blocked) or contain only 0/1")
            occ = occ.astype(bool)
        self.occupancy: npt.NDArray[np.bool_] = occ.copy()
        self._shape = (int(occ.shape[0]), int(occ.shape[1]))
        self.occupancy.flags.writeable = False  # cached graphs depend on it
        self.terrain: npt.NDArray[np.float64] | None = None
        if terrain is not None:
            ter = np.array(terrain, dtype=np.float64)
            if ter.shape != occ.shape:
                raise ValueError(
                    f"terrain has shape {ter.shape} but occupancy has shape {occ.shape}"
                )
            bad = ~occ & ~(np.isfinite(ter) & (ter > 0))
            if bad.any():
                r, c = np.argwhere(bad)[0]
                raise ValueError(
                    f"terrain must be finite and > 0 on free cells; cell ({r}, {c}) has "
                    f"{ter[r, c]} (block the cell in occupancy instead)"
                )
            ter.flags.writeable = False
            self.terrain = ter
        self.name = name
        # the cheapest move multiplier scales the heuristic so that it stays admissible
        free = ~self.occupancy
        self._terrain_floor = (
            1.0 if self.terrain is None or not free.any() else float(self.terrain[free].min())
        )
        self._cache: dict[tuple[str, int], Any] = {}  # move tables and graphs, built on use
        self._astar_lock = threading.Lock()
        self._astar_work: npt.NDArray[np.void] | None = None
        self._astar_mark = 1

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_ascii(cls, text: str, *, name: str | None = None) -> GridMap:
        """Build a map from text, one line per row.

        ``#``, ``@``, ``O``, ``T`` and ``W`` are blocked; ``.``, ``S`` and ``G`` are free;
        a digit ``1``-``9`` is a free cell with that terrain cost. Blank lines at either
        end and surrounding whitespace on each line are ignored.

        Raises
        ------
        ValueError
            On rows of different lengths or an unknown character, naming line and column.

        Examples
        --------
        >>> GridMap.from_ascii("..#\\n.2.").terrain
        array([[1., 1., 1.],
               [1., 2., 1.]])
        """
        lines = [line.strip() for line in text.strip("\n").splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        while lines and not lines[0]:
            lines.pop(0)
        if not lines:
            raise ValueError("ASCII map is empty: give at least one row of cells")
        width = len(lines[0])
        occ = np.zeros((len(lines), width), dtype=bool)
        ter = np.ones((len(lines), width))
        for r, line in enumerate(lines):
            if len(line) != width:
                raise ValueError(
                    f"ASCII map line {r + 1} has {len(line)} cells, expected {width} "
                    "(every row must be as long as the first)"
                )
            for c, ch in enumerate(line):
                if ch in _BLOCKED_CHARS:
                    occ[r, c] = True
                elif ch in "123456789":
                    ter[r, c] = float(ch)
                elif ch not in _FREE_CHARS:
                    raise ValueError(
                        f"ASCII map line {r + 1}, column {c + 1}: unknown character {ch!r} "
                        "(blocked: # @ O T W; free: . S G; terrain cost: 1-9)"
                    )
        return cls(occ, ter if (ter != 1).any() else None, name=name)

    @classmethod
    def from_movingai(cls, path: str | PathLike[str]) -> GridMap:
        """Read a MovingAI ``.map`` file; see :func:`planners.movingai.read_map`."""
        from planners.movingai import read_map

        return read_map(path)

    def to_ascii(self) -> str:
        """The map as text: ``#`` blocked, ``.`` free (terrain costs as digits when integral).

        Examples
        --------
        >>> print(GridMap([[0, 1], [0, 0]]).to_ascii())
        .#
        ..
        """
        chars = np.where(self.occupancy, "#", ".")
        if self.terrain is not None:
            t = self.terrain
            digit = ~self.occupancy & (t != 1) & (t == np.round(t)) & (t <= 9)
            chars = np.where(digit, t.astype(int).astype(str), chars)
        return "\n".join("".join(row) for row in chars)

    # ------------------------------------------------------------------ queries
    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return self._shape

    @property
    def free(self) -> npt.NDArray[np.bool_]:
        """Boolean array, ``True`` on free cells."""
        return ~self.occupancy

    def __repr__(self) -> str:
        rows, cols = self.shape
        label = f" {self.name!r}" if self.name else ""
        n_free = int(np.count_nonzero(self.free))
        return f"<GridMap{label} {rows}x{cols}, {n_free} free cells>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GridMap):
            return NotImplemented
        if self.shape != other.shape or not np.array_equal(self.occupancy, other.occupancy):
            return False
        return np.array_equal(self._terrain_array(), other._terrain_array())

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container: no hashing

    def __getstate__(self) -> dict[str, Any]:
        # Caches and search buffers are rebuilt on demand; a lock cannot be copied.
        state = self.__dict__.copy()
        state.update(_cache={}, _astar_lock=None, _astar_work=None, _astar_mark=1)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._astar_lock = threading.Lock()

    def _terrain_array(self) -> npt.NDArray[np.float64]:
        return np.ones(self.shape) if self.terrain is None else self.terrain

    def in_bounds(self, cell: Sequence[int]) -> bool:
        """Whether ``cell`` lies on the map."""
        r, c = cell
        return 0 <= r < self.shape[0] and 0 <= c < self.shape[1]

    def is_free(self, cell: Sequence[int]) -> bool:
        """Whether ``cell`` lies on the map and is not blocked."""
        return self.in_bounds(cell) and not bool(self.occupancy[cell[0], cell[1]])

    def check_cell(self, cell: Sequence[int], what: str = "cell") -> Cell:
        """Return ``cell`` as ``(row, col)`` ints, or raise ValueError naming ``what``.

        Examples
        --------
        >>> GridMap([[0, 1]]).check_cell((0, 1), "goal")
        Traceback (most recent call last):
            ...
        ValueError: goal (0, 1) is a blocked cell
        """
        try:
            r, c = cell
            r, c = operator.index(r), operator.index(c)  # ints and numpy ints, not floats
        except (TypeError, ValueError):
            raise ValueError(
                f"{what} must be a (row, col) pair of integers, got {cell!r}"
            ) from None
        rows, cols = self._shape
        if not (0 <= r < rows and 0 <= c < cols):
            raise ValueError(
                f"{what} ({r}, {c}) is outside the {rows}x{cols} map "
                f"(rows 0..{rows - 1}, cols 0..{cols - 1})"
            )
        if self.occupancy[r, c]:
            raise ValueError(f"{what} ({r}, {c}) is a blocked cell")
        return (r, c)

    def move_cost(self, a: Sequence[int], b: Sequence[int]) -> float | None:
        """Cost of one move from ``a`` to the adjacent cell ``b``; ``None`` if not allowed.

        A move is allowed when both cells are free, they are 8-neighbours, and a
        diagonal move does not cut a corner.

        Examples
        --------
        >>> grid = GridMap.from_ascii("..\\n#.")
        >>> grid.move_cost((0, 0), (0, 1))
        1.0
        >>> grid.move_cost((0, 1), (1, 0)) is None  # (1, 0) is blocked
        True
        >>> grid.move_cost((0, 0), (1, 1)) is None  # would cut the corner at (1, 0)
        True
        """
        (ar, ac), (br, bc) = a, b
        dr, dc = br - ar, bc - ac
        if max(abs(dr), abs(dc)) != 1 or not (self.is_free(a) and self.is_free(b)):
            return None
        step = 1.0
        if dr and dc:
            if self.occupancy[ar + dr, ac] or self.occupancy[ar, ac + dc]:
                return None
            step = SQRT2
        if self.terrain is None:
            return step
        return step * (float(self.terrain[ar, ac]) + float(self.terrain[br, bc])) / 2

    def path_cost(self, path: Sequence[Sequence[int]], *, connectivity: Connectivity = 8) -> float:
        """Total cost of ``path``; ValueError naming the first illegal move.

        Examples
        --------
        >>> GridMap.from_ascii("...").path_cost([(0, 0), (0, 1), (0, 2)])
        2.0
        """
        _check_connectivity(connectivity)
        total = 0.0
        for i, (a, b) in enumerate(itertools.pairwise(path)):
            cost = self.move_cost(a, b)
            if cost is None or (connectivity == 4 and cost and a[0] != b[0] and a[1] != b[1]):
                raise ValueError(f"path step {i} from {tuple(a)} to {tuple(b)} is not a legal move")
            total += cost
        return total

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

    def _min_terrain(self) -> float:
        return self._terrain_floor

    # ------------------------------------------------------------------ graph
    def move_table(self, connectivity: Connectivity = 8) -> MoveTable:
        """Every move from every cell: legal or not, where it lands, what it costs.

        The one table the planner, its graphs and the environments read moves from.
        Built once per connectivity with vectorised numpy and cached (read-only arrays).

        Parameters
        ----------
        connectivity : {4, 8}, default 8
            Moves :data:`MOVES_4` or :data:`MOVES_8`, in that order (column ``k``).

        Returns
        -------
        MoveTable
            ``legal``, ``next_cell`` and ``cost``, each of shape ``(rows * cols, k)``
            over flat cell indices ``row * cols + col``. An illegal move (off the map,
            from or into a blocked cell, or cutting a corner) stays in place at cost 0.

        Examples
        --------
        >>> table = GridMap.from_ascii("..\\n#.").move_table(4)
        >>> table.next_cell[0].tolist(), table.cost[0].tolist()  # up, down, left, right
        ([0, 0, 0, 1], [0.0, 0.0, 0.0, 1.0])
        """
        _check_connectivity(connectivity)
        key = ("moves", connectivity)
        if key not in self._cache:
            self._cache[key] = self._build_move_table(connectivity)
        table: MoveTable = self._cache[key]
        return table

    def _build_move_table(self, connectivity: int) -> MoveTable:
        rows, cols = self._shape
        free = self.free
        grid_legal = np.zeros((rows, cols, connectivity), dtype=bool)
        for k, (dr, dc) in enumerate(MOVES_8[:connectivity]):
            rs, rd = _src_dst(dr, rows)
            cs, cd = _src_dst(dc, cols)
            ok = free[rs, cs] & free[rd, cd]
            if dr and dc:  # no corner cutting: both cells passed between must be free
                ok &= free[rd, cs] & free[rs, cd]
            grid_legal[rs, cs, k] = ok
        legal = grid_legal.reshape(rows * cols, connectivity)
        moves = np.array(MOVES_8[:connectivity])
        offset = moves[:, 0] * cols + moves[:, 1]
        here = np.arange(rows * cols)[:, None]
        next_cell = np.where(legal, here + offset, here)
        step = np.where(np.abs(moves).sum(axis=1) == 2, SQRT2, 1.0)
        if self.terrain is None:
            cost = np.where(legal, step, 0.0)
        else:
            t = self.terrain.ravel()
            cost = np.where(legal, step * (t[here] + t[next_cell]) / 2, 0.0)
        for array in (legal, next_cell, cost):
            array.flags.writeable = False
        return MoveTable(legal, next_cell, cost)

    def csgraph(self, connectivity: Connectivity = 8) -> csr_matrix:
        """The move graph as a sparse matrix over flat cell indices ``row * cols + col``.

        Entry ``[i, j]`` is the cost of moving from cell ``i`` to cell ``j``; blocked
        cells have no edges. Read off :meth:`move_table` and cached.
        """
        _check_connectivity(connectivity)
        key = ("csgraph", connectivity)
        if key not in self._cache:
            table = self.move_table(connectivity)
            # row-major nonzero keeps each cell's moves together: the CSR rows directly
            src, k = np.nonzero(table.legal)
            indptr = np.zeros(table.legal.shape[0] + 1, dtype=np.int64)
            np.cumsum(table.legal.sum(axis=1), out=indptr[1:])
            n = table.legal.shape[0]
            self._cache[key] = csr_matrix(
                (table.cost[src, k], table.next_cell[src, k], indptr), shape=(n, n)
            )
        graph: csr_matrix = self._cache[key]
        return graph

    def _move_bits(self, connectivity: int) -> npt.NDArray[np.uint8]:
        """Per cell, bit ``k`` set when move ``k`` of :data:`MOVES_8` is legal from it."""
        key = ("bits", connectivity)
        if key not in self._cache:
            legal = self.move_table(connectivity).legal  # type: ignore[arg-type]
            weights = (1 << np.arange(connectivity)).astype(np.uint8)
            self._cache[key] = (legal * weights).sum(axis=1, dtype=np.uint8)
        bits: npt.NDArray[np.uint8] = self._cache[key]
        return bits

    def to_networkx(self, connectivity: Connectivity = 8) -> nx.Graph:
        """The move graph as a :class:`networkx.Graph` with ``(row, col)`` nodes.

        Edge attribute ``weight`` holds the move cost, so networkx's (and
        :mod:`planners`') shortest-path functions find the same costs as :meth:`plan`.

        Examples
        --------
        >>> import networkx as nx
        >>> grid = GridMap.from_ascii("...\\n.#.")
        >>> G = grid.to_networkx()
        >>> G.number_of_nodes(), G.number_of_edges()
        (5, 4)
        >>> nx.dijkstra_path_length(G, (1, 0), (1, 2)) == grid.plan((1, 0), (1, 2)).cost
        True
        """
        import networkx as nx

        cols = self.shape[1]
        coo = self.csgraph(connectivity).tocoo()
        upper = coo.row < coo.col  # each undirected edge once
        src, dst, cost = coo.row[upper], coo.col[upper], coo.data[upper]
        G = nx.Graph()
        free_r, free_c = np.nonzero(self.free)
        G.add_nodes_from(zip(free_r.tolist(), free_c.tolist(), strict=True))
        src_r, src_c = np.divmod(src, cols)
        dst_r, dst_c = np.divmod(dst, cols)
        G.add_weighted_edges_from(
            zip(
                zip(src_r.tolist(), src_c.tolist(), strict=True),
                zip(dst_r.tolist(), dst_c.tolist(), strict=True),
                cost.tolist(),
                strict=True,
            )
        )
        return G

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
        _check_connectivity(connectivity)
        s = self.check_cell(start, "start")
        g = self.check_cell(goal, "goal")
        if backend == "auto":
            backend = "astar" if _gridsearch is not None else "dijkstra"
        elif backend not in BACKENDS:
            raise ValueError(
                f"backend must be one of {('auto', *BACKENDS)}, got {backend!r}"
                + (
                    " (the compiled A* was not built: reinstall with a C compiler)"
                    if backend == "astar"
                    else ""
                )
            )
        cols = self._shape[1]
        s_idx, g_idx = s[0] * cols + s[1], g[0] * cols + g[1]
        if backend == "astar":
            cost, expanded, flat = self._astar(s_idx, g_idx, connectivity)
        else:
            cost, expanded, flat = self._bounded_dijkstra(s, g, connectivity)
        if flat is None:
            raise NoPath(
                f"no path from start {s} to goal {g} on {self!r} ({connectivity}-connected moves)"
            )
        return Plan(flat, cost, expanded)

    def _astar(
        self, s_idx: int, g_idx: int, connectivity: int
    ) -> tuple[float, int, list[Cell] | None]:
        # The work buffer lives as long as the map, so a query allocates and clears
        # nothing: a fresh pair of stamp values marks which records belong to it.
        with self._astar_lock:
            if self._astar_work is None:
                self._astar_work = np.zeros(self.occupancy.size, dtype=_ASTAR_RECORD)
            if self._astar_mark >= 0xFFFFFFFD:  # stamps would wrap: start over
                self._astar_work["stamp"] = 0
                self._astar_mark = 1
            mark = self._astar_mark
            self._astar_mark += 2
            rows, cols = self._shape
            return _gridsearch.astar(
                self._move_bits(connectivity), self.terrain, rows, cols, s_idx, g_idx,
                connectivity, self._min_terrain(), self._astar_work, mark,
            )  # fmt: skip

    def _bounded_dijkstra(
        self, s: Cell, g: Cell, connectivity: Connectivity
    ) -> tuple[float, int, list[Cell] | None]:
        graph = self.csgraph(connectivity)
        cols = self.shape[1]
        s_idx, g_idx = s[0] * cols + s[1], g[0] * cols + g[1]
        limit = 1.5 * self.heuristic(s, g, connectivity=connectivity) + 1.0
        # no path costs more than visiting every cell once at the dearest move
        worst = float(graph.data.max(initial=0.0)) * graph.shape[0]
        expanded = 0
        while True:
            unbounded = limit >= worst
            dist, pred = dijkstra(
                graph,
                directed=True,
                indices=s_idx,
                return_predecessors=True,
                limit=np.inf if unbounded else limit,
            )
            expanded += int(np.count_nonzero(np.isfinite(dist)))
            if np.isfinite(dist[g_idx]):
                break
            if unbounded:
                return math.inf, expanded, None
            limit *= 2.0
        path = [g_idx]
        while path[-1] != s_idx:
            path.append(int(pred[path[-1]]))
        path.reverse()
        return float(dist[g_idx]), expanded, [divmod(i, cols) for i in path]

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


def _check_connectivity(connectivity: int) -> None:
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
