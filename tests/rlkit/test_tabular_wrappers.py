"""DiscretizeObservation: uniform bins over a Box observation space."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from rlkit.tabular import DiscretizeObservation


@pytest.fixture
def mountaincar() -> gym.Env[Any, Any]:
    return gym.make("MountainCar-v0")  # bounds [-1.2, 0.6] x [-0.07, 0.07]


def test_space_is_the_product_of_bins(mountaincar: gym.Env[Any, Any]) -> None:
    env = DiscretizeObservation(mountaincar, bins=(6, 5))
    assert env.observation_space == gym.spaces.Discrete(30)
    assert DiscretizeObservation(mountaincar, bins=4).observation_space.n == 16


@pytest.mark.parametrize(
    ("observation", "cell"),
    [
        ([-1.2, -0.07], 0),  # lowest corner
        ([0.6, 0.07], 29),  # highest corner (upper bounds fall in the last bin)
        ([-0.9, 0.0], 1 * 5 + 2),  # second position bin, middle velocity bin
        ([-5.0, 1.0], 4),  # outside the bounds: clipped into the edge bins
    ],
)
def test_cells_are_row_major(
    mountaincar: gym.Env[Any, Any], observation: list[float], cell: int
) -> None:
    env = DiscretizeObservation(mountaincar, bins=(6, 5))
    assert env.observation(np.array(observation)) == cell


def test_observations_from_steps_are_in_the_space(mountaincar: gym.Env[Any, Any]) -> None:
    env = DiscretizeObservation(mountaincar, bins=(10, 10))
    obs, _ = env.reset(seed=0)
    for _ in range(50):
        assert env.observation_space.contains(obs)
        obs, *_ = env.step(env.action_space.sample())


def test_unbounded_space_needs_explicit_bounds() -> None:
    with pytest.raises(ValueError, match=r"unbounded.*low=\[\.\.\.\]"):
        DiscretizeObservation(gym.make("CartPole-v1"), bins=3)
    env = DiscretizeObservation(
        gym.make("CartPole-v1"), bins=3, low=[-2.4, -3, -0.21, -3], high=[2.4, 3, 0.21, 3]
    )
    assert env.observation_space.n == 81


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bins": (3, 3, 3)}, "^bins must be"),
        ({"bins": 0}, "^bins must be"),
        ({"bins": 2.5}, "^bins must be"),
        ({"bins": 3, "low": [0.0, 0.0, 0.0]}, "^low must be"),
        ({"bins": 3, "high": [float("inf"), 1.0]}, "^high must be finite"),
        ({"bins": 3, "low": 1.0, "high": 0.0}, "^high must exceed low"),
    ],
)
def test_bad_arguments_are_named(
    mountaincar: gym.Env[Any, Any], kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        DiscretizeObservation(mountaincar, **kwargs)


def test_discrete_space_is_rejected() -> None:
    with pytest.raises(ValueError, match="needs a Box observation space"):
        DiscretizeObservation(gym.make("FrozenLake-v1"), bins=3)
