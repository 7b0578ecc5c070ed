"""The actions the episodes of distillation's rounds take, while the expert labels them.

- :func:`noisy_expert`: round 0's demos, the expert's action with noise on it (DART).
- :func:`mixture`: DAgger's rounds, the expert's action or the student's by a coin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from rlkit.deep.student import StudentPolicy

__all__ = ["Choose", "mixture", "noisy_expert"]

#: ``choose(obs, expert_action)``: the action a round's rollouts take.
Choose = Callable[[Any, Any], Any]


def noisy_expert(space: Any, noise: float, generator: np.random.Generator) -> Choose | None:
    """The expert's label with noise on it, the action round 0's demos take (DART:
    Laskey, Lee, Fox, Dragan & Goldberg, "DART: Noise Injection for Robust Imitation
    Learning", CoRL 2017): the demos then show the expert recovering from the small
    errors a student makes, and the labels stay the expert's. ``Box``: Gaussian noise of
    std ``noise`` (in action units), clipped to the space; ``Discrete``: a uniformly
    random action with probability ``noise``. None for ``noise == 0`` (the expert's own)."""
    if not noise:
        return None

    def act(_obs: Any, expert_action: Any) -> Any:
        if isinstance(space, gym.spaces.Discrete):
            if generator.random() < noise:
                return int(space.start + generator.integers(space.n))
            return expert_action
        shaken = np.asarray(expert_action) + generator.normal(0.0, noise, space.shape)
        return np.clip(shaken, space.low, space.high).astype(space.dtype)

    return act


def mixture(student: StudentPolicy, coins: np.random.Generator, beta: float) -> Choose:
    """The expert's label with probability ``beta`` (a coin of ``coins``), else the
    student's greedy action."""

    def act(obs: Any, expert_action: Any) -> Any:
        return expert_action if coins.random() < beta else student(obs)

    return act
