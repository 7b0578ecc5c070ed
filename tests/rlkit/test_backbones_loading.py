"""Shipped weights and model cards: offline loading, checksums, refusing broken files."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
import torch

from rlkit.backbones import (
    DEFAULT_BACKBONE,
    WEIGHTS_DIR,
    BackboneFileError,
    ConvEncoder,
    available_backbones,
    load_backbone,
    load_card,
    save_backbone,
    seeded_encoder,
)
from rlkit.backbones.model import sha256_of, write_card

SHIPPED_NAMES = ["rlkit-cnn-lite", "rlkit-cnn-v1", "rlkit-cnn-v2"]
SHIPPED = WEIGHTS_DIR / f"{DEFAULT_BACKBONE}.pt"
CARD_KEYS = {
    "name", "format", "architecture", "input", "data", "objective", "training", "seed",
    "wall_time_s", "versions", "probe", "sha256", "weights_file", "bytes",
}  # fmt: skip


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("loading a backbone tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def copy_of_shipped(tmp_path: Path) -> Path:
    """The shipped weights and card, copied to a temporary folder."""
    for suffix in (".pt", ".json"):
        shutil.copy(SHIPPED.with_suffix(suffix), tmp_path / f"copy{suffix}")
    return tmp_path / "copy.pt"


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_shipped_weights_load_offline_and_match_their_card(offline: None, name: str) -> None:
    assert available_backbones() == SHIPPED_NAMES and DEFAULT_BACKBONE in SHIPPED_NAMES
    encoder = load_backbone(name)
    card = load_card(name)
    weights = WEIGHTS_DIR / f"{name}.pt"
    assert card.keys() >= CARD_KEYS and card["name"] == name
    assert card["sha256"] == sha256_of(weights)
    assert card["bytes"] == weights.stat().st_size < 1_000_000
    assert encoder.card == card and not encoder.training
    assert encoder.architecture == {
        k: v for k, v in card["architecture"].items() if k not in ("class", "parameters")
    }
    assert encoder.normalization == card["input"]["normalization"]
    out = encoder(torch.zeros(2, 3, *card["input"]["size"], dtype=torch.uint8))
    assert out.shape == (2, card["architecture"]["features_dim"])


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_the_shipped_card_records_how_it_was_made(name: str) -> None:
    card = load_card(name)
    assert card["training"]["steps"] == card["training"]["config"]["steps"] > 0
    assert card["wall_time_s"] <= 15 * 60  # the recipe's CPU budget
    assert {"torch", "numpy", "gymnasium"} <= card["versions"].keys()
    assert card["data"]["gridnav_frames"] > 0 and card["data"]["armreach_frames"] > 0
    probe = card["probe"]
    assert probe is not None and not probe["quick"], "run backbone_probe.py --update-card"
    assert {r["probe"] for r in probe["results"] if r["target"]} == {
        "GridNav agent (row, col)", "ArmReach end effector (x, y)",
    }  # fmt: skip


def test_load_by_path_and_by_card_path(copy_of_shipped: Path) -> None:
    a = load_backbone(copy_of_shipped)
    b = load_backbone(copy_of_shipped.with_suffix(".json"))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_a_tampered_file_is_refused(copy_of_shipped: Path) -> None:
    data = bytearray(copy_of_shipped.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one weight
    copy_of_shipped.write_bytes(bytes(data))
    with pytest.raises(BackboneFileError, match=r"copy\.pt: sha256 .* does not match"):
        load_backbone(copy_of_shipped)


def test_a_truncated_file_is_refused(copy_of_shipped: Path) -> None:
    data = copy_of_shipped.read_bytes()
    copy_of_shipped.write_bytes(data[: len(data) // 2])
    with pytest.raises(BackboneFileError, match="corrupt, truncated or was replaced"):
        load_backbone(copy_of_shipped)
    # Even with a card that vouches for the cut file, it is refused, not loaded in part.
    card_path = copy_of_shipped.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["sha256"] = sha256_of(copy_of_shipped)
    write_card(card_path, card)
    with pytest.raises(BackboneFileError, match="not a readable weights file"):
        load_backbone(copy_of_shipped)


def test_weights_of_another_architecture_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "small.pt"
    card = save_backbone(seeded_encoder(0, features_dim=16), path, {})
    card["architecture"]["features_dim"] = 32  # the card now describes another model
    write_card(path.with_suffix(".json"), card)
    with pytest.raises(BackboneFileError, match="do not belong together"):
        load_backbone(path)


def test_a_state_dict_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "partial.pt"
    encoder = seeded_encoder(0, features_dim=16)
    card = save_backbone(encoder, path, {})
    payload = torch.load(path, weights_only=True)
    del payload["state_dict"]["head.weight"]  # a partial file must not load in part
    torch.save(payload, path)
    card["sha256"] = sha256_of(path)
    write_card(path.with_suffix(".json"), card)
    with pytest.raises(BackboneFileError, match=r"partial\.pt: the weights do not fit"):
        load_backbone(path)


def test_a_missing_card_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lonely.pt"
    save_backbone(ConvEncoder(features_dim=8), path, {})
    path.with_suffix(".json").unlink()
    with pytest.raises(BackboneFileError, match="no model card"):
        load_backbone(path)


def test_unknown_names_and_missing_files() -> None:
    with pytest.raises(ValueError, match=r"unknown backbone 'nope'.*rlkit-cnn-v1"):
        load_backbone("nope")
    with pytest.raises(FileNotFoundError, match=r"missing\.pt"):
        load_backbone("/no/such/folder/missing.pt")


def test_random_init_keeps_architecture_and_normalisation(offline: None) -> None:
    pretrained = load_backbone(DEFAULT_BACKBONE)
    scratch = load_backbone(DEFAULT_BACKBONE, pretrained=False, seed=0)
    again = load_backbone(DEFAULT_BACKBONE, pretrained=False, seed=0)
    assert scratch.architecture == pretrained.architecture
    assert scratch.normalization == pretrained.normalization
    assert torch.equal(scratch.head.weight, again.head.weight)
    assert not torch.equal(scratch.head.weight, pretrained.head.weight)


def test_save_then_load_round_trip(tmp_path: Path) -> None:
    encoder = seeded_encoder(3, features_dim=24, channels=(8, 16, 16), strides=(2, 2, 2))
    encoder.set_normalization([100.0, 110.0, 120.0], [50.0, 51.0, 52.0])
    card = save_backbone(encoder, tmp_path / "mine.pt", {"seed": 3})
    assert list(tmp_path.iterdir()) != [] and not list(tmp_path.glob(".*"))  # no temporaries
    loaded = load_backbone(tmp_path / "mine.pt")
    frames = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    assert torch.equal(loaded(frames), encoder.eval()(frames))
    assert card["name"] == "mine" and card["seed"] == 3
    assert card["input"]["normalization"] == encoder.normalization


def test_same_weights_give_the_same_file_bytes(tmp_path: Path) -> None:
    """Reproducible checksums: the bytes depend on the weights, not on the file name
    or the temporary file the write went through."""
    encoder = seeded_encoder(0, features_dim=16)
    a = save_backbone(encoder, tmp_path / "a" / "net.pt", {"seed": 0})
    b = save_backbone(encoder, tmp_path / "b" / "other.pt", {"seed": 0})
    assert (tmp_path / "a" / "net.pt").read_bytes() == (tmp_path / "b" / "other.pt").read_bytes()
    assert a["sha256"] == b["sha256"]
