"""Pretraining: data collection, augmentation, learning, resuming bit for bit, the CLI."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from rlkit.backbones import PretrainConfig, load_backbone, load_card, pretrain
from rlkit.backbones.cli import add_pretrain_parser
from rlkit.backbones.data import (
    HELD_OUT_FIRST_SEED,
    SEEDS_PER_RUN,
    collect_armreach,
    collect_gridnav,
    pretraining_first_seed,
)
from rlkit.backbones.pretrain import RECIPES, random_shift


def tiny(**overrides: Any) -> PretrainConfig:
    """A recipe that runs in seconds: few frames, small batch, small features."""
    settings: dict[str, Any] = {
        "name": "tiny", "steps": 30, "batch_size": 16, "features_dim": 32,
        "gridnav_frames": 600, "armreach_frames": 300, "gridnav_sizes": (7, 11),
        "episode_len": 20, "warmup_steps": 5, "checkpoint_every": 10,
    }  # fmt: skip
    settings.update(overrides)
    return PretrainConfig(**settings)


# -- data ------------------------------------------------------------------------------


def test_collection_is_a_function_of_its_seed() -> None:
    a = collect_gridnav(200, first_seed=7, sizes=(9,), episode_len=15)
    b = collect_gridnav(200, first_seed=7, sizes=(9,), episode_len=15)
    c = collect_gridnav(200, first_seed=8, sizes=(9,), episode_len=15)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    arm_a = collect_armreach(60, first_seed=3, episode_len=15)
    arm_b = collect_armreach(60, first_seed=3, episode_len=15)
    assert arm_a.fingerprint() == arm_b.fingerprint()


def test_states_describe_the_frames() -> None:
    grid = collect_gridnav(300, first_seed=0, sizes=(7, 15), episode_len=30)
    assert grid.frames.shape == (300, 3, 64, 64) and grid.frames.dtype == np.uint8
    assert np.isfinite(grid.states[:, :4]).all() and np.isnan(grid.states[:, 4:]).all()
    assert ((grid.states[:, :4] > 0) & (grid.states[:, :4] < 1)).all()
    arm = collect_armreach(100, first_seed=0, episode_len=30)
    cos, sin, ee = arm.states[:, 4:6], arm.states[:, 6:8], arm.states[:, 8:]
    np.testing.assert_allclose(cos**2 + sin**2, 1.0, atol=1e-5)
    assert (np.linalg.norm(ee, axis=1) <= 1.0 + 1e-6).all()  # within the reach
    # Frames of an episode are contiguous and every policy is used.
    assert (np.diff(grid.episode) >= 0).all()
    assert {s.split("policy=")[1].split()[0] for s in grid.source} == {
        "random", "planner", "mixed",
    }  # fmt: skip


def test_positive_pairs_stay_inside_their_episode() -> None:
    data = collect_gridnav(400, first_seed=0, sizes=(7,), episode_len=12)
    anchors, positives = data.positive_pairs(3)
    assert len(anchors) > 0 and (positives - anchors == 3).all()
    assert (data.episode[anchors] == data.episode[positives]).all()


def test_pretraining_and_probe_seeds_never_meet() -> None:
    last_pretraining_seed = pretraining_first_seed(HELD_OUT_FIRST_SEED // SEEDS_PER_RUN - 1)
    assert last_pretraining_seed + SEEDS_PER_RUN <= HELD_OUT_FIRST_SEED
    with pytest.raises(ValueError, match="seed"):
        pretraining_first_seed(HELD_OUT_FIRST_SEED // SEEDS_PER_RUN)


def test_random_shift_moves_frames_by_at_most_pad() -> None:
    generator = torch.Generator().manual_seed(0)
    frames = torch.zeros(64, 1, 32, 32, dtype=torch.uint8)
    frames[:, :, 16, 16] = 255  # one bright pixel in the middle
    shifted = random_shift(frames, 4, generator)
    assert shifted.shape == frames.shape and shifted.dtype == torch.uint8
    where = shifted[:, 0].flatten(1).argmax(dim=1)
    rows, cols = where // 32, where % 32
    assert (rows - 16).abs().max() <= 4 and (cols - 16).abs().max() <= 4
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 10  # shifts vary
    again = random_shift(frames, 4, torch.Generator().manual_seed(0))
    assert torch.equal(again, shifted)


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        PretrainConfig(batch_size=1)
    with pytest.raises(ValueError, match="target_momentum"):
        PretrainConfig(target_momentum=0.0)


# -- training --------------------------------------------------------------------------


def test_pretraining_reduces_its_loss(tmp_path: Path) -> None:
    config = tiny(steps=150, batch_size=32, checkpoint_every=150, warmup_steps=10)
    result = pretrain(config, tmp_path, device="cpu", progress=False)
    losses = np.array([r["loss"] for r in result.history])
    aux = np.array([r["aux"] for r in result.history])
    assert len(losses) == 150 and np.isfinite(losses).all()
    assert losses[-20:].mean() < 0.8 * losses[:20].mean()
    assert aux[-20:].mean() < 0.8 * aux[:20].mean()
    # The outputs: loadable weights whose card describes the run.
    encoder = load_backbone(result.weights_path)
    card = load_card(result.weights_path)
    assert card["training"]["steps"] == 150 and card["seed"] == 0
    assert card["architecture"]["features_dim"] == 32 and encoder.features_dim == 32
    assert {p.name for p in tmp_path.iterdir()} == {
        "tiny.pt", "tiny.json", "checkpoint.pt", "history.json",
    }  # fmt: skip


def _final_checkpoint(folder: Path) -> dict[str, Any]:
    state: dict[str, Any] = torch.load(folder / "checkpoint.pt", weights_only=True)
    return state


def _assert_identical(a: Any, b: Any, where: str = "checkpoint") -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            if key != "elapsed":  # wall time differs between runs, nothing else may
                _assert_identical(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_identical(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def test_an_interrupted_run_resumes_bit_for_bit(tmp_path: Path) -> None:
    config = tiny()
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    pretrain(config, whole, device="cpu", progress=False)

    def interrupt(step: int, record: dict[str, float]) -> None:
        if step == 25:  # after the checkpoint of step 20: steps 21-25 are lost
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pretrain(config, cut, device="cpu", progress=False, callback=interrupt)
    assert _final_checkpoint(cut)["step"] == 20
    assert not (cut / "tiny.pt").exists()
    with pytest.raises(ValueError, match="resume"):  # never overwritten silently
        pretrain(config, cut, device="cpu", progress=False)

    pretrain(config, cut, device="cpu", progress=False, resume=True)
    _assert_identical(_final_checkpoint(whole), _final_checkpoint(cut))
    a, b = load_backbone(whole / "tiny.pt"), load_backbone(cut / "tiny.pt")
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


def test_resuming_with_another_config_is_refused(tmp_path: Path) -> None:
    pretrain(tiny(steps=10), tmp_path, device="cpu", progress=False)
    with pytest.raises(ValueError, match=r"config differs \(lr: 0.001 -> 0.002\)"):
        pretrain(tiny(steps=10, lr=2e-3), tmp_path, device="cpu", progress=False, resume=True)


# -- command line ----------------------------------------------------------------------


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rlkit")
    add_pretrain_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_defaults_are_the_shipped_recipe() -> None:
    args = _parse(["pretrain", "--out", "somewhere"])
    assert (args.out, args.steps, args.seed, args.device) == (Path("somewhere"), None, 0, "auto")
    assert args.recipe == "rlkit-cnn-v2" and args.name is None and not args.resume


@pytest.mark.parametrize("name", ["rlkit-cnn-lite", "rlkit-cnn-v1", "rlkit-cnn-v2"])
def test_each_shipped_backbone_has_its_recipe(name: str) -> None:
    """The recipe reproduces what the shipped card records: architecture and config."""
    card = load_card(name)
    recipe = RECIPES[name]
    architecture = dict(card["architecture"])
    del architecture["class"], architecture["parameters"]
    assert recipe.architecture() == architecture
    config = {k: v for k, v in recipe.to_dict().items() if v is not None}  # v1: no kernels
    assert config == card["training"]["config"]


def test_cli_refuses_to_overwrite_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "checkpoint.pt").write_bytes(b"an earlier run")
    args = _parse(["pretrain", "--out", str(tmp_path), "--no-progress"])
    assert args.func(args) == 2
    assert "--resume" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_runs_the_recipe_for_a_few_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parse(["pretrain", "--out", str(tmp_path), "--steps", "3", "--batch-size", "8",
                   "--device", "cpu", "--no-progress", "--name", "cli"])  # fmt: skip
    assert args.func(args) == 0
    assert "wrote" in capsys.readouterr().out
    assert load_backbone(tmp_path / "cli.pt").features_dim == 128
