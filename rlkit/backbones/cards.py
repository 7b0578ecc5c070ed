"""Where backbone files are and what their model cards say: the shipped weights folder
(:data:`WEIGHTS_DIR`, :func:`available_backbones`), a name or path to its ``.pt`` file
(:func:`resolve_weights`), the ``.json`` model card beside it (:func:`load_card`,
:func:`write_card`) and the sha256 the card vouches for (:func:`sha256_of`).
"""

from __future__ import annotations

import hashlib
import json
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


class BackboneFileError(ValueError):
    """A weights file or model card that cannot be used: missing, corrupt, truncated,
    tampered with, or holding another architecture."""


def available_backbones() -> list[str]:
    """Names of the shipped backbones (``load_backbone(name)`` takes them).

    Examples
    --------
    >>> available_backbones()
    ['rlkit-cnn-v1', 'rlkit-cnn-v2']
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
