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

from envs.arm.episode import EpisodeSampler, FixedObstacles, ObstacleLayout, RandomObstacles
from planners import Circle, Obstacle, PlanarArm
from planners.arm import MAX_JOINTS

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
#: Smallest side of a pixel observation or frame.
MIN_PIXELS = 16
#: The shown square is this many times the reach, around the base.
VIEW_MARGIN = 1.1


def _positive(value: object, name: str, *, upper: float = math.inf) -> float:
    if (
        not isinstance(value, int | float | np.number)
        or isinstance(value, bool)
        or not (math.isfinite(float(value)) and 0 < float(value) <= upper)
    ):
        bound = "" if upper == math.inf else f" and <= {upper:.6g}"
        raise ValueError(f"{name} must be a finite number > 0{bound}, got {value!r}")
    return float(value)


def _pixels(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int | np.integer) else value
    try:
        height, width = (int(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be an int or a (height, width) pair, got {value!r}"
        ) from None
    if min(height, width) < MIN_PIXELS:
        raise ValueError(f"{name} must be at least {MIN_PIXELS} pixels, got {value!r}")
    return height, width


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
        self.arm = arm = PlanarArm(self._link_lengths(n_links, link_lengths), joint_limits)
        n = self.n_joints = arm.n_joints
        self.reach = arm.max_reach
        self.extent = VIEW_MARGIN * self.reach

        # ---- obstacles
        if isinstance(obstacles, ObstacleLayout):
            layout: ObstacleLayout = obstacles
        elif obstacles is not None:
            layout = FixedObstacles(list(obstacles))
        else:
            layout = FixedObstacles()
        if not isinstance(n_obstacles, int | np.integer) or n_obstacles < 0:
            raise ValueError(f"n_obstacles must be an int >= 0, got {n_obstacles!r}")
        if n_obstacles:
            if obstacles is not None:
                raise ValueError(
                    "pass either obstacles= (fixed obstacles or a layout) or n_obstacles= "
                    "(random obstacles), not both"
                )
            layout = RandomObstacles(int(n_obstacles))
        self.layout = layout
        self.n_slots = layout.max_count

        # ---- goal, start, success
        if success_radius is None:
            success_radius = 0.05 * self.reach
        self.success_radius = _positive(success_radius, "success_radius")
        fixed = layout.sample(np.random.default_rng(0), self.reach) if layout.fixed else ()
        scene = PlanarArm(arm.link_lengths, joint_limits, fixed)
        self.goal = None if goal is None else self._check_goal(scene, goal)
        self.start = None if start is None else self._check_start(scene, start)
        if self.start is not None and self.goal is not None:
            gap = float(np.hypot(*(scene.end_effector(self.start) - self.goal)))
            if gap <= self.success_radius:
                raise ValueError(
                    f"start puts the end effector {gap:.4g} from goal, within success_radius "
                    f"= {self.success_radius:.4g}: every episode would start solved"
                )
        if plan_resolution_deg is not None:
            plan_resolution_deg = _positive(plan_resolution_deg, "plan_resolution_deg", upper=45)
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

        # ---- actions
        self.discrete = bool(discrete)
        self.max_step = _positive(max_step, "max_step", upper=math.pi / 2)
        levers = float(np.sum(np.arange(1, n + 1) * arm.link_lengths))
        if discrete_step is None:
            # per-joint errors of at most step/2 then move the end effector at most
            # step/2 * levers: within success_radius, so the lattice reaches every goal
            discrete_step = min(self.max_step, 0.999 * 2 * self.success_radius / levers)
        self.discrete_step = _positive(discrete_step, "discrete_step", upper=math.pi / 2)
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

        # ---- reward and episode end
        if reward_type not in REWARD_TYPES:
            raise ValueError(
                f"reward_type must be one of {list(REWARD_TYPES)}, got {reward_type!r}"
            )
        self.reward_type = reward_type
        self.terminate_on_success = bool(terminate_on_success)
        if (
            not isinstance(max_steps, int | np.integer)
            or isinstance(max_steps, bool)
            or max_steps < 1
        ):
            raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")
        self.max_steps = int(max_steps)

        # ---- observations and rendering
        if obs not in OBS_MODES:
            raise ValueError(f"obs must be one of {list(OBS_MODES)}, got {obs!r}")
        self.obs = obs
        self.pixel_shape = _pixels(pixel_size, "pixel_size")
        self.render_shape = _pixels(render_size, "render_size")
        self.render_path = bool(render_path)
        self.obs_size = 3 * n + 2 + FEATURES_PER_OBSTACLE * self.n_slots
        self.fixed_features = obstacle_features(fixed, self.n_slots)
        self.observation_space = self._observation_space(layout)

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _link_lengths(n_links: int | None, link_lengths: Sequence[float] | None) -> Any:
        if n_links is not None and (
            not isinstance(n_links, int | np.integer)
            or isinstance(n_links, bool)
            or not 1 <= n_links <= MAX_JOINTS
        ):
            raise ValueError(f"n_links must be an int from 1 to {MAX_JOINTS}, got {n_links!r}")
        if link_lengths is None:
            count = 2 if n_links is None else int(n_links)
            return np.full(count, 1.0 / count)  # a reach of 1
        lengths = np.asarray(link_lengths, dtype=np.float64).reshape(-1)
        if n_links is not None and lengths.size != n_links:
            raise ValueError(
                f"n_links = {n_links} but link_lengths has {lengths.size} entries: give one "
                "of them, or make them agree"
            )
        return lengths  # PlanarArm checks the values and names link_lengths

    def _check_goal(self, scene: PlanarArm, goal: Sequence[float]) -> FloatArray:
        target = np.asarray(goal, dtype=np.float64)
        if target.shape != (2,) or not np.isfinite(target).all():
            raise ValueError(f"goal must be a finite (x, y) point, got {goal!r}")
        dist = float(np.hypot(*target))
        slack = 1e-9 * self.reach
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
                f"goal = {tuple(target.tolist())}: every arm configuration reaching it hits an "
                "obstacle"
            )
        return target

    def _check_start(self, scene: PlanarArm, start: Sequence[float]) -> FloatArray:
        q = np.asarray(start, dtype=np.float64)
        if q.shape != (self.n_joints,) or not np.isfinite(q).all():
            raise ValueError(
                f"start must be {self.n_joints} finite joint angles (radians), got {start!r}"
            )
        if scene.in_collision(q):
            raise ValueError(
                f"start = {q.tolist()} is outside the joint limits or hits an obstacle"
            )
        return scene.wrap(q)

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
            if isinstance(action, np.ndarray) and action.shape == ():
                action = action.item()
            if (
                isinstance(action, int | np.integer)
                and not isinstance(action, bool)
                and 0 <= action < self.n_actions
            ):
                return self.increments[int(action)] * self.discrete_step
            raise ValueError(
                f"action {action!r} is outside the action space Discrete({self.n_actions}): "
                f"give an int in 0..{self.n_actions - 1}"
            )
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
