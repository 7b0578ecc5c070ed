"""ArmSingle: the state of one ArmReach episode and its step, in Python floats.

The single environment steps one arm. Through :class:`~envs.arm.batch.ArmBatch`'s
array code that would be dozens of numpy calls of about a microsecond each on arrays
of one row; here a step is plain float arithmetic (the math module and
:class:`planners.PlanarArm`'s methods on floats) and a few microseconds. Every
number is computed as ``ArmBatch`` computes it, in the same order, so sub-environment
``i`` of the vector env still returns exactly what a single env returns (the vector
env tests compare them bit for bit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from envs.arm.config import ArmReachConfig, obstacle_features
from envs.arm.drawing import SceneView
from envs.arm.episode import Episode
from envs.arm.expert import Expert

__all__ = ["ArmSingle"]

FloatArray = npt.NDArray[np.float64]


class ArmSingle:
    """One ArmReach episode: joint angles, goal, counters, and its step, as floats.

    The attributes mirror one row of :class:`~envs.arm.batch.ArmBatch`'s arrays.

    Parameters
    ----------
    config : ArmReachConfig
        The validated arguments.
    """

    def __init__(self, config: ArmReachConfig) -> None:
        self.config = cfg = config
        n = cfg.n_joints
        self.episode: Episode | None = None
        self.expert: Expert | None = None
        self.q = [0.0] * n
        self.velocity = [0.0] * n
        self.points = [(0.0, 0.0)] * (n + 1)
        self.goal = (0.0, 0.0)
        self.distance = 0.0
        self.steps = 0
        self.path_length = 0.0
        self.optimal_length = 0.0
        self.success = False
        self.collision = False
        self.features: list[float] = cfg.fixed_features.tolist()
        self.view = SceneView(cfg.pixel_shape, cfg.extent) if cfg.obs == "pixels" else None
        self._background: npt.NDArray[np.uint8] | None = None

    # ------------------------------------------------------------------ episodes
    def begin(self, episode: Episode) -> None:
        """Start ``episode``."""
        cfg = self.config
        self.episode = episode
        self.expert = Expert(cfg, episode)
        self.q = episode.start.tolist()
        gx, gy = episode.goal.tolist()
        self.goal = (gx, gy)
        self.optimal_length = episode.optimal_length
        self.velocity = [0.0] * cfg.n_joints
        self.steps = 0
        self.path_length = 0.0
        self.collision = False
        if not cfg.layout.fixed:
            self.features = obstacle_features(episode.arm.obstacles, cfg.n_slots).tolist()
        self._kinematics()
        if self.view is not None:
            self._background = self.view.background(
                cfg.reach, episode.arm.obstacles, episode.goal, cfg.success_radius
            )

    def _kinematics(self) -> None:
        self.points = self.config.arm.forward_floats(self.q)
        (x, y), (gx, gy) = self.points[-1], self.goal
        dx, dy = x - gx, y - gy
        self.distance = math.sqrt(dx * dx + dy * dy)
        self.success = self.distance <= self.config.success_radius

    # ------------------------------------------------------------------ step
    def step(self, change: Sequence[float]) -> tuple[float, bool, bool]:
        """Move the arm by ``change`` (radians per joint) unless the move collides.

        Returns the reward, termination and truncation.
        """
        cfg = self.config
        target, length = cfg.arm.move_floats(self.q, change)
        if cfg.checks_motion:
            self.collision = any(change) and self._collides(target)
            if self.collision:  # stay: as ArmBatch, which adds distance(q, q) = 0.0
                target, length, change = self.q, 0.0, [0.0] * cfg.n_joints
        self.path_length += length
        self.q = target
        self.velocity = [c / cfg.step_size for c in change]
        self._kinematics()
        self.steps += 1
        terminated = self.success and cfg.terminate_on_success
        truncated = not terminated and self.steps >= cfg.max_steps
        return cfg.reward_float(self.distance), terminated, truncated

    def _collides(self, target: list[float]) -> bool:
        """Whether the motion from ``q`` to ``target`` is invalid."""
        assert self.episode is not None
        return bool(self.episode.arm.motion_collides(self.q, target))

    # ------------------------------------------------------------------ outputs
    def observe(self) -> Any:
        """The observation (fresh arrays), laid out as :meth:`ArmBatch.observe` lays it."""
        cfg = self.config
        if cfg.obs == "pixels":
            return self.frame()
        q = self.q
        x, y = self.points[-1]
        values = [*map(math.cos, q), *map(math.sin, q), *self.velocity, x, y, *self.features]
        if cfg.obs == "flat":
            return np.array([*values, *self.goal])
        return {
            "observation": np.array(values),
            "achieved_goal": np.array([x, y]),
            "desired_goal": np.array(self.goal),
        }

    def frame(self) -> npt.NDArray[np.uint8]:
        """The pixel observation: still background plus the arm."""
        assert self.view is not None and self._background is not None
        image = self._background.copy()
        self.view.draw_arm(image, self.points_array())
        return image

    def points_array(self) -> FloatArray:
        """The base, joints and end effector, shape ``(n + 1, 2)`` (a fresh array)."""
        return np.array(self.points)

    def info(self) -> dict[str, Any]:
        """``info`` of reset and step (the keys of :data:`envs.arm.batch.INFO_KEYS`)."""
        return {
            "is_success": self.success,
            "collision": self.collision,
            "distance_to_goal": self.distance,
            "optimal_length": self.optimal_length,
            "path_length": self.path_length,
        }

    def expert_action(self) -> npt.NDArray[np.float32] | int:
        """The action following the planner's path (see ``ArmReachEnv.expert_action``)."""
        assert self.expert is not None
        return self.expert.action(np.array(self.q), self.success)
