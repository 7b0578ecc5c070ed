"""The search backends of :meth:`planners.GridMap.plan`, on plain arrays and graphs.

``"astar"``: the compiled A* of the C extension ``planners._gridsearch`` (built from
``_gridsearch.c`` at install time, optional where no C compiler exists), with the
per-map work buffer it reuses (:class:`AstarBuffer`). ``"dijkstra"``:
:func:`scipy.sparse.csgraph.dijkstra` on the move graph, bounded by a growing cost
limit (:func:`bounded_dijkstra`).
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

__all__ = ["BACKENDS", "AstarBuffer", "Backend", "bounded_dijkstra", "resolve_backend"]

#: Search backends :meth:`GridMap.plan` can use here: ``"astar"`` (compiled A*, present
#: when the C extension was built) and ``"dijkstra"`` (scipy's compiled Dijkstra).
BACKENDS: tuple[str, ...] = ("astar", "dijkstra") if _gridsearch is not None else ("dijkstra",)
Backend = Literal["auto", "astar", "dijkstra"]
# one per cell, as the C search's `Cell` record: cost so far, query stamp, arriving move
_ASTAR_RECORD = np.dtype([("g", np.float64), ("stamp", np.uint32), ("move", np.uint32)])

#: What a search returns: cost, nodes expanded, and the path's ``(row, col)`` cells
#: (``None`` when the goal cannot be reached).
SearchResult = tuple[float, int, list[tuple[int, int]] | None]


def resolve_backend(backend: str) -> str:
    """Return the backend ``backend`` names (``"auto"``: A* where it was built).

    Raises
    ------
    ValueError
        If ``backend`` is unknown or not built here.
    """
    if backend == "auto":
        return "astar" if _gridsearch is not None else "dijkstra"
    if backend not in BACKENDS:
        raise ValueError(
            f"backend must be one of {('auto', *BACKENDS)}, got {backend!r}"
            + (
                " (the compiled A* was not built: reinstall with a C compiler)"
                if backend == "astar"
                else ""
            )
        )
    return backend


class AstarBuffer:
    """The compiled A* of one map, with the per-cell work records it reuses.

    The buffer lives as long as the map, so a query allocates and clears nothing: a
    fresh pair of stamp values (:attr:`mark`) marks which records belong to it. Queries
    from several threads take turns.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._work: npt.NDArray[np.void] | None = None
        #: The stamp the next query starts from; odd, and it starts over near 2**32.
        self.mark = 1

    def search(
        self,
        moves: npt.NDArray[np.uint8],
        terrain: npt.NDArray[np.float64] | None,
        rows: int,
        cols: int,
        s_idx: int,
        g_idx: int,
        connectivity: int,
        scale: float,
    ) -> SearchResult:
        """Run the compiled A* from flat cell ``s_idx`` to ``g_idx``.

        ``moves`` holds each cell's legal moves as bits, ``scale`` the cheapest terrain
        cost (it keeps the octile or Manhattan heuristic admissible).
        """
        with self._lock:
            if self._work is None:
                self._work = np.zeros(rows * cols, dtype=_ASTAR_RECORD)
            if self.mark >= 0xFFFFFFFD:  # stamps would wrap: start over
                self._work["stamp"] = 0
                self.mark = 1
            mark = self.mark
            self.mark += 2
            return _gridsearch.astar(
                moves, terrain, rows, cols, s_idx, g_idx, connectivity, scale, self._work, mark
            )


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
