"""The validated arguments of ArmReach, shared by the single and the vector environment.

Both :class:`~envs.arm.env.ArmReachEnv` and :class:`~envs.arm.vector.ArmReachVectorEnv`
build one :class:`ArmReachConfig` from the same keyword arguments, so they accept and
reject exactly the same things, with the same messages, and share the action
decoding, the reward and the observation layout.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from envs.arm.checks import MIN_PIXELS as MIN_PIXELS  # re-exported: it lived here
from envs.arm.checks import (
    check_goal,
    check_link_lengths,
    check_start,
    obstacle_layout,
    one_of,
    pixel_shape,
    positive,
)
from envs.arm.episode import EpisodeSampler, ObstacleLayout
from envs.base import check_discrete_action
from planners import Circle, Obstacle, PlanarArm
from planners.cspace import GRID_MAX_JOINTS
from planners.cspace_grid import grid_extents

__all__ = [
    "DEFAULT_MAX_STEP",
    "OBS_MODES",
    "REWARD_TYPES",
    "ArmReachConfig",
    "obstacle_features",
]

FloatArray = npt.NDArray[np.float64]

#: Observation modes accepted by ``obs=``.
OBS_MODES = ("dict", "flat", "pixels")
#: Rewards accepted by ``reward_type=``.
REWARD_TYPES = ("sparse", "dense")
#: Largest joint change of one step (radians) when ``max_step`` is not given.
DEFAULT_MAX_STEP = 0.1
#: Numbers describing one obstacle in the observation: kind, centre x, y, half sizes x, y.
FEATURES_PER_OBSTACLE = 5
# box actions of these dtypes are read without numpy (change_floats)
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: The shown square is this many times the reach, around the base.
VIEW_MARGIN = 1.1


def _numeric(value: object) -> npt.NDArray[Any] | None:
    """``value`` as a numeric (not bool) array, or ``None``."""
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.bool_):
        return None
    return a


def obstacle_features(obstacles: Sequence[Obstacle], slots: int) -> FloatArray:
    """The obstacles as ``slots`` rows of (kind, centre x, centre y, half size x, half size y).

    Kind is 1 for a disc (half sizes: the radius), -1 for a box; unused rows are 0.

    Examples
    --------
    >>> from planners import Box
    >>> obstacle_features([Circle((0.5, 0.0), 0.1), Box((0.0, 0.2), (0.2, 0.6))], 3)
    array([ 1. ,  0.5,  0. ,  0.1,  0.1, -1. ,  0.1,  0.4,  0.1,  0.2,  0. ,  0. ,  0. ,
            0. ,  0. ])
    """
    out = np.zeros((slots, FEATURES_PER_OBSTACLE))
    for k, obs in enumerate(obstacles):
        if isinstance(obs, Circle):
            out[k] = (1.0, *obs.center, obs.radius, obs.radius)
        else:
            out[k, 0] = -1.0
            out[k, 1:3] = (np.add(obs.lo, obs.hi)) / 2
            out[k, 3:5] = (np.subtract(obs.hi, obs.lo)) / 2
    return out.ravel()


class ArmReachConfig:
    """Arguments of an ArmReach environment, checked; see :class:`~envs.arm.env.ArmReachEnv`.

    Raises
    ------
    ValueError
        Naming the argument, for any argument out of its range or inconsistent with
        another (e.g. a ``goal`` outside the reachable annulus).

    Examples
    --------
    >>> cfg = ArmReachConfig(n_links=3, discrete=True)
    >>> cfg.action_space, cfg.observation_space.shape
    (Discrete(27), (13,))
    >>> cfg.check_action(13)  # the middle action keeps every joint still
    array([0., 0., 0.])
    """

    def __init__(
        self,
        *,
        n_links: int | None = None,
        link_lengths: Sequence[float] | None = None,
        joint_limits: Sequence[tuple[float, float] | None] | None = None,
        obstacles: Sequence[Obstacle] | ObstacleLayout | None = None,
        n_obstacles: int = 0,
        start: Sequence[float] | None = None,
        goal: Sequence[float] | None = None,
        obs: str = "flat",
        discrete: bool = False,
        max_step: float = DEFAULT_MAX_STEP,
        discrete_step: float | None = None,
        reward_type: str = "sparse",
        success_radius: float | None = None,
        terminate_on_success: bool = True,
        max_steps: int = 200,
        pixel_size: int | tuple[int, int] = 64,
        render_size: int | tuple[int, int] = 256,
        render_path: bool = False,
        plan_resolution_deg: float | None = None,
    ) -> None:
        self.arm = arm = PlanarArm(check_link_lengths(n_links, link_lengths), joint_limits)
        self.n_joints = arm.n_joints
        self.reach = arm.max_reach
        self.extent = VIEW_MARGIN * self.reach
        self.layout = obstacle_layout(obstacles, n_obstacles)
        self.n_slots = self.layout.max_count
        fixed = self._init_episodes(joint_limits, start, goal, success_radius, plan_resolution_deg)
        self._init_actions(discrete, max_step, discrete_step)
        self._init_episode_end(reward_type, terminate_on_success, max_steps)
        self._init_observations(obs, pixel_size, render_size, render_path, fixed)

    # ------------------------------------------------------------------ checks, in order
    def _init_episodes(
        self,
        joint_limits: Sequence[tuple[float, float] | None] | None,
        start: Sequence[float] | None,
        goal: Sequence[float] | None,
        success_radius: float | None,
        plan_resolution_deg: float | None,
    ) -> Sequence[Obstacle]:
        """Goal, start, success radius and the episode sampler; returns the fixed obstacles."""
        arm, layout = self.arm, self.layout
        if success_radius is None:
            success_radius = 0.05 * self.reach
        self.success_radius = positive(success_radius, "success_radius")
        fixed = layout.sample(np.random.default_rng(0), self.reach) if layout.fixed else ()
        scene = PlanarArm(arm.link_lengths, joint_limits, fixed)
        self.goal = None if goal is None else check_goal(scene, goal, self.reach)
        self.start = None if start is None else check_start(scene, start)
        if self.start is not None and self.goal is not None:
            gap = float(np.hypot(*(scene.end_effector(self.start) - self.goal)))
            if gap <= self.success_radius:
                raise ValueError(
                    f"start puts the end effector {gap:.4g} from goal, within success_radius "
                    f"= {self.success_radius:.4g}: every episode would start solved"
                )
        if plan_resolution_deg is not None:
            plan_resolution_deg = positive(plan_resolution_deg, "plan_resolution_deg", upper=45)
            if arm.n_joints <= GRID_MAX_JOINTS:  # the grid planner: its size, checked now
                try:
                    grid_extents(scene, math.radians(plan_resolution_deg))
                except ValueError as error:
                    raise ValueError(f"plan_resolution_deg: {error}") from None
        self.plan_resolution_deg = plan_resolution_deg
        self.sampler = EpisodeSampler(
            arm,
            layout,
            success_radius=self.success_radius,
            start=self.start,
            goal=self.goal,
            resolution_deg=plan_resolution_deg,
        )
        self.fixed_arm = self.sampler.fixed_arm
        #: Whether a move must be checked (obstacles or joint limits).
        self.checks_motion = layout.max_count > 0 or not bool(arm.continuous.all())
        return fixed

    def _init_actions(self, discrete: bool, max_step: float, discrete_step: float | None) -> None:
        """Step sizes and the joint changes of the discrete actions."""
        n = self.n_joints
        self.discrete = bool(discrete)
        self.max_step = positive(max_step, "max_step", upper=math.pi / 2)
        levers = float(np.sum(np.arange(1, n + 1) * self.arm.link_lengths))
        if discrete_step is None:
            # per-joint errors of at most step/2 then move the end effector at most
            # step/2 * levers: within success_radius, so the lattice reaches every goal
            discrete_step = min(self.max_step, 0.999 * 2 * self.success_radius / levers)
        self.discrete_step = positive(discrete_step, "discrete_step", upper=math.pi / 2)
        #: Joint change of action ``k`` in steps: base-3 digits of ``k`` minus 1, joint 0 first.
        self.increments = np.array(list(itertools.product((-1.0, 0.0, 1.0), repeat=n)))
        self.increments.flags.writeable = False
        self.n_actions = 3**n
        self.still_action = (self.n_actions - 1) // 2
        self.step_size = self.discrete_step if self.discrete else self.max_step
        # the joint changes of the discrete actions, as floats (see change_floats)
        self._discrete_changes = [
            tuple(row) for row in (self.increments * self.discrete_step).tolist()
        ]

    def _init_episode_end(
        self, reward_type: str, terminate_on_success: bool, max_steps: int
    ) -> None:
        """Reward, termination and truncation."""
        self.reward_type = one_of(reward_type, "reward_type", REWARD_TYPES)
        self.terminate_on_success = bool(terminate_on_success)
        if (
            not isinstance(max_steps, int | np.integer)
            or isinstance(max_steps, bool)
            or max_steps < 1
        ):
            raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")
        self.max_steps = int(max_steps)

    def _init_observations(
        self,
        obs: str,
        pixel_size: int | tuple[int, int],
        render_size: int | tuple[int, int],
        render_path: bool,
        fixed: Sequence[Obstacle],
    ) -> None:
        """Observation mode and space, pixel and frame sizes."""
        self.obs = one_of(obs, "obs", OBS_MODES)
        self.pixel_shape = pixel_shape(pixel_size, "pixel_size")
        self.render_shape = pixel_shape(render_size, "render_size")
        self.render_path = bool(render_path)
        self.obs_size = 3 * self.n_joints + 2 + FEATURES_PER_OBSTACLE * self.n_slots
        self.fixed_features = obstacle_features(fixed, self.n_slots)
        self.observation_space = self._observation_space(self.layout)

    # ------------------------------------------------------------------ spaces
    def _observation_space(self, layout: ObstacleLayout) -> spaces.Space[Any]:
        n, e = self.n_joints, self.extent
        far = max(e, layout.bound(self.reach))
        low = np.concatenate(
            [
                -np.ones(3 * n),
                -np.full(2, e),
                np.tile([-1.0, -far, -far, 0.0, 0.0], self.n_slots),
            ]
        )
        high = np.concatenate(
            [np.ones(3 * n), np.full(2, e), np.tile([1.0, far, far, far, far], self.n_slots)]
        )
        goal_space = spaces.Box(-e, e, shape=(2,), dtype=np.float64)
        if self.obs == "dict":
            return spaces.Dict(
                {
                    "observation": spaces.Box(low, high, dtype=np.float64),
                    "achieved_goal": goal_space,
                    "desired_goal": goal_space,
                }
            )
        if self.obs == "flat":
            return spaces.Box(
                np.concatenate([low, goal_space.low]),
                np.concatenate([high, goal_space.high]),
                dtype=np.float64,
            )
        return spaces.Box(0, 255, shape=(*self.pixel_shape, 3), dtype=np.uint8)

    @property
    def action_space(self) -> spaces.Space[Any]:
        """``Box(-1, 1, (n,), float32)``, or ``Discrete(3**n)`` with ``discrete=True``."""
        if self.discrete:
            return spaces.Discrete(self.n_actions)
        return spaces.Box(-1.0, 1.0, shape=(self.n_joints,), dtype=np.float32)

    # ------------------------------------------------------------------ actions, reward
    def check_action(self, action: object) -> FloatArray:
        """The joint change (radians) of one action; ValueError naming a bad action."""
        if self.discrete:
            k = check_discrete_action(action, self.n_actions)
            return self.increments[k] * self.discrete_step
        return self._box_changes(action, (self.n_joints,), "action")

    def change_floats(self, action: object) -> Sequence[float]:
        """Return :meth:`check_action` as floats, quickly for the usual actions.

        An int of the discrete space, or a float32 or float64 array of shape ``(n,)``
        in ``[-1, 1]``, is read with plain Python; anything else goes through
        :meth:`check_action` (same values, same errors).

        Examples
        --------
        >>> ArmReachConfig(n_links=2).change_floats(np.array([1.0, -0.5], np.float32))
        [0.1, -0.05]
        """
        if self.discrete:
            if type(action) is int and 0 <= action < self.n_actions:
                return self._discrete_changes[action]
        elif (
            type(action) is np.ndarray
            and action.dtype in _FLOAT_DTYPES
            and action.shape == (self.n_joints,)
        ):
            step = self.max_step
            changes = [v * step for v in action.tolist() if -1.0 <= v <= 1.0]  # NaN fails
            if len(changes) == self.n_joints:
                return changes
        checked: list[float] = self.check_action(action).tolist()
        return checked

    def check_actions(self, actions: object, num_envs: int) -> FloatArray:
        """Joint changes ``(num_envs, n)`` of a batch of actions; ValueError naming a bad one."""
        if not self.discrete:
            return self._box_changes(actions, (num_envs, self.n_joints), "actions")
        a = _numeric(actions)
        if a is None or a.shape != (num_envs,) or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(
                f"actions must be {num_envs} ints in 0..{self.n_actions - 1}, got {actions!r}"
            )
        bad = np.flatnonzero((a < 0) | (a >= self.n_actions))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"action {a[i].item()!r} of env {i} is outside the action space "
                f"Discrete({self.n_actions}): give ints in 0..{self.n_actions - 1}"
            )
        return self.increments[a] * self.discrete_step

    def _box_changes(self, action: object, shape: tuple[int, ...], name: str) -> FloatArray:
        a = _numeric(action)
        if a is None or a.shape != shape:
            raise ValueError(f"{name} {action!r} must be numbers in [-1, 1] of shape {shape}")
        a = a.astype(np.float64)
        if (np.abs(a) <= 1.0).all():  # the common case first: one check (NaN fails it)
            return a * self.max_step
        if np.isnan(a).any():
            raise ValueError(f"{name} {action!r} contains NaN: give numbers in [-1, 1]")
        raise ValueError(
            f"{name} {action!r} is outside the action space Box(-1.0, 1.0, "
            f"({self.n_joints},)): every component must be in [-1, 1] (it scales max_step)"
        )

    def distances(self, achieved_goal: npt.ArrayLike, desired_goal: npt.ArrayLike) -> FloatArray:
        """Distances between end-effector points and goals, over the last axis."""
        diff = np.asarray(achieved_goal, dtype=np.float64) - np.asarray(
            desired_goal, dtype=np.float64
        )
        return np.asarray(np.sqrt((diff * diff).sum(axis=-1)))

    def reward(self, distance: FloatArray) -> FloatArray:
        """Sparse: -1 until within ``success_radius``, then 0. Dense: minus the distance."""
        if self.reward_type == "sparse":
            return np.where(distance > self.success_radius, -1.0, 0.0)
        return -distance

    def reward_float(self, distance: float) -> float:
        """:meth:`reward` of one distance, as a float."""
        if self.reward_type == "sparse":
            return -1.0 if distance > self.success_radius else 0.0
        return -distance
