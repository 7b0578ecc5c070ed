"""ChannelsLastRolloutBuffer: SB3's RolloutBuffer samples, frames laid out channels-last."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.buffers import RolloutBuffer

import envs  # noqa: F401 - registers the rlkit/ ids
from rlkit.deep.buffers import ChannelsLastRolloutBuffer, rollout_buffer_for
from rlkit.deep.policies import BackbonePPOPolicy
from rlkit.deep.runs import quiet_logger

torch.set_num_threads(1)
IMAGE = gym.spaces.Box(0, 255, (3, 8, 6), np.uint8)
ACTIONS = gym.spaces.Discrete(4)
STEPS, ENVS = 5, 3


def fill(buffer: RolloutBuffer, space: gym.spaces.Box, seed: int) -> None:
    """The same rollout into any buffer: frames come as VecTransposeImage hands them
    over (a transposed view of channels-last arrays) for image spaces."""
    rng = np.random.default_rng(seed)
    for _ in range(STEPS):
        if space.shape[0] == 3:
            hwc = rng.integers(0, 256, (ENVS, *space.shape[1:], 3), dtype=np.uint8)
            obs = hwc.transpose(0, 3, 1, 2)
        else:
            obs = rng.standard_normal((ENVS, *space.shape)).astype(space.dtype)
        buffer.add(
            obs,
            rng.integers(0, 4, ENVS),
            rng.standard_normal(ENVS).astype(np.float32),
            rng.random(ENVS) < 0.2,
            torch.from_numpy(rng.standard_normal(ENVS).astype(np.float32)),
            torch.from_numpy(rng.standard_normal(ENVS).astype(np.float32)),
        )
    buffer.compute_returns_and_advantage(torch.zeros(ENVS), np.zeros(ENVS, dtype=bool))


def samples(cls: type[RolloutBuffer], space: gym.spaces.Box, batch: int | None) -> list[Any]:
    buffer = cls(STEPS, space, ACTIONS, device="cpu", n_envs=ENVS, gamma=0.9, gae_lambda=0.8)
    fill(buffer, space, seed=1)
    np.random.seed(7)  # noqa: NPY002 - get() draws its order from numpy's global stream
    first = list(buffer.get(batch))
    return first + list(buffer.get(batch))  # a second epoch: the flattened arrays reused


@pytest.mark.parametrize("batch", [4, None], ids=["minibatches", "whole"])
@pytest.mark.parametrize(
    "space", [IMAGE, gym.spaces.Box(-1, 1, (5,), np.float32)], ids=["image", "vector"]
)
def test_samples_equal_sb3s(space: gym.spaces.Box, batch: int | None) -> None:
    ours = samples(ChannelsLastRolloutBuffer, space, batch)
    sb3 = samples(RolloutBuffer, space, batch)
    assert len(ours) == len(sb3) > 1
    for a, b in zip(ours, sb3, strict=True):
        for name, x, y in zip(a._fields, a, b, strict=True):
            assert x.shape == y.shape and x.dtype == y.dtype, name
            assert torch.equal(x, y), name
    image = space is IMAGE
    assert all(
        s.observations.is_contiguous(memory_format=torch.channels_last) is image for s in ours
    )


def test_reset_starts_a_fresh_rollout() -> None:
    buffer = ChannelsLastRolloutBuffer(STEPS, IMAGE, ACTIONS, device="cpu", n_envs=ENVS)
    fill(buffer, IMAGE, seed=1)
    first = next(buffer.get(None)).observations.clone()
    buffer.reset()
    assert buffer.pos == 0 and not buffer.full
    fill(buffer, IMAGE, seed=2)
    second = next(buffer.get(None)).observations
    assert second.shape == first.shape and not torch.equal(second, first)


def test_get_before_the_rollout_is_full_is_refused() -> None:
    buffer = ChannelsLastRolloutBuffer(STEPS, IMAGE, ACTIONS, device="cpu", n_envs=ENVS)
    with pytest.raises(AssertionError, match="not complete"):
        next(buffer.get(2))


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        (gym.spaces.Box(0, 255, (64, 64, 3), np.uint8), ChannelsLastRolloutBuffer),
        (IMAGE, ChannelsLastRolloutBuffer),
        (gym.spaces.Box(0, 1, (64, 64, 3), np.float32), None),
        (gym.spaces.Box(-1, 1, (4,), np.float32), None),
        (gym.spaces.Dict({"pixels": IMAGE}), None),
    ],
    ids=["channels-last", "channels-first", "float-image", "vector", "dict"],
)
def test_rollout_buffer_for(space: gym.Space[Any], expected: type | None) -> None:
    chosen = rollout_buffer_for(space)
    assert chosen.get("rollout_buffer_class") is expected
    assert chosen == ({} if expected is None else {"rollout_buffer_class": expected})


def test_ppo_learns_saves_and_loads_with_it(tmp_path: Path) -> None:
    """The buffer in a real PPO: it is built for the transposed (3, H, W) space, the
    update reads channels-last frames, and save/load keeps the buffer class."""
    env = gym.make("rlkit/GridNav-v0", obs="pixels")
    model = PPO(
        BackbonePPOPolicy,
        env,
        n_steps=32,
        batch_size=16,
        n_epochs=1,
        seed=0,
        device="cpu",
        policy_kwargs={"features_extractor_kwargs": {"backbone": "rlkit-cnn-lite"}},
        **rollout_buffer_for(env.observation_space),
    )
    model.set_logger(quiet_logger(0))
    buffer = model.rollout_buffer
    assert isinstance(buffer, ChannelsLastRolloutBuffer) and buffer.channels_last
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(32)
    assert any(
        not torch.equal(a, b) for a, b in zip(before, model.policy.parameters(), strict=True)
    )
    frames = next(buffer.get(8)).observations
    assert frames.shape == (8, 3, 64, 64) and frames.dtype == torch.uint8
    assert frames.is_contiguous(memory_format=torch.channels_last)
    model.save(tmp_path / "model.zip")
    loaded = PPO.load(tmp_path / "model.zip", env=env, device="cpu")
    assert isinstance(loaded.rollout_buffer, ChannelsLastRolloutBuffer)
