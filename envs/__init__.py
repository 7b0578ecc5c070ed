"""Gymnasium environments of rlkit; ``import envs`` registers their ids.

GridNav (:mod:`envs.grid`): reach a goal cell on a grid map.

- ``rlkit/GridNav-v0``: a new 11x11 map with random obstacles every reset.
- ``rlkit/GridNav-Empty-v0``, ``-Random-v0``, ``-Rooms-v0``, ``-Maze-v0``: one per
  layout family.
- ``rlkit/GridNav-Map-v0``: a fixed map (``map=``: GridMap, ASCII text or a MovingAI
  ``.map`` path; default :data:`envs.grid.FOUR_ROOMS`) with fixed or random
  ``start=``/``goal=``.

ArmReach (:mod:`envs.arm`): move a planar arm's end effector to a goal point.

- ``rlkit/ArmReach-v0``: a 2-link arm in free space.
- ``rlkit/ArmReachObstacles-v0``: random obstacles every reset, always solvable.

Every id has a vector entry point, so ``gym.make_vec(id, num_envs=N,
vectorization_mode="vector_entry_point")`` gives a :class:`envs.grid.GridNavVectorEnv`
(or :class:`envs.arm.ArmReachVectorEnv`).
This package needs gymnasium (and pygame only for ``render_mode="human"``); it never
imports torch.

Where things are
----------------
- ``envs/__init__.py`` (here): :data:`GRIDNAV_IDS` and their registration (the
  ArmReach ids: :func:`envs.arm.register_arm_envs`).
- :mod:`envs.grid`, :mod:`envs.arm`: one package per task, each with its own map of
  modules (config, env, vector env, episodes, observations or drawing).
- :mod:`envs.base`: what both single envs share: :class:`~envs.base.PlannedEnv`
  (config spaces, ``render_mode``, ``render()``/``close()``) and
  :func:`~envs.base.check_discrete_action`.
- :mod:`envs.vector`: what both vector envs share: :class:`~envs.vector.NumpyVectorEnv`
  (seeds, reset masks, the three autoreset modes, batched infos, ``final_obs``).
- :mod:`envs.render`: the pygame :class:`~envs.render.Window` of ``render_mode="human"``.
- :mod:`envs.play`: keyboard play, ``python -m envs.play rlkit/GridNav-v0``.

Examples
--------
>>> import gymnasium as gym
>>> import envs
>>> env = gym.make("rlkit/GridNav-Maze-v0", obs="coords")
>>> obs, info = env.reset(seed=1)
>>> obs.shape, info["is_success"]
((4,), False)
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from envs.arm import ARMREACH_IDS, ArmReachEnv, ArmReachVectorEnv, register_arm_envs
from envs.grid import FOUR_ROOMS, GridNavEnv, GridNavVectorEnv

__all__ = [
    "ARMREACH_IDS",
    "GRIDNAV_IDS",
    "ArmReachEnv",
    "ArmReachVectorEnv",
    "GridNavEnv",
    "GridNavVectorEnv",
]

#: Registered GridNav ids and the keyword arguments they fix.
GRIDNAV_IDS: dict[str, dict[str, object]] = {
    "rlkit/GridNav-v0": {"layout": "random"},
    "rlkit/GridNav-Empty-v0": {"layout": "empty"},
    "rlkit/GridNav-Random-v0": {"layout": "random"},
    "rlkit/GridNav-Rooms-v0": {"layout": "rooms"},
    "rlkit/GridNav-Maze-v0": {"layout": "maze"},
    "rlkit/GridNav-Map-v0": {"map": FOUR_ROOMS},
}

for _id, _kwargs in GRIDNAV_IDS.items():
    if _id not in registry:  # importing twice (e.g. reload) must not warn
        register(
            id=_id,
            entry_point="envs.grid.env:GridNavEnv",
            vector_entry_point="envs.grid.vector:GridNavVectorEnv",
            kwargs=_kwargs,
        )

register_arm_envs()
