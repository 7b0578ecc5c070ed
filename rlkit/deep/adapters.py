"""Bottleneck adapters for the convolutional trunk of a backbone, and parameter counts.

An adapter (Houlsby et al., "Parameter-Efficient Transfer Learning for NLP", ICML 2019)
is a small residual module inserted into a frozen pretrained network: a down-projection
to ``size`` bottleneck channels, a nonlinearity and an up-projection back,

    ``x + up(relu(down(x)))``,

with ``down`` and ``up`` 1 x 1 convolutions here (a per-pixel linear map, the analogue
of Houlsby's per-token feed-forward projections). The up-projection starts at zero,
weight and bias, so the adapted network computes exactly the pretrained function until
training moves it; only the adapters (and the policy's heads) train.

:func:`add_adapters` inserts one adapter after each conv block of a
:class:`~rlkit.backbones.ConvEncoder`'s ``trunk`` (after the block's ReLU; after the
last convolution, which has none), the way :mod:`rlkit.deep.lora` wraps layers: the
encoder class is untouched and its stem (which folds the input normalisation into the
first convolution) still runs first. On the default backbone (``rlkit-cnn-v2``: 16, 32
and 32 channels) an adapter of size ``m`` has ``2 c m + m + c`` parameters per block,
``163 m + 80`` in all: 2,688 at the default ``m = 16``, against 4,224 for LoRA at its
default rank 4 (:func:`parameter_counts` measures either). Unlike LoRA, an adapter
cannot be merged into the convolution it follows (the ReLU sits between its two
projections): it costs two 1 x 1 convolutions per block at inference.

Examples
--------
>>> import torch
>>> from rlkit.backbones import ConvEncoder
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> encoder = ConvEncoder(features_dim=32, channels=(8, 16), strides=(2, 2))
>>> frames = torch.rand(2, 3, 32, 32) * 255
>>> before = encoder(frames)
>>> adapters = add_adapters(encoder, size=4)
>>> [a.channels for a in adapters], parameter_counts(encoder).trainable
([8, 16], 224)
>>> torch.equal(encoder(frames), before)  # zero up-projection: the same function
True
>>> base = remove_adapters(encoder)
>>> sum(isinstance(m, ConvAdapter) for m in base.modules())
0
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import torch
from torch import nn

__all__ = [
    "DEFAULT_ADAPTER_SIZE",
    "ConvAdapter",
    "ParameterCounts",
    "adapter_parameters",
    "add_adapters",
    "parameter_counts",
    "remove_adapters",
]

#: Bottleneck channels of :func:`add_adapters` by default: 2,688 trainable parameters
#: on ``rlkit-cnn-v2``, 0.64x LoRA's 4,224 at rank 4.
DEFAULT_ADAPTER_SIZE = 16


def check_adapter_size(size: object) -> int:
    """``size`` as an int, or a ``ValueError`` naming ``adapter_size``."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(
            f"adapter_size must be a positive int (bottleneck channels, e.g. "
            f"{DEFAULT_ADAPTER_SIZE}), got {size!r}"
        )
    return int(size)


class ConvAdapter(nn.Module):
    """``x + up(relu(down(x)))`` on a ``(B, channels, H, W)`` map (Houlsby et al. 2019).

    Parameters
    ----------
    channels : int
        Channels of the map it adapts (in and out).
    size : int, default DEFAULT_ADAPTER_SIZE
        Bottleneck channels.

    ``down`` starts as PyTorch's default (Kaiming-uniform) init from the global torch
    generator, ``up`` at zero: the module starts as the identity, bit for bit.
    """

    def __init__(self, channels: int, size: int = DEFAULT_ADAPTER_SIZE) -> None:
        super().__init__()
        size = check_adapter_size(size)
        self.channels = int(channels)
        self.size = size
        self.down = nn.Conv2d(self.channels, size, kernel_size=1)
        self.up = nn.Conv2d(size, self.channels, kernel_size=1)
        assert self.up.bias is not None  # for mypy: a Conv2d made with bias=True
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.up(torch.relu(self.down(x)))


def add_adapters(encoder: nn.Module, size: int = DEFAULT_ADAPTER_SIZE) -> list[ConvAdapter]:
    """Freeze every parameter of ``encoder`` and insert a :class:`ConvAdapter` after
    each conv block of its ``trunk`` (an ``nn.Sequential`` of convolutions and
    activations, as :class:`~rlkit.backbones.ConvEncoder` has), in place; returns the
    adapters, the only trainable parameters afterwards. A block ends at the activation
    that follows a convolution, or at the convolution itself where none follows.

    Raises
    ------
    TypeError
        For a module without an ``nn.Sequential`` ``trunk``.
    ValueError
        For a ``size`` that is not a positive int, or a trunk that already has adapters.
    """
    size = check_adapter_size(size)
    trunk = getattr(encoder, "trunk", None)
    if not isinstance(trunk, nn.Sequential):
        raise TypeError(
            "add_adapters needs an encoder with an nn.Sequential `trunk` (an "
            f"rlkit.backbones.ConvEncoder), got {type(encoder).__name__}"
        )
    if any(isinstance(m, ConvAdapter) for m in trunk):
        raise ValueError("this encoder already has adapters: add them once")
    encoder.requires_grad_(False)
    device = next(encoder.parameters()).device
    layers, adapters = list(trunk), []
    rebuilt: list[nn.Module] = []
    channels = 0
    for i, layer in enumerate(layers):
        rebuilt.append(layer)
        if isinstance(layer, nn.Conv2d):
            channels = layer.out_channels
        following = layers[i + 1] if i + 1 < len(layers) else None
        if channels and (following is None or isinstance(following, nn.Conv2d)):
            adapter = ConvAdapter(channels, size).to(device)
            rebuilt.append(adapter)
            adapters.append(adapter)
            channels = 0
    encoder.trunk = nn.Sequential(*rebuilt)
    return adapters


def adapter_parameters(module: nn.Module) -> list[nn.Parameter]:
    """The weights and biases of every :class:`ConvAdapter` inside ``module``."""
    return [p for m in module.modules() if isinstance(m, ConvAdapter) for p in m.parameters()]


def remove_adapters(encoder: nn.Module) -> nn.Module:
    """A deep copy of ``encoder`` without its adapters: the frozen base network (its
    parameters trainable again), e.g. to check that training left it untouched."""
    plain = copy.deepcopy(encoder)
    trunk = getattr(plain, "trunk", None)
    if isinstance(trunk, nn.Sequential):
        kept = [m for m in trunk if not isinstance(m, ConvAdapter)]
        plain.trunk = nn.Sequential(*kept)
    plain.requires_grad_(True)
    return plain


class ParameterCounts(NamedTuple):
    """Parameters of a module: those that train and all of them (shared ones once)."""

    trainable: int
    total: int


def parameter_counts(module: nn.Module) -> ParameterCounts:
    """Trainable and total parameters of ``module`` (an extractor, an SB3 policy, an
    encoder), each tensor counted once however many modules share it.

    >>> parameter_counts(nn.Linear(3, 2).requires_grad_(False))
    ParameterCounts(trainable=0, total=8)
    """
    unique = {id(p): p for p in module.parameters()}.values()
    return ParameterCounts(
        trainable=sum(p.numel() for p in unique if p.requires_grad),
        total=sum(p.numel() for p in unique),
    )
