"""The encoder and its files under one name (``from rlkit.backbones.model import ...``).

This module holds nothing of its own: it re-exports, unchanged,

- :mod:`rlkit.backbones.encoder`: :class:`ConvEncoder`, :func:`seeded_encoder`,
  :func:`resolve_device`, :func:`size_on_disk`, :data:`MIN_INPUT_SIZE`;
- :mod:`rlkit.backbones.layers`: :func:`spatial_softmax`, :func:`random_shift`;
- :mod:`rlkit.backbones.cards`: :func:`load_card`, :func:`write_card`,
  :func:`sha256_of`, :func:`resolve_weights`, :func:`available_backbones`,
  :class:`BackboneFileError`, :data:`WEIGHTS_DIR`, :data:`FORMAT`;
- :mod:`rlkit.backbones.store`: :func:`load_backbone`, :func:`save_backbone`.
"""

from __future__ import annotations

from rlkit.backbones import cards, encoder, layers, store
from rlkit.backbones.cards import *  # noqa: F403
from rlkit.backbones.encoder import *  # noqa: F403
from rlkit.backbones.layers import *  # noqa: F403
from rlkit.backbones.store import *  # noqa: F403

__all__ = [*encoder.__all__, *layers.__all__, *cards.__all__, *store.__all__]
