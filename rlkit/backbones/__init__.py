"""Perception backbones: a small CNN for rlkit's pixel observations, its self-supervised
pretraining, and shipped pretrained weights with model cards.

- :class:`ConvEncoder`: ``(B, 3, H, W)`` uint8 frames (any size >= 16) ->
  ``(B, features_dim)`` features, under 1 MB of parameters, no BatchNorm, input
  normalisation inside.
- :func:`load_backbone`: shipped weights by name (:func:`available_backbones`) or a file
  from ``rlkit pretrain``, checked against the sha256 of its model card
  (:func:`load_card`); ``pretrained=False`` gives the same architecture randomly
  initialised from a seed (training from scratch).
- :func:`pretrain` with a :class:`PretrainConfig`: ATC temporal contrast plus auxiliary
  state prediction on GridNav and ArmReach frames (:mod:`rlkit.backbones.data`).

Needs torch (and gymnasium for pretraining data); never imports stable-baselines3.
The names are imported on first use, so ``rlkit.backbones.cli`` (which the ``rlkit``
command imports) works without torch installed.

Examples
--------
>>> import torch
>>> from rlkit.backbones import load_backbone
>>> encoder = load_backbone(DEFAULT_BACKBONE)  # "rlkit-cnn-v2"
>>> encoder(torch.zeros(1, 3, 64, 64, dtype=torch.uint8)).shape
torch.Size([1, 128])
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlkit.backbones.data import (
        STATE_NAMES,
        FrameDataset,
        collect_armreach,
        collect_gridnav,
    )
    from rlkit.backbones.model import (
        WEIGHTS_DIR,
        BackboneFileError,
        ConvEncoder,
        available_backbones,
        load_backbone,
        load_card,
        resolve_device,
        resolve_weights,
        save_backbone,
        seeded_encoder,
    )
    from rlkit.backbones.pretrain import PretrainConfig, PretrainResult, pretrain

#: The shipped backbone every default uses (``rlkit-cnn-v1`` stays loadable by name).
DEFAULT_BACKBONE = "rlkit-cnn-v2"

#: Where each public name lives (PEP 562 lazy attributes: torch loads on first use).
_MODULES: dict[str, str] = {
    name: module
    for module, names in {
        "data": ("STATE_NAMES", "FrameDataset", "collect_armreach", "collect_gridnav"),
        "model": (
            "WEIGHTS_DIR",
            "BackboneFileError",
            "ConvEncoder",
            "available_backbones",
            "load_backbone",
            "load_card",
            "resolve_device",
            "resolve_weights",
            "save_backbone",
            "seeded_encoder",
        ),
        "pretrain": ("PretrainConfig", "PretrainResult", "pretrain"),
    }.items()
    for name in names
}

__all__ = [
    "DEFAULT_BACKBONE",
    "STATE_NAMES",
    "WEIGHTS_DIR",
    "BackboneFileError",
    "ConvEncoder",
    "FrameDataset",
    "PretrainConfig",
    "PretrainResult",
    "available_backbones",
    "collect_armreach",
    "collect_gridnav",
    "load_backbone",
    "load_card",
    "pretrain",
    "resolve_device",
    "resolve_weights",
    "save_backbone",
    "seeded_encoder",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'rlkit.backbones' has no attribute {name!r}")
    loaded = importlib.import_module(f"rlkit.backbones.{module}")
    for exported in (n for n, m in _MODULES.items() if m == module):
        globals()[exported] = getattr(loaded, exported)  # later lookups skip this function
    return globals()[name]


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


class _Package(types.ModuleType):
    """This package, keeping ``rlkit.backbones.pretrain`` the function.

    Importing a submodule sets it as an attribute of its package, so loading the
    ``pretrain`` submodule would replace the function of the same name with the module;
    an eager ``__init__`` rebinds the function afterwards, a lazy one must refuse the
    replacement. (The module stays importable: ``from rlkit.backbones.pretrain import``.)
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "pretrain" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
