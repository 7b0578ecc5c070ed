"""Observation wrappers that put pixels into goal-conditioned training.

:class:`GoalPixels` turns ArmReach's goal-conditioned ``obs="dict"`` observations into
``{"pixels", "achieved_goal", "desired_goal"}``: the policy sees the scene as a camera
would (through :class:`~rlkit.deep.extractor.BackboneExtractor`, which appends the two
goal vectors to the image features), while HER (stable-baselines3's
``HerReplayBuffer``) still relabels goals through the env's ``compute_reward``.

Examples
--------
>>> import gymnasium as gym, envs
>>> env = GoalPixels(gym.make("rlkit/ArmReach-v0", obs="dict", pixel_size=32))
>>> obs, info = env.reset(seed=0)
>>> sorted(obs), obs["pixels"].shape, obs["pixels"].dtype
(['achieved_goal', 'desired_goal', 'pixels'], (32, 32, 3), dtype('uint8'))
>>> env.observation_space.contains(obs)
True
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

__all__ = ["GoalPixels"]

#: The goal keys a goal-conditioned (Gymnasium-Robotics style) observation carries.
GOAL_KEYS = ("achieved_goal", "desired_goal")


class GoalPixels(gym.ObservationWrapper[dict[str, Any], Any, dict[str, Any]]):
    """Replace the vector ``observation`` of an ArmReach ``obs="dict"`` env by a frame.

    The frame is drawn exactly as ``obs="pixels"`` draws it (same size,
    ``pixel_size`` of the env, same colours), by the env's own numpy rasteriser
    (:class:`envs.arm.drawing.SceneView`); the env is only read, never changed.

    Parameters
    ----------
    env : gymnasium.Env
        An ArmReach env made with ``obs="dict"`` (possibly wrapped).
    show_goal : bool, default False
        Draw the goal disc. Off by default: HER relabels ``desired_goal`` with goals
        reached later, and a frame still showing the original goal would contradict
        the relabelled one. The goal reaches the policy through ``desired_goal``.

    Raises
    ------
    ValueError
        If ``env`` is not an ArmReach env with ``obs="dict"``.
    """

    def __init__(self, env: gym.Env[Any, Any], *, show_goal: bool = False) -> None:
        super().__init__(env)
        base = env.unwrapped
        config = getattr(base, "config", None)
        space = env.observation_space
        if (
            not isinstance(space, gym.spaces.Dict)
            or not set(GOAL_KEYS) <= set(space.spaces)
            or getattr(config, "obs", None) != "dict"
            or not hasattr(config, "pixel_shape")
        ):
            raise ValueError(
                "GoalPixels needs an ArmReach env made with obs='dict' (goal-conditioned "
                f"observations), got {base} with observation space {space}"
            )
        from envs.arm.drawing import SceneView

        assert config is not None
        self._config = config
        self.show_goal = bool(show_goal)
        self._view = SceneView(tuple(config.pixel_shape), config.extent)
        self._background: npt.NDArray[np.uint8] | None = None
        height, width = config.pixel_shape
        self.observation_space = gym.spaces.Dict(
            {
                "pixels": gym.spaces.Box(0, 255, (height, width, 3), np.uint8),
                **{key: space.spaces[key] for key in GOAL_KEYS},
            }
        )

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Reset the env and draw the still part of this episode's frames."""
        obs, info = self.env.reset(seed=seed, options=options)
        base: Any = self.env.unwrapped
        cfg = self._config
        # A goal off the frame draws nothing: the background without the goal disc.
        goal = base.goal if self.show_goal else (10.0 * cfg.extent, 10.0 * cfg.extent)
        self._background = self._view.background(
            cfg.reach, base.arm.obstacles, goal, cfg.success_radius
        )
        return self.observation(obs), info

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        """``{"pixels": frame, "achieved_goal", "desired_goal"}`` of the env's state."""
        if self._background is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        base: Any = self.env.unwrapped
        frame = self._background.copy()
        self._view.draw_arm(frame, base.arm.forward(base.q))
        return {"pixels": frame, **{key: observation[key] for key in GOAL_KEYS}}
