"""GridNavVectorEnv steps N environments exactly as N single GridNavEnvs would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import envs
from envs.grid import GridNavVectorEnv

N = 5
#: Short episodes and every feature that uses randomness or changes rewards.
BUSY: dict[str, Any] = {"slip": 0.25, "shaping": True, "step_penalty": 0.01, "max_steps": 25}


#: The conftest fixtures' types.
AssertSame = Callable[[Any, Any, str], None]
RunBoth = Callable[..., None]
PairMaker = Callable[..., tuple[GridNavVectorEnv, SyncVectorEnv]]


CASES: list[tuple[str, str, dict[str, Any]]] = [
    (env_id, obs, {}) for env_id in envs.GRIDNAV_IDS for obs in ("coords", "symbolic")
]
CASES += [
    ("rlkit/GridNav-v0", "pixels", {}),
    ("rlkit/GridNav-Map-v0", "pixels", {"pixel_size": (40, 24)}),
    ("rlkit/GridNav-Map-v0", "index", {"goal": (0, 0)}),
    ("rlkit/GridNav-Map-v0", "coords", {"start": (10, 10)}),
    ("rlkit/GridNav-Maze-v0", "pixels", {"view": "agent", "diagonal": True}),
    ("rlkit/GridNav-Rooms-v0", "symbolic", {"diagonal": True}),
    ("rlkit/GridNav-Random-v0", "symbolic", {"num_maps": 4}),
]


@pytest.mark.parametrize(("env_id", "obs", "kwargs"), CASES)
def test_vector_equals_single_envs(
    vector_pair: PairMaker, run_both: RunBoth, env_id: str, obs: str, kwargs: dict[str, Any]
) -> None:
    vec, sync = vector_pair(GridNavVectorEnv, N, env_id, obs=obs, **BUSY, **kwargs)
    run_both(vec, sync, steps=80, seed=3, random_every=2)


@pytest.mark.parametrize("obs", ["index", "pixels"])
def test_same_step_autoreset_equals_single_envs(
    vector_pair: PairMaker, run_both: RunBoth, obs: str
) -> None:
    vec, sync = vector_pair(
        GridNavVectorEnv,
        N,
        "rlkit/GridNav-Map-v0",
        AutoresetMode.SAME_STEP,
        obs=obs,
        goal=(2, 2),
        **BUSY,
    )
    assert vec.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    run_both(vec, sync, steps=80, seed=3, random_every=2)


def test_disabled_autoreset_with_reset_mask_equals_single_envs(
    vector_pair: PairMaker, assert_same: AssertSame
) -> None:
    vec, sync = vector_pair(
        GridNavVectorEnv, N, "rlkit/GridNav-v0", AutoresetMode.DISABLED, obs="symbolic", **BUSY
    )
    assert_same(vec.reset(seed=1), sync.reset(seed=1), "reset")
    rng = np.random.default_rng(0)
    for t in range(60):
        actions = rng.integers(0, 4, N)
        out_vec, out_sync = vec.step(actions), sync.step(actions)
        assert_same(out_vec, out_sync, f"step {t}")
        done = out_vec[2] | out_vec[3]
        if done.any():
            assert_same(
                vec.reset(options={"reset_mask": done}),
                sync.reset(options={"reset_mask": done.copy()}),
                f"masked reset at {t}",
            )


def test_seed_lists_and_unseeded_resets(vector_pair: PairMaker) -> None:
    vec, sync = vector_pair(GridNavVectorEnv, N, "rlkit/GridNav-Maze-v0", obs="coords")
    seeds = [7, None, 9, 1, 2]
    vec_obs, _ = vec.reset(seed=seeds)
    sync_obs, _ = sync.reset(seed=seeds)
    assert np.array_equal(vec_obs[[0, 2, 3, 4]], sync_obs[[0, 2, 3, 4]])
    with pytest.raises(ValueError, match="one seed per env"):
        vec.reset(seed=[1, 2])


def test_make_vec_builds_it_from_the_registry() -> None:
    vec = gym.make_vec(
        "rlkit/GridNav-Map-v0",
        num_envs=4,
        vectorization_mode="vector_entry_point",
        obs="index",
        start=(10, 10),
        goal=(0, 0),
        max_episode_steps=3,
    )
    assert isinstance(vec.unwrapped, GridNavVectorEnv)
    assert vec.observation_space == gym.spaces.MultiDiscrete([121] * 4)
    obs, _ = vec.reset(seed=0)
    assert obs.dtype == np.int64 and obs.tolist() == [120] * 4
    down = np.ones(4, dtype=np.int64)  # into the bottom edge: never terminates
    truncations = [bool(vec.step(down)[3].all()) for _ in range(3)]
    assert truncations == [False, False, True]
    vec.close()


def test_copy_false_returns_the_live_buffer() -> None:
    shared = GridNavVectorEnv(2, copy=False, layout="empty", obs="symbolic")
    first, _ = shared.reset(seed=0)
    second = shared.step(np.array([1, 1]))[0]
    assert second is first
    copied = GridNavVectorEnv(2, layout="empty", obs="symbolic")
    first, _ = copied.reset(seed=0)
    assert copied.step(np.array([1, 1]))[0] is not first


def test_render_gives_one_frame_per_env() -> None:
    vec = GridNavVectorEnv(3, render_mode="rgb_array", render_path=True)
    vec.reset(seed=0)
    frames = vec.render()
    assert frames is not None and len(frames) == 3
    single = gym.make("rlkit/GridNav-v0", render_mode="rgb_array", render_path=True)
    single.reset(seed=1)
    frame = single.render()
    assert isinstance(frame, np.ndarray) and np.array_equal(frames[1], frame)
    assert frames[0].shape == (352, 352, 3) and frames[0].dtype == np.uint8
    assert GridNavVectorEnv(2).render() is None


def test_bad_vector_inputs() -> None:
    vec = GridNavVectorEnv(3)
    with pytest.raises(ResetNeeded):
        vec.step(np.zeros(3, dtype=np.int64))
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=r"action 4 of env 1 is outside the action space"):
        vec.step(np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="actions must be 3 ints"):
        vec.step(np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="actions must be 3 ints"):
        vec.step(np.array([0, 1]))
    with pytest.raises(ValueError, match="reset_mask"):
        vec.reset(options={"reset_mask": np.zeros(3, dtype=bool)})
    with pytest.raises(ValueError, match="num_envs must be an int >= 1"):
        GridNavVectorEnv(0)
    with pytest.raises(ValueError, match="render_mode must be None or 'rgb_array'"):
        GridNavVectorEnv(2, render_mode="human")
    with pytest.raises(ValueError, match='obs="index"'):
        GridNavVectorEnv(2, obs="index")


@pytest.mark.slow
@pytest.mark.parametrize("env_id", list(envs.GRIDNAV_IDS))
@pytest.mark.parametrize("obs", ["coords", "symbolic", "pixels"])
def test_long_runs_stay_equal(
    vector_pair: PairMaker, run_both: RunBoth, env_id: str, obs: str
) -> None:
    vec, sync = vector_pair(GridNavVectorEnv, N, env_id, obs=obs, **BUSY, diagonal=True)
    run_both(vec, sync, steps=1500, seed=11, random_every=2)
