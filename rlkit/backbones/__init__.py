"""Perception backbones: a small CNN for rlkit's pixel observations, its self-supervised
pretraining, and shipped pretrained weights with model cards.

Where each thing lives. Names written as links (:func:`load_backbone`) are also
importable from ``rlkit.backbones`` itself, as is :data:`DEFAULT_BACKBONE`; names in
plain ``code`` only from their module.

- :mod:`~rlkit.backbones.encoder`: :class:`ConvEncoder`, ``(B, 3, H, W)`` uint8 frames
  (any size >= 16) -> ``(B, features_dim)`` features, under 1 MB of parameters, no
  BatchNorm, input normalisation inside; :func:`seeded_encoder` (initial weights from a
  seed alone), :func:`resolve_device`, ``size_on_disk``, ``MIN_INPUT_SIZE``.
- :mod:`~rlkit.backbones.layers`: the weightless tensor operations, ``spatial_softmax``
  (the encoder's keypoint pooling) and ``random_shift`` (the shift augmentation).
- :mod:`~rlkit.backbones.store`: :func:`load_backbone` loads shipped weights by name or
  a file from ``rlkit pretrain``, checked against the sha256 of its model card;
  ``pretrained=False`` gives the same architecture randomly initialised from a seed
  (training from scratch). :func:`save_backbone` writes weights and card.
- :mod:`~rlkit.backbones.cards`: the files around the weights: the shipped folder
  (:data:`WEIGHTS_DIR`, :func:`available_backbones`), name or path -> ``.pt``
  (:func:`resolve_weights`), model cards (:func:`load_card`, ``write_card``),
  ``sha256_of``, :class:`BackboneFileError`.
- :mod:`~rlkit.backbones.model`: the encoder, layers, cards and store under their old
  common name (re-exports only).
- :mod:`~rlkit.backbones.data`: pretraining and probe frames from GridNav and ArmReach
  (:func:`collect_gridnav`, :func:`collect_armreach`, :class:`FrameDataset`) with the
  simulator state of each (:data:`STATE_NAMES`).
- :mod:`~rlkit.backbones.recipes`: :class:`PretrainConfig` (everything that determines
  a run) and ``RECIPES``, the recipe of each shipped backbone.
- :mod:`~rlkit.backbones.pretrain`: :func:`pretrain`, the run: ATC temporal contrast
  plus auxiliary state prediction, writing weights, card, checkpoint and history
  (:class:`PretrainResult`); ``collect_pretraining_data``. Its parts:
  :mod:`~rlkit.backbones.objective` (ATC heads, standardised state targets,
  learning-rate schedule), :mod:`~rlkit.backbones.training` (the run's state, one
  training step, checkpoint and resume) and :mod:`~rlkit.backbones.run_card` (the
  model card of a run).
- :mod:`~rlkit.backbones.cli`: the ``rlkit pretrain`` subcommand.

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

import sys
import types
from typing import TYPE_CHECKING, Any

from rlkit._lazy import lazy_exports

if TYPE_CHECKING:
    from rlkit.backbones.cards import (
        WEIGHTS_DIR,
        BackboneFileError,
        available_backbones,
        load_card,
        resolve_weights,
    )
    from rlkit.backbones.data import (
        STATE_NAMES,
        FrameDataset,
        collect_armreach,
        collect_gridnav,
    )
    from rlkit.backbones.encoder import ConvEncoder, resolve_device, seeded_encoder
    from rlkit.backbones.pretrain import PretrainResult, pretrain
    from rlkit.backbones.recipes import PretrainConfig
    from rlkit.backbones.store import load_backbone, save_backbone

#: The shipped backbone every default uses (``rlkit-cnn-v1`` stays loadable by name).
DEFAULT_BACKBONE = "rlkit-cnn-v2"

#: Where each public name lives (PEP 562 lazy attributes: torch loads on first use).
_MODULES: dict[str, str] = {
    name: f".{module}"
    for module, names in {
        "data": ("STATE_NAMES", "FrameDataset", "collect_armreach", "collect_gridnav"),
        "encoder": ("ConvEncoder", "resolve_device", "seeded_encoder"),
        "cards": (
            "WEIGHTS_DIR",
            "BackboneFileError",
            "available_backbones",
            "load_card",
            "resolve_weights",
        ),
        "store": ("load_backbone", "save_backbone"),
        "recipes": ("PretrainConfig",),
        "pretrain": ("PretrainResult", "pretrain"),
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


__getattr__, __dir__ = lazy_exports(__name__, _MODULES)


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
