"""Fuzz backbone files (:func:`rlkit.backbones.load_backbone`).

Inputs: a tiny saved backbone whose weights file is truncated, has bytes flipped or
inserted, is replaced by a pickle payload or by another architecture's weights, and
whose model card has fields replaced by values of any JSON type; in the tampered cases
the card's sha256 is updated too (whoever tampers can also edit the card). Oracle: an
encoder or a :class:`BackboneFileError` naming the weights file or its card; never
code run from the file.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from rlkit.backbones.cards import BackboneFileError, sha256_of  # noqa: E402
from rlkit.backbones.encoder import ConvEncoder, seeded_encoder  # noqa: E402
from rlkit.backbones.store import load_backbone, save_backbone  # noqa: E402

FUZZ = settings.get_profile("fuzz")
_TINY = {"features_dim": 4, "channels": [2, 2], "strides": [2, 2]}
#: Set by the pickle payload if unpickling ever ran it.
EXPLOITED: list[str] = []


class _Payload:
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return EXPLOITED.append, ("code ran",)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny backbone (``tiny.pt`` and ``tiny.json``) to damage."""
    path = tmp_path_factory.mktemp("backbone") / "tiny.pt"
    save_backbone(seeded_encoder(0, **_TINY), path, {"seed": 0})
    return path


def _copy(original: Path, scratch: Path) -> Path:
    folder = scratch / "backbone"
    folder.mkdir(exist_ok=True)
    for suffix in (".pt", ".json"):
        shutil.copyfile(original.with_suffix(suffix), folder / f"tiny{suffix}")
    return folder / "tiny.pt"


def _reseal(weights: Path) -> None:
    """Update the card's checksum to the (tampered) weights file."""
    card_path = weights.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["sha256"] = sha256_of(weights)
    card_path.write_text(json.dumps(card))


def _load(weights: Path, typed_or_ok: Callable[..., Any], pretrained: bool = True) -> Any:
    names = [str(weights), str(weights.with_suffix(".json"))]
    return typed_or_ok(
        lambda: load_backbone(weights, pretrained=pretrained), (BackboneFileError,), names
    )


@st.composite
def damaged_weights(draw: st.DrawFn, raw: bytes) -> bytes:
    how = draw(st.sampled_from(["truncate", "flip", "insert", "garbage"]))
    if how == "truncate":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    if how == "flip":
        at = draw(st.integers(0, len(raw) - 1))
        return raw[:at] + bytes([raw[at] ^ draw(st.integers(1, 255))]) + raw[at + 1 :]
    if how == "insert":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.binary(min_size=1, max_size=16)) + raw[at:]
    return draw(st.binary(max_size=300))


@FUZZ
@given(data=st.data(), reseal=st.booleans())
def test_damaged_weights_raise_naming_the_file(
    original: Path, scratch: Path, typed_or_ok: Callable[..., Any], data: Any, reseal: bool
) -> None:
    weights = _copy(original, scratch)
    weights.write_bytes(data.draw(damaged_weights(original.read_bytes())))
    if reseal:
        _reseal(weights)
    result = _load(weights, typed_or_ok)
    if isinstance(result, ConvEncoder):  # a flip inside padding may leave the tensors intact
        assert result.architecture["features_dim"] == _TINY["features_dim"]


def test_pickle_payload_is_refused_without_running(
    original: Path, scratch: Path, typed_or_ok: Callable[..., Any]
) -> None:
    weights = _copy(original, scratch)
    buffer = io.BytesIO()
    torch.save({"format": "rlkit.backbone", "state_dict": _Payload()}, buffer)
    weights.write_bytes(buffer.getvalue())
    _reseal(weights)
    assert isinstance(_load(weights, typed_or_ok), BackboneFileError)
    assert EXPLOITED == []


def test_other_architecture_is_refused(
    original: Path, scratch: Path, typed_or_ok: Callable[..., Any]
) -> None:
    weights = _copy(original, scratch)
    other = scratch / "other" / "tiny.pt"
    save_backbone(seeded_encoder(0, features_dim=6, channels=[3], strides=[1]), other, {})
    shutil.copyfile(other, weights)
    _reseal(weights)
    result = _load(weights, typed_or_ok)
    assert isinstance(result, BackboneFileError)
    assert "architecture" in str(result)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 2**40), st.floats(), st.text(max_size=6)),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=6,
)
_CARD_FIELDS = ["architecture", "input", "sha256", "format", "name"]
_ARCH_FIELDS = ["features_dim", "channels", "strides", "kernels", "layout_channels",
                "layout_grid", "bogus"]  # fmt: skip


@FUZZ
@given(
    field=st.sampled_from(
        _CARD_FIELDS
        + [f"architecture.{k}" for k in _ARCH_FIELDS]
        + ["input.normalization", "input.normalization.mean"]
    ),
    value=JSON_VALUES,
    pretrained=st.booleans(),
)
def test_tampered_cards_raise_naming_the_card(
    original: Path,
    scratch: Path,
    typed_or_ok: Callable[..., Any],
    field: str,
    value: Any,
    pretrained: bool,
) -> None:
    weights = _copy(original, scratch)
    card_path = weights.with_suffix(".json")
    card = json.loads(card_path.read_text())
    *parents, last = field.split(".")
    node = card
    for part in parents:
        node = node[part]
    node[last] = value
    card_path.write_text(json.dumps(card))
    result = _load(weights, typed_or_ok, pretrained)
    if isinstance(result, ConvEncoder):
        assert result.features_dim >= 1


@pytest.mark.parametrize("pretrained", [True, False])
@pytest.mark.parametrize(
    "architecture",
    [
        {"features_dim": 2**40},  # was a multi-terabyte allocation: the process was killed
        {"channels": [60000, 60000], "strides": [1, 1]},  # each value in range, too big in all
        {"bogus": 1},  # was an uncaught TypeError from ConvEncoder(**architecture)
        {"channels": "abc"},
    ],
)
def test_huge_or_foreign_card_architecture_is_refused(
    original: Path,
    scratch: Path,
    typed_or_ok: Callable[..., Any],
    architecture: dict[str, Any],
    pretrained: bool,
) -> None:
    """Regression (fuzz): the card's architecture was built before it was checked."""
    weights = _copy(original, scratch)
    card_path = weights.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["architecture"].update(architecture)
    card_path.write_text(json.dumps(card))
    result = _load(weights, typed_or_ok, pretrained)
    assert isinstance(result, BackboneFileError)
    assert "architecture" in str(result)


@pytest.mark.parametrize("norm", [{"mean": 1, "std": [1, 1, 1]}, {"std": [0, 1, 1]}, []])
def test_bad_card_normalisation_is_refused(
    original: Path, scratch: Path, typed_or_ok: Callable[..., Any], norm: Any
) -> None:
    """Regression (fuzz): a non-mapping or wrong normalisation raised TypeError/KeyError
    from ``pretrained=False``."""
    weights = _copy(original, scratch)
    card_path = weights.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["input"]["normalization"] = norm
    card_path.write_text(json.dumps(card))
    assert isinstance(_load(weights, typed_or_ok, False), BackboneFileError)
