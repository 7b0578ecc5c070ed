"""ArmBatch: the state of N ArmReach episodes and their step, in numpy batch operations.

The vector environment holds one ``ArmBatch`` of N. Kinematics, distances and
collision checks are :class:`planners.PlanarArm`'s batched methods. The single
environment runs the same arithmetic on Python floats (:class:`~envs.arm.single.ArmSingle`,
faster for one arm), so sub-environment ``i`` of a vector env returns exactly what a
single env returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from envs.arm.config import ArmReachConfig, obstacle_features
from envs.arm.drawing import SceneView
from envs.arm.episode import Episode
from envs.arm.expert import Expert

__all__ = ["INFO_KEYS", "ArmBatch"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

#: Keys of ``info`` on reset and step.
INFO_KEYS = ("is_success", "collision", "distance_to_goal", "optimal_length", "path_length")


class ArmBatch:
    """``n`` ArmReach episodes: joint angles, goals, counters, and the batched step.

    Parameters
    ----------
    config : ArmReachConfig
        The validated arguments.
    n : int
        Number of episodes held.
    """

    def __init__(self, config: ArmReachConfig, n: int) -> None:
        self.config = cfg = config
        self.n = n
        nj = cfg.n_joints
        self.q = np.zeros((n, nj))
        self.velocity = np.zeros((n, nj))
        self.points = np.zeros((n, nj + 1, 2))
        self.goal = np.zeros((n, 2))
        self.distance = np.zeros(n)
        self.steps = np.zeros(n, dtype=np.int64)
        self.path_length = np.zeros(n)
        self.optimal_length = np.zeros(n)
        self.success = np.zeros(n, dtype=bool)
        self.collision = np.zeros(n, dtype=bool)
        self.features = np.tile(cfg.fixed_features, (n, 1))
        self.episodes: list[Episode | None] = [None] * n
        self.experts: list[Expert | None] = [None] * n
        self.view = SceneView(cfg.pixel_shape, cfg.extent) if cfg.obs == "pixels" else None
        self._backgrounds = np.zeros(
            (n, *cfg.pixel_shape, 3) if cfg.obs == "pixels" else (n, 0, 0, 3), dtype=np.uint8
        )

    # ------------------------------------------------------------------ episodes
    def begin(self, ids: IntArray, episodes: Sequence[Episode]) -> None:
        """Start ``episodes[k]`` in slot ``ids[k]``, writing the arrays in batch."""
        cfg = self.config
        for i, episode in zip(ids.tolist(), episodes, strict=True):
            self.episodes[i] = episode
            self.experts[i] = Expert(cfg, episode)
        self.q[ids] = np.stack([e.start for e in episodes])
        self.goal[ids] = np.stack([e.goal for e in episodes])
        self.optimal_length[ids] = [e.optimal_length for e in episodes]
        self.velocity[ids] = 0.0
        self.steps[ids] = 0
        self.path_length[ids] = 0.0
        self.collision[ids] = False
        if not cfg.layout.fixed:
            self.features[ids] = np.stack(
                [obstacle_features(e.arm.obstacles, cfg.n_slots) for e in episodes]
            )
        self._kinematics(ids)
        if self.view is not None:
            for i, episode in zip(ids.tolist(), episodes, strict=True):
                self._backgrounds[i] = self.view.background(
                    cfg.reach, episode.arm.obstacles, episode.goal, cfg.success_radius
                )

    def _kinematics(self, ids: IntArray | slice) -> None:
        self.points[ids] = self.config.arm.forward(self.q[ids])
        ee = self.points[ids, -1]
        self.distance[ids] = self.config.distances(ee, self.goal[ids])
        self.success[ids] = self.distance[ids] <= self.config.success_radius

    # ------------------------------------------------------------------ step
    def step(
        self, change: FloatArray, active: BoolArray | None = None
    ) -> tuple[FloatArray, BoolArray, BoolArray]:
        """Move every arm by ``change`` (radians, ``(n, joints)``) unless the move collides.

        Rows where ``active`` is False do not move and do not count a step (the vector
        env resets them right after). Returns rewards, terminations and truncations.
        """
        cfg = self.config
        arm = cfg.arm
        if active is not None:
            change = np.where(active[:, None], change, 0.0)
        target = arm.wrap(self.q + change)
        if cfg.checks_motion:
            hit = self._collides(target, change)
            if hit.any():
                target = np.where(hit[:, None], self.q, target)
                change = np.where(hit[:, None], 0.0, change)
            self.collision = hit
        self.path_length += arm.distance(self.q, target)
        self.q = target
        self.velocity = change / cfg.step_size
        self._kinematics(slice(None))
        if active is None:
            self.steps += 1
        else:
            self.steps += active
        rewards = cfg.reward(self.distance)
        terminated = self.success & cfg.terminate_on_success
        truncated = ~terminated & (self.steps >= cfg.max_steps)
        return rewards, terminated, truncated

    def _collides(self, target: FloatArray, change: FloatArray) -> BoolArray:
        """Whether each motion ``q -> target`` is invalid (arms that stay never are)."""
        moving = np.flatnonzero(change.any(axis=1))
        hit = np.zeros(self.n, dtype=bool)
        if moving.size == 0:
            return hit
        arm = self.config.fixed_arm
        if arm is not None:
            hit[moving] = arm.motion_collides(self.q[moving], target[moving])
            return hit
        for i in moving.tolist():  # every episode has its own obstacles
            episode = self.episodes[i]
            assert episode is not None
            hit[i] = episode.arm.motion_collides(self.q[i], target[i])
        return hit

    # ------------------------------------------------------------------ outputs
    def observe(self, ids: IntArray | slice = slice(None)) -> Any:
        """Observations of rows ``ids``, batched; fresh arrays."""
        cfg = self.config
        if cfg.obs == "pixels":
            return self.frames(ids)
        nj = cfg.n_joints
        q = self.q[ids]
        rows = q.shape[0]
        width = cfg.obs_size + (2 if cfg.obs == "flat" else 0)
        out = np.empty((rows, width))
        out[:, :nj] = np.cos(q)
        out[:, nj : 2 * nj] = np.sin(q)
        out[:, 2 * nj : 3 * nj] = self.velocity[ids]
        ee = self.points[ids, -1].copy()
        out[:, 3 * nj : 3 * nj + 2] = ee
        out[:, 3 * nj + 2 : cfg.obs_size] = self.features[ids]
        if cfg.obs == "flat":
            out[:, cfg.obs_size :] = self.goal[ids]
            return out
        return {"observation": out, "achieved_goal": ee, "desired_goal": self.goal[ids].copy()}

    def frames(self, ids: IntArray | slice = slice(None)) -> npt.NDArray[np.uint8]:
        """Pixel observations of rows ``ids``: still background plus the arm."""
        assert self.view is not None
        images = self._backgrounds[ids].copy()
        for image, points in zip(images, self.points[ids], strict=True):
            self.view.draw_arm(image, points)
        return images

    def info_values(self) -> dict[str, npt.NDArray[Any]]:
        """Every info key as an array over the rows (fresh arrays)."""
        return {
            "is_success": self.success.copy(),
            "collision": self.collision.copy(),
            "distance_to_goal": self.distance.copy(),
            "optimal_length": self.optimal_length.copy(),
            "path_length": self.path_length.copy(),
        }

    # ------------------------------------------------------------------ expert
    def expert_action(self, i: int) -> npt.NDArray[np.float32] | int:
        """The action following the planner's path in row ``i`` (see ``expert_action``)."""
        expert = self.experts[i]
        assert expert is not None
        return expert.action(self.q[i], bool(self.success[i]))
