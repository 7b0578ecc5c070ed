"""ArmReachEnv: bring a planar arm's end effector to a goal point; the planner knows the way."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.error import ResetNeeded

from envs.arm.config import ArmReachConfig
from envs.arm.drawing import SceneView
from envs.arm.episode import Episode
from envs.arm.single import ArmSingle
from envs.base import PlannedEnv
from planners import ArmPlan, PlanarArm

__all__ = ["ArmReachEnv", "path_trace"]

FloatArray = npt.NDArray[np.float64]
RewardFunction = Callable[[npt.ArrayLike, npt.ArrayLike, Any], FloatArray]
FlagFunction = Callable[[npt.ArrayLike, npt.ArrayLike, Any], npt.NDArray[np.bool_]]
#: Largest joint change between the points of a drawn path trace (radians).
TRACE_STEP = 0.01


def path_trace(arm: PlanarArm, path: FloatArray) -> FloatArray:
    """End-effector points along a joint-space path, ``TRACE_STEP`` apart per joint.

    Examples
    --------
    >>> arm = PlanarArm([1.0])
    >>> path_trace(arm, np.array([[0.0], [np.pi / 2]]))[[0, -1]].round(6)
    array([[1., 0.],
           [0., 1.]])
    """
    pieces = [path[:1]]
    for a, b in itertools.pairwise(path):
        delta = arm.difference(a, b)
        k = max(1, math.ceil(float(np.abs(delta).max()) / TRACE_STEP))
        pieces.append(a + np.linspace(0.0, 1.0, k + 1)[1:, None] * delta)
    return arm.end_effector(np.concatenate(pieces))


class ArmReachEnv(PlannedEnv[Any, Any, ArmReachConfig]):
    """Bring the end effector of a planar arm to a goal point, around obstacles.

    ## Description

    A planar arm of 1 to 7 revolute joints (links are segments, base at the origin,
    reach 1 by default) moves its end effector to a goal point, as in
    Gymnasium-Robotics' goal-conditioned tasks. Kinematics, collisions and optimal
    paths all come from the planner (:class:`planners.PlanarArm`):
    ``rlkit/ArmReach-v0`` is free space, ``rlkit/ArmReachObstacles-v0`` draws new disc
    and box obstacles every reset and keeps only episodes the planner solves.
    :meth:`expert_action` follows the planner's path; :attr:`arm`, :attr:`q`,
    :attr:`goal` and :attr:`plan` show the episode to planning agents.

    ## Action Space

    ``Box(-1, 1, (n,), float32)``: joint velocity commands; joint ``j`` turns by
    ``action[j] * max_step`` radians (``max_step`` = 0.1 by default). With
    ``discrete=True``, ``Discrete(3**n)``: action ``k`` turns joint ``j`` by
    ``(d_j - 1) * discrete_step`` where ``d_j`` is the ``j``-th base-3 digit of ``k``
    (joint 0 the most significant), so ``(3**n - 1) // 2`` keeps still. The default
    ``discrete_step`` (at most ``max_step``) is small enough that rounding a joint
    path to these increments always ends within ``success_radius``. A move that would
    hit an obstacle (checked along the motion with
    :meth:`~planners.PlanarArm.motion_collides`) or leave a joint limit is refused:
    the arm stays and ``info["collision"]`` is True. Joints without limits wrap
    round. Actions outside the space or with NaN raise ValueError.

    ## Observation Space

    Chosen with ``obs=``. ``observation`` below is ``cos(q)``, ``sin(q)``, the last
    joint change divided by the step size (0 when refused; in ``[-1, 1]``) and the
    end effector ``(x, y)``; with obstacles, 5 numbers per obstacle follow: kind (1
    disc, -1 box), centre ``x``, ``y`` and half sizes (the radius twice for a disc).

    - ``"flat"`` (default): ``Box(float64, (3n + 4 + 5m,))``, ``observation`` then
      the goal ``(x, y)``.
    - ``"dict"``: ``Dict(observation, achieved_goal=Box(2), desired_goal=Box(2))``,
      the Gymnasium-Robotics convention for goal-conditioned learning (HER):
      :meth:`compute_reward`, :meth:`compute_terminated` and
      :meth:`compute_truncated` take batches of goals.
    - ``"pixels"``: ``Box(uint8, (H, W, 3))`` RGB of the scene, ``pixel_size`` 64 by
      default (an int or ``(H, W)``, at least 16), drawn with numpy: identical with
      or without a display.

    Every returned array is a fresh copy.

    ## Starting State

    A uniformly random collision-free configuration (or ``start``). The goal is the
    end effector of another uniformly random collision-free configuration (or
    ``goal``), so it is reachable, and more than ``success_radius`` from the start's
    end effector. With random obstacles, obstacles, start and goal are drawn again
    until the planner finds a collision-free path.

    ## Reward

    ``reward_type="sparse"`` (default): -1 on every step that ends further than
    ``success_radius`` (0.05 times the reach by default) from the goal, 0 within.
    ``"dense"``: minus the distance. Refused moves cost nothing extra, so the reward
    is a function of the goals alone and HER relabelling is exact.

    ## Episode End

    Terminates when the end effector is within ``success_radius`` of the goal
    (unless ``terminate_on_success=False``). Truncates after ``max_steps`` steps
    (default 200).

    ``info`` on reset and step: ``is_success``, ``collision`` (this step's move was
    refused), ``distance_to_goal``, ``optimal_length`` (the planner's joint-space
    length of a shortest collision-free path from the start to a configuration on
    the goal, computed at reset; an agent may stop up to ``success_radius`` short of
    the goal, so it can finish below it) and ``path_length`` (joint-space distance
    travelled, the short way round). Following :meth:`expert_action` from reset
    reaches the goal with ``path_length <= optimal_length`` (it cuts the planner's
    path only by chords); discrete actions add at most 10% (staircase).

    ## Arguments

    All keyword arguments; every one but ``render_mode`` goes to
    :class:`~envs.arm.config.ArmReachConfig`, whose signature gives their types and
    defaults.

    - ``n_links`` (2) or ``link_lengths`` (equal links of total length 1 by default);
      ``joint_limits``: ``(lo, hi)`` or ``None`` per joint, as in
      :class:`planners.PlanarArm`.
    - ``obstacles``: fixed :class:`planners.Circle` / :class:`planners.Box` obstacles,
      or an :class:`envs.arm.ObstacleLayout`; ``n_obstacles``: that many random ones
      every reset (``rlkit/ArmReachObstacles-v0``: 3).
    - ``start`` (joint angles), ``goal`` (an ``(x, y)`` point in the reachable
      annulus): fixed, or ``None`` for random.
    - ``discrete``, ``max_step``, ``discrete_step``: see Action Space.
    - ``obs``, ``pixel_size``: see Observation Space.
    - ``reward_type``, ``success_radius``: see Reward.
    - ``terminate_on_success``, ``max_steps``: see Episode End.
    - ``plan_resolution_deg``: the planner's grid resolution (its default: 1 degree
      for 2 joints, 5 for 3; PRM beyond 3 joints).
    - ``render_mode``: ``"rgb_array"`` frames of ``render_size`` (256) pixels, or
      ``"human"`` in a pygame window; ``render_path=True`` draws the end-effector
      trace of the plan made at reset.

    ```python
    >>> import gymnasium as gym
    >>> import envs.arm
    >>> envs.arm.register_arm_envs()
    >>> env = gym.make("rlkit/ArmReach-v0", obs="dict")
    >>> obs, info = env.reset(seed=0)
    >>> obs["observation"].shape, obs["desired_goal"].shape, info["is_success"]
    ((8,), (2,), False)
    >>> action = env.unwrapped.expert_action()
    >>> obs, reward, terminated, truncated, info = env.step(action)
    >>> reward, round(info["path_length"], 4)
    (-1.0, 0.1)

    ```

    ## Version History

    - v0: Initial version.
    """

    metadata: dict[str, Any] = {**PlannedEnv.metadata, "render_fps": 20}  # noqa: RUF012

    window_title = "rlkit ArmReach"

    def __init__(self, *, render_mode: str | None = None, **kwargs: Any) -> None:
        super().__init__(ArmReachConfig(**kwargs), render_mode)
        self._state = ArmSingle(self.config)
        self._ready = False
        self._frame_view: SceneView | None = None
        self._frame_background: npt.NDArray[np.uint8] | None = None

    # ------------------------------------------------------------------ API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Draw a new episode (obstacles, start, goal) from ``np_random`` and plan it."""
        super().reset(seed=seed)
        state = self._state
        state.begin(self.config.sampler.sample(self.np_random))
        self._ready = True
        self._frame_background = None
        if self.render_mode == "human":
            self.render()
        return state.observe(), state.info()

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Turn the joints by the action (or stay, if the move collides)."""
        if not self._ready:
            raise ResetNeeded("call reset() before step()")
        state = self._state
        reward, terminated, truncated = state.step(self.config.change_floats(action))
        if self.render_mode == "human":
            self.render()
        return state.observe(), reward, terminated, truncated, state.info()

    def expert_action(self) -> Any:
        """The action that follows the planner's path toward the goal.

        Continuous: the joint change to the furthest point of the path within one step
        (every joint at most ``max_step``), as a float32 action: a chord of the path, so
        ``path_length`` stays within ``optimal_length``; where that chord would cut a
        corner into an obstacle, the furthest path point whose chord is free. Discrete
        in free space: the increment nearest that change. Discrete among obstacles
        (or joint limits): the first move of a route on the lattice of increments to
        the goal, found by A* guided by the planned path and followed while
        the arm is where the route expects; the lattice cannot always hug obstacles as
        the path does, so such routes may detour (measured: at most 1.8 times
        ``optimal_length`` on 300 episodes with 5 obstacles, typically within 10%).
        The path is the one planned at reset; when the arm has strayed from it by more
        than two steps (another policy acted), the planner is asked again from where the
        arm is. Once the goal is reached the action keeps still.

        Returns
        -------
        numpy.ndarray of float32, shape (n,), or int
            An action of :attr:`action_space`.
        """
        self._require_episode()
        return self._state.expert_action()

    def _reward_function(self, name: str) -> None:
        if self.config.obs != "dict":
            raise AttributeError(
                f"{name}() belongs to the goal-conditioned interface: create the env with "
                f'obs="dict" (it has obs={self.config.obs!r})'
            )

    @property
    def compute_reward(self) -> RewardFunction:
        """``compute_reward(achieved_goal, desired_goal, info)``: the reward of any goals.

        Takes single goals ``(2,)`` or batches ``(..., 2)`` (HER relabels with it) and
        returns float64 rewards of the batch shape; ``info`` is ignored. Only with
        ``obs="dict"`` (elsewhere the attribute is absent, so tools like
        stable-baselines3 do not take the env for a goal-conditioned one).

        Examples
        --------
        >>> env = ArmReachEnv(obs="dict")
        >>> env.compute_reward([[0.0, 0.5], [0.0, 0.5]], [[0.0, 0.52], [0.0, 0.9]], {})
        array([ 0., -1.])
        """
        self._reward_function("compute_reward")
        cfg = self.config
        return lambda achieved_goal, desired_goal, info: cfg.reward(
            cfg.distances(achieved_goal, desired_goal)
        )

    @property
    def compute_terminated(self) -> FlagFunction:
        """``compute_terminated(achieved_goal, desired_goal, info)``: success, batched.

        True where the goals are within ``success_radius`` (and
        ``terminate_on_success``). Only with ``obs="dict"``.
        """
        self._reward_function("compute_terminated")
        cfg = self.config
        return lambda achieved_goal, desired_goal, info: np.asarray(
            (cfg.distances(achieved_goal, desired_goal) <= cfg.success_radius)
            & cfg.terminate_on_success
        )

    @property
    def compute_truncated(self) -> FlagFunction:
        """``compute_truncated(achieved_goal, desired_goal, info)``: always False, batched.

        Truncation depends on the step count alone (``max_steps``), never on goals.
        Only with ``obs="dict"``.
        """
        self._reward_function("compute_truncated")
        return lambda achieved_goal, desired_goal, info: np.zeros(
            np.shape(achieved_goal)[:-1], dtype=bool
        )

    @property
    def arm(self) -> PlanarArm:
        """The arm with this episode's obstacles (for planners and agents that plan)."""
        return self._require_episode().arm

    @property
    def q(self) -> FloatArray:
        """The joint angles now (a copy)."""
        self._require_episode()
        return np.array(self._state.q)

    @property
    def goal(self) -> FloatArray:
        """The goal point ``(x, y)``."""
        return self._require_episode().goal

    @property
    def plan(self) -> ArmPlan:
        """The planner's path from the start, made at reset."""
        return self._require_episode().plan

    @property
    def keypoints(self) -> FloatArray:
        """Where the pixel observation draws the end effector, the goal and the joints
        (the elbow outwards; not the base), in that order: shape ``(n + 1, 2)``, each
        ``(row, col)`` as fractions of the frame's height and width (pixel centres at
        ``(i + 0.5) / H``). Privileged state for auxiliary losses in training
        (:mod:`rlkit.deep.keypoints`); the same whatever ``obs`` is.

        >>> import gymnasium as gym
        >>> env = gym.make("rlkit/ArmReach-v0", obs="pixels")
        >>> _ = env.reset(seed=0)
        >>> env.unwrapped.keypoints.shape
        (3, 2)
        """
        cfg = self.config
        self._require_episode()
        points = self._state.points_array()
        xy = np.concatenate([points[-1:], [self.goal], points[1:-1]])
        height, width = cfg.pixel_shape
        scale = min(height, width) / (2.0 * cfg.extent)
        rows = 0.5 - xy[:, 1] * scale / height
        cols = 0.5 + xy[:, 0] * scale / width
        return np.stack([rows, cols], axis=1)

    # ------------------------------------------------------------------ internals
    def _require_episode(self) -> Episode:
        episode = self._state.episode
        if episode is None:
            raise ResetNeeded("call reset() before using the episode")
        return episode

    def _render_frame(self) -> npt.NDArray[np.uint8]:
        cfg = self.config
        episode = self._require_episode()
        if self._frame_view is None:
            self._frame_view = SceneView(cfg.render_shape, cfg.extent)
        view = self._frame_view
        if self._frame_background is None:
            trace = path_trace(cfg.arm, episode.plan.path) if cfg.render_path else None
            self._frame_background = view.background(
                cfg.reach, episode.arm.obstacles, episode.goal, cfg.success_radius, trace
            )
        frame = self._frame_background.copy()
        view.draw_arm(frame, self._state.points_array())
        return frame
