"""Episodes of ArmReach: obstacles, a start configuration, a goal point and the plan.

:class:`EpisodeSampler` is shared by :class:`~envs.arm.env.ArmReachEnv` and
:class:`~envs.arm.vector.ArmReachVectorEnv`, so both draw the same episode from the
same random generator. Kinematics, collisions and the optimal path all come from the
planner (:class:`planners.PlanarArm` and :meth:`~planners.PlanarArm.plan`); an episode
is only returned once the planner has found a collision-free path, so every episode
is solvable.

Obstacle families follow Minigrid's ``_gen_grid`` idea: an :class:`ObstacleLayout`
is one small method, :meth:`~ObstacleLayout.sample`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, cast

import numpy as np
import numpy.typing as npt

from planners import ArmPlan, Box, Circle, NoPath, Obstacle, PlanarArm
from planners.cspace import plan_reach

__all__ = [
    "MAX_ATTEMPTS",
    "Episode",
    "EpisodeSampler",
    "FixedObstacles",
    "ObstacleLayout",
    "RandomObstacles",
]

FloatArray = npt.NDArray[np.float64]

#: Attempts at drawing a solvable episode before giving up with a RuntimeError.
MAX_ATTEMPTS = 100
#: Configurations drawn at a time when looking for a collision-free one.
_CONFIG_BATCH = 16


class ObstacleLayout(ABC):
    """A family of obstacle sets; :meth:`sample` draws one set per episode.

    Attributes
    ----------
    max_count : int
        The most obstacles a set holds (the number of observation slots).
    fixed : bool
        Whether every set is the same (then it is drawn without randomness).
    """

    max_count: int = 0
    fixed: bool = False

    @abstractmethod
    def sample(self, rng: np.random.Generator, reach: float) -> tuple[Obstacle, ...]:
        """Return the obstacles of one episode for an arm of ``reach`` based at the origin."""

    @abstractmethod
    def bound(self, reach: float) -> float:
        """Return the largest centre coordinate or half size (absolute) of any obstacle."""


class FixedObstacles(ObstacleLayout):
    """The same obstacles in every episode (none by default).

    Examples
    --------
    >>> FixedObstacles([Circle((0.5, 0.5), 0.1)]).sample(np.random.default_rng(0), 1.0)
    (Circle(center=(0.5, 0.5), radius=0.1),)
    """

    fixed = True

    def __init__(self, obstacles: Sequence[Obstacle] = ()) -> None:
        self.obstacles = tuple(obstacles)
        for i, obs in enumerate(self.obstacles):
            if not isinstance(obs, Circle | Box):
                raise ValueError(
                    f"obstacles[{i}] is {obs!r}; expected a planners.Circle or planners.Box"
                )
        self.max_count = len(self.obstacles)

    def sample(self, rng: np.random.Generator, reach: float) -> tuple[Obstacle, ...]:
        """Return the fixed obstacles (``rng`` is not used)."""
        return self.obstacles

    def bound(self, reach: float) -> float:
        """Return the largest centre coordinate or half size of the obstacles (0 if none)."""
        values = [0.0]
        for obs in self.obstacles:
            if isinstance(obs, Circle):
                values += [abs(obs.center[0]), abs(obs.center[1]), obs.radius]
            else:
                values += [abs(v) for v in obs.lo + obs.hi]
        return max(values)


class RandomObstacles(ObstacleLayout):
    """``count`` random discs and boxes around the arm.

    Each obstacle is a disc or an axis-aligned box with equal odds, centred at a
    uniformly random angle and a distance from the base uniform in ``distance``
    (fractions of the reach); a disc's radius and a box's half sides are uniform in
    ``size`` (fractions of the reach). With the defaults no obstacle touches the
    base, so collision-free configurations always exist; whether start and goal are
    connected is left to the planner (the sampler retries until they are).

    Parameters
    ----------
    count : int
        Obstacles per episode, at least 1.
    distance : (float, float), default (0.3, 0.95)
        Range of the centres' distances from the base, as fractions of the reach.
    size : (float, float), default (0.05, 0.12)
        Range of radii and half sides, as fractions of the reach.

    Examples
    --------
    >>> layout = RandomObstacles(2)
    >>> [type(o).__name__ for o in layout.sample(np.random.default_rng(1), reach=1.0)]
    ['Box', 'Circle']
    """

    def __init__(
        self,
        count: int,
        *,
        distance: tuple[float, float] = (0.3, 0.95),
        size: tuple[float, float] = (0.05, 0.12),
    ) -> None:
        if not isinstance(count, int | np.integer) or isinstance(count, bool) or count < 1:
            raise ValueError(f"count (n_obstacles) must be an int >= 1, got {count!r}")
        for name, (lo, hi) in (("distance", distance), ("size", size)):
            if not 0 < lo <= hi:
                raise ValueError(f"{name} must be a range 0 < lo <= hi, got {(lo, hi)}")
        self.count = self.max_count = int(count)
        self.distance = (float(distance[0]), float(distance[1]))
        self.size = (float(size[0]), float(size[1]))

    def bound(self, reach: float) -> float:
        """Return ``reach`` times the largest distance or size fraction."""
        return reach * max(self.distance[1], self.size[1])

    def sample(self, rng: np.random.Generator, reach: float) -> tuple[Obstacle, ...]:
        """Draw ``count`` obstacles (one batch of uniform numbers from ``rng``)."""
        u = rng.random((self.count, 5))
        rho = reach * (self.distance[0] + (self.distance[1] - self.distance[0]) * u[:, 1])
        angle = 2.0 * math.pi * u[:, 2]
        sizes = reach * (self.size[0] + (self.size[1] - self.size[0]) * u[:, 3:])
        out: list[Obstacle] = []
        for k in range(self.count):
            cx, cy = float(rho[k] * np.cos(angle[k])), float(rho[k] * np.sin(angle[k]))
            if u[k, 0] < 0.5:
                out.append(Circle((cx, cy), float(sizes[k, 0])))
            else:
                hx, hy = float(sizes[k, 0]), float(sizes[k, 1])
                out.append(Box((cx - hx, cy - hy), (cx + hx, cy + hy)))
        return tuple(out)


@dataclass(frozen=True)
class Episode:
    """Everything fixed for one episode.

    Attributes
    ----------
    arm : PlanarArm
        The arm with this episode's obstacles.
    start : ndarray, shape (n,)
        Collision-free start configuration, within the joint limits (continuous joints
        in ``[-pi, pi)``). Read-only.
    goal : ndarray, shape (2,)
        Goal point for the end effector, more than the success radius from the start's
        end effector. Read-only.
    plan : ArmPlan
        The planner's collision-free path from ``start`` to a configuration putting
        the end effector on ``goal``.
    """

    arm: PlanarArm
    start: FloatArray
    goal: FloatArray
    plan: ArmPlan

    @property
    def optimal_length(self) -> float:
        """The planner's joint-space path length from the start to the goal."""
        return self.plan.cost


class _Draw(NamedTuple):
    """One attempt at an episode, before the checks and the planning."""

    arm: PlanarArm
    start: FloatArray
    goal_q: FloatArray | None  # the goal's configuration; None for a fixed goal point


class EpisodeSampler:
    """Draws solvable episodes for an arm, from a random generator only.

    Parameters
    ----------
    arm : PlanarArm
        The arm without obstacles (link lengths and joint limits).
    layout : ObstacleLayout
        Where the obstacles come from.
    success_radius : float
        The start's end effector is kept further than this from the goal.
    start : array_like, shape (n,), optional
        Fixed start configuration; random (collision-free, uniform) by default.
    goal : array_like, shape (2,), optional
        Fixed goal point; by default the end effector of a random collision-free
        configuration, so the goal is reachable.
    resolution_deg : float, optional
        Grid resolution of the planner (its default when ``None``).

    Examples
    --------
    >>> sampler = EpisodeSampler(PlanarArm([0.5, 0.5]), FixedObstacles(), success_radius=0.05)
    >>> episode = sampler.sample(np.random.default_rng(0))
    >>> episode.plan.method, round(episode.optimal_length, 4)
    ('direct', 1.867)
    """

    def __init__(
        self,
        arm: PlanarArm,
        layout: ObstacleLayout,
        *,
        success_radius: float,
        start: npt.ArrayLike | None = None,
        goal: npt.ArrayLike | None = None,
        resolution_deg: float | None = None,
    ) -> None:
        self.arm = arm
        self.layout = layout
        self.success_radius = float(success_radius)
        self.start = None if start is None else np.asarray(start, dtype=np.float64)
        self.goal = None if goal is None else np.asarray(goal, dtype=np.float64)
        self.resolution_deg = resolution_deg
        self._fixed_arm = (
            self._with_obstacles(layout.sample(np.random.default_rng(), 1))
            if layout.fixed
            else None
        )
        self._needs_check = layout.max_count > 0 or not bool(arm.continuous.all())

    @property
    def fixed_arm(self) -> PlanarArm | None:
        """The arm with its obstacles when they never change, else ``None``."""
        return self._fixed_arm

    def sample(self, rng: np.random.Generator) -> Episode:
        """Draw one solvable episode: ``sample_many([rng])[0]``.

        Raises
        ------
        RuntimeError
            If no solvable episode was found in :data:`MAX_ATTEMPTS` attempts (e.g. a
            fixed goal that obstacles or a fixed start cut off).
        """
        return self.sample_many([rng])[0]

    def sample_many(self, rngs: Sequence[np.random.Generator]) -> list[Episode]:
        """Draw one solvable episode from each random generator.

        Each attempt draws the obstacles, a start and a goal from the episode's
        generator (and nothing else does), keeps them if the start's end effector is
        further than ``success_radius`` from the goal and the planner finds a path,
        and otherwise tries again: episode ``i`` is the same as ``sample(rngs[i])``
        returns. The work is batched over the episodes: forward kinematics, and with
        fixed obstacles the planning (:func:`planners.cspace.plan_reach`: one batch
        of closed-form inverse kinematics for up to two joints, so free space costs
        no search at all).

        Raises
        ------
        RuntimeError
            If an episode found no solvable draw in :data:`MAX_ATTEMPTS` attempts.
        """
        episodes: list[Episode | None] = [None] * len(rngs)
        todo = list(range(len(rngs)))
        for _ in range(MAX_ATTEMPTS):
            owners, draws = [], []
            for i in todo:
                if (draw := self._draw(rngs[i])) is not None:
                    owners.append(i)
                    draws.append(draw)
            if draws:
                starts = np.stack([d.start for d in draws])
                start_points, goals = self._end_points(starts, [d.goal_q for d in draws])
                apart = np.hypot(*(start_points - goals).T) > self.success_radius
                keep = np.flatnonzero(apart).tolist()
                starts.flags.writeable = goals.flags.writeable = False
                plans = self._plans([draws[k].arm for k in keep], starts[keep], goals[keep])
                for k, plan in zip(keep, plans, strict=True):
                    if plan is not None:
                        episodes[owners[k]] = Episode(
                            arm=draws[k].arm, start=starts[k], goal=goals[k], plan=plan
                        )
            todo = [i for i in todo if episodes[i] is None]
            if not todo:
                return cast(list[Episode], episodes)
        raise RuntimeError(
            f"no solvable episode in {MAX_ATTEMPTS} attempts (the planner found no "
            "collision-free path every time): use fewer or smaller obstacles, or check "
            "that the fixed start/goal are not cut off by obstacles"
        )

    def _with_obstacles(self, obstacles: Sequence[Obstacle]) -> PlanarArm:
        arm = self.arm
        return PlanarArm(arm.link_lengths, arm.joint_limits, obstacles, base=arm.base)

    def _draw(self, rng: np.random.Generator) -> _Draw | None:
        """What one attempt draws from ``rng``; ``None`` when the attempt failed already."""
        arm = self._fixed_arm
        if arm is None:
            arm = self._with_obstacles(self.layout.sample(rng, self.arm.max_reach))
        start = self.start if self.start is not None else self._free_config(arm, rng)
        if start is None or (self.start is not None and arm.in_collision(start)):
            return None
        if self.goal is not None:
            return _Draw(arm, start, None)
        goal_q = self._free_config(arm, rng)
        return None if goal_q is None else _Draw(arm, start, goal_q)

    def _end_points(
        self, starts: FloatArray, goal_qs: list[FloatArray | None]
    ) -> tuple[FloatArray, FloatArray]:
        """The start's end effector and the goal point of every draw, each ``(m, 2)``.

        The goal is the fixed one or the end effector of the goal configuration; one
        batch of forward kinematics does both.
        """
        if self.goal is not None:
            return self.arm.end_effector(starts), np.tile(self.goal, (len(starts), 1))
        both = np.concatenate([starts, np.stack(cast(list[FloatArray], goal_qs))])
        points = self.arm.end_effector(both)
        return points[: len(starts)], points[len(starts) :]

    def _plans(
        self, arms: list[PlanarArm], starts: FloatArray, goals: FloatArray
    ) -> list[ArmPlan | None]:
        """The planner's path of each draw, or ``None`` where it found none."""
        if self._fixed_arm is not None:
            return plan_reach(self._fixed_arm, starts, goals, resolution_deg=self.resolution_deg)
        plans: list[ArmPlan | None] = []
        for arm, start, goal in zip(arms, starts, goals, strict=True):
            try:
                plans.append(
                    arm.plan(start, goal, goal_kind="xy", resolution_deg=self.resolution_deg)
                )
            except NoPath:
                plans.append(None)
        return plans

    def _free_config(self, arm: PlanarArm, rng: np.random.Generator) -> FloatArray | None:
        """A uniformly random valid configuration, or ``None`` if a batch found none.

        Drawn within the joint limits, so continuous joints lie in ``[-pi, pi)``.
        """
        if not self._needs_check:
            return arm.sample(1, rng)[0]
        batch = arm.sample(_CONFIG_BATCH, rng)
        free = np.flatnonzero(~arm.in_collision(batch))
        return batch[free[0]] if free.size else None
