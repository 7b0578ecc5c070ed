"""ArmReach: goal-conditioned reaching with a planar arm; the planner is teacher and referee.

:class:`ArmReachEnv` is one environment, :class:`ArmReachVectorEnv` many stepped with
numpy. :func:`register_arm_envs` registers the ids (``import envs`` calls it):

- ``rlkit/ArmReach-v0``: 2 links in free space.
- ``rlkit/ArmReachObstacles-v0``: 2 links among 3 random obstacles, new every reset,
  every episode solvable (checked with the planner).

Both take every :class:`ArmReachEnv` argument (``n_links=``, ``obs=``, ``discrete=``,
...) and have a vector entry point, so ``gym.make_vec(id, num_envs=N,
vectorization_mode="vector_entry_point")`` gives an :class:`ArmReachVectorEnv`.

Where things are
----------------
- here: :data:`ARMREACH_IDS` and :func:`register_arm_envs`.
- :mod:`~envs.arm.config`: :class:`ArmReachConfig`, the arguments of both envs (typed
  signature) checked in named steps, the action decoding, the reward and the
  observation space; :mod:`~envs.arm.checks` holds the checks of single arguments.
- :mod:`~envs.arm.env`: :class:`ArmReachEnv`: reset, step, ``expert_action``, the
  goal-conditioned ``compute_reward``/``compute_terminated``, ``rgb_array`` frames.
- :mod:`~envs.arm.vector`: :class:`ArmReachVectorEnv`.
- :mod:`~envs.arm.single` / :mod:`~envs.arm.batch`: the episode state and its step,
  on Python floats for one arm (``ArmSingle``) and on numpy arrays for N
  (``ArmBatch``), computing the same numbers.
- :mod:`~envs.arm.episode`: :class:`EpisodeSampler` (start, goal, plan) and the
  obstacle layouts (:class:`FixedObstacles`, :class:`RandomObstacles`).
- :mod:`~envs.arm.expert`: the planner as teacher (``Expert``, ``PathFollower``).
- :mod:`~envs.arm.drawing`: the numpy rasteriser of scenes (``SceneView``).

Examples
--------
>>> import gymnasium as gym
>>> import envs.arm
>>> envs.arm.register_arm_envs()
>>> env = gym.make("rlkit/ArmReachObstacles-v0", n_links=3, discrete=True)
>>> env.action_space
Discrete(27)
>>> obs, info = env.reset(seed=0)
>>> obs.shape, len(env.unwrapped.arm.obstacles)
((28,), 3)
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from envs.arm.config import OBS_MODES, REWARD_TYPES, ArmReachConfig
from envs.arm.env import ArmReachEnv
from envs.arm.episode import (
    Episode,
    EpisodeSampler,
    FixedObstacles,
    ObstacleLayout,
    RandomObstacles,
)
from envs.arm.vector import ArmReachVectorEnv

__all__ = [
    "ARMREACH_IDS",
    "OBS_MODES",
    "REWARD_TYPES",
    "ArmReachConfig",
    "ArmReachEnv",
    "ArmReachVectorEnv",
    "Episode",
    "EpisodeSampler",
    "FixedObstacles",
    "ObstacleLayout",
    "RandomObstacles",
    "register_arm_envs",
]

#: Registered ArmReach ids and the keyword arguments they fix.
ARMREACH_IDS: dict[str, dict[str, object]] = {
    "rlkit/ArmReach-v0": {},
    "rlkit/ArmReachObstacles-v0": {"n_obstacles": 3},
}


def register_arm_envs() -> None:
    """Register the ArmReach ids with Gymnasium; calling it again does nothing.

    Examples
    --------
    >>> register_arm_envs()
    >>> register_arm_envs()  # idempotent: no "overriding environment" warning
    >>> import gymnasium
    >>> gymnasium.spec("rlkit/ArmReach-v0").vector_entry_point
    'envs.arm.vector:ArmReachVectorEnv'
    """
    for env_id, kwargs in ARMREACH_IDS.items():
        if env_id not in registry:
            register(
                id=env_id,
                entry_point="envs.arm.env:ArmReachEnv",
                vector_entry_point="envs.arm.vector:ArmReachVectorEnv",
                kwargs=kwargs,
            )
