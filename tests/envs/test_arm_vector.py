"""ArmReachVectorEnv steps N environments exactly as N single ArmReachEnvs would."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from envs.arm import ArmReachVectorEnv, register_arm_envs
from planners import Box, Circle

register_arm_envs()

N = 4
#: Short episodes, so autoresets happen often.
SHORT: dict[str, Any] = {"max_steps": 12}


#: The conftest fixtures' types.
AssertSame = Callable[[Any, Any, str], None]
RunBoth = Callable[..., None]
PairMaker = Callable[..., tuple[ArmReachVectorEnv, SyncVectorEnv]]


CASES: list[tuple[str, dict[str, Any]]] = [
    ("rlkit/ArmReach-v0", {"obs": "flat"}),
    # random actions only: the joints wrap round often
    ("rlkit/ArmReach-v0", {"obs": "flat", "n_links": 4, "random_every": 1}),
    ("rlkit/ArmReach-v0", {"obs": "dict", "discrete": True}),
    ("rlkit/ArmReach-v0", {"obs": "pixels", "n_links": 3, "pixel_size": 24}),
    ("rlkit/ArmReach-v0", {"reward_type": "dense", "joint_limits": [(-1.0, 1.0), None]}),
    ("rlkit/ArmReachObstacles-v0", {"obs": "flat"}),
    (
        # each random action costs the discrete expert a new lattice search: fewer of them
        "rlkit/ArmReachObstacles-v0",
        {"obs": "dict", "discrete": True, "random_every": 10},
    ),
    (
        "rlkit/ArmReach-v0",
        {"obstacles": [Circle((0.5, 0.5), 0.2), Box((-0.6, -0.6), (-0.3, -0.3))]},
    ),
]


@pytest.mark.parametrize(("env_id", "kwargs"), CASES)
def test_vector_equals_single_envs(
    vector_pair: PairMaker, run_both: RunBoth, env_id: str, kwargs: dict[str, Any]
) -> None:
    kwargs = dict(kwargs)
    random_every = kwargs.pop("random_every", 3)
    vec, sync = vector_pair(ArmReachVectorEnv, N, env_id, **SHORT, **kwargs)
    run_both(vec, sync, steps=40, seed=3, random_every=random_every)


@pytest.mark.parametrize("obs", ["flat", "dict"])
def test_same_step_autoreset_equals_single_envs(
    vector_pair: PairMaker, run_both: RunBoth, obs: str
) -> None:
    vec, sync = vector_pair(
        ArmReachVectorEnv,
        N,
        "rlkit/ArmReachObstacles-v0",
        AutoresetMode.SAME_STEP,
        obs=obs,
        **SHORT,
    )
    assert vec.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    run_both(vec, sync, steps=30, seed=3, random_every=3)


def test_disabled_autoreset_resets_by_mask(vector_pair: PairMaker, assert_same: AssertSame) -> None:
    vec, sync = vector_pair(
        ArmReachVectorEnv, N, "rlkit/ArmReach-v0", AutoresetMode.DISABLED, **SHORT
    )
    assert_same(vec.reset(seed=0), sync.reset(seed=0), "reset")
    mask = np.array([True, False, True, False])
    assert_same(
        vec.reset(options={"reset_mask": mask}),
        sync.reset(options={"reset_mask": mask}),
        "masked reset",
    )
    with pytest.raises(ValueError, match="reset_mask"):
        vec.reset(options={"reset_mask": np.zeros(N, dtype=bool)})


def test_make_vec_entry_point_and_episode_limit() -> None:
    vec = gym.make_vec(
        "rlkit/ArmReach-v0",
        num_envs=2,
        vectorization_mode="vector_entry_point",
        max_episode_steps=5,
        obs="dict",
    )
    obs, _ = vec.reset(seed=0)
    assert obs["observation"].shape == (2, 8) and obs["desired_goal"].shape == (2, 2)
    zero = np.zeros((2, 2), dtype=np.float32)
    truncations = [vec.step(zero)[3] for _ in range(5)]
    assert truncations[-1].all() and not np.any(truncations[:-1])


def test_nan_and_malformed_actions_raise_naming_them() -> None:
    vec = ArmReachVectorEnv(2)
    with pytest.raises(ResetNeeded):
        vec.step(np.zeros((2, 2), dtype=np.float32))
    vec.reset(seed=0)
    with pytest.raises(ValueError, match="contains NaN"):
        vec.step(np.array([[0.0, math.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match=r"of shape \(2, 2\)"):
        vec.step(np.zeros(2))
    with pytest.raises(ValueError, match="outside the action space"):
        vec.step(np.full((2, 2), 1.01))
    discrete = ArmReachVectorEnv(2, discrete=True)
    discrete.reset(seed=0)
    with pytest.raises(ValueError, match=r"action 9 of env 1 is outside the action space"):
        discrete.step(np.array([0, 9]))
    with pytest.raises(ValueError, match="actions must be 2 ints"):
        discrete.step(np.array([0.5, 1.0]))


def test_seeds_per_sub_environment() -> None:
    vec = ArmReachVectorEnv(3)
    obs, _ = vec.reset(seed=[7, None, 7])
    np.testing.assert_array_equal(obs[0], obs[2])
    with pytest.raises(ValueError, match="one seed per env"):
        vec.reset(seed=[1, 2])
