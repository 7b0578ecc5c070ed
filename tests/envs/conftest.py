"""Fixtures for the environment tests."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, SyncVectorEnv

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # before anything imports pygame

import envs  # registers the ids


@pytest.fixture(params=tuple(envs.GRIDNAV_IDS))
def env_id(request: pytest.FixtureRequest) -> str:
    """Each registered GridNav id in turn."""
    value: str = request.param
    return value


@pytest.fixture
def make_env() -> Iterator[Callable[..., gym.Env[Any, Any]]]:
    """``make_env(id, **kwargs)``: ``gym.make``, closed after the test."""
    made: list[gym.Env[Any, Any]] = []

    def make(env_id: str, **kwargs: Any) -> gym.Env[Any, Any]:
        env = gym.make(env_id, **kwargs)
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()


@pytest.fixture(scope="session")
def sb3_warnings() -> Callable[[gym.Env[Any, Any]], list[str]]:
    """``sb3_warnings(env)``: the warnings of stable-baselines3's ``check_env(env, warn=True)``.

    Skips when SB3 (or torch) cannot be imported.
    """
    try:
        from stable_baselines3.common.env_checker import check_env
    except ImportError as exc:  # pragma: no cover - depends on the install
        pytest.skip(f"stable-baselines3 is not importable: {exc}")

    def messages(env: gym.Env[Any, Any]) -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(env, warn=True)
        return [str(w.message) for w in caught]

    return messages


# ---------------------------------------------------------------- vector env vs single envs
VectorPair = Callable[..., tuple[Any, SyncVectorEnv]]


def _assert_same(a: Any, b: Any, what: str) -> None:
    assert data_equivalence(a, b, exact=True), f"{what} differ:\n{a}\n{b}"


def _vector_pair(
    vector_class: Callable[..., Any],
    num_envs: int,
    env_id: str,
    mode: AutoresetMode = AutoresetMode.NEXT_STEP,
    **kwargs: Any,
) -> tuple[Any, SyncVectorEnv]:
    spec_kwargs = dict(gym.spec(env_id).kwargs)
    vec = vector_class(num_envs, autoreset_mode=mode, **{**spec_kwargs, **kwargs})
    sync = SyncVectorEnv(
        [lambda: gym.make(env_id, **kwargs) for _ in range(num_envs)], autoreset_mode=mode
    )
    return vec, sync


def _run_both(vec: Any, sync: SyncVectorEnv, steps: int, seed: int, random_every: int) -> None:
    _assert_same(vec.reset(seed=seed), sync.reset(seed=seed), "reset")
    rng = np.random.default_rng(seed)
    space = vec.single_action_space
    n = vec.num_envs
    for t in range(steps):
        if t % random_every:  # expert moves end episodes; random ones wander, collide, truncate
            actions = vec.expert_actions()
            _assert_same(actions, np.array(sync.call("expert_action")), f"expert at {t}")
        elif isinstance(space, gym.spaces.Discrete):
            actions = rng.integers(0, int(space.n), n)
        else:
            actions = rng.uniform(-1, 1, (n, *space.shape)).astype(np.float32)
        for name, a, b in zip(
            ("obs", "rewards", "terminations", "truncations", "infos"),
            vec.step(actions),
            sync.step(actions),
            strict=True,
        ):
            _assert_same(a, b, f"{name} at step {t}")


@pytest.fixture(scope="session")
def assert_same() -> Callable[[Any, Any, str], None]:
    """``assert_same(a, b, what)``: exactly equal (Gymnasium's ``data_equivalence``)."""
    return _assert_same


@pytest.fixture(scope="session")
def vector_pair() -> VectorPair:
    """``vector_pair(VectorClass, num_envs, env_id, mode=NEXT_STEP, **kwargs)``: the native
    vector env (made with the id's registered kwargs) and a ``SyncVectorEnv`` of singles."""
    return _vector_pair


@pytest.fixture(scope="session")
def run_both() -> Callable[..., None]:
    """``run_both(vec, sync, steps, seed, random_every)``: reset both with ``seed``, then
    step both with the same actions (every ``random_every``-th one random, the others the
    expert's), asserting every output the same."""
    return _run_both
