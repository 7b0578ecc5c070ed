"""Fixtures for the environment tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import gymnasium as gym
import pytest

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
def sb3_check_env() -> Callable[..., None]:
    """stable-baselines3's ``check_env``; skips when SB3 (or torch) cannot be imported."""
    try:
        from stable_baselines3.common.env_checker import check_env
    except ImportError as exc:  # pragma: no cover - depends on the install
        pytest.skip(f"stable-baselines3 is not importable: {exc}")
    return check_env
