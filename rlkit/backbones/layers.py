"""Tensor operations of the backbone that hold no weights: the spatial-softmax keypoint
pooling that :class:`~rlkit.backbones.encoder.ConvEncoder` reads its last map through,
and the random-shift augmentation of pretraining and ``BackboneExtractor(augment=True)``.
"""

from __future__ import annotations

import torch

__all__ = ["random_shift", "spatial_softmax"]


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
    attention = torch.softmax(fmap.flatten(2) / temperature, dim=-1).view(b, c, h, w)
    ys = (torch.arange(h, device=fmap.device, dtype=fmap.dtype) + 0.5) * (2.0 / h) - 1.0
    xs = (torch.arange(w, device=fmap.device, dtype=fmap.dtype) + 0.5) * (2.0 / w) - 1.0
    x = (attention.sum(dim=2) * xs).sum(dim=-1)
    y = (attention.sum(dim=3) * ys).sum(dim=-1)
    return torch.cat([x, y], dim=1)


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
    cols = (torch.arange(w, device=frames.device)[None] + shifts[:, 1:]).clamp_(0, w - 1)
    # One gather over each flattened frame (5x faster on the CPU than 4-D advanced
    # indexing, which materialises four broadcast index tensors; same values).
    index = (rows[:, :, None] * w + cols[:, None, :]).view(n, 1, h * w).expand(n, c, h * w)
    return frames.reshape(n, c, h * w).gather(2, index).view(n, c, h, w)
