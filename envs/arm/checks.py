"""Checks of single ArmReach arguments, each raising ValueError that names the argument.

:class:`~envs.arm.config.ArmReachConfig` runs them in the order of its signature, so
the first bad argument is the one reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from envs.arm.episode import FixedObstacles, ObstacleLayout, RandomObstacles
from envs.base import MIN_PIXELS as MIN_PIXELS  # re-exported: it lived here
from envs.base import pixel_shape as pixel_shape  # re-exported: it lived here
from planners import Obstacle, PlanarArm
from planners.arm import MAX_JOINTS

__all__ = [
    "MIN_PIXELS",
    "check_goal",
    "check_link_lengths",
    "check_start",
    "obstacle_layout",
    "one_of",
    "pixel_shape",
    "positive",
]

FloatArray = npt.NDArray[np.float64]
#: Most random obstacles: each is an observation slot, and beyond a few dozen no
#: episode of the unit-reach arm is solvable (reset would give up).
MAX_OBSTACLES = 32


def positive(value: object, name: str, *, upper: float = math.inf) -> float:
    """``value`` as a float, if it is a finite number in ``(0, upper]``.

    Examples
    --------
    >>> positive(2, "max_step")
    2.0
    >>> positive(0.0, "max_step", upper=1)
    Traceback (most recent call last):
    ...
    ValueError: max_step must be a finite number > 0 and <= 1, got 0.0
    """
    if (
        not isinstance(value, int | float | np.number)
        or isinstance(value, bool)
        or not (math.isfinite(float(value)) and 0 < float(value) <= upper)
    ):
        bound = "" if upper == math.inf else f" and <= {upper:.6g}"
        raise ValueError(f"{name} must be a finite number > 0{bound}, got {value!r}")
    return float(value)


def one_of(value: str, name: str, choices: Sequence[str]) -> str:
    """``value``, if it is one of ``choices``.

    Examples
    --------
    >>> one_of("flat", "obs", ("dict", "flat"))
    'flat'
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def _floats(value: object, name: str, what: str) -> FloatArray:
    """``value`` as a float array, or ``ValueError`` naming ``name`` and ``what`` it must be."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {what}, got {value!r}") from None


def check_link_lengths(n_links: int | None, link_lengths: Sequence[float] | None) -> Any:
    """The link lengths from ``n_links`` and/or ``link_lengths`` (default: 2 links, reach 1).

    Their values are left to :class:`planners.PlanarArm`, which names ``link_lengths``.

    Examples
    --------
    >>> check_link_lengths(4, None)
    array([0.25, 0.25, 0.25, 0.25])
    """
    if n_links is not None and (
        not isinstance(n_links, int | np.integer)
        or isinstance(n_links, bool)
        or not 1 <= n_links <= MAX_JOINTS
    ):
        raise ValueError(f"n_links must be an int from 1 to {MAX_JOINTS}, got {n_links!r}")
    if link_lengths is None:
        count = 2 if n_links is None else int(n_links)
        return np.full(count, 1.0 / count)  # a reach of 1
    lengths = _floats(link_lengths, "link_lengths", "positive link lengths").reshape(-1)
    if n_links is not None and lengths.size != n_links:
        raise ValueError(
            f"n_links = {n_links} but link_lengths has {lengths.size} entries: give one "
            "of them, or make them agree"
        )
    return lengths


def obstacle_layout(
    obstacles: Sequence[Obstacle] | ObstacleLayout | None, n_obstacles: int
) -> ObstacleLayout:
    """The obstacle layout: ``obstacles`` (fixed ones or a layout), or ``n_obstacles``
    random ones every reset, or none.

    Examples
    --------
    >>> obstacle_layout(None, 3).max_count
    3
    """
    if isinstance(obstacles, ObstacleLayout):
        layout: ObstacleLayout = obstacles
    elif obstacles is not None:
        layout = FixedObstacles(list(obstacles))
    else:
        layout = FixedObstacles()
    if not isinstance(n_obstacles, int | np.integer) or not 0 <= n_obstacles <= MAX_OBSTACLES:
        raise ValueError(
            f"n_obstacles must be an int >= 0 and <= {MAX_OBSTACLES}, got {n_obstacles!r}"
        )
    if n_obstacles:
        if obstacles is not None:
            raise ValueError(
                "pass either obstacles= (fixed obstacles or a layout) or n_obstacles= "
                "(random obstacles), not both"
            )
        layout = RandomObstacles(int(n_obstacles))
    return layout


def check_goal(scene: PlanarArm, goal: Sequence[float], reach: float) -> FloatArray:
    """``goal`` as an ``(x, y)`` array, if some collision-free configuration of ``scene``
    (the arm with its fixed obstacles, of the given ``reach``) puts the end effector there."""
    target = _floats(goal, "goal", "a finite (x, y) point")
    if target.shape != (2,) or not np.isfinite(target).all():
        raise ValueError(f"goal must be a finite (x, y) point, got {goal!r}")
    dist = float(np.hypot(*target))
    slack = 1e-9 * reach
    if not scene.min_reach - slack <= dist <= scene.max_reach + slack:
        raise ValueError(
            f"goal = {tuple(target.tolist())} is at distance {dist:.6g} from the base, "
            f"outside the reachable annulus [{scene.min_reach:.6g}, {scene.max_reach:.6g}]"
        )
    solutions = scene.inverse(target, restarts=32)
    if not solutions:
        raise ValueError(
            f"goal = {tuple(target.tolist())}: inverse kinematics found no solution "
            "(within the joint limits); move it off the edge of the reach"
        )
    if not any(not scene.in_collision(q) for q in solutions):
        raise ValueError(
            f"goal = {tuple(target.tolist())}: every arm configuration reaching it hits an obstacle"
        )
    return target


def check_start(scene: PlanarArm, start: Sequence[float]) -> FloatArray:
    """``start`` as joint angles (wrapped), if they are a valid configuration of ``scene``."""
    q = _floats(start, "start", f"{scene.n_joints} finite joint angles (radians)")
    if q.shape != (scene.n_joints,) or not np.isfinite(q).all():
        raise ValueError(
            f"start must be {scene.n_joints} finite joint angles (radians), got {start!r}"
        )
    if scene.in_collision(q):
        raise ValueError(f"start = {q.tolist()} is outside the joint limits or hits an obstacle")
    return scene.wrap(q)
