"""The pretraining objective beyond the encoder: ATC's heads, the standardised state
targets of the auxiliary loss, and the learning-rate schedule.

- :class:`ATCHeads`: ATC's residual predictor and bilinear product (InfoNCE logits of
  anchors against positives) and the linear state-prediction head.
- :func:`standardised_states`: the simulator states as targets, each variable scaled to
  unit variance over the pretraining frames (missing ones masked).
- :func:`learning_rate`: linear warm-up, then cosine decay.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from rlkit.backbones.recipes import PretrainConfig

__all__ = ["ATCHeads", "learning_rate", "standardised_states"]


class ATCHeads(nn.Module):
    """The parts of the objective that are not the encoder: ATC's residual predictor and
    bilinear product, and the linear state-prediction head."""

    def __init__(self, features_dim: int, hidden: int, state_dim: int) -> None:
        super().__init__()
        self.predictor = nn.Sequential(
            nn.Linear(features_dim, hidden), nn.ReLU(), nn.Linear(hidden, features_dim)
        )
        self.bilinear = nn.Linear(features_dim, features_dim, bias=False)
        self.state = nn.Linear(features_dim, state_dim)

    def contrastive_logits(self, anchors: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
        """``(B, B)`` logits; row ``i`` scores anchor ``i`` against every positive."""
        predicted = anchors + self.predictor(anchors)  # residual, as in ATC
        logits = self.bilinear(predicted) @ positives.T
        return logits - logits.max(dim=1, keepdim=True).values.detach()


def standardised_states(
    states: npt.NDArray[np.floating],
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(targets, mask)`` of ``(N, S)`` states, NaN where a frame lacks a variable.

    Standardised targets make each state variable weigh the same in the loss, which then
    starts near 1 (like ``1 - R^2``), on the contrastive loss's scale. ``mask`` is 1
    where the state is known; ``targets`` is 0 where it is not. Both are float32.

    Examples
    --------
    >>> targets, mask = standardised_states(np.array([[0, np.nan], [2, 4], [4, 8]]))
    >>> targets.numpy().round(4).tolist()
    [[-1.0, 0.0], [0.0, -0.7071], [1.0, 0.7071]]
    >>> mask.tolist()
    [[1.0, 0.0], [1.0, 1.0], [1.0, 1.0]]
    """
    values = torch.from_numpy(states).double()
    valid = ~torch.isnan(values)
    count = valid.sum(dim=0).clamp(min=2)
    mean = torch.nan_to_num(values).sum(dim=0) / count
    var = (torch.nan_to_num(values - mean) ** 2).sum(dim=0) / (count - 1)
    standard = torch.nan_to_num((values - mean) / var.sqrt().clamp(min=1e-6))
    return standard.float(), valid.float()


def learning_rate(config: PretrainConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to ``min_lr_fraction * lr``.

    Examples
    --------
    >>> config = PretrainConfig(lr=1e-3, warmup_steps=10, steps=110, min_lr_fraction=0.1)
    >>> [round(learning_rate(config, s), 6) for s in (0, 9, 60, 110)]
    [0.0001, 0.001, 0.00055, 0.0001]
    """
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return config.lr * (config.min_lr_fraction + (1.0 - config.min_lr_fraction) * cosine)
