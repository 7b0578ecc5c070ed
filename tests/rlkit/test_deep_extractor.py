"""BackboneExtractor, LoRA adapters and the SB3 policies around them."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import DQN, PPO, SAC
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

import envs  # noqa: F401 - registers the rlkit/ ids
from rlkit.backbones import load_backbone
from rlkit.deep import BackboneExtractor, merge_lora, random_shift
from rlkit.deep.lora import LoRAConv2d, LoRALinear
from rlkit.deep.policies import BackbonePPOPolicy, backbone_extractors

torch.set_num_threads(1)
IMAGE = gym.spaces.Box(0, 255, (3, 64, 64), np.uint8)


@pytest.fixture(scope="module")
def pretrained() -> dict[str, torch.Tensor]:
    return load_backbone("rlkit-cnn-v1").state_dict()


def same_weights(module: nn.Module, reference: dict[str, torch.Tensor]) -> bool:
    state = module.state_dict()
    return state.keys() == reference.keys() and all(
        torch.equal(state[k], reference[k]) for k in reference
    )


@pytest.mark.parametrize(
    ("space", "batch", "features"),
    [
        (IMAGE, torch.zeros(2, 3, 64, 64), 128),
        (gym.spaces.Box(0, 255, (48, 40, 3), np.uint8), torch.zeros(2, 48, 40, 3), 128),
        (
            gym.spaces.Dict(
                {"pixels": IMAGE, "desired_goal": gym.spaces.Box(-1, 1, (2,), np.float64)}
            ),
            {"pixels": torch.zeros(2, 3, 64, 64), "desired_goal": torch.ones(2, 2)},
            130,
        ),
    ],
    ids=["channels-first", "channels-last", "dict"],
)
def test_feature_shapes(space: gym.Space, batch: object, features: int) -> None:
    extractor = BackboneExtractor(space, finetune="frozen")
    assert extractor.features_dim == features
    assert extractor(batch).shape == (2, features)


def test_bad_spaces_and_modes_are_refused() -> None:
    with pytest.raises(ValueError, match="obs='pixels'"):
        BackboneExtractor(gym.spaces.Box(-1, 1, (4,)))
    with pytest.raises(ValueError, match="finetune must be one of"):
        BackboneExtractor(IMAGE, finetune="partial")  # type: ignore[arg-type]


def test_frozen_backbone_has_no_gradient_and_stays_in_eval_mode() -> None:
    extractor = BackboneExtractor(IMAGE, finetune="frozen").train(True)
    assert not extractor.backbone.training
    assert not any(p.requires_grad for p in extractor.backbone.parameters())
    assert extractor.backbone_parameters() == []


def test_lora_trains_adapters_only_and_merges_exactly() -> None:
    torch.manual_seed(0)
    extractor = BackboneExtractor(IMAGE, finetune="lora", lora_rank=2)
    trainable = {n for n, p in extractor.named_parameters() if p.requires_grad}
    assert trainable and all(".lora_a." in n or ".lora_b." in n for n in trainable)
    for parameter in extractor.backbone_parameters():  # as if training had moved them
        nn.init.normal_(parameter, std=0.05)
    frames = torch.rand(3, 3, 64, 64) * 255
    train_out = extractor.train(True)(frames)
    assert torch.allclose(extractor.train(False)(frames), train_out, atol=1e-5)
    plain = merge_lora(extractor.backbone).eval()
    assert not any(isinstance(m, (LoRAConv2d, LoRALinear)) for m in plain.modules())
    assert torch.allclose(plain(frames), train_out, atol=1e-5)
    exported = torch.export.export(plain, (frames,)).module()  # deployable without LoRA code
    assert torch.allclose(exported(frames), train_out, atol=1e-5)


def test_random_shift_crops_the_replicate_padded_frame() -> None:
    frames = torch.rand(16, 3, 12, 10)
    assert torch.equal(random_shift(frames, 0), frames)
    torch.manual_seed(1)
    shifted = random_shift(frames, 2)
    padded = nn.functional.pad(frames, (2, 2, 2, 2), mode="replicate")
    for i in range(len(frames)):
        crops = [padded[i, :, r : r + 12, c : c + 10] for r in range(5) for c in range(5)]
        assert any(torch.equal(shifted[i], crop) for crop in crops)
    torch.manual_seed(1)
    assert torch.equal(random_shift(frames, 2), shifted)


def pixel_env(env_id: str = "rlkit/GridNav-v0") -> gym.Env:
    return gym.make(env_id, obs="pixels")


def test_ppo_policy_keeps_pretrained_weights_where_plain_sb3_loses_them(
    pretrained: dict[str, torch.Tensor],
) -> None:
    kwargs = {"features_extractor_kwargs": {"finetune": "full"}}
    ours = PPO(BackbonePPOPolicy, pixel_env(), n_steps=16, batch_size=16, policy_kwargs=kwargs)
    assert same_weights(backbone_extractors(ours.policy)[0].backbone, pretrained)
    plain = PPO(
        ActorCriticPolicy,
        pixel_env(),
        n_steps=16,
        batch_size=16,
        policy_kwargs={**kwargs, "features_extractor_class": BackboneExtractor},
    )  # SB3's orthogonal init overwrites what the extractor loaded
    assert not same_weights(backbone_extractors(plain.policy)[0].backbone, pretrained)


@pytest.mark.parametrize(("algo", "env_id", "count"), [(DQN, "rlkit/GridNav-v0", 2),
                                                       (SAC, "rlkit/ArmReach-v0", 3)])  # fmt: skip
def test_every_off_policy_extractor_starts_pretrained(
    algo: type, env_id: str, count: int, pretrained: dict[str, torch.Tensor]
) -> None:
    from rlkit.deep.policies import POLICIES

    model = algo(POLICIES[algo.__name__.lower()], pixel_env(env_id), buffer_size=100)
    extractors = backbone_extractors(model.policy)
    assert len(extractors) == count  # q_net + target, or actor + critic + critic target
    assert all(same_weights(e.backbone, pretrained) for e in extractors)


def test_backbone_learning_rate_scale_survives_steps_and_save_load(tmp_path: Path) -> None:
    model = PPO(
        BackbonePPOPolicy,
        pixel_env(),
        n_steps=16,
        batch_size=16,
        learning_rate=0.1,
        policy_kwargs={
            "backbone_lr_scale": 0.25,
            "optimizer_class": torch.optim.SGD,
            "optimizer_kwargs": {},
        },
    )
    policy = model.policy
    backbone = backbone_extractors(policy)[0].backbone
    weight, head = backbone.trunk[0].weight, policy.action_net.weight
    before = weight.detach().clone(), head.detach().clone()
    obs = torch.rand(4, 3, 64, 64) * 255
    policy.optimizer.zero_grad()
    values, log_prob, _ = policy.evaluate_actions(obs, torch.zeros(4))
    (values.sum() + log_prob.sum()).backward()
    grads = weight.grad.clone(), head.grad.clone()
    policy.optimizer.step()
    assert torch.allclose(weight - before[0], -0.1 * 0.25 * grads[0], atol=1e-7)
    assert torch.allclose(head - before[1], -0.1 * grads[1], atol=1e-7)
    assert all(group["lr"] == 0.1 for group in policy.optimizer.param_groups)
    model.save(tmp_path / "model.zip")
    loaded = PPO.load(tmp_path / "model.zip")
    assert sorted(g["lr_scale"] for g in loaded.policy.optimizer.param_groups) == [0.25, 1.0]
