"""Low-rank adapters (LoRA) for the convolutions and linear layers of a backbone.

LoRA (Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models", ICLR 2022) keeps
a pretrained weight ``W`` frozen and learns a low-rank change ``scale * B @ A``
(``A``: rank x in, ``B``: out x rank, ``B`` starting at zero so training starts from
the pretrained function). For a convolution, ``A`` is a convolution with ``W``'s kernel,
stride and padding into ``rank`` channels and ``B`` a 1 x 1 convolution back to the
output channels; both are linear in the input, so the sum folds into one convolution
with weight ``W + scale * B A`` (:meth:`LoRAConv2d.merged_weight`).

Each layer runs once, with the merged weight, in training as in inference: gradients
reach ``A`` and ``B`` through the tiny product ``B A``, so a step costs what a step of
the plain layer costs (a separate ``B(A(x))`` branch was measured 1.2-1.5x slower on
PPO minibatches on the CPU: two more convolutions forward and backward).
:func:`merge_lora` replaces the adapters by plain layers for export.

Examples
--------
>>> import torch
>>> from torch import nn
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(),
...                     nn.Linear(8 * 4 * 4, 5))
>>> adapters = add_lora(net, rank=2)
>>> [name for name, p in net.named_parameters() if p.requires_grad]
['0.lora_a.weight', '0.lora_b.weight', '3.lora_a.weight', '3.lora_b.weight']
>>> x = torch.randn(2, 3, 4, 4)
>>> _ = nn.init.normal_(net[0].lora_b.weight)    # as if training had moved it
>>> train_out = net.train()(x)
>>> torch.allclose(train_out, net.eval()(x), atol=1e-5)  # merged == branch
True
>>> plain = merge_lora(net)
>>> type(plain[0]).__name__, torch.allclose(plain(x), train_out, atol=1e-5)
('Conv2d', True)
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LoRAConv2d", "LoRALinear", "add_lora", "lora_parameters", "merge_lora"]


class _LoRA(nn.Module):
    """Shared part of the two adapters: the frozen base layer and the scale."""

    base: nn.Conv2d | nn.Linear
    lora_a: nn.Conv2d | nn.Linear
    lora_b: nn.Conv2d | nn.Linear

    def __init__(self, base: nn.Conv2d | nn.Linear, rank: int, alpha: float | None) -> None:
        super().__init__()
        if rank < 1:
            raise ValueError(f"lora rank must be a positive integer, got {rank!r}")
        self.rank = int(rank)
        self.scale = (float(alpha) if alpha is not None else float(rank)) / rank
        self.base = base
        for parameter in base.parameters():
            parameter.requires_grad_(False)

    def _init_adapters(self) -> None:
        # Hu et al.: A random (here Kaiming-uniform, as nn.Linear), B zero.
        nn.init.kaiming_uniform_(self.lora_a.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_b.weight)

    def delta_weight(self) -> torch.Tensor:
        """``scale * B A`` in the shape of the base layer's weight."""
        a, b = self.lora_a.weight, self.lora_b.weight
        b2 = b.reshape(b.shape[0], self.rank)
        return self.scale * (b2 @ a.reshape(self.rank, -1)).reshape(self.base.weight.shape)

    def merged_weight(self) -> torch.Tensor:
        """The one weight equivalent to base plus adapter: ``W + scale * B A`` as one
        fused matrix product (``addmm``), recomputed at every call so it always follows
        the current weights (a cache would miss in-place updates through ``.data``,
        such as stable-baselines3's ``polyak_update`` of target networks)."""
        weight = self.base.weight
        a, b = self.lora_a.weight, self.lora_b.weight
        merged = torch.addmm(
            weight.reshape(weight.shape[0], -1),
            b.reshape(b.shape[0], self.rank),
            a.reshape(self.rank, -1),
            alpha=self.scale,
        )
        return merged.view(weight.shape)

    def to_plain(self) -> nn.Conv2d | nn.Linear:
        """A copy of the base layer carrying the merged weight."""
        plain = copy.deepcopy(self.base)
        with torch.no_grad():
            plain.weight.copy_(self.merged_weight())
        for parameter in plain.parameters():
            parameter.requires_grad_(True)
        return plain


class LoRAConv2d(_LoRA):
    """A frozen ``nn.Conv2d`` plus a trainable rank-``rank`` adapter."""

    base: nn.Conv2d

    def __init__(self, base: nn.Conv2d, rank: int = 4, alpha: float | None = None) -> None:
        super().__init__(base, rank, alpha)
        if base.groups != 1:
            raise ValueError("LoRA adapters need ungrouped convolutions (groups=1)")
        self.lora_a = nn.Conv2d(
            base.in_channels,
            rank,
            base.kernel_size,  # type: ignore[arg-type]
            stride=base.stride,  # type: ignore[arg-type]
            padding=base.padding,  # type: ignore[arg-type]
            dilation=base.dilation,  # type: ignore[arg-type]
            bias=False,
            padding_mode=base.padding_mode,
        )
        self.lora_b = nn.Conv2d(rank, base.out_channels, 1, bias=False)
        self._init_adapters()
        self.to(base.weight.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base._conv_forward(x, self.merged_weight(), self.base.bias)


class LoRALinear(_LoRA):
    """A frozen ``nn.Linear`` plus a trainable rank-``rank`` adapter."""

    base: nn.Linear

    def __init__(self, base: nn.Linear, rank: int = 4, alpha: float | None = None) -> None:
        super().__init__(base, rank, alpha)
        self.lora_a = nn.Linear(base.in_features, rank, bias=False)
        self.lora_b = nn.Linear(rank, base.out_features, bias=False)
        self._init_adapters()
        self.to(base.weight.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.merged_weight(), self.base.bias)


def add_lora(module: nn.Module, rank: int = 4, alpha: float | None = None) -> list[_LoRA]:
    """Freeze every parameter of ``module`` and wrap each ``Conv2d`` and ``Linear`` in
    an adapter, in place; returns the adapters. Only adapter weights are trainable
    afterwards (:func:`lora_parameters`)."""
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    adapters: list[_LoRA] = []
    for name, child in list(module.named_children()):
        adapter: _LoRA | None = None
        if isinstance(child, nn.Conv2d):
            adapter = LoRAConv2d(child, rank, alpha)
        elif isinstance(child, nn.Linear):
            adapter = LoRALinear(child, rank, alpha)
        if adapter is not None:
            setattr(module, name, adapter)
            adapters.append(adapter)
        elif not isinstance(child, _LoRA):
            adapters.extend(add_lora(child, rank, alpha))
    return adapters


def lora_parameters(module: nn.Module) -> list[nn.Parameter]:
    """The adapter weights (``lora_a``, ``lora_b``) inside ``module``."""
    return [
        p
        for m in module.modules()
        if isinstance(m, _LoRA)
        for p in (*m.lora_a.parameters(), *m.lora_b.parameters())
    ]


def merge_lora(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` with every adapter folded into a plain layer (same
    outputs, no LoRA code: for ``torch.jit.trace``/``torch.export`` and deployment)."""
    merged = copy.deepcopy(module)
    if isinstance(merged, _LoRA):
        return merged.to_plain()
    for m in list(merged.modules()):
        for name, child in list(m.named_children()):
            if isinstance(child, _LoRA):
                setattr(m, name, child.to_plain())
    return merged
