"""What the single and batched learning loops share: checking environments and
budgets, binding schedules to a budget, progress bars and per-episode summaries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from rlkit.tabular.schedules import Schedule

__all__ = [
    "EpisodeSummary",
    "check_budget",
    "discrete_space_sizes",
    "env_identity",
    "open_progress_bar",
    "resolve_schedule",
]


@dataclass(frozen=True)
class EpisodeSummary:
    """What a ``learn`` callback receives at the end of every episode."""

    steps: int  #: environment steps so far in this ``learn`` call
    episodes: int  #: episodes finished so far in this ``learn`` call
    episode_return: float  #: undiscounted return of the episode
    episode_length: int  #: its number of steps
    epsilon: float  #: exploration rate at its last step
    learning_rate: float  #: learning rate at its last step


def discrete_space_sizes(
    observation_space: gym.Space[Any], action_space: gym.Space[Any]
) -> tuple[int, int]:
    """``(n_states, n_actions)`` of Discrete spaces; ValueError naming the fix otherwise.

    Examples
    --------
    >>> from gymnasium.spaces import Box, Discrete
    >>> discrete_space_sizes(Discrete(16), Discrete(4))
    (16, 4)
    >>> discrete_space_sizes(Box(0.0, 1.0, (2,)), Discrete(4))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: observation space Box(0.0, 1.0, (2,), float32) is not Discrete: ...
    """
    for role, space in (("observation", observation_space), ("action", action_space)):
        if not isinstance(space, gym.spaces.Discrete):
            fix = (
                "wrap the env in rlkit.tabular.DiscretizeObservation(env, bins=...)"
                if role == "observation" and isinstance(space, gym.spaces.Box)
                else "tabular learners need Discrete observation and action spaces"
            )
            raise ValueError(f"{role} space {space} is not Discrete: {fix}")
        if int(space.start) != 0:
            raise ValueError(f"{role} space {space} must start at 0, got start={space.start}")
    assert isinstance(observation_space, gym.spaces.Discrete)
    assert isinstance(action_space, gym.spaces.Discrete)
    return int(observation_space.n), int(action_space.n)


def check_budget(value: int | None, name: str) -> int | None:
    """``value`` as an int, or None; ValueError naming ``name`` unless a positive integer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    return int(value)


def resolve_schedule(schedule: Schedule, horizon: int | None, name: str) -> Schedule:
    """``schedule.resolve(horizon)`` with errors prefixed by the argument's ``name``."""
    try:
        return schedule.resolve(horizon)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def open_progress_bar(enabled: bool, total_steps: int | None, episodes: int | None) -> Any:
    """A tqdm bar over the step budget (else the episode budget), or None."""
    if not enabled:
        return None
    # Imported only when asked for: the learners themselves need no tqdm.
    from tqdm import tqdm

    if total_steps is not None:
        return tqdm(total=total_steps, unit="step", dynamic_ncols=True)
    return tqdm(total=episodes, unit="episode", dynamic_ncols=True)


def env_identity(env: Any) -> tuple[str | None, dict[str, Any] | None]:
    """The registered id and JSON-serialisable keyword arguments of ``env``."""
    spec = getattr(env, "spec", None)
    if spec is None:
        return None, None
    try:
        kwargs = json.loads(json.dumps(dict(spec.kwargs)))
    except (TypeError, ValueError):
        kwargs = None
    return spec.id, kwargs
