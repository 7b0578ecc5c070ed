"""Collision-free motion planning in the joint space of a :class:`~planners.arm.PlanarArm`.

Arms of up to three joints are planned on a regular grid over joint space (a torus for
continuous joints) searched with :func:`scipy.sparse.csgraph.dijkstra`
(:mod:`planners.cspace_grid`); longer arms on a probabilistic roadmap searched with
:func:`planners.graph.astar_path` (:mod:`planners.cspace_prm`). Either way every
segment of a returned path passes :meth:`PlanarArm.motion_collides`. This module holds
the entry points: checking the options, the goal configurations and the straight
motion tried first. The planners see an arm only through
:class:`~planners.arm_plan.ArmLike`.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from planners.arm_plan import ArmLike
from planners.arm_plan import ArmPlan as ArmPlan
from planners.cspace_grid import MAX_CELLS as MAX_CELLS
from planners.cspace_grid import grid_plan
from planners.cspace_prm import prm_plan
from planners.graph import NoPath
from planners.joints import FloatArray

__all__ = ["ArmPlan", "plan", "plan_reach"]

GRID_MAX_JOINTS = 3


def plan(
    arm: ArmLike,
    q_start: ArrayLike,
    goal: ArrayLike,
    *,
    goal_kind: Literal["auto", "q", "xy"] = "auto",
    method: Literal["auto", "grid", "prm"] = "auto",
    resolution_deg: float | None = None,
    samples: int = 1500,
    neighbors: int = 12,
    seed: int = 0,
) -> ArmPlan:
    """Return a collision-free motion of ``arm`` from ``q_start`` to ``goal``.

    A straight motion to the nearest goal configuration is tried first (if free, it is
    optimal). Otherwise ``method="grid"`` discretises every joint at ``resolution_deg``
    (continuous joints wrap round), marks the colliding cells in one batch, joins each
    free cell to its free neighbours (8 in 2-D, 26 in 3-D; an edge costs its joint-space
    length) and runs Dijkstra's algorithm; ``q_start`` and each goal configuration join
    the corners of their grid boxes. Edges are checked at their midpoints while the
    graph is built (at 1 degree that is every sample :meth:`PlanarArm.motion_collides`
    takes) and fully on the path found; a failing edge is removed and the search rerun.
    So the path is a shortest one over the grid edges that pass ``motion_collides``.
    ``method="prm"`` samples ``samples`` configurations, joins each to its ``neighbors``
    nearest in joint space, keeps the edges whose motions are free, runs A* with the
    joint-space distance as heuristic and shortcuts the path: probabilistically
    complete, not optimal.

    Parameters
    ----------
    arm : PlanarArm
        The arm and its obstacles.
    q_start : array_like, shape (n,)
        Start configuration; it must be valid (not :meth:`PlanarArm.in_collision`).
    goal : array_like, shape (n,) or (2,)
        Goal configuration, or end-effector position; any collision-free inverse
        kinematics solution of a position is an acceptable end (see
        :meth:`PlanarArm.inverse`; for three or more joints a sample of the solutions).
    goal_kind : {"auto", "q", "xy"}, default "auto"
        How to read ``goal``; ``"auto"`` goes by its length, which is ambiguous for a
        two-joint arm, so there it must be given.
    method : {"auto", "grid", "prm"}, default "auto"
        ``"auto"`` is ``"grid"`` for up to 3 joints, ``"prm"`` beyond.
    resolution_deg : float, optional
        Grid spacing in degrees, at most 45. Default 1 for up to two joints, 5 for three.
    samples : int, default 1500
        Roadmap size (PRM).
    neighbors : int, default 12
        Nearest neighbours each roadmap node is joined to (PRM).
    seed : int, default 0
        Seed of the roadmap samples and of the inverse kinematics restarts.

    Returns
    -------
    ArmPlan

    Raises
    ------
    ValueError
        If an argument is malformed, or ``q_start`` or a goal configuration is invalid
        (in collision or outside the joint limits); the message names it.
    NoPath
        If no collision-free motion to the goal was found (enclosed, or an
        end-effector goal outside the reach or reachable only in collision).

    Examples
    --------
    >>> from planners.arm import Box, PlanarArm
    >>> arm = PlanarArm([1.0, 1.0], obstacles=[Box((0.8, -0.3), (1.2, 0.3))])
    >>> result = plan(arm, [0.5, 0.0], [-0.5, 0.0], goal_kind="q")
    >>> result.method, round(result.cost, 4)  # the long way round: 2 pi - 1
    ('grid', 5.2832)
    >>> plan(arm, [0.5, 0.0], [0.0, 2.0], goal_kind="xy").path[-1].round(4)
    array([1.5708, 0.    ])
    """
    n = arm.n_joints
    chosen, res = _check_options(n, method, resolution_deg, samples, neighbors)
    start = np.asarray(q_start, dtype=np.float64)
    if start.shape != (n,) or not np.isfinite(start).all():
        raise ValueError(f"q_start must be finite with shape ({n},), got {start.tolist()}")
    if arm.in_collision(start):
        raise ValueError(f"q_start = {start.tolist()} is in collision or outside the limits")
    goals = _goal_configurations(arm, goal, goal_kind, seed)
    # Any motion to goal g costs at least distance(start, g), so a free straight motion
    # to the nearest goal is optimal.
    lengths = arm.distance(start, goals)
    nearest = int(np.argmin(lengths))  # the first of equals, as a stable sort puts it
    if not arm.motion_collides(start, goals[nearest]):
        return _direct(start[None], goals[nearest][None], lengths[nearest][None])[0]
    goals = goals[np.argsort(lengths, kind="stable")]
    label = f"from q_start = {start.tolist()} to goal {np.asarray(goal).tolist()}"
    if chosen == "grid":
        return grid_plan(arm, start, goals, math.radians(res), label)
    rng = np.random.default_rng(seed)
    return prm_plan(arm, start, goals, samples, neighbors, rng, label)


def plan_reach(
    arm: ArmLike,
    q_starts: ArrayLike,
    goals: ArrayLike,
    *,
    method: Literal["auto", "grid", "prm"] = "auto",
    resolution_deg: float | None = None,
    samples: int = 1500,
    neighbors: int = 12,
    seed: int = 0,
) -> list[ArmPlan | None]:
    """Plan from many starts to end-effector points: :func:`plan` of each pair at once.

    Item ``i`` equals ``plan(arm, q_starts[i], goals[i], goal_kind="xy", ...)`` with the
    same options, or is ``None`` where that raises :class:`~planners.graph.NoPath`;
    ValueErrors are raised as :func:`plan` raises them. For arms of one or two joints
    it is much faster: the inverse kinematics (closed form,
    :meth:`~planners.arm.PlanarArm.inverse_many`), the nearest goal configurations and
    the checks of the straight motions to them run in one batch, and :func:`plan` runs
    only for the pairs whose straight motion is blocked or whose start is invalid. In
    free space without joint limits no motion is blocked, so none is checked: a batch
    of 4096 pairs takes about 10 milliseconds where :func:`plan` takes about 0.4 ms a
    pair. Longer arms are planned pair by pair.

    Parameters
    ----------
    arm : PlanarArm
        The arm and its obstacles.
    q_starts : array_like, shape (m, n)
        Start configurations.
    goals : array_like, shape (m, 2)
        End-effector goal points.
    method, resolution_deg, samples, neighbors, seed
        As for :func:`plan`.

    Returns
    -------
    list of ArmPlan or None

    Examples
    --------
    >>> from planners.arm import PlanarArm
    >>> arm = PlanarArm([1.0, 1.0])
    >>> [p.cost for p in plan_reach(arm, [[0.0, 0.0], [0.0, 1.0]], [[0.0, 2.0], [2.0, 0.0]])]
    [1.5707963267948966, 1.0]
    """
    n = arm.n_joints
    _check_options(n, method, resolution_deg, samples, neighbors)
    starts = np.asarray(q_starts, dtype=np.float64)
    targets = np.asarray(goals, dtype=np.float64)
    if starts.ndim != 2 or starts.shape[1] != n or targets.shape != (len(starts), 2):
        raise ValueError(
            f"q_starts must have shape (m, {n}) and goals shape (m, 2), got {starts.shape} "
            f"and {targets.shape}"
        )
    if not (np.isfinite(starts).all() and np.isfinite(targets).all()):
        raise ValueError("q_starts and goals must be finite")

    def one(i: int) -> ArmPlan | None:
        try:
            return plan(
                arm,
                starts[i],
                targets[i],
                goal_kind="xy",
                method=method,
                resolution_deg=resolution_deg,
                samples=samples,
                neighbors=neighbors,
                seed=seed,
            )
        except NoPath:
            return None

    if n > 2:
        return [one(i) for i in range(len(starts))]
    candidates, valid = arm.inverse_many(targets)  # (m, k, n), (m, k), within the limits
    if arm.obstacles:
        valid &= ~arm.in_collision(candidates)
    lengths = np.where(valid, arm.distance(starts[:, None, :], candidates), np.inf)
    nearest = np.argmin(lengths, axis=1)  # the first of equals, as plan() picks
    rows = np.arange(len(starts))
    ends, costs = candidates[rows, nearest], lengths[rows, nearest]
    start_ok = ~arm.in_collision(starts)
    reached = np.asarray(valid.any(axis=1))
    direct = start_ok & reached
    check = np.flatnonzero(direct)
    if check.size and (arm.obstacles or not arm.continuous.all()):
        direct[check] = ~arm.motion_collides(starts[check], ends[check])
    plans = _direct(starts, ends, costs)
    out: list[ArmPlan | None] = []
    flags = zip(direct.tolist(), start_ok.tolist(), reached.tolist(), strict=True)
    for i, (is_direct, ok, any_goal) in enumerate(flags):
        if is_direct:
            out.append(plans[i])
        elif ok and not any_goal:  # plan() raises NoPath: no valid goal configuration
            out.append(None)
        else:  # blocked straight motion (a search), or an invalid start (its ValueError)
            out.append(one(i))
    return out


def _check_options(
    n: int, method: str, resolution_deg: float | None, samples: int, neighbors: int
) -> tuple[str, float]:
    """Return the planning method and grid resolution (degrees) for ``n`` joints."""
    if method == "auto":
        method = "grid" if n <= GRID_MAX_JOINTS else "prm"
    if method not in ("grid", "prm"):
        raise ValueError(f"method must be 'auto', 'grid' or 'prm', got {method!r}")
    if method == "grid" and n > GRID_MAX_JOINTS:
        raise ValueError(f"method='grid' needs at most {GRID_MAX_JOINTS} joints, got {n}")
    res = resolution_deg if resolution_deg is not None else (1.0 if n <= 2 else 5.0)
    if not 0 < res <= 45:
        raise ValueError(f"resolution_deg must be in (0, 45], got {resolution_deg}")
    if samples < 1 or neighbors < 1:
        raise ValueError(f"samples and neighbors must be >= 1, got {samples}, {neighbors}")
    return method, res


def _direct(starts: FloatArray, ends: FloatArray, costs: FloatArray) -> list[ArmPlan]:
    """The plans of straight motions ``starts[i] -> ends[i]`` of length ``costs[i]``.

    As :func:`~planners.arm_plan.path_plan` makes them: an end equal to its start is not repeated.
    """
    paths = np.stack([starts, ends], axis=1)
    same = (starts == ends).all(axis=1).tolist()
    return [
        ArmPlan(path=path[:1] if still else path, cost=cost, method="direct", nodes=0)
        for path, still, cost in zip(paths, same, costs.tolist(), strict=True)
    ]


def _goal_configurations(arm: ArmLike, goal: ArrayLike, kind: str, seed: int) -> FloatArray:
    """Return the valid goal configurations, shape (g, n), g >= 1."""
    n = arm.n_joints
    target = np.asarray(goal, dtype=np.float64)
    if kind == "auto":
        if n == 2:
            raise ValueError(
                "goal is ambiguous for a 2-joint arm: pass goal_kind='q' (joint angles) "
                "or goal_kind='xy' (end-effector position)"
            )
        kind = "q" if target.shape == (n,) else "xy"
    if kind == "q":
        if target.shape != (n,) or not np.isfinite(target).all():
            raise ValueError(
                f"goal must be finite with shape ({n},) for goal_kind='q', got {target.tolist()}"
            )
        if arm.in_collision(target):
            raise ValueError(f"goal = {target.tolist()} is in collision or outside the limits")
        return target[None, :]
    if kind != "xy":
        raise ValueError(f"goal_kind must be 'auto', 'q' or 'xy', got {kind!r}")
    if target.shape != (2,):
        raise ValueError(f"goal must have shape (2,) for goal_kind='xy', got {target.shape}")
    try:
        # a redundant arm has a continuum of solutions: take a generous sample of them
        solutions = arm.inverse(target, restarts=32, seed=seed)
    except ValueError as err:
        raise NoPath(f"goal {target.tolist()} is out of reach: {err}") from None
    valid = [q for q in solutions if not arm.in_collision(q)]
    if not valid:
        within = "" if arm.continuous.all() else " within the joint limits"
        raise NoPath(f"goal {target.tolist()}: no inverse kinematics solution{within} is free")
    return np.stack(valid)
