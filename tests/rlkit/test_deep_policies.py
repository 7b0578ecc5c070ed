"""BackbonePPOPolicy's written-out Categorical path against SB3's Distribution path.

The policy samples, scores and measures the entropy of discrete actions with plain
tensor ops instead of a torch ``Categorical`` per call (rollout speed); these tests hold
it to SB3's results (actions exactly, the rest to float rounding), and check that
other action spaces keep SB3's path.
"""

from __future__ import annotations

from typing import Any, cast

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

import envs  # noqa: F401 - registers the rlkit/ ids
from rlkit.deep.policies import BackbonePPOPolicy

torch.set_num_threads(1)


def tiny_ppo(env_id: str = "rlkit/GridNav-v0", **policy_kwargs: Any) -> PPO:
    return PPO(
        BackbonePPOPolicy,
        gym.make(env_id, obs="pixels"),
        n_steps=16,
        batch_size=16,
        device="cpu",
        seed=0,
        policy_kwargs={
            "features_extractor_kwargs": {"backbone": "rlkit-cnn-lite"},
            **policy_kwargs,
        },
    )


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal to float rounding (a log-softmax against Categorical's logsumexp)."""
    return torch.allclose(a, b, rtol=1e-5, atol=1e-6)


def _no_distribution(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("SB3's Distribution path was taken")


@pytest.fixture(scope="module")
def frames() -> torch.Tensor:
    return torch.randint(0, 256, (32, 3, 64, 64), generator=torch.Generator().manual_seed(0)).to(
        torch.uint8
    )


@pytest.mark.parametrize("share", [True, False], ids=["shared", "separate"])
@pytest.mark.parametrize("deterministic", [False, True], ids=["sampled", "greedy"])
def test_forward_matches_sb3(
    frames: torch.Tensor, share: bool, deterministic: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tiny_ppo(share_features_extractor=share).policy
    policy.set_training_mode(False)
    with torch.no_grad(), monkeypatch.context() as patch:
        # the written-out path builds no Distribution at all
        patch.setattr(policy.action_dist, "proba_distribution", _no_distribution)
        torch.manual_seed(5)
        ours = policy(frames, deterministic=deterministic)
    with torch.no_grad():
        torch.manual_seed(5)
        sb3 = ActorCriticPolicy.forward(policy, frames, deterministic=deterministic)
    for name, a, b in zip(("actions", "values", "log_prob"), ours, sb3, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype, name
        assert torch.equal(a, b) if name == "actions" else close(a, b), name
    if not deterministic:  # the sample is a real draw: another seed, other actions
        torch.manual_seed(6)
        with torch.no_grad():
            assert not torch.equal(policy(frames)[0], ours[0])


def test_evaluate_actions_matches_sb3(frames: torch.Tensor) -> None:
    policy = tiny_ppo().policy
    actions = torch.arange(len(frames)) % 4
    ours = policy.evaluate_actions(frames, actions)
    sb3 = ActorCriticPolicy.evaluate_actions(policy, frames, actions)
    for name, a, b in zip(("values", "log_prob", "entropy"), ours, sb3, strict=True):
        assert b is not None and a is not None
        assert close(a, b), name
    # and the gradients through the written-out log-probabilities and entropy agree
    grads = []
    for values, log_prob, entropy in (ours, sb3):
        assert entropy is not None
        policy.zero_grad()
        (log_prob.sum() + entropy.sum() + values.sum()).backward(retain_graph=True)
        grad = cast(nn.Linear, policy.action_net).weight.grad
        assert grad is not None
        grads.append(grad.clone())
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


def test_entropy_with_a_masked_out_action(frames: torch.Tensor) -> None:
    """An action with probability 0 (logit -inf) adds nothing to the entropy, not NaN."""
    policy = tiny_ppo().policy
    with torch.no_grad():
        cast(nn.Linear, policy.action_net).bias[0] = -float("inf")
    actions = torch.ones(len(frames), dtype=torch.long)
    _, _, entropy = policy.evaluate_actions(frames, actions)
    _, _, sb3 = ActorCriticPolicy.evaluate_actions(policy, frames, actions)
    assert entropy is not None and sb3 is not None
    assert torch.isfinite(entropy).all() and close(entropy, sb3)


def test_continuous_actions_keep_sb3s_path() -> None:
    """Box actions (a Gaussian, not a Categorical) go through SB3's own forward."""
    policy = tiny_ppo("rlkit/ArmReach-v0").policy
    assert not policy._plain_categorical
    obs = torch.from_numpy(np.zeros((2, 3, 64, 64), np.uint8))
    policy.set_training_mode(False)
    with torch.no_grad():
        torch.manual_seed(1)
        actions, _, _ = policy(obs)
        torch.manual_seed(1)
        expected, _, _ = ActorCriticPolicy.forward(policy, obs)
    assert actions.shape == (2, *policy.action_space.shape)  # type: ignore[misc]
    assert torch.equal(actions, expected)
