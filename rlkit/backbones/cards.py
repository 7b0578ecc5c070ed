"""Where backbone files are and what their model cards say: the shipped weights folder
(:data:`WEIGHTS_DIR`, :func:`available_backbones`), a name or path to its ``.pt`` file
(:func:`resolve_weights`), the ``.json`` model card beside it (:func:`load_card`,
:func:`write_card`) and the sha256 the card vouches for (:func:`sha256_of`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from rlkit.atomic import atomic_output

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "WEIGHTS_DIR",
    "BackboneFileError",
    "available_backbones",
    "card_architecture",
    "load_card",
    "resolve_weights",
    "sha256_of",
    "write_card",
]

#: ``format`` of every weights file and model card written here; bumped on layout change.
FORMAT = "rlkit.backbone"
FORMAT_VERSION = 1
#: Shipped weights: ``NAME.pt`` with its model card ``NAME.json`` beside it.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: Most parameters a card may describe (the shipped backbones have ~60k): a tampered
#: card must not make the loader allocate gigabytes before the weights are checked.
MAX_PARAMETERS = 20_000_000
_ARCH_INTS = ("features_dim", "layout_channels", "layout_grid")
_ARCH_LISTS = ("channels", "strides", "kernels")


class BackboneFileError(ValueError):
    """A weights file or model card that cannot be used: missing, corrupt, truncated,
    tampered with, or holding another architecture."""


def available_backbones() -> list[str]:
    """Names of the shipped backbones (``load_backbone(name)`` takes them).

    Examples
    --------
    >>> available_backbones()
    ['rlkit-cnn-lite', 'rlkit-cnn-v1', 'rlkit-cnn-v2']
    """
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt") if p.with_suffix(".json").is_file())


def resolve_weights(name_or_path: str | os.PathLike[str]) -> Path:
    """The weights file of a shipped name, a ``.pt`` path, or a card's ``.json`` path.

    Examples
    --------
    >>> resolve_weights("rlkit-cnn-v1").name
    'rlkit-cnn-v1.pt'
    """
    text = os.fspath(name_or_path)
    if os.sep not in text and "/" not in text and not text.endswith((".pt", ".json")):
        path = WEIGHTS_DIR / f"{text}.pt"
        if not path.is_file():
            raise ValueError(
                f"unknown backbone {text!r}: shipped ones are {available_backbones()}; "
                "or pass the path of a .pt file written by `rlkit pretrain`"
            )
        return path
    path = Path(text)
    if path.suffix == ".json":  # the card was named: its weights sit beside it
        path = path.with_suffix(".pt")
    if not path.is_file():
        raise FileNotFoundError(f"no backbone weights file {path}")
    return path


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_card(name_or_path: str | os.PathLike[str]) -> dict[str, Any]:
    """The model card (JSON) of a shipped backbone name or a weights file.

    Parameters
    ----------
    name_or_path : str or path
        A shipped name (``"rlkit-cnn-v1"``) or the path of a ``.pt`` weights file (its
        card is the ``.json`` beside it) or of the card itself.

    Returns
    -------
    dict
        The card: ``name``, ``architecture``, ``input`` (size, normalisation), ``data``,
        ``objective``, ``training``, ``versions``, ``probe``, ``sha256``, ...

    Raises
    ------
    BackboneFileError
        If the card is missing or not an rlkit backbone card.

    Examples
    --------
    >>> card = load_card("rlkit-cnn-v1")
    >>> card["name"], card["architecture"]["features_dim"], card["input"]["size"]
    ('rlkit-cnn-v1', 128, [64, 64])
    """
    weights = resolve_weights(name_or_path)
    card_path = weights.with_suffix(".json")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackboneFileError(
            f"no model card {card_path} beside {weights}: the card holds the checksum and "
            "architecture the weights are checked against; keep the .json that "
            "`rlkit pretrain` wrote next to the .pt"
        ) from None
    except (OSError, ValueError) as error:
        raise BackboneFileError(f"model card {card_path} is not valid JSON: {error}") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise BackboneFileError(f"{card_path} is not an rlkit backbone model card")
    return card


def write_card(path: str | os.PathLike[str], card: dict[str, Any]) -> None:
    """Write a model card as indented JSON, atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")


def card_architecture(
    card: dict[str, Any], card_path: str | os.PathLike[str]
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """The :class:`~rlkit.backbones.ConvEncoder` arguments and the input normalisation
    (``mean``, ``std``) a model card describes, checked before anything is built.

    Raises
    ------
    BackboneFileError
        Naming ``card_path``, if a field is missing, of the wrong type, out of range,
        or the network would exceed :data:`MAX_PARAMETERS`.

    Examples
    --------
    >>> arch, norm = card_architecture(load_card("rlkit-cnn-v2"), "rlkit-cnn-v2.json")
    >>> arch["features_dim"], len(norm["std"])
    (128, 3)
    """

    def fail(why: str) -> BackboneFileError:
        return BackboneFileError(
            f"model card {card_path}: {why}; rewrite it with `rlkit pretrain` "
            "(or restore the shipped card)"
        )

    raw, inputs = card.get("architecture"), card.get("input")
    norm = inputs.get("normalization") if isinstance(inputs, dict) else None
    if not isinstance(raw, dict) or not isinstance(norm, dict):
        raise fail("lacks the 'architecture' or 'input.normalization' mapping")
    arch = {k: v for k, v in raw.items() if k not in ("class", "parameters")}
    unknown = sorted(set(arch) - {*_ARCH_INTS, *_ARCH_LISTS})
    if unknown or "features_dim" not in arch or "channels" not in arch or "strides" not in arch:
        raise fail(f"architecture has unknown keys {unknown} or lacks a required one")

    def positive_int(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1 << 16

    for key, value in arch.items():
        values = value if key in _ARCH_LISTS else [value]
        if not isinstance(values, list) or not 1 <= len(values) <= 32:
            raise fail(f"architecture.{key} must be a list of 1 to 32 integers, got {value!r}")
        if not all(positive_int(v) for v in values):
            raise fail(f"architecture.{key} must be positive integers, got {value!r}")
    if not _parameters_fit(arch):
        raise fail(f"the architecture {arch} has more than {MAX_PARAMETERS} parameters")
    checked: dict[str, list[float]] = {}
    for key in ("mean", "std"):
        value = norm.get(key)
        if not (
            isinstance(value, list)
            and len(value) == 3
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            and all(math.isfinite(v) and (key == "mean" or v > 0) for v in value)
        ):
            raise fail(f"input.normalization.{key} must be 3 finite numbers, got {value!r}")
        checked[key] = [float(v) for v in value]
    return arch, checked


def _parameters_fit(arch: dict[str, Any]) -> bool:
    """Whether the convolutions, layout map and head stay under :data:`MAX_PARAMETERS`."""
    channels, strides = arch["channels"], arch["strides"]
    kernels = arch.get("kernels", [3] * len(channels))
    if not len(channels) == len(strides) == len(kernels):
        return True  # ConvEncoder rejects the lengths with its own message
    total, previous = 0, 3
    for out, k in zip(channels, kernels, strict=True):
        total += previous * out * k * k
        previous = out
    layout = arch.get("layout_channels", 16) * arch.get("layout_grid", 4) ** 2
    total += previous * arch.get("layout_channels", 16)
    total += (2 * previous + layout) * arch["features_dim"]
    return total <= MAX_PARAMETERS
