"""Bottleneck adapters (rlkit.deep.adapters) and the ``finetune="adapter"`` mode (issue #16).

Training tests use the tiny envs of test_deep_train (a 1x7 corridor, 32-pixel frames)
and test_deep_distill (an empty 5x5 GridNav): each runs in a few seconds on one thread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from torch import nn
from torch.nn import functional as F

import envs  # noqa: F401 - registers the rlkit/ ids
from rlkit.backbones import DEFAULT_BACKBONE, ConvEncoder, load_backbone
from rlkit.cli import main
from rlkit.deep import BackboneExtractor
from rlkit.deep.adapters import (
    DEFAULT_ADAPTER_SIZE,
    ConvAdapter,
    adapter_parameters,
    add_adapters,
    parameter_counts,
    remove_adapters,
)
from rlkit.deep.distill import behaviour_cloning, dagger
from rlkit.deep.policies import backbone_extractors
from rlkit.deep.trainer import ALGORITHMS, train

IMAGE = gym.spaces.Box(0, 255, (3, 64, 64), np.uint8)
CORRIDOR = "rlkit/GridNav-Map-v0"
LINE: dict[str, Any] = {"map": ".......", "goal": (0, 3), "max_steps": 4, "pixel_size": 32}
GRID = "rlkit/GridNav-v0"
SMALL = {"layout": "empty", "size": 5, "max_steps": 12}

#: Torch on one thread for every test here (tests/rlkit/conftest.py).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def keeps_pretrained_base(extractor: BackboneExtractor, pretrained: dict[str, Any]) -> bool:
    """Whether the backbone without its adapters equals the shipped weights bit for bit."""
    base = remove_adapters(extractor.backbone).state_dict()
    return base.keys() == pretrained.keys() and all(
        torch.equal(base[k].cpu(), v) for k, v in pretrained.items()
    )


def adapters_moved(extractor: BackboneExtractor) -> bool:
    """Whether training moved an up-projection off its zero start."""
    return any(
        bool(torch.count_nonzero(m.up.weight))
        for m in extractor.backbone.modules()
        if isinstance(m, ConvAdapter)
    )


# ---------------------------------------------------------------------- the module


def test_adapter_is_the_residual_bottleneck_and_starts_as_identity() -> None:
    torch.manual_seed(0)
    adapter = ConvAdapter(6, size=3)
    x = torch.randn(2, 6, 5, 5)
    out = adapter(x)
    assert torch.equal(out, x)  # zero up-projection: the identity, bit for bit
    # at the start only the up-projection gets a gradient (down's passes through up = 0)
    out.square().sum().backward()
    assert adapter.up.weight.grad is not None and adapter.up.weight.grad.abs().sum() > 0
    assert adapter.down.weight.grad is not None and not adapter.down.weight.grad.any()
    with torch.no_grad():
        nn.init.normal_(adapter.up.weight)  # as if training had moved it
        hidden = F.relu(F.conv2d(x, adapter.down.weight, adapter.down.bias))
        expected = x + F.conv2d(hidden, adapter.up.weight, adapter.up.bias)
        assert not torch.allclose(adapter(x), x)
        torch.testing.assert_close(adapter(x), expected)
    assert (adapter.down.weight.shape, adapter.up.weight.shape) == ((3, 6, 1, 1), (6, 3, 1, 1))


@pytest.mark.parametrize(
    ("encoder", "channels"),
    [
        (lambda: load_backbone(DEFAULT_BACKBONE), [16, 32, 32]),
        (lambda: ConvEncoder(), [16, 32, 64, 64]),  # the v1 layout, 4 blocks
        (lambda: ConvEncoder(channels=(8,), strides=(2,)), [8]),  # the stem alone
    ],
    ids=["rlkit-cnn-v2", "four-blocks", "stem-only"],
)
def test_one_adapter_after_each_conv_block(encoder: Any, channels: list[int]) -> None:
    model = encoder()
    frames = torch.rand(2, 3, 32, 32) * 255
    with torch.no_grad():
        before = model(frames)
    adapters = add_adapters(model, size=4)
    kinds = [type(m).__name__ for m in model.trunk]
    # each conv block (conv + ReLU, or the last conv alone) is followed by its adapter
    expected = []
    for i in range(len(channels)):
        expected += ["Conv2d", "ReLU", "ConvAdapter"] if i < len(channels) - 1 else []
    expected += ["Conv2d", "ConvAdapter"]
    assert kinds == expected
    assert [a.channels for a in adapters] == channels
    assert all(a.size == 4 for a in adapters)
    assert [p.requires_grad for p in model.parameters()].count(True) == 4 * len(channels)
    with torch.no_grad():
        assert torch.equal(model(frames), before)  # the stem still folds normalisation
    with pytest.raises(ValueError, match="already has adapters"):
        add_adapters(model)


@pytest.mark.parametrize("size", [0, -2, 2.5, True, "8"])
def test_bad_adapter_size_is_refused(size: Any) -> None:
    with pytest.raises(ValueError, match="adapter_size must be a positive int"):
        BackboneExtractor(IMAGE, finetune="adapter", adapter_size=size)
    with pytest.raises(ValueError, match="adapter_size"):
        ConvAdapter(4, size)


def test_add_adapters_needs_a_trunk() -> None:
    with pytest.raises(TypeError, match=r"nn\.Sequential `trunk`"):
        add_adapters(nn.Linear(3, 3))


# ---------------------------------------------------------------------- the extractor mode


@pytest.mark.parametrize("spatial", [0, 3])
def test_adapter_mode_starts_as_the_pretrained_network(
    spatial: int, frames: torch.Tensor, pretrained: dict[str, torch.Tensor]
) -> None:
    frozen = BackboneExtractor(IMAGE, finetune="frozen", spatial=spatial)
    adapted = BackboneExtractor(IMAGE, finetune="adapter", spatial=spatial)
    if spatial:  # the same head on both (each drew its own random init)
        assert adapted.spatial_head is not None and frozen.spatial_head is not None
        adapted.spatial_head.load_state_dict(frozen.spatial_head.state_dict())
    with torch.no_grad():
        for mode in (True, False):
            assert torch.equal(adapted.train(mode)(frames), frozen.train(mode)(frames))
    assert keeps_pretrained_base(adapted, pretrained)


def test_only_adapters_train_and_their_count(pretrained: dict[str, torch.Tensor]) -> None:
    extractor = BackboneExtractor(IMAGE, finetune="adapter")
    trainable = [n for n, p in extractor.named_parameters() if p.requires_grad]
    assert trainable and all(n.split(".")[-2] in ("down", "up") for n in trainable)
    backbone = {id(p) for p in extractor.backbone_parameters()}
    assert backbone == {id(p) for p in extractor.parameters() if p.requires_grad}
    assert backbone == {id(p) for p in adapter_parameters(extractor)}
    base = sum(v.numel() for k, v in pretrained.items() if k not in ("mean", "std"))
    counts = parameter_counts(extractor)
    # 2 c m + m + c per block, c = 16, 32, 32 on rlkit-cnn-v2: 163 m + 80
    assert counts.trainable == 163 * DEFAULT_ADAPTER_SIZE + 80 == 2688
    assert counts.total == base + counts.trainable
    lora = parameter_counts(BackboneExtractor(IMAGE, finetune="lora"))  # rank 4
    assert counts.trainable <= lora.trainable  # issue #16: at most LoRA's parameters
    assert parameter_counts(BackboneExtractor(IMAGE, finetune="frozen")).trainable == 0


@pytest.mark.parametrize("size", [1, 4, 25])
def test_adapter_size_sets_the_bottleneck(size: int) -> None:
    extractor = BackboneExtractor(IMAGE, finetune="adapter", adapter_size=size)
    assert parameter_counts(extractor).trainable == 163 * size + 80


def test_parameter_counts_count_shared_tensors_once() -> None:
    layer = nn.Linear(4, 4)
    shared = nn.Sequential(layer, nn.ReLU(), layer)
    shared[0].bias.requires_grad_(False)
    assert parameter_counts(shared) == (16, 20)


def test_remove_adapters_gives_the_base_back(
    frames: torch.Tensor, pretrained: dict[str, torch.Tensor]
) -> None:
    extractor = BackboneExtractor(IMAGE, finetune="adapter")
    for parameter in adapter_parameters(extractor):
        nn.init.normal_(parameter, std=0.1)
    plain = remove_adapters(extractor.backbone)
    assert not any(isinstance(m, ConvAdapter) for m in plain.modules())
    assert any(isinstance(m, ConvAdapter) for m in extractor.backbone.modules())  # kept
    with torch.no_grad():
        assert torch.allclose(plain(frames), load_backbone(DEFAULT_BACKBONE)(frames), atol=1e-5)
        assert not torch.allclose(extractor(frames), plain(frames), atol=1e-3)
    assert keeps_pretrained_base(extractor, pretrained)


# ---------------------------------------------------------------------- training


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_rl_trains_only_adapters_and_heads(
    algo: str, monkeypatch: pytest.MonkeyPatch, pretrained: dict[str, torch.Tensor]
) -> None:
    """Bit-exact, as test_deep_train's test for LoRA: the heads and the adapters move,
    the backbone's own weights stay the shipped ones in every extractor (DQN: online
    and target)."""
    before: dict[str, torch.Tensor] = {}
    original = ALGORITHMS[algo].learn

    def learn(self: Any, *args: Any, **kwargs: Any) -> Any:
        before.update({k: v.detach().clone() for k, v in self.policy.state_dict().items()})
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ALGORITHMS[algo], "learn", learn)
    small = (
        {"n_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 2}
        if algo == "ppo"
        else {"learning_starts": 32, "buffer_size": 500, "batch_size": 16, "train_freq": 4,
              "target_update_interval": 64}
    )  # fmt: skip
    hyperparams = {**small, "policy_kwargs": {"features_extractor_kwargs": {"adapter_size": 4}}}
    result = train(
        algo, CORRIDOR, total_steps=128, env_kwargs=LINE, hyperparams=hyperparams,
        device="cpu", finetune="adapter",
    )  # fmt: skip
    after = result.model.policy.state_dict()
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    backbone = {k for k in after if ".backbone." in k}
    adapters = {k for k in backbone if ".up." in k or ".down." in k}
    assert changed - backbone, "the heads did not train"
    assert changed & backbone and changed & backbone <= adapters
    assert any(".up." in k for k in changed)
    extractors = backbone_extractors(result.model.policy)
    assert len(extractors) == (1 if algo == "ppo" else 2)
    for extractor in extractors:
        assert keeps_pretrained_base(extractor, pretrained)
        assert all(a.size == 4 for a in extractor.backbone.modules() if isinstance(a, ConvAdapter))
    assert adapters_moved(extractors[0])


@pytest.mark.parametrize("method", ["bc", "dagger"])
def test_distillation_trains_only_adapters_and_heads(
    method: str, pretrained: dict[str, torch.Tensor]
) -> None:
    options: dict[str, Any] = {
        "finetune": "adapter", "epochs": 2, "learning_rate": 1e-2, "env_kwargs": SMALL,
        "ppo_kwargs": {"n_steps": 16, "batch_size": 16}, "device": "cpu",
    }  # fmt: skip
    if method == "bc":
        result = behaviour_cloning(GRID, 2, **options)
    else:
        result = dagger(GRID, 2, iterations=1, rollouts_per_iteration=2, **options)
    (extractor,) = backbone_extractors(result.model.policy)
    assert extractor.finetune == "adapter"
    assert keeps_pretrained_base(extractor, pretrained)
    assert adapters_moved(extractor)


def test_same_seed_same_adapters() -> None:
    def run(seed: int) -> dict[str, torch.Tensor]:
        result = behaviour_cloning(
            GRID, 2, finetune="adapter", epochs=2, seed=seed, env_kwargs=SMALL, device="cpu",
            ppo_kwargs={"n_steps": 16, "batch_size": 16},
        )  # fmt: skip
        return dict(result.model.policy.state_dict())

    first, second, other = run(3), run(3), run(4)
    assert all(torch.equal(first[k], second[k]) for k in first)
    adapters = [k for k in first if ".down." in k]
    assert adapters and not all(torch.equal(first[k], other[k]) for k in adapters)


def test_save_and_load_keep_the_adapters(tmp_path: Path) -> None:
    sized = {"features_extractor_kwargs": {"adapter_size": 3}}
    result = behaviour_cloning(
        GRID, 2, finetune="adapter", epochs=2, learning_rate=1e-2, env_kwargs=SMALL,
        device="cpu", ppo_kwargs={"n_steps": 16, "batch_size": 16, "policy_kwargs": sized},
    )  # fmt: skip
    path = result.save(tmp_path / "model.zip")
    loaded = PPO.load(path, device="cpu")
    (extractor,) = backbone_extractors(loaded.policy)
    assert {a.size for a in extractor.backbone.modules() if isinstance(a, ConvAdapter)} == {3}
    saved, restored = result.model.policy.state_dict(), loaded.policy.state_dict()
    assert saved.keys() == restored.keys()
    assert all(torch.equal(saved[k], restored[k]) for k in saved)
    assert adapters_moved(extractor)


# ---------------------------------------------------------------------- command line


def test_rlkit_train_finetune_adapter_with_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--algo", "ppo", "--env", CORRIDOR, "--env-kwargs", json.dumps(LINE),
            "--steps", "64", "--finetune", "adapter", "--adapter-size", "2", "--n-envs", "2",
            "--set", "n_steps=32", "--set", "batch_size=32", "--device", "cpu",
            "--no-progress", "--no-tensorboard", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    assert "trained ppo" in capsys.readouterr().out
    model = PPO.load(tmp_path / "model.zip", device="cpu")
    extractor_kwargs = model.policy_kwargs["features_extractor_kwargs"]
    assert extractor_kwargs["finetune"] == "adapter" and extractor_kwargs["adapter_size"] == 2
    (extractor,) = backbone_extractors(model.policy)
    assert parameter_counts(extractor).trainable == 163 * 2 + 80
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["arguments"]["adapter_size"] == 2


def test_rlkit_distill_finetune_adapter_with_size(tmp_path: Path) -> None:
    argv = ["distill", "--env", GRID, "--env-kwarg", "layout=empty", "--env-kwarg", "size=5",
            "--method", "bc", "--demos", "2", "--epochs", "1", "--finetune", "adapter",
            "--adapter-size", "5", "--device", "cpu", "--no-progress",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    (extractor,) = backbone_extractors(PPO.load(tmp_path / "model.zip", device="cpu").policy)
    assert extractor.finetune == "adapter"
    assert {a.size for a in extractor.backbone.modules() if isinstance(a, ConvAdapter)} == {5}


def test_tabular_train_refuses_adapter_size(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train", "--algo", "q_learning", "--env", "FrozenLake-v1", "--adapter-size", "4"]
    assert main(argv) == 2
    assert "--adapter-size: only for deep algorithms" in capsys.readouterr().err
