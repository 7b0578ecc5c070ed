"""BackboneExtractor, LoRA adapters and the SB3 policies around them (issue #8).

Each test builds at most a few small models; the whole file runs in seconds on one
thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import DQN, PPO, SAC
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

import envs  # noqa: F401 - registers the rlkit/ ids
from rlkit.backbones import DEFAULT_BACKBONE, load_backbone
from rlkit.deep import BackboneExtractor, merge_lora, random_shift
from rlkit.deep.lora import LoRAConv2d, LoRALinear
from rlkit.deep.policies import (
    BackboneDQNPolicy,
    BackbonePPOPolicy,
    BackboneSACPolicy,
    backbone_extractors,
)

torch.set_num_threads(1)
IMAGE = gym.spaces.Box(0, 255, (3, 64, 64), np.uint8)
FEATURES = 128  # the default backbone's features_dim


# ------------------------------------- fixtures (pretrained, frames: conftest.py)


def same_weights(module: nn.Module, reference: dict[str, torch.Tensor]) -> bool:
    """Whether ``module``'s state dict equals ``reference`` exactly (same keys)."""
    state = module.state_dict()
    return state.keys() == reference.keys() and all(
        torch.equal(state[k], reference[k]) for k in reference
    )


def pixel_env(env_id: str = "rlkit/GridNav-v0") -> gym.Env[Any, Any]:
    return gym.make(env_id, obs="pixels")


def tiny_ppo(policy: Any, **policy_kwargs: Any) -> PPO:
    """PPO with the smallest rollout, for construction-only tests."""
    return PPO(
        policy, pixel_env(), n_steps=16, batch_size=16, device="cpu", policy_kwargs=policy_kwargs
    )


# ---------------------------------------------------------------------- extractor


@pytest.mark.parametrize(
    ("space", "batch", "features"),
    [
        (IMAGE, torch.zeros(2, 3, 64, 64), FEATURES),
        (gym.spaces.Box(0, 255, (48, 40, 3), np.uint8), torch.zeros(2, 48, 40, 3), FEATURES),
        (
            gym.spaces.Dict(
                {
                    "pixels": IMAGE,
                    "desired_goal": gym.spaces.Box(-1, 1, (2,), np.float64),
                    "joints": gym.spaces.Box(-1, 1, (3,), np.float32),
                }
            ),
            {
                "pixels": torch.zeros(2, 3, 64, 64),
                "desired_goal": torch.ones(2, 2),
                "joints": torch.full((2, 3), 0.5),
            },
            FEATURES + 5,
        ),
    ],
    ids=["channels-first", "channels-last", "dict"],
)
def test_feature_shapes(space: gym.Space[Any], batch: Any, features: int) -> None:
    extractor = BackboneExtractor(space, finetune="frozen")
    assert extractor.features_dim == features
    out = extractor(batch)
    assert out.shape == (2, features)
    if isinstance(batch, dict):  # the vector keys are appended unchanged, in order
        assert torch.equal(out[:, FEATURES:], torch.tensor([[1, 1, 0.5, 0.5, 0.5]] * 2))


def test_channels_last_equals_channels_first(frames: torch.Tensor) -> None:
    first = BackboneExtractor(IMAGE, finetune="frozen")
    last = BackboneExtractor(gym.spaces.Box(0, 255, (64, 64, 3), np.uint8), finetune="frozen")
    assert torch.allclose(first(frames), last(frames.permute(0, 2, 3, 1)), atol=1e-6)


@pytest.mark.parametrize(
    "space",
    [
        gym.spaces.Box(-1, 1, (4,)),
        gym.spaces.Box(0, 255, (3, 64, 64), np.float32),  # not uint8
        gym.spaces.Dict({"a": IMAGE, "b": IMAGE}),  # two image keys
    ],
    ids=["vector", "float-image", "two-images"],
)
def test_non_image_spaces_are_refused(space: gym.Space[Any]) -> None:
    with pytest.raises(ValueError, match="obs='pixels'"):
        BackboneExtractor(space)


def test_unknown_finetune_is_refused() -> None:
    with pytest.raises(ValueError, match="finetune must be one of"):
        BackboneExtractor(IMAGE, finetune="partial")  # type: ignore[arg-type]


def test_frozen_backbone_has_no_gradient_and_stays_in_eval_mode(frames: torch.Tensor) -> None:
    extractor = BackboneExtractor(IMAGE, finetune="frozen").train(True)
    assert extractor.training and not extractor.backbone.training
    assert not any(m.training for m in extractor.backbone.modules())
    assert not any(p.requires_grad for p in extractor.backbone.parameters())
    assert extractor.backbone_parameters() == []
    assert not extractor(frames).requires_grad


@pytest.mark.parametrize("finetune", ["full", "frozen", "lora", "adapter"])
def test_extractor_computes_the_pretrained_backbone(finetune: str, frames: torch.Tensor) -> None:
    """The extractor's own input handling (float cast; the encoder's channels-last
    layout after the stem on the CPU) leaves the backbone's function unchanged, in
    both modes."""
    backbone = load_backbone(DEFAULT_BACKBONE).eval()
    extractor = BackboneExtractor(IMAGE, finetune=finetune)  # type: ignore[arg-type]
    layouts: list[bool] = []
    # the module after the stem's ReLU: a convolution, or the first bottleneck adapter
    extractor.backbone.trunk[2].register_forward_pre_hook(
        lambda _, args: layouts.append(args[0].is_contiguous(memory_format=torch.channels_last))
    )
    with torch.no_grad():
        expected = backbone(frames.contiguous())
        for mode in (True, False):
            assert torch.allclose(extractor.train(mode)(frames), expected, atol=1e-5)
            uint8 = extractor(frames.round().to(torch.uint8))  # SB3 may pass raw uint8
            assert torch.allclose(uint8, backbone(frames.round()), atol=1e-5)
    assert layouts and all(layouts)  # the convolutions run channels-last on the CPU


@pytest.mark.parametrize("finetune", ["full", "frozen"])
def test_spatial_head_appends_the_feature_map(finetune: str, frames: torch.Tensor) -> None:
    """spatial=C: the pooled features unchanged, then C channels per cell of the
    backbone's last map (8x8 for 64x64 frames), trained in frozen mode too."""
    plain = BackboneExtractor(IMAGE, finetune=finetune)  # type: ignore[arg-type]
    extractor = BackboneExtractor(IMAGE, finetune=finetune, spatial=3)  # type: ignore[arg-type]
    _, fmap = extractor.backbone.encode(frames)
    cells = fmap.shape[2] * fmap.shape[3]
    assert cells == 64 and extractor.features_dim == FEATURES + 3 * cells
    features = extractor(frames)
    assert features.shape == (3, FEATURES + 3 * cells)
    with torch.no_grad():
        assert torch.allclose(features[:, :FEATURES], plain(frames), atol=1e-5)
    features.sum().backward()
    head = extractor.spatial_head
    assert head is not None and head.weight.grad is not None and head.weight.grad.abs().sum() > 0
    backbone_grads = [p.grad for p in extractor.backbone.parameters()]
    assert all(g is None for g in backbone_grads) == (finetune == "frozen")


@pytest.mark.parametrize("spatial", [-1, 1.5, True])
def test_bad_spatial_is_refused(spatial: Any) -> None:
    with pytest.raises(ValueError, match="spatial must be an int >= 0"):
        BackboneExtractor(IMAGE, spatial=spatial)


def test_augment_only_in_training_mode(frames: torch.Tensor) -> None:
    plain = BackboneExtractor(IMAGE, finetune="full")
    shifted = BackboneExtractor(IMAGE, finetune="full", augment=True, shift_pad=4)
    assert torch.equal(shifted.eval()(frames), plain.eval()(frames))
    torch.manual_seed(3)
    out = shifted.train()(frames)
    torch.manual_seed(3)
    assert torch.equal(out, plain.train()(random_shift(frames, 4)))


# ---------------------------------------------------------------------- LoRA


def test_lora_trains_adapters_only(pretrained: dict[str, torch.Tensor]) -> None:
    extractor = BackboneExtractor(IMAGE, finetune="lora", lora_rank=2)
    trainable = [n for n, p in extractor.named_parameters() if p.requires_grad]
    assert trainable and all(n.split(".")[-2] in ("lora_a", "lora_b") for n in trainable)
    assert {id(p) for p in extractor.backbone_parameters()} == {
        id(p) for p in extractor.parameters() if p.requires_grad
    }
    adapters = [m for m in extractor.modules() if isinstance(m, (LoRAConv2d, LoRALinear))]
    assert adapters and all(torch.count_nonzero(m.lora_b.weight) == 0 for m in adapters)
    bases = {k.replace(".base.", "."): v for k, v in extractor.backbone.state_dict().items()}
    assert all(torch.equal(bases[k], v) for k, v in pretrained.items())  # base untouched


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit.trace's deprecation notice
@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")  # the encoder's input checks
def test_lora_merges_exactly(frames: torch.Tensor) -> None:
    torch.manual_seed(0)
    extractor = BackboneExtractor(IMAGE, finetune="lora", lora_rank=2)
    for parameter in extractor.backbone_parameters():  # as if training had moved them
        nn.init.normal_(parameter, std=0.05)
    with torch.no_grad():
        train_out = extractor.train(True)(frames)
        assert torch.allclose(extractor.train(False)(frames), train_out, atol=1e-5)

    plain = merge_lora(extractor.backbone).eval()
    kinds = {type(m) for m in plain.modules()}
    assert not kinds & {LoRAConv2d, LoRALinear}
    assert nn.Conv2d in kinds and nn.Linear in kinds
    assert isinstance(extractor.backbone.trunk[0], LoRAConv2d)  # the original is kept
    with torch.no_grad():
        assert torch.allclose(plain(frames), train_out, atol=1e-5)
        traced = torch.jit.trace(plain, frames[:1])  # exportable without LoRA code
        assert torch.allclose(traced(frames), train_out, atol=1e-5)


@pytest.mark.parametrize(
    "layer",
    [
        nn.Conv2d(3, 8, 3, stride=2, padding=1),
        nn.Conv2d(8, 4, 1),
        nn.Linear(12, 5),
    ],
    ids=["conv3x3-stride2", "conv1x1", "linear"],
)
def test_lora_layer_is_base_plus_low_rank_branch(layer: nn.Conv2d | nn.Linear) -> None:
    """One pass with the merged weight gives the outputs and adapter gradients of Hu et
    al.'s formulation, ``base(x) + scale * B(A(x))``, in training as in eval mode."""
    torch.manual_seed(0)
    adapter: LoRAConv2d | LoRALinear
    if isinstance(layer, nn.Linear):
        x, adapter = torch.randn(4, layer.in_features), LoRALinear(layer, rank=2, alpha=3.0)
    else:
        x, adapter = torch.randn(4, layer.in_channels, 9, 9), LoRAConv2d(layer, rank=2, alpha=3.0)
    reference = layer(x).detach()
    with torch.no_grad():
        assert torch.equal(adapter.train()(x), reference)  # B = 0: the base layer's output
        nn.init.normal_(adapter.lora_b.weight, std=0.5)  # as if training had moved it
    out = adapter.train()(x)
    branch = layer(x) + 1.5 * adapter.lora_b(adapter.lora_a(x))  # scale = alpha / rank
    assert not torch.allclose(out, reference, atol=1e-3)  # the adapter does act
    torch.testing.assert_close(out, branch, rtol=1e-5, atol=1e-5)
    weights = [adapter.lora_a.weight, adapter.lora_b.weight]
    upstream = torch.randn_like(out)
    got = torch.autograd.grad(out, weights, upstream)
    expected = torch.autograd.grad(branch, weights, upstream)
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-5)
    assert layer.weight.grad is None  # the base stays frozen
    with torch.no_grad():
        torch.testing.assert_close(adapter.eval()(x), branch, rtol=1e-5, atol=1e-5)
        plain = merge_lora(adapter)
        assert type(plain) is type(layer)
        torch.testing.assert_close(plain(x), branch, rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch.export's notices on the CPU
def test_merged_backbone_exports_with_torch_export(frames: torch.Tensor) -> None:
    torch.manual_seed(0)
    extractor = BackboneExtractor(IMAGE, finetune="lora", lora_rank=2)
    for parameter in extractor.backbone_parameters():
        nn.init.normal_(parameter, std=0.05)
    plain = merge_lora(extractor.backbone).eval()
    with torch.no_grad():
        expected = extractor.eval()(frames)
        exported = torch.export.export(plain, (frames,)).module()
        assert torch.allclose(exported(frames), expected, atol=1e-5)


# ---------------------------------------------------------------------- random shift


@pytest.mark.parametrize(
    ("pad", "width", "dtype"),
    [
        (4, 12, torch.uint8),  # the int32 edge path
        (8, 16, torch.uint8),  # the int32 edge path, two word blocks a side
        (3, 12, torch.uint8),  # pad not a multiple of 4: value-by-value edges
        (4, 10, torch.uint8),  # width not a multiple of 4: value-by-value edges
        (4, 12, torch.float32),
    ],
    ids=["4-uint8", "8-uint8", "3-uint8", "odd-width", "float"],
)
def test_random_shift_of_channels_last_frames(pad: int, width: int, dtype: torch.dtype) -> None:
    """Frames laid out channels-last (as ChannelsLastRolloutBuffer hands them over) get
    the same shifts as plain ones and stay channels-last."""
    frames = (torch.rand(16, 3, 12, width) * 255).to(dtype)
    channels_last = frames.contiguous(memory_format=torch.channels_last)
    torch.manual_seed(2)
    expected = random_shift(frames, pad)
    torch.manual_seed(2)
    shifted = random_shift(channels_last, pad)
    assert torch.equal(shifted, expected)
    assert shifted.is_contiguous(memory_format=torch.channels_last)
    assert not torch.equal(shifted, frames)  # it did shift


def test_random_shift_of_unaligned_channels_last_frames() -> None:
    """Channels-last frames starting at an odd byte (no int32 view): the same shifts."""
    flat = torch.randint(0, 256, (1 + 16 * 12 * 12 * 3,), dtype=torch.uint8)
    frames = flat[1:].view(16, 12, 12, 3).permute(0, 3, 1, 2)
    assert frames.storage_offset() == 1
    torch.manual_seed(3)
    expected = random_shift(frames.contiguous(), 4)
    torch.manual_seed(3)
    assert torch.equal(random_shift(frames, 4), expected)


def test_random_shift_zero_pad_is_identity() -> None:
    frames = torch.rand(4, 3, 12, 10)
    assert random_shift(frames, 0) is frames


@pytest.mark.parametrize(
    ("pad", "dtype"),
    [
        (1, torch.float32),
        (2, torch.float32),
        (4, torch.float32),
        (4, torch.uint8),
        (12, torch.uint8),
    ],
    ids=["1", "2", "4", "4-uint8", "12-wider-than-the-frame"],
)
def test_random_shift_crops_the_replicate_padded_frame(pad: int, dtype: torch.dtype) -> None:
    frames = (torch.rand(16, 3, 12, 10) * 255).to(dtype)
    torch.manual_seed(1)
    shifted = random_shift(frames, pad)
    padded = nn.functional.pad(frames.float(), (pad,) * 4, mode="replicate").to(dtype)
    offsets = []
    for i in range(len(frames)):
        found = [
            (r, c)
            for r in range(2 * pad + 1)
            for c in range(2 * pad + 1)
            if torch.equal(shifted[i], padded[i, :, r : r + 12, c : c + 10])
        ]
        assert found, f"frame {i} is no crop of the padded frame"
        offsets.append(found[0])
    assert len(set(offsets)) > 1  # the shifts differ between frames
    torch.manual_seed(1)
    assert torch.equal(random_shift(frames, pad), shifted)  # seeded: reproducible


# ---------------------------------------------------------------------- policies


def test_ppo_policy_keeps_pretrained_weights(pretrained: dict[str, torch.Tensor]) -> None:
    model = tiny_ppo(BackbonePPOPolicy, features_extractor_kwargs={"finetune": "full"})
    assert model.policy.ortho_init  # SB3's orthogonal init ran, and was undone
    (extractor,) = backbone_extractors(model.policy)
    assert same_weights(extractor.backbone, pretrained)


def test_ppo_policy_hands_the_extractor_uint8_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """SB3 converts observations to float before the extractor; rlkit's PPO policy hands
    over the stored uint8 frames (the extractor shifts them before converting), with
    the same features, actions and values as SB3's path."""
    model = tiny_ppo(BackbonePPOPolicy, features_extractor_kwargs={"augment": True})
    policy = model.policy
    (extractor,) = backbone_extractors(policy)
    seen: list[torch.dtype] = []
    forward = extractor.forward
    monkeypatch.setattr(extractor, "forward", lambda obs: seen.append(obs.dtype) or forward(obs))
    frames = torch.randint(0, 256, (8, 3, 64, 64), dtype=torch.uint8)
    actions = torch.arange(8) % 4
    policy.set_training_mode(True)
    torch.manual_seed(3)
    values, log_prob, _ = policy.evaluate_actions(frames, actions)
    torch.manual_seed(3)  # the same shifts, on SB3's float copy
    sb3 = ActorCriticPolicy.extract_features(policy, frames)
    assert seen == [torch.uint8, torch.float32]
    torch.manual_seed(3)
    assert torch.equal(policy.extract_features(frames), sb3)
    latent_pi, latent_vf = policy.mlp_extractor(sb3)
    assert torch.equal(policy.value_net(latent_vf), values)
    distribution = policy._get_action_dist_from_latent(latent_pi)
    # the policy scores actions with a log-softmax, Categorical with a logsumexp
    assert torch.allclose(distribution.log_prob(actions), log_prob, rtol=1e-5, atol=1e-6)


def test_ppo_policy_with_separate_extractors_matches_sb3() -> None:
    """With ``share_features_extractor=False`` the actor and the critic each read the
    uint8 frames through their own extractor: the same features as SB3's float path,
    and SB3's warning when a caller names one extractor."""
    model = tiny_ppo(BackbonePPOPolicy, share_features_extractor=False)
    policy = model.policy
    frames = torch.randint(0, 256, (4, 3, 64, 64), dtype=torch.uint8)
    ours = policy.extract_features(frames)
    sb3 = ActorCriticPolicy.extract_features(policy, frames)
    assert isinstance(ours, tuple) and isinstance(sb3, tuple) and len(ours) == 2
    assert all(torch.equal(a, b) for a, b in zip(ours, sb3, strict=True))
    with pytest.warns(UserWarning, match="features_extractor is ignored"):
        policy.extract_features(frames, policy.pi_features_extractor)


def test_plain_sb3_policy_loses_pretrained_weights(pretrained: dict[str, torch.Tensor]) -> None:
    """The control: without rlkit's policy, SB3's orthogonal init overwrites the
    pretrained weights the extractor loaded (so the test above can fail)."""
    model = tiny_ppo(
        ActorCriticPolicy,
        features_extractor_class=BackboneExtractor,
        features_extractor_kwargs={"finetune": "full"},
        ortho_init=True,
    )
    (extractor,) = backbone_extractors(model.policy)
    assert not same_weights(extractor.backbone, pretrained)


@pytest.mark.parametrize(
    ("algo", "policy", "env_id", "parts"),
    [
        (DQN, BackboneDQNPolicy, "rlkit/GridNav-v0", ("q_net", "q_net_target")),
        (SAC, BackboneSACPolicy, "rlkit/ArmReach-v0", ("actor", "critic", "critic_target")),
    ],
    ids=["dqn", "sac"],
)
@pytest.mark.parametrize("finetune", ["full", "lora"])
def test_every_off_policy_extractor_starts_pretrained(
    algo: type[DQN | SAC],
    policy: type,
    env_id: str,
    parts: tuple[str, ...],
    finetune: str,
    pretrained: dict[str, torch.Tensor],
) -> None:
    model = algo(
        policy,
        pixel_env(env_id),
        buffer_size=64,
        learning_starts=0,
        device="cpu",
        policy_kwargs={"features_extractor_kwargs": {"finetune": finetune}},
    )
    extractors = [getattr(model.policy, part).features_extractor for part in parts]
    assert len({id(e) for e in extractors}) == len(parts)  # one extractor each
    assert len(backbone_extractors(model.policy)) == len(parts)
    for extractor in extractors:
        assert isinstance(extractor, BackboneExtractor)
        if finetune == "full":
            assert same_weights(extractor.backbone, pretrained)
        else:  # adapters start at B = 0 on the pretrained base, the only trainables
            merged = merge_lora(extractor.backbone).state_dict()
            assert all(torch.equal(merged[k], v) for k, v in pretrained.items())
            trainable = [n for n, p in extractor.named_parameters() if p.requires_grad]
            assert trainable and all(".lora_" in n for n in trainable)


# ---------------------------------------------------------------------- learning-rate scale

LR, SCALE = 0.1, 0.25


def sgd_step(model: PPO) -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """One SGD step on a small batch: ``name -> (before, after, gradient)``."""
    policy = model.policy
    params = {n: p for n, p in policy.named_parameters() if p.requires_grad}
    before = {n: p.detach().clone() for n, p in params.items()}
    obs = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 255
    policy.set_training_mode(True)
    policy.optimizer.zero_grad()
    values, log_prob, entropy = policy.evaluate_actions(obs, torch.arange(4) % 4)
    assert entropy is not None
    (values.square().mean() - log_prob.mean() - entropy.mean()).backward()
    grads = {n: p.grad.clone() for n, p in params.items() if p.grad is not None}
    policy.optimizer.step()
    return {n: (before[n], params[n].detach().clone(), grads[n]) for n in grads}


def assert_scaled(
    model: PPO, steps: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
) -> None:
    """Backbone parameters moved by ``SCALE x LR x grad``, every other one by ``LR x grad``
    (to float32 rounding of ``before - lr * grad``, SGD's own arithmetic)."""
    backbone = {id(p) for e in backbone_extractors(model.policy) for p in e.backbone_parameters()}
    named = dict(model.policy.named_parameters())
    assert any(id(named[n]) in backbone for n in steps)
    assert any(id(named[n]) not in backbone for n in steps)
    for name, (before, after, grad) in steps.items():
        scale = SCALE if id(named[name]) in backbone else 1.0
        assert grad.abs().max() > 0, name
        assert torch.allclose(after, before - LR * scale * grad, rtol=0, atol=1e-7), name
        moved = (after - before).double().norm() / (LR * grad.double().norm())
        assert moved.item() == pytest.approx(scale, rel=1e-2), name


def sgd_ppo() -> PPO:
    """PPO on pixels whose backbone learns at SCALE x LR, by plain SGD (steps to check)."""
    return PPO(
        BackbonePPOPolicy,
        pixel_env(),
        n_steps=16,
        batch_size=16,
        learning_rate=LR,
        device="cpu",
        policy_kwargs={"backbone_lr_scale": SCALE, "optimizer_class": torch.optim.SGD},
    )


def test_backbone_learning_rate_scale_applies_per_step() -> None:
    model = sgd_ppo()
    assert_scaled(model, sgd_step(model))
    groups = model.policy.optimizer.param_groups
    assert sorted(g["lr_scale"] for g in groups) == [SCALE, 1.0]
    # the hooks undo the scale after the step: SB3's schedule sees its own value
    assert all(g["lr"] == model.lr_schedule(1.0) == LR and "base_lr" not in g for g in groups)


def test_backbone_learning_rate_scale_survives_save_and_load(tmp_path: Path) -> None:
    model = sgd_ppo()
    model.save(tmp_path / "model.zip")
    loaded = PPO.load(tmp_path / "model.zip", env=pixel_env(), device="cpu")
    assert loaded.policy.backbone_lr_scale == SCALE
    groups = loaded.policy.optimizer.param_groups
    assert sorted(g["lr_scale"] for g in groups) == [SCALE, 1.0]
    assert_scaled(loaded, sgd_step(loaded))  # and the loaded optimizer still applies it
