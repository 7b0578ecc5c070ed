"""Tensor operations of the backbone that hold no weights: the spatial-softmax keypoint
pooling and the flattened adaptive average pool that
:class:`~rlkit.backbones.encoder.ConvEncoder` reads its last map through, and the
random-shift augmentation of pretraining and ``BackboneExtractor(augment=True)``.

The two poolings are written as matrix products with a constant matrix (the keypoint
coordinates, the pooling weights): on a channels-last map (the encoder's layout on the
CPU) they read the map as ``(B, H*W, C)`` without a copy, and their backward passes are
matrix products too. On a PPO minibatch of ``rlkit-cnn-v2`` (256 frames of 64x64, one
CPU thread) the two poolings' forward and backward went from 6.2 ms to 2.3 ms
(``adaptive_avg_pool2d``'s backward on a channels-last map is slow on the CPU); the
values are the same up to float rounding (tests/rlkit/test_backbones_layers.py).
"""

from __future__ import annotations

import sys
from functools import lru_cache

import torch
import torch.nn.functional as F

__all__ = ["adaptive_avg_pool_flat", "random_shift", "spatial_softmax"]


def spatial_softmax(fmap: torch.Tensor, temperature: torch.Tensor) -> torch.Tensor:
    """Expected ``(x, y)`` of each channel's softmax over the map: ``(B, C, H, W)`` ->
    ``(B, 2C)``, x values first, coordinates in ``[-1, 1]`` (pixel centres).

    Examples
    --------
    >>> fmap = torch.full((1, 1, 4, 4), -50.0)
    >>> fmap[0, 0, 0, 3] = 50.0  # a peak in the top-right cell
    >>> spatial_softmax(fmap, torch.tensor(1.0))
    tensor([[ 0.7500, -0.7500]])
    """
    b, c, h, w = fmap.shape
    grid = _coordinates(h, w, fmap.dtype, fmap.device)  # (2, H*W): x row, y row
    scale = temperature.reciprocal()  # one scalar; its gradient is one product, not a division
    if _channels_last(fmap):
        tokens = fmap.permute(0, 2, 3, 1).reshape(b, h * w, c)  # a view, no copy
        attention = torch.softmax(tokens * scale, dim=1)
        return torch.matmul(grid, attention).reshape(b, 2 * c)  # (B, 2, C): x first
    attention = torch.softmax(fmap.reshape(b, c, h * w) * scale, dim=-1)
    return torch.matmul(attention, grid.t()).transpose(1, 2).reshape(b, 2 * c)


def adaptive_avg_pool_flat(fmap: torch.Tensor, grid: int) -> torch.Tensor:
    """``F.adaptive_avg_pool2d(fmap, grid).flatten(1)`` as one matrix product:
    ``(B, C, H, W)`` -> ``(B, C * grid * grid)``, features in ``(channel, row, col)``
    order, the same values up to float rounding.

    Examples
    --------
    >>> fmap = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).view(2, 3, 5, 7)
    >>> expected = F.adaptive_avg_pool2d(fmap, 4).flatten(1)
    >>> torch.allclose(adaptive_avg_pool_flat(fmap, 4), expected)
    True
    """
    b, c, h, w = fmap.shape
    pool = _pool_weights(h, w, int(grid), fmap.dtype, fmap.device)  # (grid^2, H*W)
    if _channels_last(fmap):
        tokens = fmap.permute(0, 2, 3, 1).reshape(b, h * w, c)  # a view, no copy
        return torch.matmul(pool, tokens).transpose(1, 2).reshape(b, -1)
    return torch.matmul(fmap.reshape(b, c, h * w), pool.t()).reshape(b, -1)


def _channels_last(fmap: torch.Tensor) -> bool:
    """Laid out channels-last and not also plain contiguous (1x1 maps are both)."""
    return fmap.is_contiguous(memory_format=torch.channels_last) and not fmap.is_contiguous()


def _coordinates(h: int, w: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(2, h*w)``: the x and the y coordinate of each pixel centre, in ``[-1, 1]``."""
    if torch.compiler.is_compiling():  # traced (torch.export): part of the graph
        return _make_coordinates(h, w, dtype, device)
    return _cached_coordinates(h, w, dtype, device)


def _make_coordinates(h: int, w: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    ys = (torch.arange(h, device=device, dtype=dtype) + 0.5) * (2.0 / h) - 1.0
    xs = (torch.arange(w, device=device, dtype=dtype) + 0.5) * (2.0 / w) - 1.0
    return torch.stack([xs.repeat(h), ys.repeat_interleave(w)])


def _pool_weights(
    h: int, w: int, grid: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """``(grid^2, h*w)``: row ``i * grid + j`` averages the pixels of output cell
    ``(i, j)`` of ``F.adaptive_avg_pool2d`` (its own bins, read off the identity)."""
    if torch.compiler.is_compiling():
        return _make_pool_weights(h, w, grid, dtype, device)
    return _cached_pool_weights(h, w, grid, dtype, device)


def _make_pool_weights(
    h: int, w: int, grid: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    basis = torch.eye(h * w, device=device, dtype=dtype).view(h * w, 1, h, w)
    return F.adaptive_avg_pool2d(basis, grid).view(h * w, grid * grid).t().contiguous()


# Constants of the shapes alone, made once per shape. Made outside inference mode, so
# a tensor first made under torch.inference_mode() can still be saved for a backward.
@lru_cache(maxsize=64)
def _cached_coordinates(h: int, w: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    with torch.inference_mode(False), torch.no_grad():
        return _make_coordinates(h, w, dtype, device)


@lru_cache(maxsize=64)
def _cached_pool_weights(
    h: int, w: int, grid: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    with torch.inference_mode(False), torch.no_grad():
        return _make_pool_weights(h, w, grid, dtype, device)


def random_shift(
    frames: torch.Tensor, pad: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Shift each frame by up to ``pad`` pixels in each direction, filling with its edge
    pixels: the same as replicate-padding by ``pad`` and cropping back at random
    (DrQ, Kostrikov et al. 2021; RAD, Laskin et al. 2020), without building the padded
    copy. Shifts come from ``generator`` (default: torch's global generator). Used by
    pretraining and by :class:`rlkit.deep.BackboneExtractor`'s ``augment=True``.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> frames = torch.arange(16, dtype=torch.uint8).view(1, 1, 4, 4)
    >>> random_shift(frames, 0, g).equal(frames)
    True
    >>> random_shift(frames, 2, g).shape
    torch.Size([1, 1, 4, 4])
    """
    if pad == 0:
        return frames
    n, c, h, w = frames.shape
    shifts = torch.randint(-pad, pad + 1, (n, 2), generator=generator).to(frames.device)
    rows = (torch.arange(h, device=frames.device)[None] + shifts[:, :1]).clamp_(0, h - 1)
    if _channels_last(frames):
        # Frames stored (n, h, w, c), as rlkit.deep.buffers keeps PPO's rollout: shift
        # that layout, where an output row is one run of w * c values, and hand back the
        # same layout (the stem's convolution reads it without a reorder).
        nhwc = frames.permute(0, 2, 3, 1)
        starts = (torch.arange(n, device=frames.device)[:, None] * h + rows) * (w + 2 * pad)
        starts = (starts + (pad + shifts[:, 1:])) * c
        return (
            _copy_runs(_pad_pixel_columns(nhwc, pad), starts, w * c)
            .view(n, h, w, c)
            .permute(0, 3, 1, 2)
        )
    # Pad the columns only (rows are clamped), then copy each output row whole: every
    # window of w values of the flattened padded batch is a row of a strided view, and
    # one index_select of n*c*h rows is a copy of contiguous runs. Measured against one
    # gather with an index per pixel (the previous version, same values): 4x faster on
    # uint8 frames, and no per-pixel index tensor at all.
    planes = torch.arange(n * c, device=frames.device).view(n, c, 1) * h
    starts = (planes + rows[:, None, :]) * (w + 2 * pad) + (pad + shifts[:, 1]).view(n, 1, 1)
    return _copy_runs(_pad_columns(frames, 3, pad), starts, w).view(n, c, h, w)


def _pad_columns(frames: torch.Tensor, dim: int, pad: int) -> torch.Tensor:
    """``frames`` padded by ``pad`` copies of its edge values on both sides of ``dim``
    (contiguous)."""
    w = frames.shape[dim]
    shape = list(frames.shape)
    shape[dim] = w + 2 * pad
    padded = frames.new_empty(shape)
    padded.narrow(dim, pad, w).copy_(frames)
    padded.narrow(dim, 0, pad).copy_(frames.narrow(dim, 0, 1).expand_as(padded.narrow(dim, 0, pad)))
    right = padded.narrow(dim, pad + w, pad)
    right.copy_(frames.narrow(dim, w - 1, 1).expand_as(right))
    return padded


def _pad_pixel_columns(frames: torch.Tensor, pad: int) -> torch.Tensor:
    """:func:`_pad_columns` of ``(n, h, w, c)`` frames along ``w``.

    Copied value by value, the edges of 3-byte RGB pixels are slow strided copies (256
    frames of 64x64 on one thread: 0.37 ms a side, 4x the copy of the frames). For
    uint8 RGB with ``pad`` and ``w`` multiples of 4, each row's edge is 3 int32 words
    per 4 pixels, ``RGBR GBRG BRGB``, built from the edge pixel with shifts: the whole
    padding took 0.48 ms instead of 0.87 ms.
    """
    n, h, w, c = frames.shape
    words_fit = frames.dtype == torch.uint8 and c == 3 and pad % 4 == 0 and w % 4 == 0
    # int32 views need 4-byte-aligned rows; the words below are little-endian
    if not (words_fit and frames.storage_offset() % 4 == 0 and sys.byteorder == "little"):
        return _pad_columns(frames, 2, pad)
    padded = frames.new_empty((n, h, w + 2 * pad, c))
    padded[:, :, pad : pad + w] = frames
    words = padded.view(n * h, -1).view(torch.int32)
    pixels = frames.reshape(n * h, w * c).view(torch.int32)
    left = pixels[:, 0] & 0xFFFFFF  # R | G << 8 | B << 16 of each row's first pixel
    right = (pixels[:, -1] >> 8) & 0xFFFFFF  # and of its last one
    span = 3 * pad // 4
    for edge, rgb in ((words[:, :span], left), (words[:, -span:], right)):
        block = torch.stack((rgb | rgb << 24, rgb >> 8 | rgb << 16, rgb >> 16 | rgb << 8), 1)
        edge.view(n * h, pad // 4, 3).copy_(block[:, None])
    return padded


def _copy_runs(padded: torch.Tensor, starts: torch.Tensor, length: int) -> torch.Tensor:
    """The runs of ``length`` values of flat ``padded`` that begin at ``starts``, as rows."""
    flat = padded.view(-1)
    windows = flat.as_strided((flat.numel() - length + 1, length), (1, 1))
    return windows.index_select(0, starts.reshape(-1))
