"""The search backends of :meth:`planners.GridMap.plan`, on plain arrays and graphs.

``"jps"``: jump point search, ``"astar"``: A*, both compiled in the C extension
``planners._gridsearch`` (built from ``_gridsearch.c`` at install time, optional where no
C compiler exists), with the per-map work buffer they reuse (:class:`SearchBuffer`).
Jump point search needs a map of uniform cost and 8-connected moves; A* takes any map.
``"dijkstra"``: :func:`scipy.sparse.csgraph.dijkstra` on the move graph, bounded by a
growing cost limit (:func:`bounded_dijkstra`), the fallback that always exists.
"""

from __future__ import annotations

import math
import threading
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

try:  # built from _gridsearch.c at install time; optional where no C compiler exists
    from planners import _gridsearch
except ImportError:  # pragma: no cover - depends on the build machine
    _gridsearch = None  # type: ignore[assignment]

__all__ = [
    "ALL_BACKENDS",
    "BACKENDS",
    "UNIFORM_BACKENDS",
    "Backend",
    "SearchBuffer",
    "bounded_dijkstra",
    "jump_bitmaps",
    "resolve_backend",
]

#: Backends :meth:`GridMap.plan` can use here on every map: ``"astar"`` (compiled A*,
#: present when the C extension was built) and ``"dijkstra"`` (scipy's compiled Dijkstra).
BACKENDS: tuple[str, ...] = ("astar", "dijkstra") if _gridsearch is not None else ("dijkstra",)
#: Backends built here that only take maps of uniform cost with 8-connected moves:
#: ``"jps"`` (compiled jump point search), or none without the C extension.
UNIFORM_BACKENDS: tuple[str, ...] = ("jps",) if _gridsearch is not None else ()
#: Every backend name :meth:`GridMap.plan` accepts here, ``"auto"`` aside.
ALL_BACKENDS: tuple[str, ...] = (*BACKENDS, *UNIFORM_BACKENDS)
Backend = Literal["auto", "astar", "jps", "dijkstra"]
#: The C search's ``kind`` argument for each compiled backend.
KINDS = {"astar": 0, "jps": 1}
# one per cell, as the C search's `Cell` record: cost so far, query stamp, parent cell
_RECORD = np.dtype([("g", np.float64), ("stamp", np.uint32), ("parent", np.uint32)])
_LAST_STAMP = 0xFFFFFFFF
# queries per C call in a batch: bounds the stamps one call takes
_CHUNK = 1 << 20

#: What a search returns: cost, nodes expanded, and the path's ``(row, col)`` cells
#: (``None`` when the goal cannot be reached).
SearchResult = tuple[float, int, list[tuple[int, int]] | None]
#: What a batch of searches returns: costs (``inf`` where unreachable), nodes expanded
#: in all, and each query's path as an ``(k, 2)`` array when asked for (else ``None``).
ManyResult = tuple[npt.NDArray[np.float64], int, list[npt.NDArray[np.int64]] | None]


def resolve_backend(backend: str, *, uniform: bool, connectivity: int) -> str:
    """Return the backend ``backend`` names for a map of ``uniform`` cost or not.

    ``"auto"`` takes jump point search where it was built, the map's cost is uniform and
    moves are 8-connected; else A* where it was built; else Dijkstra.

    Raises
    ------
    ValueError
        If ``backend`` is unknown, not built here, or ``"jps"`` on a map or connectivity
        it cannot search.
    """
    if backend == "auto":
        if _gridsearch is None:
            return "dijkstra"
        return "jps" if uniform and connectivity == 8 else "astar"
    if backend not in ALL_BACKENDS:
        missing = backend in ("astar", "jps")
        raise ValueError(
            f"backend must be one of {('auto', *ALL_BACKENDS)}, got {backend!r}"
            + (" (the compiled searches were not built: reinstall with a C compiler)" * missing)
        )
    if backend == "jps" and not (uniform and connectivity == 8):
        why = "terrain costs that differ between cells" if not uniform else "connectivity=4"
        raise ValueError(
            f"backend 'jps' (jump point search) needs 8-connected moves on a map of uniform "
            f"cost, got {why}: use backend='astar' or 'auto'"
        )
    return backend


def jump_bitmaps(free: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint64]:
    """The free cells as the bitmaps jump point search scans (layout: ``_gridsearch.c``).

    Four bitmaps one after another: the rows left to right, the rows right to left, the
    columns top to bottom, the columns bottom to top. Each has its lines plus a blocked
    line at either end; a line is ``len + 2`` bits (a blocked bit at either end) rounded
    up to whole 64-bit words, plus one spare word.
    """
    parts = []
    for lines in (free, free[:, ::-1], free.T, free.T[:, ::-1]):
        n_lines, length = lines.shape
        words = (length + 2 + 63) // 64 + 1
        padded = np.zeros((n_lines + 2, words * 64), dtype=bool)
        padded[1:-1, 1 : length + 1] = lines
        packed = np.packbits(padded, axis=1, bitorder="little")
        parts.append(packed.view(np.dtype("<u8")).astype(np.uint64).ravel())
    return np.concatenate(parts)


class SearchBuffer:
    """The compiled searches of one map, with the per-cell work records they reuse.

    The buffer lives as long as the map, so a query allocates and clears nothing: a
    fresh pair of stamp values (:attr:`mark`) marks which records belong to it. Queries
    from several threads take turns.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._work: npt.NDArray[np.void] | None = None
        #: The stamp the next query starts from; odd, and it starts over near 2**32.
        self.mark = 1

    def _take_marks(self, n_cells: int, queries: int) -> int:
        """Reserve stamps for ``queries`` queries (call with the lock held)."""
        if n_cells > _LAST_STAMP:  # cells are 32-bit in the search records
            raise ValueError(
                f"the compiled searches take maps of up to 2**32 - 1 cells, this one has "
                f"{n_cells}: use backend='dijkstra'"
            )
        if self._work is None:
            self._work = np.zeros(n_cells, dtype=_RECORD)
        if self.mark + 2 * queries > _LAST_STAMP:  # stamps would wrap: start over
            self._work["stamp"] = 0
            self.mark = 1
        mark = self.mark
        self.mark += 2 * queries
        return mark

    def search(
        self,
        backend: str,
        grid: npt.NDArray[np.uint8] | npt.NDArray[np.uint64],
        terrain: npt.NDArray[np.float64] | None,
        shape: tuple[int, int],
        s_idx: int,
        g_idx: int,
        connectivity: int,
        scale: float,
    ) -> SearchResult:
        """Run compiled ``backend`` (``"astar"``, ``"jps"``) from flat cell ``s_idx`` to ``g_idx``.

        ``grid`` holds each cell's legal moves as bits (A*) or the :func:`jump_bitmaps`
        (JPS); ``scale`` is the cheapest terrain cost: A* scales its octile or Manhattan
        heuristic by it (which keeps it admissible), JPS every move (the map's one cost).
        """
        rows, cols = shape
        with self._lock:
            mark = self.mark
            if self._work is None or mark + 2 > _LAST_STAMP:
                mark = self._take_marks(rows * cols, 1)
            else:  # the common case, inline: a small map's query takes a few microseconds
                self.mark = mark + 2
            return _gridsearch.search(
                KINDS[backend], grid, terrain, rows, cols, s_idx, g_idx, connectivity, scale,
                self._work, mark,
            )  # fmt: skip

    def search_many(
        self,
        backend: str,
        grid: npt.NDArray[np.uint8] | npt.NDArray[np.uint64],
        terrain: npt.NDArray[np.float64] | None,
        shape: tuple[int, int],
        starts: npt.NDArray[np.int64],
        goals: npt.NDArray[np.int64],
        connectivity: int,
        scale: float,
        paths: bool,
    ) -> ManyResult:
        """Run compiled ``backend`` for every pair ``starts[i]``, ``goals[i]`` (flat cells).

        As :meth:`search`, in one C call per million queries.
        """
        rows, cols = shape
        costs = np.empty(len(starts), dtype=np.float64)
        cells: list[bytes] = []
        ends: list[npt.NDArray[np.int64]] = []
        expanded = done_cells = 0
        with self._lock:
            for lo in range(0, len(starts), _CHUNK):
                hi = min(lo + _CHUNK, len(starts))
                mark = self._take_marks(rows * cols, hi - lo)
                done, chunk_cells, chunk_ends = _gridsearch.search_many(
                    KINDS[backend], grid, terrain, rows, cols, starts[lo:hi], goals[lo:hi],
                    connectivity, scale, self._work, mark, costs[lo:hi], paths,
                )  # fmt: skip
                expanded += done
                if chunk_cells is not None and chunk_ends is not None:  # with paths
                    # each chunk counts its cells from 0
                    ends.append(np.frombuffer(chunk_ends, dtype=np.int64) + done_cells)
                    cells.append(chunk_cells)
                    done_cells += len(chunk_cells) // 16  # a (row, col) pair of int64
        if not paths:
            return costs, expanded, None
        if not ends:
            return costs, expanded, []
        flat = np.frombuffer(b"".join(cells), dtype=np.int64).reshape(-1, 2).copy()
        return costs, expanded, np.split(flat, np.concatenate(ends)[:-1])


def bounded_dijkstra(
    graph: csr_matrix, s_idx: int, g_idx: int, limit: float, cols: int
) -> SearchResult:
    """Run Dijkstra on ``graph`` from flat cell ``s_idx`` until it reaches ``g_idx``.

    The search stops at cost ``limit`` and, while the goal is not reached, runs again
    with the limit doubled, until the limit exceeds what any path can cost. ``cols``
    turns flat indices ``row * cols + col`` back into cells.
    """
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
