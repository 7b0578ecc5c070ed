"""Robot models and planning algorithms: graph search, grid maps, MovingAI benchmarks,
planar arms and their joint-space planning.

Depends on numpy, networkx and scipy only, so other projects can import it without
pulling in torch, gymnasium or pygame. The main names are importable from here. Each
module holds one idea and imports only modules listed before it below: so ``arm``
calls ``cspace``, which knows an arm only as ``arm_plan.ArmLike``.

Where to find what
------------------
Graph search
    ``graph``: ``NoPath``, ``astar_path``, ``astar_path_length``, ``dijkstra_path``,
    ``dijkstra_path_length``, ``bidirectional_dijkstra``, ``distance_field`` on any
    networkx graph, with networkx's semantics.

Grid maps (``GridMap`` = ``GridBase`` + ``GridMoves`` + planning)
    ``grid_text``: ASCII maps and MovingAI ``.map`` text to and from plain arrays.
    ``grid_backends``: the searches behind ``GridMap.plan``: the compiled A* and jump
    point search (the C extension ``_gridsearch``, built from ``_gridsearch.c``), scipy's
    bounded Dijkstra, ``BACKENDS``.
    ``grid_plan``: ``Plan``, what ``GridMap.plan`` returns (its path unpacked on first read).
    ``grid_base``: ``GridBase``: occupancy and terrain checks, ``from_ascii``,
    ``to_ascii``, ``from_movingai``, equality, pickling, single cells (``check_cell``).
    ``grid_moves``: ``GridMoves``: the move rules, ``MOVES_4``, ``MOVES_8``,
    ``move_cost``, ``path_cost``, ``move_table`` (``MoveTable``), ``csgraph``,
    ``to_networkx``.
    ``grid``: ``GridMap``: ``plan``, ``plan_many``, ``distance_field``, ``heuristic``.
    ``movingai``: the benchmark files: ``read_map``, ``write_map``, ``read_scen``,
    ``Scenario``.

Joint-space planning
    ``joints``: angle wrapping, ``interpolation_steps``, ``MOTION_RESOLUTION``, array
    types (shared with the arm).
    ``arm_plan``: ``ArmPlan`` (a result) and ``ArmLike`` (what the planners use of an
    arm).
    ``cspace_grid``: the grid planner (up to three joints), ``MAX_CELLS``.
    ``cspace_prm``: the probabilistic roadmap planner (four joints and more).
    ``cspace``: ``plan`` and ``plan_reach``: options, goal configurations, the straight
    motion tried first, then one of the two planners.

Planar arms (``PlanarArm`` = ``ArmBase`` + ``ArmKinematics`` + ``ArmCollisions``)
    ``obstacles``: ``Circle``, ``Box``, ``Obstacle``; ``segments_hit`` (links against
    obstacles).
    ``arm_base``: ``ArmBase``: links, limits, obstacles, base; joint space (``wrap``,
    ``difference``, ``distance``, ``within_limits``, ``sample``).
    ``arm_kinematics``: ``ArmKinematics``: ``forward``, ``end_effector``,
    ``move_floats``, ``forward_floats``, ``inverse``, ``inverse_many``.
    ``arm_collision``: ``ArmCollisions``: ``in_collision``, ``in_collision_grid``,
    ``motion_collides``.
    ``arm``: ``PlanarArm`` and ``PlanarArm.plan``.

Examples
--------
>>> import planners
>>> grid = planners.GridMap.from_ascii('''
... ..#
... ...
... ''')
>>> grid.plan((0, 0), (1, 2)).path
[(0, 0), (1, 1), (1, 2)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from planners import cspace, movingai
from planners.arm import Box, Circle, Obstacle, PlanarArm
from planners.cspace import ArmPlan
from planners.graph import (
    NoPath,
    Weight,
    astar_path,
    astar_path_length,
    bidirectional_dijkstra,
    dijkstra_path,
    dijkstra_path_length,
)
from planners.graph import distance_field as _graph_distance_field
from planners.grid import MOVES_4, MOVES_8, GridMap, Plan

__version__ = "0.1.0"

__all__ = [
    "MOVES_4",
    "MOVES_8",
    "ArmPlan",
    "Box",
    "Circle",
    "GridMap",
    "NoPath",
    "Obstacle",
    "Plan",
    "PlanarArm",
    "astar_path",
    "astar_path_length",
    "bidirectional_dijkstra",
    "cspace",
    "dijkstra_path",
    "dijkstra_path_length",
    "distance_field",
    "movingai",
]


def distance_field(
    G_or_grid: Any, goals: Iterable[Any], *, weight: Weight = "weight", connectivity: int = 8
) -> dict[Any, float] | npt.NDArray[np.float64]:
    """Cost-to-go from every node (or cell) to the nearest goal.

    Parameters
    ----------
    G_or_grid : networkx.Graph or GridMap
        Where to measure.
    goals : iterable
        Goal nodes, or ``(row, col)`` cells for a grid (one cell alone is accepted).
    weight : str or callable, default "weight"
        Edge cost for a graph, as in :func:`astar_path`; ignored for a grid.
    connectivity : {4, 8}, default 8
        Moves on a grid; ignored for a graph.

    Returns
    -------
    dict or numpy.ndarray
        ``{node: cost}`` for a graph (unreachable nodes absent); a float array with
        ``inf`` where unreachable for a grid.

    Examples
    --------
    >>> import networkx as nx
    >>> distance_field(nx.path_graph(3), [0])
    {0: 0, 1: 1, 2: 2}
    >>> distance_field(GridMap.from_ascii("..."), [(0, 2)])
    array([[2., 1., 0.]])
    """
    if isinstance(G_or_grid, GridMap):
        cells: Sequence[Any] = list(goals)
        return G_or_grid.distance_field(cells, connectivity=connectivity)  # type: ignore[arg-type]
    return _graph_distance_field(G_or_grid, goals, weight=weight)
