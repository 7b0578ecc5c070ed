"""The envs :func:`rlkit.deep.train` learns on.

- :func:`make_kwargs`: ``gymnasium.make`` arguments (``obs="pixels"`` for rlkit envs,
  ``obs="dict"`` under :class:`~rlkit.deep.wrappers.GoalPixels`).
- :func:`probe`: one env, read before training: which policy fits its observations,
  whether its action space fits the algorithm, whether it reports ``is_success``.
- :func:`vec_env`: the ``DummyVecEnv`` of Monitor-wrapped envs, each stamping the
  training step into the info of its episodes' last step (:data:`STEP_KEY`), so the
  Monitor files place every episode on the learning curve.

Examples
--------
>>> kwargs = make_kwargs("rlkit/GridNav-Empty-v0", {"size": 3, "pixel_size": 32}, False)
>>> kwargs["obs"], probe("dqn", "rlkit/GridNav-Empty-v0", kwargs, False, 0).info_keys
('pixels', ('is_success',))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from rlkit.deep.extractor import has_image
from rlkit.deep.hyperparameters import check_action_space
from rlkit.deep.policies import POLICIES
from rlkit.deep.runs import STEP_KEY
from rlkit.deep.wrappers import GoalPixels

__all__ = ["Probe", "make_kwargs", "probe", "vec_env"]


class _StepStamp(gym.Wrapper[Any, Any, Any, Any]):
    """Put the training step (``model.num_timesteps``) into the info of every episode's
    last step, so the Monitor's CSV places each episode on the learning curve.

    DummyVecEnv steps its envs in lockstep: after this env's ``k``-th step the model has
    taken ``start + k * n_envs`` steps.
    """

    def __init__(self, env: gym.Env[Any, Any], *, n_envs: int, start: int) -> None:
        super().__init__(env)
        self.n_envs, self.start, self.count = n_envs, start, 0

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.count += 1
        if terminated or truncated:
            info = {**info, STEP_KEY: self.start + self.count * self.n_envs}
        return obs, reward, terminated, truncated, info


def make_kwargs(
    env_id: str, env_kwargs: Mapping[str, Any] | None, goal_pixels: bool
) -> dict[str, Any]:
    """The ``gymnasium.make`` arguments of ``env_id`` (registering the rlkit ids).

    Raises
    ------
    ValueError
        For ``goal_pixels`` on an env not made with ``obs="dict"``.
    """
    kwargs = dict(env_kwargs or {})
    if env_id.startswith("rlkit/"):
        importlib.import_module("envs")  # registers the rlkit/... ids
        kwargs.setdefault("obs", "dict" if goal_pixels else "pixels")
    if goal_pixels and kwargs.get("obs") != "dict":
        raise ValueError(
            "goal_pixels=True draws frames from goal-conditioned observations: make the env "
            f"with env_kwargs={{'obs': 'dict'}} (got obs={kwargs.get('obs')!r})"
        )
    return kwargs


def _env_factory(
    env_id: str, kwargs: dict[str, Any], goal_pixels: bool, n_envs: int, start: int
) -> Callable[[], gym.Env[Any, Any]]:
    def make() -> gym.Env[Any, Any]:
        try:
            env = gym.make(env_id, **kwargs)
        except gym.error.Error as error:
            raise ValueError(f"env_id {env_id!r}: {error}") from None
        except TypeError as error:  # an unknown keyword argument
            raise ValueError(f"env_kwargs {kwargs}: {error}") from None
        if goal_pixels:
            env = GoalPixels(env)
        return _StepStamp(env, n_envs=n_envs, start=start)

    return make


class Probe(NamedTuple):
    """What one env of a run tells :func:`~rlkit.deep.train` before it starts."""

    #: A policy class of :data:`~rlkit.deep.policies.POLICIES`, or SB3's
    #: ``"MultiInputPolicy"`` / ``"MlpPolicy"`` for envs without an image.
    policy: Any
    #: Whether ``policy`` runs the backbone (the observations hold an image).
    backbone_policy: bool
    #: The Monitor's extra columns: ``("is_success",)`` where the env reports it.
    info_keys: tuple[str, ...]


def probe(algo: str, env_id: str, kwargs: dict[str, Any], goal_pixels: bool, seed: int) -> Probe:
    """Make one env, reset it with ``seed`` and read its spaces and first info.

    Raises
    ------
    ValueError
        For an unknown ``env_id``, bad ``kwargs`` or an action space ``algo`` does not
        handle.
    """
    env = _env_factory(env_id, kwargs, goal_pixels, 1, 0)()
    try:
        check_action_space(algo, env_id, env.action_space)
        backbone_policy = has_image(env.observation_space)
        keys = ("is_success",) if "is_success" in env.reset(seed=seed)[1] else ()
        dict_obs = isinstance(env.observation_space, gym.spaces.Dict)
    finally:
        env.close()
    policy: Any = (
        POLICIES[algo] if backbone_policy else "MultiInputPolicy" if dict_obs else "MlpPolicy"
    )
    return Probe(policy, backbone_policy, keys)


def vec_env(
    env_id: str,
    kwargs: dict[str, Any],
    goal_pixels: bool,
    *,
    n_envs: int,
    start: int,
    seed: int,
    monitor_dir: Path | None,
    info_keys: tuple[str, ...],
) -> VecEnv:
    """``n_envs`` Monitor-wrapped envs seeded with ``seed``, stamping steps from
    ``start``; their Monitor files go to ``monitor_dir`` (appended to when resumed)."""
    return make_vec_env(
        _env_factory(env_id, kwargs, goal_pixels, n_envs, start),
        n_envs=n_envs,
        seed=seed,
        monitor_dir=None if monitor_dir is None else str(monitor_dir),
        monitor_kwargs={"info_keywords": (STEP_KEY, *info_keys), "override_existing": start == 0},
        vec_env_cls=DummyVecEnv,
    )
