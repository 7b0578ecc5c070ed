"""The search backends of :meth:`planners.GridMap.plan`, on plain arrays and graphs.

``"jps"``: jump point search, ``"astar"``: A*, both compiled in the C extension
``planners._gridsearch`` (built from ``_gridsearch.c`` at install time, optional where no
C compiler exists), with the per-map work records they reuse (:func:`new_workspace`) and
a compiled route per backend and connectivity (:func:`compiled_route`).
Jump point search needs a map of uniform cost and 8-connected moves; A* takes any map.
``"dijkstra"``: :func:`scipy.sparse.csgraph.dijkstra` on the move graph, bounded by a
growing cost limit (:func:`bounded_dijkstra`), the fallback that always exists.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planners.grid_plan import Plan

try:  # built from _gridsearch.c at install time; optional where no C compiler exists
    from planners import _gridsearch
except ImportError:  # pragma: no cover - depends on the build machine
    _gridsearch = None  # type: ignore[assignment]

__all__ = [
    "ALL_BACKENDS",
    "BACKENDS",
    "UNIFORM_BACKENDS",
    "Backend",
    "bounded_dijkstra",
    "compiled_route",
    "jump_bitmaps",
    "new_workspace",
    "resolve_backend",
    "search_many",
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
# the largest 32-bit value: the compiled searches number cells (and stamp queries) in 32 bits
_LAST_STAMP = 0xFFFFFFFF

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


def new_workspace(n_cells: int) -> _gridsearch.Workspace | None:
    """The compiled searches' per-map work records (a ``_gridsearch.Workspace``), or
    ``None`` where they were not built or the map is too large for them."""
    if _gridsearch is None or n_cells > _LAST_STAMP:  # cells are 32-bit in the records
        return None
    return _gridsearch.Workspace(n_cells)


def compiled_route(
    workspace: _gridsearch.Workspace | None,
    backend: str,
    grid: npt.NDArray[np.uint8] | npt.NDArray[np.uint64],
    terrain: npt.NDArray[np.float64] | None,
    occupancy: npt.NDArray[np.bool_],
    connectivity: int,
    scale: float,
) -> _gridsearch.Route:
    """Compiled ``backend`` (``"astar"``, ``"jps"``) on one map, as a ``_gridsearch.Route``.

    ``grid`` holds each cell's legal moves as bits (A*) or the :func:`jump_bitmaps`
    (JPS); ``scale`` is the cheapest terrain cost: A* scales its octile or Manhattan
    heuristic by it (which keeps it admissible), JPS every move (the map's one cost).
    Its ``plan(start, goal)`` answers a query in one call: a :class:`~planners.grid_plan.Plan`,
    ``False`` when the goal cannot be reached, or ``None`` when ``start`` or ``goal`` is
    not a free cell given as a ``(row, col)`` tuple or list of ints (the caller's checks
    then word the error); ``search_many`` answers a batch (see :func:`search_many`).

    Raises
    ------
    ValueError
        If the map has more cells than the compiled searches take.
    """
    rows, cols = occupancy.shape
    if workspace is None:
        raise ValueError(
            f"the compiled searches take maps of up to 2**32 - 1 cells, this one has "
            f"{rows * cols}: use backend='dijkstra'"
        )
    return _gridsearch.Route(
        workspace, KINDS[backend], grid, terrain, occupancy, rows, cols, connectivity, scale, Plan
    )


def search_many(
    route: _gridsearch.Route,
    starts: npt.NDArray[np.int64],
    goals: npt.NDArray[np.int64],
    paths: bool,
) -> ManyResult:
    """Run compiled ``route`` (:func:`compiled_route`) for every pair ``starts[i]``,
    ``goals[i]`` (flat cells ``row * cols + col``), looped in C."""
    costs = np.empty(len(starts), dtype=np.float64)
    expanded, cells, ends = route.search_many(starts, goals, costs, paths)
    if cells is None or ends is None:  # without paths
        return costs, expanded, None
    if not len(starts):
        return costs, expanded, []
    flat = np.frombuffer(cells, dtype=np.int64).reshape(-1, 2).copy()
    return costs, expanded, np.split(flat, np.frombuffer(ends, dtype=np.int64)[:-1])


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
