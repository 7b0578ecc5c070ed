"""Moves between the cells of a grid map: :class:`GridMoves`, a base of
:class:`~planners.grid.GridMap`, and the move constants.

Moves are 4- or 8-connected; a diagonal move costs ``sqrt(2)`` and may not cut a
corner: both cardinal cells it passes between must be free (the rule of the MovingAI
benchmarks, Sturtevant 2012). With terrain costs, a move from ``a`` to ``b`` costs
``step * (terrain[a] + terrain[b]) / 2``, so costs are symmetric. Every move of every
cell is one table, built with numpy (no Python loop over cells); the graphs the
searches run on are read off it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

from planners.grid_backends import jump_bitmaps
from planners.grid_base import Cell, GridBase

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "MOVES_4",
    "MOVES_8",
    "SQRT2",
    "Connectivity",
    "GridMoves",
    "MoveTable",
    "check_connectivity",
]

Connectivity = Literal[4, 8]

#: ``(d_row, d_col)`` of the four cardinal moves: up, down, left, right.
MOVES_4: tuple[Cell, ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))
#: The cardinal moves followed by the four diagonals: up-left, up-right, down-left, down-right.
MOVES_8: tuple[Cell, ...] = (*MOVES_4, (-1, -1), (-1, 1), (1, -1), (1, 1))

SQRT2 = math.sqrt(2.0)


class MoveTable(NamedTuple):
    """Moves from every cell (see :meth:`GridMap.move_table`); arrays ``(cells, k)``."""

    legal: npt.NDArray[np.bool_]
    next_cell: npt.NDArray[np.intp]
    cost: npt.NDArray[np.float64]


def _src_dst(d: int, n: int) -> tuple[slice, slice]:
    """Slices of the cells that move by ``d`` along an axis of length ``n``, and where they land."""
    return slice(max(0, -d), n - max(0, d)), slice(max(0, d), n + min(0, d))


def check_connectivity(connectivity: int) -> None:
    """Raise ValueError unless ``connectivity`` is 4 or 8."""
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")


class GridMoves(GridBase):
    """The moves of a grid map: single moves, paths, and all moves as tables and graphs."""

    def move_cost(self, a: Sequence[int], b: Sequence[int]) -> float | None:
        """Cost of one move from ``a`` to the adjacent cell ``b``; ``None`` if not allowed.

        A move is allowed when both cells are free, they are 8-neighbours, and a
        diagonal move does not cut a corner.

        Examples
        --------
        >>> from planners import GridMap
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
        >>> from planners import GridMap
        >>> GridMap.from_ascii("...").path_cost([(0, 0), (0, 1), (0, 2)])
        2.0
        """
        check_connectivity(connectivity)
        total = 0.0
        for i, (a, b) in enumerate(itertools.pairwise(path)):
            cost = self.move_cost(a, b)
            if cost is None or (connectivity == 4 and cost and a[0] != b[0] and a[1] != b[1]):
                raise ValueError(f"path step {i} from {tuple(a)} to {tuple(b)} is not a legal move")
            total += cost
        return total

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
        >>> from planners import GridMap
        >>> table = GridMap.from_ascii("..\\n#.").move_table(4)
        >>> table.next_cell[0].tolist(), table.cost[0].tolist()  # up, down, left, right
        ([0, 0, 0, 1], [0.0, 0.0, 0.0, 1.0])
        """
        check_connectivity(connectivity)
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
        check_connectivity(connectivity)
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

    def _jump_bitmaps(self) -> npt.NDArray[np.uint64]:
        """The free cells as the bitmaps the compiled jump point search scans."""
        key = ("jump", 8)
        if key not in self._cache:
            self._cache[key] = jump_bitmaps(self.free)
        bitmaps: npt.NDArray[np.uint64] = self._cache[key]
        return bitmaps

    def to_networkx(self, connectivity: Connectivity = 8) -> nx.Graph:
        """The move graph as a :class:`networkx.Graph` with ``(row, col)`` nodes.

        Edge attribute ``weight`` holds the move cost, so networkx's (and
        :mod:`planners`') shortest-path functions find the same costs as :meth:`plan`.

        Examples
        --------
        >>> from planners import GridMap
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
