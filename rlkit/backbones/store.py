"""Backbone weights files: :func:`load_backbone` reads a shipped name or a ``.pt`` file from
``rlkit pretrain`` (``torch.load(weights_only=True)``, ``strict=True``) once its sha256
matches its model card; :func:`save_backbone` writes the weights and the card, both
atomically. The cards themselves and the shipped folder are :mod:`rlkit.backbones.cards`.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from rlkit.atomic import atomic_output
from rlkit.backbones import DEFAULT_BACKBONE
from rlkit.backbones.cards import (
    FORMAT,
    FORMAT_VERSION,
    BackboneFileError,
    card_architecture,
    load_card,
    resolve_weights,
    sha256_of,
    write_card,
)
from rlkit.backbones.encoder import ConvEncoder, resolve_device, seeded_encoder

__all__ = ["load_backbone", "load_tensors", "save_backbone"]


def load_backbone(
    name_or_path: str | os.PathLike[str] = DEFAULT_BACKBONE,
    *,
    pretrained: bool = True,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> ConvEncoder:
    """Load a backbone: shipped by name, or a ``.pt`` file written by ``rlkit pretrain``.

    The file's sha256 is checked against its model card before it is read, the file is
    read with ``torch.load(weights_only=True)`` (no code runs) and the weights are
    loaded with ``strict=True``: a wrong checksum, a truncated file or another
    architecture raises, nothing is loaded in part.

    Parameters
    ----------
    name_or_path : str or path, default DEFAULT_BACKBONE ("rlkit-cnn-v2")
        A name from :func:`available_backbones` or a weights file path.
    pretrained : bool, default True
        False builds the same architecture and input normalisation, randomly initialised
        from ``seed`` alone (training from scratch; the weights file is not read).
    seed : int, default 0
        Seed of the random initialisation when ``pretrained=False``.
    device : str or torch.device, default "cpu"
        Where the model lives; ``"auto"`` picks CUDA when available.

    Returns
    -------
    ConvEncoder
        In eval mode, with the model card as ``.card``.

    Raises
    ------
    ValueError
        For an unknown name.
    FileNotFoundError
        For a missing weights file.
    BackboneFileError
        (a ValueError) for a missing card, a checksum mismatch (corrupt, truncated or
        replaced file), an unreadable file, or weights of another architecture.

    Examples
    --------
    >>> import torch
    >>> encoder = load_backbone("rlkit-cnn-v2")
    >>> frames = torch.zeros(2, 3, 64, 64, dtype=torch.uint8)
    >>> encoder(frames).shape
    torch.Size([2, 128])
    >>> encoder.card["sha256"] == sha256_of(resolve_weights("rlkit-cnn-v2"))
    True
    >>> scratch = load_backbone("rlkit-cnn-v2", pretrained=False, seed=0)
    >>> scratch.normalization == encoder.normalization  # same input pipeline
    True
    """
    weights = resolve_weights(name_or_path)
    card = load_card(weights)
    architecture, norm = card_architecture(card, weights.with_suffix(".json"))
    expected_sha = card.get("sha256")
    if not isinstance(expected_sha, str):
        raise BackboneFileError(
            f"model card {weights.with_suffix('.json')} lacks its 'sha256': rewrite it with "
            "`rlkit pretrain` (or restore the shipped card)"
        )
    target = resolve_device(device)
    if not pretrained:
        try:
            encoder = seeded_encoder(seed, **architecture, mean=norm["mean"], std=norm["std"])
        except ValueError as error:
            raise BackboneFileError(f"model card {weights.with_suffix('.json')}: {error}") from None
    else:
        encoder = _read_weights(weights, architecture, expected_sha)
    encoder.card = card
    return encoder.to(target).eval()


def _read_weights(weights: Path, architecture: dict[str, Any], expected_sha: str) -> ConvEncoder:
    actual_sha = sha256_of(weights)
    if actual_sha != expected_sha:
        raise BackboneFileError(
            f"{weights}: sha256 {actual_sha[:16]}... does not match its model card "
            f"({expected_sha[:16]}...): the file is corrupt, truncated or was replaced. "
            "Reinstall rlkit for shipped weights, or re-run `rlkit pretrain` for your own"
        )
    try:
        payload = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for broken zips and pickles
        raise BackboneFileError(
            f"{weights} is not a readable weights file ({type(error).__name__}: {error}); "
            "re-run `rlkit pretrain` or reinstall rlkit"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise BackboneFileError(f"{weights} is not an rlkit backbone weights file")
    if payload.get("architecture") != architecture:
        raise BackboneFileError(
            f"{weights} holds architecture {payload.get('architecture')} but its model card "
            f"says {architecture}: the two files do not belong together"
        )
    try:
        encoder = ConvEncoder(**architecture)
    except ValueError as error:
        raise BackboneFileError(f"{weights}: {error}") from None
    try:
        encoder.load_state_dict(payload["state_dict"], strict=True)
    except (RuntimeError, KeyError, TypeError) as error:
        raise BackboneFileError(
            f"{weights}: the weights do not fit architecture {architecture}: {error}"
        ) from None
    return encoder


def save_backbone(
    encoder: ConvEncoder, path: str | os.PathLike[str], card: dict[str, Any]
) -> dict[str, Any]:
    """Write ``encoder`` to ``path`` (``.pt``) and its model card beside it (``.json``).

    Both files are written atomically (temporary file, then ``os.replace``). The card is
    ``card`` completed with the name, format, architecture, normalisation, file size and
    sha256; it is returned.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "tiny.pt"
    >>> card = save_backbone(seeded_encoder(0, features_dim=16), path, {"seed": 0})
    >>> load_backbone(path).features_dim, card["sha256"] == sha256_of(path)
    (16, True)
    >>> folder.cleanup()
    """
    target = Path(path)
    if target.suffix != ".pt":
        raise ValueError(f"backbone weights files end in .pt, got {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": encoder.architecture,
        "state_dict": {k: v.detach().cpu() for k, v in encoder.state_dict().items()},
    }
    # Serialised in memory: torch.save names the archive inside the zip after the file
    # it writes, so saving to the temporary file would make the bytes (and the sha256)
    # differ between two runs that learned the same weights.
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with atomic_output(target) as tmp:
        tmp.write_bytes(buffer.getvalue())
    full = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": target.stem,
        **card,
        "architecture": {
            "class": "rlkit.backbones.ConvEncoder",
            **encoder.architecture,
            "parameters": encoder.num_parameters(),
        },
        "weights_file": target.name,
        "bytes": target.stat().st_size,
        "sha256": sha256_of(target),
    }
    full["input"] = {**dict(card.get("input", {})), "normalization": encoder.normalization}
    write_card(target.with_suffix(".json"), full)
    return full


def load_tensors(path: str | os.PathLike[str]) -> Any:
    """``torch.load`` ``path`` with ``weights_only=True`` (tensors and plain containers;
    no code runs) onto the CPU, for rlkit's checkpoints.

    Raises
    ------
    ValueError
        Naming ``path`` and torch's first sentence of the reason, where the file cannot
        be read (cut short, overwritten, empty); torch's advice to pass
        ``weights_only=False`` is left out on purpose.
    """
    import warnings

    try:
        with warnings.catch_warnings():  # torch's notes on the pickle protocol of garbage
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # RuntimeError, EOFError, UnpicklingError, ...
        reason = str(error).split("\n")[0].split(". ")[0] or "empty or cut short"
        raise ValueError(f"{path} is damaged ({type(error).__name__}: {reason})") from None
