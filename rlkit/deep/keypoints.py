"""``KeypointHead``: where things are in the frame, to a fraction of a pixel, for reaching.

A reaching policy acts on a few numbers: where the goal is and where the arm's joints
and end effector are. On ``rlkit/ArmReach-v0`` at 64 x 64 pixels the goal's disc has a
radius of 1.5 pixels and success means the end effector's centre within 1.45 pixels
of it, so those numbers must be right to about a pixel. The backbone's keypoints come
from an 8 x 8 map (a cell is 8 pixels) and, fine-tuned to regress the goal, were off by
1.7 pixels (median): its DAgger students reached 0.25 success.

This head keeps the resolution instead: a small convolution stack at half the frame's
resolution (one stride-2 layer, then stride 1), and a spatial softmax per output
channel (Levine, Finn, Darrell & Abbeel, "End-to-End Training of Deep Visuomotor
Policies", JMLR 2016): ``count`` expected ``(x, y)`` positions in ``[-1, 1]``, the
features the policy's heads act on. The softmax averages over many pixels, so a
keypoint lands between pixel centres.

As with the value iteration head (:mod:`rlkit.deep.planning`), the action labels
alone teach the keypoints slowly; training adds the true positions the env reports
(:func:`~rlkit.deep.demos.agent_position`: on ArmReach the end effector, the goal and
the joints) as regression targets of the first keypoints (:func:`keypoint_loss`):
privileged state used in training only ("Learning by Cheating", Chen, Zhou, Koltun &
Krähenbühl, CoRL 2019). The other keypoints are free. Acting and evaluation see pixels
alone. On ArmReach pixels, DAgger with this head and noisy demos (the ``dagger-arm``
cells of ``benchmarks/suites/learning.yaml``) reached IQM success 0.93 [0.87, 0.95] on
held-out episodes over 5 seeds, where the backbone's features gave 0.25; on held-out
frames one such student placed the end effector within 0.7 pixels (median), the elbow
within 1.3 and the goal within 2.1 (small, and hidden under the effector as it arrives).

Keypoints alone are blind to obstacles: ``cspace`` adds a planner in the arm's joint
space that reads the frame's obstacle pixels (its own small detector) and the
keypoints (:mod:`rlkit.deep.arm_planning`).

Examples
--------
>>> import torch
>>> head = KeypointHead(count=6)
>>> head(torch.zeros(2, 3, 64, 64)).shape
torch.Size([2, 12])
>>> positions = torch.tensor([[0.5, 0.5, 0.25, 0.75]] * 2)  # two (row, col) targets
>>> float(keypoint_loss(head, positions)) >= 0.0
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from rlkit.backbones.layers import spatial_softmax
from rlkit.deep.arm_planning import ConfigSpacePlanner, obstacle_loss
from rlkit.deep.planning import head_options

__all__ = ["KEYPOINT_DEFAULTS", "KeypointHead", "check_keypoints", "keypoint_loss"]

#: Keys ``BackboneExtractor(keypoints=...)`` accepts, with their defaults.
KEYPOINT_DEFAULTS: dict[str, int | float | bool] = {
    "count": 8,
    "channels": 32,
    "weight": 1.0,
    "pooled": False,
    "cspace": 0,
    "cspace_iterations": 48,
}
#: The keys of :data:`KEYPOINT_DEFAULTS` that :class:`KeypointHead` takes.
HEAD_KEYS = ("count", "channels", "cspace", "cspace_iterations")


def check_keypoints(keypoints: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``keypoints`` with its defaults filled in, checked; None stays None.

    >>> check_keypoints({"count": 4})["channels"]
    32
    >>> check_keypoints({"count": 0})
    Traceback (most recent call last):
    ...
    ValueError: keypoints['count'] must be an int >= 1, got 0
    """
    ints = {"count": 1, "channels": 1, "cspace": 0, "cspace_iterations": 1}
    checked = head_options("keypoints", keypoints, KEYPOINT_DEFAULTS, "{'count': 8}", ints)
    if checked is None:
        return None
    if checked["cspace"] and (checked["cspace"] < 4 or checked["count"] < 3):
        raise ValueError(
            "keypoints['cspace'] (joint-space planner cells per joint; 0: none) must be 0 "
            f"or >= 4 with keypoints['count'] >= 3, got {checked['cspace']!r} with count "
            f"{checked['count']!r}"
        )
    weight = checked["weight"]
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight >= 0:
        raise ValueError(f"keypoints['weight'] must be a number >= 0, got {weight!r}")
    checked["weight"] = float(weight)
    return checked


class KeypointHead(nn.Module):
    """``count`` keypoints of a ``(B, 3, H, W)`` frame in ``[0, 255]``: ``(B, 2 * count)``,
    all x coordinates first, then all y (``[-1, 1]``, pixel centres; y grows downwards).

    Layers: a 5x5 convolution at stride 2 to ``channels // 2``, two 3x3 convolutions
    to ``channels`` (ReLU after each), a 1x1 convolution to ``count`` maps, then a
    spatial softmax with a learned temperature. The last keypoints are kept for
    :func:`keypoint_loss` (:attr:`last_keypoints`).

    With ``cspace`` > 0 a :class:`~rlkit.deep.arm_planning.ConfigSpacePlanner` on a
    ``cspace x cspace`` joint-angle grid reads the frames (its obstacle detector) and the
    keypoints (end effector, goal, elbow first) and adds its 8 Q-values to the features.
    """

    def __init__(
        self, count: int = 8, channels: int = 32, cspace: int = 0, cspace_iterations: int = 48
    ) -> None:
        super().__init__()
        self.count = int(count)
        half = max(channels // 2, 1)
        self.convs = nn.Sequential(
            nn.Conv2d(3, half, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(half, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, self.count, 1),
        )
        # softmax sharpness: the maps times exp(log_scale), 10 at first
        self.log_scale = nn.Parameter(torch.tensor(2.302585))
        self.last_keypoints: torch.Tensor | None = None
        self.planner: ConfigSpacePlanner | None = None
        if cspace:
            self.planner = ConfigSpacePlanner(cspace, cspace_iterations)
        #: The last frames seen in training mode, for the planner's obstacle loss.
        self.last_frames: torch.Tensor | None = None

    @property
    def features_dim(self) -> int:
        """Numbers per frame: ``2 * count``, plus the planner's 8 with ``cspace``."""
        return 2 * self.count + (0 if self.planner is None else self.planner.features_dim)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        hidden = self.convs[:-1](frames / 255.0)
        keypoints = spatial_softmax(self.convs[-1](hidden), torch.exp(-self.log_scale))
        self.last_keypoints = keypoints
        if self.planner is None:
            return keypoints
        self.last_frames = frames if self.training else None
        return torch.cat([keypoints, self.planner(frames, keypoints, self.count)], dim=1)


def keypoint_loss(head: KeypointHead, positions: torch.Tensor) -> torch.Tensor:
    """Mean squared error of ``head``'s first keypoints against ``positions``.

    ``positions`` is ``(B, 2 * T)``: ``T`` points as ``(row, col)`` fractions of the
    frame's height and width (:attr:`rlkit.deep.demos.Demos.positions`), the targets of
    keypoints ``0 .. T - 1`` (in the ``[-1, 1]`` coordinates of the head; ``T`` at most
    ``count``).

    Raises
    ------
    RuntimeError
        Before any forward pass, or when ``positions`` holds another batch size.
    ValueError
        When ``positions`` has more points than the head has keypoints.
    """
    keypoints = head.last_keypoints
    if keypoints is None or keypoints.shape[0] != positions.shape[0]:
        raise RuntimeError(
            "keypoint_loss needs the head's forward pass on the same batch first "
            f"(keypoints: {None if keypoints is None else tuple(keypoints.shape)}, "
            f"positions: {tuple(positions.shape)})"
        )
    targets = positions.to(keypoints.device, keypoints.dtype).reshape(positions.shape[0], -1, 2)
    count = targets.shape[1]
    if count > head.count:
        raise ValueError(
            f"positions give {count} points but the head has {head.count} keypoints; "
            f"use keypoints={{'count': {count}}} or more"
        )
    rows, cols = targets[..., 0] * 2 - 1, targets[..., 1] * 2 - 1
    xs, ys = keypoints[:, :count], keypoints[:, head.count : head.count + count]
    loss = F.mse_loss(xs, cols) + F.mse_loss(ys, rows)
    if head.planner is not None and head.last_frames is not None:
        loss = loss + obstacle_loss(head.planner, head.last_frames)
    return loss
