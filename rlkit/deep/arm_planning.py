"""``ConfigSpacePlanner``: value iteration in the arm's joint space, for reaching among
obstacles that change every episode.

On ``rlkit/ArmReachObstacles-v0`` the straight way in joint space to the goal is blocked
in about a quarter of the episodes. A student that acts on the keypoints alone (the end
effector, the goal, the elbow: :mod:`rlkit.deep.keypoints`) is blind to the obstacles
and pushes into them (held-out success 0.15 where the way is blocked, 0.67 where it is
free). The planner the expert follows searches the configuration space: a 2-link arm's
joint angles ``(q1, q2)``, a torus, where an obstacle in the frame becomes the region of
configurations whose links touch it (Lozano-Pérez, "Spatial Planning: A Configuration
Space Approach", IEEE Trans. Computers 1983). This head builds that map from the frame
and plans on it inside the policy, as a value iteration network (Tamar, Wu, Thomas,
Levine & Abbeel, NeurIPS 2016) does on a grid (:mod:`rlkit.deep.planning`), but with the
moves fixed rather than learned: the learned parts are what the planner reads (the
obstacle map and the keypoints) and the policy's heads on what it returns.

1. an obstacle map from the frame's pixels (two 1 x 1 convolutions: a colour
   classifier per pixel, then a sigmoid), max-pooled to half the frame's resolution:
   a cell is an obstacle when any of its pixels may be, which also covers the links'
   width;
2. joint-space occupancy on a ``grid x grid`` torus of joint angles: for each cell the
   largest obstacle value at ``samples`` points along each link, read from the map by
   bilinear interpolation at fixed frame positions (the arm's forward kinematics);
3. a goal map: a Gaussian of the distance from each cell's end effector to the goal
   keypoint;
4. ``iterations`` steps of value iteration over the 8 neighbour moves,
   ``v = (1 - occupancy) max(goal, gamma max_neighbours v)`` (a 3 x 3 max-pool, padded
   circularly: the joints wrap);
5. each move's value (its neighbour's ``v``) read at the arm's joint angles, which
   follow from the elbow and end effector keypoints, as logarithms (a step costs
   ``log gamma`` at any distance), normalised: 8 numbers beside the keypoints.

The planner runs without gradients: its inputs have their own losses (the keypoints'
positions and the obstacle pixels). Through the logarithm of values near 0 the
imitation loss's gradients would swamp the keypoints (DAgger's first round fell to
0.03 held-out success when they reached the joint angles). A first version learned the moves'
3 x 3 transition kernels as the VIN does, with gradients through every step; 48
convolution steps on a 48 x 48 map made training more than 6 times slower (30 minutes
of CPU before the first DAgger round ended on 300 demos) for a planner that, on the
true obstacle map, has nothing left to learn.

In training, pixels of the obstacle colour (``envs.arm.drawing.COLORS``) are a target of
the obstacle map (:func:`obstacle_loss`), privileged information as the keypoint
positions are; acting sees pixels alone. The geometry is the registered arms': 2 links
of equal length, the base at the frame's centre, the reach filling ``1 / VIEW_MARGIN``
of the half frame (``envs.arm.config``), no joint limits.

Examples
--------
>>> import torch
>>> planner = ConfigSpacePlanner(grid=16, iterations=12)
>>> frames = torch.zeros(2, 3, 64, 64)
>>> keypoints = torch.zeros(2, 6)  # 3 keypoints: x values, then y values
>>> planner(frames, keypoints, count=3).shape
torch.Size([2, 8])
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from envs.arm.config import VIEW_MARGIN
from envs.arm.drawing import COLORS

__all__ = ["MOVES", "ConfigSpacePlanner", "joint_angles", "obstacle_loss"]

#: The 8 moves on the joint-angle grid, ``(change of q1, change of q2)`` in cells.
MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def _link_points(grid: int, samples: int, link: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Frame positions (``[-1, 1]``, x right, y down) of ``samples`` points along each of
    the two links for every cell of the joint-angle grid, ``(grid * grid * 2 * samples,
    2)``, and the end effector per cell, ``(grid, grid, 2)``."""
    angles = -math.pi + 2 * math.pi * (torch.arange(grid, dtype=torch.float64) + 0.5) / grid
    q1, q2 = torch.meshgrid(angles, angles, indexing="ij")
    elbow = torch.stack([torch.cos(q1), torch.sin(q1)], dim=-1) * link
    effector = elbow + torch.stack([torch.cos(q1 + q2), torch.sin(q1 + q2)], dim=-1) * link
    fractions = (torch.arange(samples, dtype=torch.float64) + 1) / samples
    first = elbow[:, :, None, :] * fractions[:, None]
    second = elbow[:, :, None, :] + (effector - elbow)[:, :, None, :] * fractions[:, None]
    points = torch.cat([first, second], dim=2)  # (G, G, 2S, 2), y up
    points[..., 1] = -points[..., 1]
    effector[..., 1] = -effector[..., 1]
    return points.reshape(-1, 2).float(), effector.float()


def _read_torus(maps: torch.Tensor, q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """``(B, C, G, G)`` maps over the joint-angle torus read at ``(B,)`` angles by
    bilinear interpolation with wrap-around: ``(B, C)``."""
    grid = maps.shape[-1]
    u = (q1 + math.pi) / (2 * math.pi) * grid - 0.5
    v = (q2 + math.pi) / (2 * math.pi) * grid - 0.5
    u0, v0 = torch.floor(u), torch.floor(v)
    fu, fv = (u - u0)[:, None], (v - v0)[:, None]
    i0, j0 = u0.long() % grid, v0.long() % grid
    i1, j1 = (i0 + 1) % grid, (j0 + 1) % grid
    rows = torch.arange(maps.shape[0], device=maps.device)

    def at(i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
        return maps[rows, :, i, j]

    top = at(i0, j0) * (1 - fv) + at(i0, j1) * fv
    bottom = at(i1, j0) * (1 - fv) + at(i1, j1) * fv
    return top * (1 - fu) + bottom * fu


def _wrap(maps: torch.Tensor, dim: int) -> torch.Tensor:
    """``maps`` with one cell added on both sides of ``dim``, wrapped around."""
    size = maps.shape[dim]
    return torch.cat([maps.narrow(dim, size - 1, 1), maps, maps.narrow(dim, 0, 1)], dim=dim)


def _neighbour_max(maps: torch.Tensor) -> torch.Tensor:
    """``(B, G, G)``: the largest value in each cell's 3 x 3 neighbourhood on the torus
    (a separable max-pool; 4 times faster than ``F.max_pool2d`` after a circular pad
    on these small single-channel maps)."""
    rows = _wrap(maps, 1)
    maps = torch.maximum(torch.maximum(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])
    cols = _wrap(maps, 2)
    return torch.maximum(torch.maximum(cols[:, :, :-2], cols[:, :, 1:-1]), cols[:, :, 2:])


class ConfigSpacePlanner(nn.Module):
    """Value iteration on the joint-angle torus of a 2-link arm (module docstring).

    Parameters
    ----------
    grid : int, default 48
        Cells per joint (``360 / grid`` degrees each).
    iterations : int, default 48
        Value iteration steps: at least the longest way around an obstacle, in cells.
    channels : int, default 32
        Hidden channels of the obstacle detector.
    samples : int, default 10
        Points per link where the obstacle map is read.
    goal_width : float, default 0.08
        Standard deviation of the goal map, in half frames (a cell moves the end
        effector by up to ``2 pi / grid`` times the reach).
    discount : float, default 0.9
        Value kept per step (``gamma``).
    """

    points: torch.Tensor
    effector: torch.Tensor
    moves: torch.Tensor

    def __init__(
        self,
        grid: int = 48,
        iterations: int = 48,
        channels: int = 32,
        samples: int = 10,
        goal_width: float = 0.08,
        discount: float = 0.9,
    ) -> None:
        super().__init__()
        self.grid, self.iterations = int(grid), int(iterations)
        self.goal_width, self.discount = float(goal_width), float(discount)
        self.obstacle = nn.Sequential(
            nn.Conv2d(3, channels, 1), nn.ReLU(), nn.Conv2d(channels, 1, 1)
        )
        points, effector = _link_points(self.grid, int(samples), 0.5 / VIEW_MARGIN)
        self.register_buffer("points", points, persistent=False)
        self.register_buffer("effector", effector, persistent=False)
        self.samples = 2 * int(samples)
        self.normalize = nn.LayerNorm(len(MOVES), elementwise_affine=False)
        self.features_dim = len(MOVES)
        #: Obstacle logits ``(B, 1, h, w)`` of the last forward pass (:func:`obstacle_loss`).
        self.last_obstacle_logits: torch.Tensor | None = None

    def occupancy(self, obstacles: torch.Tensor) -> torch.Tensor:
        """``(B, grid, grid)``: the largest value of the ``(B, 1, h, w)`` obstacle map
        (in ``[0, 1]``) along the links of each joint-angle cell's arm."""
        where = self.points.view(1, -1, 1, 2).expand(obstacles.shape[0], -1, -1, -1)
        values = F.grid_sample(obstacles, where, align_corners=False)
        return values.view(obstacles.shape[0], self.grid, self.grid, self.samples).amax(dim=-1)

    def values(self, free: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        """Q-values ``(B, 8, grid, grid)`` of the 8 moves (:data:`MOVES`) by value
        iteration on the torus, for the free fraction ``1 - occupancy`` of each cell
        ``(B, grid, grid)`` and the goal's frame position ``(B, 2)`` (x, y in
        ``[-1, 1]``): ``v = free * max(goal, gamma * max of the 8 neighbours' v)``, and
        a move's Q the value of the neighbour it leads to."""
        distance = (self.effector[None] - goal[:, None, None, :]).square().sum(-1)
        reward = (torch.exp(distance / (-2 * self.goal_width**2)) * free)[:, None]
        reward, free = reward[:, 0], free * self.discount  # the discount, applied once
        value = reward * free
        for _ in range(self.iterations):
            value = torch.maximum(reward, _neighbour_max(value)) * free
        grid = self.grid
        padded = _wrap(_wrap(value / self.discount, 1), 2)
        return torch.stack(
            [padded[:, 1 + di : 1 + di + grid, 1 + dj : 1 + dj + grid] for di, dj in MOVES], dim=1
        )

    def forward(self, frames: torch.Tensor, keypoints: torch.Tensor, count: int) -> torch.Tensor:
        """Q-values of the 8 moves at the arm's joint angles, ``(B, 8)``.

        ``frames`` are ``(B, 3, H, W)`` in ``[0, 255]``, ``keypoints`` the keypoint
        head's output ``(B, 2 * count)``: end effector, goal, elbow first.
        """
        if count < 3:
            raise ValueError(f"the joint-space planner needs keypoints['count'] >= 3, got {count}")
        logits = self.obstacle((frames - 128.0) / 32.0)  # sharp colours: 8 levels per unit
        self.last_obstacle_logits = logits
        with torch.no_grad():  # a fixed algorithm on inputs their own losses teach
            free = 1 - self.occupancy(F.max_pool2d(torch.sigmoid(logits), 2))
            goal = torch.stack([keypoints[:, 1], keypoints[:, count + 1]], dim=-1)
            at_arm = _read_torus(self.values(free, goal), *joint_angles(keypoints, count))
            return self.normalize(torch.log(at_arm + 1e-4))


def joint_angles(keypoints: torch.Tensor, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The two joint angles ``(B,)`` each (radians, ``[-pi, pi)``) of an arm whose end
    effector and elbow are keypoints 0 and 2 of ``(B, 2 * count)`` keypoints (x values,
    then y values, in ``[-1, 1]``; y grows downwards), the base at the frame's centre."""
    xs, ys = keypoints[:, :count], keypoints[:, count:]
    q1 = torch.atan2(-ys[:, 2], xs[:, 2])
    heading = torch.atan2(-(ys[:, 0] - ys[:, 2]), xs[:, 0] - xs[:, 2])
    q2 = torch.remainder(heading - q1 + math.pi, 2 * math.pi) - math.pi
    return q1, q2


def obstacle_loss(planner: ConfigSpacePlanner, frames: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the last obstacle map against the frames' obstacle pixels
    (``COLORS["obstacle"]``), max-pooled to the map's size if it is smaller: a cell is
    an obstacle when any of its pixels is.

    Raises
    ------
    RuntimeError
        Before a forward pass on the same batch.
    """
    logits = planner.last_obstacle_logits
    if logits is None or logits.shape[0] != frames.shape[0]:
        raise RuntimeError("obstacle_loss needs the planner's forward pass on the same batch first")
    colour = torch.tensor(COLORS["obstacle"], dtype=frames.dtype, device=frames.device)
    mask = (frames == colour.view(1, 3, 1, 1)).all(dim=1, keepdim=True).float()
    target = F.adaptive_max_pool2d(mask, logits.shape[-2:])
    return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))
