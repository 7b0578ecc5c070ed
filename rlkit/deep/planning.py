"""``ValueIterationHead``: a differentiable planner on the frame, for maps that change
every episode.

A reactive CNN that sees a new random map every episode must learn to plan from its
weights alone; with a few hundred maps of DAgger data it does not (``rlkit/GridNav-v0``
pixels: 0.30-0.44 success, below the random walk's 0.38). A value iteration network
(Tamar, Wu, Thomas, Levine & Abbeel, "Value Iteration Networks", NeurIPS 2016) builds
the planning step into the policy instead, so the weights only have to learn what a
cell is (wall, free, goal) and where the agent stands:

1. the frame is average-pooled to a ``grid x grid`` map (the env's cells when ``grid``
   is its number of cells across) and embedded per cell by a small convolution;
2. a reward map ``r`` comes out of the embedding (1 x 1 convolution);
3. ``iterations`` steps of value iteration as convolutions,
   ``q_a = W_a * r + gamma P_a * v`` and ``v = max_a q_a``, for ``actions`` abstract
   actions with 3 x 3 kernels, the same weights every step, so value spreads one cell
   per step around the walls ``r`` marks. Each ``P_a`` is a softmax over its kernel (a
   transition distribution over the 3 x 3 neighbourhood) and ``gamma`` a sigmoid (0.9
   at first), so the values stay below ``max |W r| / (1 - gamma)`` at any depth: free
   3 x 3 kernels, whatever their initialisation, made them explode over 30 steps;
4. soft attention on the agent's cell (a softmax over the map from the embedding)
   reads ``q`` there: ``actions`` numbers, the features the policy's heads act on.

Where the agent stands is the part the imitation loss cannot teach by itself. VIN was
given the agent's coordinates (Tamar et al. index ``q`` at the known state); learned
from the action labels alone, attention and reward map wait on each other and neither
moves (``rlkit/GridNav-v0``, 300 maps: action accuracy stayed at chance, 0.27, for 10
epochs, against 0.80 after 15 with the true cell as attention). So training adds the
agent's cell as an auxiliary target of the attention logits
(:func:`attention_loss`): privileged state used in training only, as the expert's
labels are, in the manner of "Learning by Cheating" (Chen, Zhou, Koltun & Krähenbühl,
CoRL 2019). Acting and evaluation see pixels alone. With it the held-out action
accuracy reached 0.92 after 24 epochs on the same data.

``iterations`` should be at least the longest shortest path in cells (the value must
reach the agent from the goal); the cost is ``iterations`` small convolutions on a
``grid x grid`` map. The value map is padded by replicating its edge, so stepping off
the map looks like standing still rather than like a free cell of value 0.

Examples
--------
>>> import torch
>>> head = ValueIterationHead(grid=11, iterations=20)
>>> head(torch.zeros(2, 3, 64, 64)).shape
torch.Size([2, 8])
>>> head.features_dim
8
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ValueIterationHead", "attention_loss", "attention_targets", "check_plan"]

#: Keys ``BackboneExtractor(plan=...)`` accepts, with their defaults.
PLAN_DEFAULTS: dict[str, int | bool] = {
    "grid": 11,
    "iterations": 30,
    "channels": 32,
    "actions": 8,
    "pooled": False,
}
#: The keys of :data:`PLAN_DEFAULTS` that :class:`ValueIterationHead` takes.
HEAD_KEYS = ("grid", "iterations", "channels", "actions")


def head_options(
    name: str,
    given: Mapping[str, Any] | None,
    defaults: Mapping[str, Any],
    example: str,
    ints: Mapping[str, int],
) -> dict[str, Any] | None:
    """``given`` over ``defaults``, checked: a mapping with known keys only, ``pooled``
    True or False, each key of ``ints`` an int at least its value there (a
    ``ValueError`` naming ``name`` and the key otherwise; ``example`` shows a good
    mapping); None stays None. The checks both heads share (:func:`check_plan`,
    :func:`~rlkit.deep.keypoints.check_keypoints`)."""
    if given is None:
        return None
    if not isinstance(given, Mapping):
        raise ValueError(f"{name} must be a mapping such as {example} or None, got {given!r}")
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f"{name} has unknown keys {unknown}; known: {sorted(defaults)}")
    checked = {**defaults, **dict(given)}
    if not isinstance(checked["pooled"], bool):
        raise ValueError(f"{name}['pooled'] must be True or False, got {checked['pooled']!r}")
    for key, lowest in ints.items():
        value = checked[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise ValueError(f"{name}[{key!r}] must be an int >= {lowest}, got {value!r}")
    return checked


def check_plan(plan: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``plan`` with its defaults filled in, checked; None stays None.

    >>> check_plan({"grid": 9})["iterations"]
    30
    >>> check_plan({"grid": 0})
    Traceback (most recent call last):
    ...
    ValueError: plan['grid'] must be an int >= 2, got 0
    """
    lowest = {"grid": 2, "iterations": 1, "channels": 1, "actions": 1}
    return head_options("plan", plan, PLAN_DEFAULTS, "{'grid': 11, 'iterations': 30}", lowest)


#: Kernel positions (row-major in 3 x 3) of the moves up, down, left, right and the
#: diagonals: abstract action ``a`` starts as a step to ``_MOVES[a % 8]``.
_MOVES = (1, 7, 3, 5, 0, 2, 6, 8)


def _neighbour_logits(actions: int, confidence: float = 3.0) -> torch.Tensor:
    """Initial transition logits: each action favours one neighbour (``confidence``
    over the others), so the actions' Q-values differ from the first step. Uniform
    kernels would make every action's Q equal, and nothing to learn from."""
    logits = torch.zeros(actions, 9)
    for action in range(actions):
        logits[action, _MOVES[action % len(_MOVES)]] = confidence
    return logits.view(actions, 1, 3, 3)


class ValueIterationHead(nn.Module):
    """Value iteration network head: ``(B, 3, H, W)`` frames in ``[0, 255]`` ->
    ``(B, actions)`` Q-values read at the agent's cell (see the module docstring).

    Parameters
    ----------
    grid : int, default 11
        Cells across of the pooled map (``H`` and ``W`` at least ``grid``).
    iterations : int, default 30
        Value iteration steps.
    channels : int, default 32
        Channels of the per-cell embedding.
    actions : int, default 8
        Q channels (abstract actions; the policy's heads map them to the env's).
    """

    def __init__(
        self, grid: int = 11, iterations: int = 30, channels: int = 32, actions: int = 8
    ) -> None:
        super().__init__()
        checked = check_plan(
            {"grid": grid, "iterations": iterations, "channels": channels, "actions": actions}
        )
        assert checked is not None
        self.grid = checked["grid"]
        self.iterations = checked["iterations"]
        self.embed = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 1),
            nn.ReLU(),
        )
        self.reward = nn.Conv2d(channels, 1, 1)
        self.locate = nn.Conv2d(channels, 1, 1)
        self.q_reward = nn.Conv2d(1, actions, 3, padding=1, bias=False)
        # Plain parameters, not modules: SB3's orthogonal re-initialisation of the
        # policy's Conv2d/Linear weights leaves them as set here.
        self.transition_logits = nn.Parameter(_neighbour_logits(actions))
        self.discount_logit = nn.Parameter(torch.tensor(2.1972))  # sigmoid: 0.9
        self.normalize = nn.LayerNorm(actions, elementwise_affine=False)
        self.features_dim = actions
        #: Attention logits ``(B, grid * grid)`` of the last forward pass, for
        #: :func:`attention_loss` (None before the first).
        self.last_attention_logits: torch.Tensor | None = None

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.shape[-1] < self.grid or frames.shape[-2] < self.grid:
            raise ValueError(
                f"ValueIterationHead(grid={self.grid}) needs frames of at least "
                f"{self.grid}x{self.grid} pixels, got {tuple(frames.shape[-2:])}"
            )
        cells = F.adaptive_avg_pool2d(frames.float() / 255.0, self.grid)
        embedding = self.embed(cells)
        q_reward = self.q_reward(self.reward(embedding))
        actions = self.transition_logits.shape[0]
        transition = torch.softmax(self.transition_logits.view(actions, -1), dim=1)
        transition = transition.view_as(self.transition_logits) * torch.sigmoid(self.discount_logit)
        q = q_reward
        for _ in range(self.iterations):
            value = F.pad(q.amax(dim=1, keepdim=True), (1, 1, 1, 1), mode="replicate")
            q = q_reward + F.conv2d(value, transition)
        logits = self.locate(embedding).flatten(1)
        self.last_attention_logits = logits
        attention = torch.softmax(logits, dim=1)
        at_agent = torch.einsum("bagh,bgh->ba", q, attention.view(-1, self.grid, self.grid))
        return self.normalize(at_agent)


def attention_targets(positions: torch.Tensor, grid: int) -> torch.Tensor:
    """Flat cell indices on a ``grid x grid`` map of ``(B, 2)`` positions given as
    fractions of the frame's height and width in ``[0, 1)`` (row, col).

    >>> attention_targets(torch.tensor([[0.0, 0.0], [0.5, 0.99], [1.0, 0.2]]), 11).tolist()
    [0, 65, 112]
    """
    cells = (positions.float() * grid).floor().long().clamp(0, grid - 1)
    return cells[:, 0] * grid + cells[:, 1]


def attention_loss(head: ValueIterationHead, positions: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of ``head``'s last attention logits against the agent's cells
    (``positions`` as for :func:`attention_targets`): the auxiliary localisation loss of
    the module docstring.

    Raises
    ------
    RuntimeError
        Before any forward pass, or when ``positions`` holds another batch size.
    """
    logits = head.last_attention_logits
    if logits is None or logits.shape[0] != positions.shape[0]:
        raise RuntimeError(
            "attention_loss needs the head's forward pass on the same batch first "
            f"(logits: {None if logits is None else tuple(logits.shape)}, positions: "
            f"{tuple(positions.shape)})"
        )
    targets = attention_targets(positions.to(logits.device), head.grid)
    return F.cross_entropy(logits, targets)
