"""ConvEncoder: the small perception CNN of rlkit, for uint8 RGB frames of any size >= 16,
with :func:`seeded_encoder` (initial weights from a seed alone), :func:`size_on_disk` and
:func:`resolve_device` (``"auto"`` -> CUDA or CPU).

Design choices, each for a reason:

- No BatchNorm: stable-baselines3 toggles ``train()``/``eval()`` between rollouts and
  updates, which would switch BatchNorm between batch and running statistics.
- Input normalisation (per-channel mean and std of the pretraining frames) is a pair of
  buffers, so it travels with the weights and a caller feeds raw ``[0, 255]`` pixels.
- Two pooled heads on the last feature map: a spatial softmax (one expected ``(x, y)``
  "keypoint" per channel; Levine, Finn, Darrell & Abbeel, "End-to-End Training of Deep
  Visuomotor Policies", JMLR 2016) keeps *where* things are, which global pooling would
  throw away; a coarse ``4 x 4`` average pool keeps *what* is roughly where (walls,
  obstacles). Both are size-independent, so any input of at least 16 pixels works and
  the parameter count does not grow with the image.
- A LayerNorm'd output, as DrQ-v2 and ATC do, keeps the feature scale fixed for the
  policy and value heads that read it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from rlkit.backbones.layers import adaptive_avg_pool_flat, spatial_softmax

__all__ = ["MIN_INPUT_SIZE", "ConvEncoder", "resolve_device", "seeded_encoder", "size_on_disk"]

#: Smallest input height and width: three stride-2 convolutions leave a 2 x 2 map.
MIN_INPUT_SIZE = 16


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else -> ``torch.device(device)``.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("auto").type in {"cpu", "cuda"}
    True
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class ConvEncoder(nn.Module):
    """Encode ``(B, 3, H, W)`` RGB frames (uint8, or float in ``[0, 255]``) as
    ``(B, features_dim)`` features.

    Layers: convolutions with ReLU (3x3 at strides 2, 2, 2, 1 by default, the layout of
    ``rlkit-cnn-v1``; ``rlkit-cnn-v2`` has a 4x4 stride-4 stem, ``rlkit-cnn-lite`` the
    same stem and one 3x3 stride-2 convolution), then a spatial
    softmax over every channel of the last map (``2 * channels[-1]`` keypoint
    coordinates in ``[-1, 1]``) and, from a 1x1 convolution to ``layout_channels``
    channels, an adaptive average pool to ``layout_grid x layout_grid``; the two are
    concatenated, mapped linearly to ``features_dim`` and layer-normalised.

    Parameters
    ----------
    features_dim : int, default 128
        Size of the output feature vector.
    channels : sequence of int, default (16, 32, 64, 64)
        Output channels of the convolutions.
    strides : sequence of int, default (2, 2, 2, 1)
        Their strides (same length as ``channels``).
    kernels : sequence of int, optional
        Their square kernel sizes (same length; default 3 each). An odd kernel pads
        ``k // 2`` ("same" at stride 1); an even one pads ``(k - stride) // 2``, so a
        ``4`` at stride ``4`` is a non-overlapping "patchify" stem.
    layout_channels : int, default 16
        Channels of the coarse average-pooled branch.
    layout_grid : int, default 4
        Side of its pooled grid.
    mean, std : sequence of 3 floats, optional
        Per-channel input normalisation on the ``[0, 255]`` scale; default 127.5 and
        64 until pretraining sets the statistics of its frames
        (:meth:`set_normalization`).

    Examples
    --------
    >>> import torch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> encoder = ConvEncoder(features_dim=64)
    >>> frames = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    >>> encoder(frames).shape
    torch.Size([2, 64])
    >>> encoder(torch.zeros(1, 3, 24, 40)).shape  # any size >= 16 works
    torch.Size([1, 64])
    >>> encoder.num_parameters() < 250_000  # under 1 MB as float32
    True
    """

    #: The model card of the weights it was loaded from (set by ``load_backbone``).
    card: dict[str, Any] | None

    def __init__(
        self,
        features_dim: int = 128,
        channels: Sequence[int] = (16, 32, 64, 64),
        strides: Sequence[int] = (2, 2, 2, 1),
        kernels: Sequence[int] | None = None,
        layout_channels: int = 16,
        layout_grid: int = 4,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        channels, strides = [int(c) for c in channels], [int(s) for s in strides]
        kernel_sizes = [3] * len(channels) if kernels is None else [int(k) for k in kernels]
        if not channels or not len(channels) == len(strides) == len(kernel_sizes):
            raise ValueError(
                f"channels, strides and kernels must be non-empty and of equal length, got "
                f"{channels}, {strides} and {kernel_sizes}"
            )
        if min(features_dim, layout_channels, layout_grid, *channels, *strides, *kernel_sizes) < 1:
            raise ValueError("features_dim, layout_channels, layout_grid, channels, strides "
                             "and kernels must all be positive")  # fmt: skip
        self.features_dim = int(features_dim)
        self._architecture: dict[str, Any] = {
            "features_dim": self.features_dim,
            "channels": channels,
            "strides": strides,
            "layout_channels": int(layout_channels),
            "layout_grid": int(layout_grid),
        }
        if kernels is not None:  # absent from the cards of 3x3-only backbones (v1)
            self._architecture["kernels"] = kernel_sizes
        self.card = None
        layers: list[nn.Module] = []
        previous = 3
        for i, (out, stride, k) in enumerate(zip(channels, strides, kernel_sizes, strict=True)):
            padding = k // 2 if k % 2 else max(k - stride, 0) // 2
            layers.append(nn.Conv2d(previous, out, kernel_size=k, stride=stride, padding=padding))
            if i < len(channels) - 1:  # the last map stays linear: it feeds the softmax
                layers.append(nn.ReLU())
            previous = out
        self.trunk = nn.Sequential(*layers)
        # The keypoint softmax starts warm (temperature 1) and learns its sharpness.
        self.log_temperature = nn.Parameter(torch.zeros(()))
        self.layout = nn.Conv2d(previous, layout_channels, kernel_size=1)
        self.layout_grid = int(layout_grid)
        head_in = 2 * previous + layout_channels * layout_grid**2
        self.head = nn.Linear(head_in, self.features_dim)
        self.norm = nn.LayerNorm(self.features_dim)
        self.register_buffer("mean", torch.full((3,), 127.5))
        self.register_buffer("std", torch.full((3,), 64.0))
        if mean is not None or std is not None:
            self.set_normalization(
                mean if mean is not None else [127.5] * 3, std if std is not None else [64.0] * 3
            )

    # Buffers are typed as Tensor | Module by nn.Module.__getattr__; name them for mypy.
    mean: torch.Tensor
    std: torch.Tensor

    @property
    def architecture(self) -> dict[str, Any]:
        """The constructor's hyper-parameters (without normalisation): ``ConvEncoder(**a)``
        rebuilds the same architecture."""
        return {k: list(v) if isinstance(v, list) else v for k, v in self._architecture.items()}

    def set_normalization(self, mean: Sequence[float], std: Sequence[float]) -> None:
        """Set the per-channel input mean and std (on the ``[0, 255]`` scale)."""
        mean_t = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        std_t = torch.as_tensor(std, dtype=torch.float32).reshape(-1)
        if mean_t.numel() != 3 or std_t.numel() != 3:
            raise ValueError(f"mean and std need 3 values (R, G, B), got {mean!r} and {std!r}")
        if not bool(torch.all(std_t > 0)) or not bool(torch.all(torch.isfinite(mean_t))):
            raise ValueError(f"std must be positive and mean finite, got {mean!r}, {std!r}")
        self.mean.copy_(mean_t)
        self.std.copy_(std_t)

    @property
    def normalization(self) -> dict[str, list[float]]:
        """``{"mean": [r, g, b], "std": [r, g, b]}`` on the ``[0, 255]`` scale."""
        return {
            "mean": [round(float(v), 6) for v in self.mean],
            "std": [round(float(v), 6) for v in self.std],
        }

    def num_parameters(self) -> int:
        """Number of learned parameters."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Features of ``frames``: ``(B, 3, H, W)``, uint8 or float in ``[0, 255]``,
        ``H, W >= 16``; returns ``(B, features_dim)``."""
        return self.encode(frames)[0]

    def encode(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(features, feature_map)`` of ``frames`` in one pass: the :meth:`forward`
        features and the last convolution's map ``(B, C, h, w)`` they are pooled from.

        Policies that must see where many things are at once (obstacles all over a
        random map) read the map through a head of their own
        (``BackboneExtractor(spatial=...)``): the pooled features keep ``C`` keypoints
        and a coarse ``layout_grid`` summary, not every cell.
        """
        if frames.dim() != 4 or frames.shape[1] != 3:
            hint = ""
            if frames.dim() == 4 and frames.shape[-1] == 3:
                hint = " (this looks channels-last: use frames.permute(0, 3, 1, 2))"
            elif frames.dim() == 3:
                hint = " (a single frame: add the batch axis with frames[None])"
            raise ValueError(
                f"ConvEncoder expects (B, 3, H, W) frames, got shape {tuple(frames.shape)}{hint}"
            )
        if frames.shape[2] < MIN_INPUT_SIZE or frames.shape[3] < MIN_INPUT_SIZE:
            raise ValueError(
                f"ConvEncoder needs frames of at least {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE} "
                f"pixels, got {frames.shape[2]}x{frames.shape[3]}"
            )
        x = self._stem(frames)
        if x.device.type == "cpu":
            # oneDNN's convolutions run fastest channels-last (no reorders between
            # layers); converting the stem's output, 16x smaller than the frames, was
            # measured faster than converting the frames themselves.
            x = x.contiguous(memory_format=torch.channels_last)
        for layer in self._trunk_after_stem:  # (slicing the Sequential builds a new one)
            x = layer(x)
        fmap = x
        keypoints = spatial_softmax(fmap, self.log_temperature.exp())
        layout = adaptive_avg_pool_flat(F.relu(self.layout(F.relu(fmap))), self.layout_grid)
        features = torch.cat([keypoints, layout], dim=1)
        return self.norm(self.head(features)), fmap

    @property
    def _trunk_after_stem(self) -> list[nn.Module]:
        """The trunk's modules after the stem (adapters included: they sit in it)."""
        return list(self.trunk.children())[1:]

    def _stem(self, frames: torch.Tensor) -> torch.Tensor:
        """The first convolution on normalised frames.

        Without padding (a patchify stem) the normalisation folds exactly into the
        stem's weight and bias, ``W' = W / std``, ``b' = b - sum(W' * mean)``: no
        normalised copy of the frames is made, which saved ~15% of a PPO minibatch on
        the CPU. With padding the border would see other values, so the frames are
        normalised first (one fused multiply-add).
        """
        stem = self.trunk[0]
        # rlkit.deep.lora wraps the convolution in an adapter that knows its weight.
        conv = cast(nn.Conv2d, getattr(stem, "base", stem))
        inv_std = self.std.reciprocal().view(1, 3, 1, 1)
        if any(cast(tuple[int, int], conv.padding)):
            shift = -self.mean.view(1, 3, 1, 1) * inv_std
            return cast(torch.Tensor, stem(torch.addcmul(shift, frames.to(inv_std.dtype), inv_std)))
        merged = getattr(stem, "merged_weight", None)
        weight = merged() if merged is not None else conv.weight
        folded = weight * inv_std
        # b' = b - sum over (channel, tap) of W' * mean: one matrix-vector product.
        taps = weight.shape[2] * weight.shape[3]
        mean = self.mean.repeat_interleave(taps).to(folded.dtype)
        if conv.bias is None:
            bias = torch.mv(folded.reshape(folded.shape[0], -1), mean).neg()
        else:
            bias = torch.addmv(conv.bias, folded.reshape(folded.shape[0], -1), mean, alpha=-1)
        return conv._conv_forward(frames.to(folded.dtype), folded, bias)


def seeded_encoder(seed: int, **architecture: Any) -> ConvEncoder:
    """A :class:`ConvEncoder` whose initial weights depend on ``seed`` alone (the global
    torch RNG is left as it was).

    Examples
    --------
    >>> a, b = seeded_encoder(3, features_dim=32), seeded_encoder(3, features_dim=32)
    >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    True
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ConvEncoder(**architecture)


def size_on_disk(encoder: ConvEncoder) -> int:
    """Bytes of its float32 parameters and buffers (what a saved file mostly holds)."""
    tensors = [*encoder.parameters(), *encoder.buffers()]
    return sum(math.prod(t.shape) * 4 for t in tensors)
