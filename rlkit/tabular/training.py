"""What the single and batched learning loops share: the public ``learn`` entry point
(:class:`Trainable`), checking environments and budgets, binding schedules to a budget,
progress bars and per-episode summaries."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar

import gymnasium as gym
import numpy as np

from rlkit.tabular.schedules import Schedule, ScheduleLike

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "EpisodeSummary",
    "Hyperparameters",
    "Trainable",
    "check_budget",
    "discrete_space_sizes",
    "env_identity",
    "open_progress_bar",
    "resolve_schedule",
]


class Hyperparameters(TypedDict, total=False):
    """The keyword arguments every tabular learner takes, single or batched (see
    :class:`~rlkit.tabular.TabularLearner`)."""

    gamma: float
    learning_rate: ScheduleLike
    epsilon: ScheduleLike
    q_init: float
    seed: int | None


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


#: The type of a learner's ``learn`` callback.
CallbackT = TypeVar("CallbackT")


class Trainable(ABC, Generic[CallbackT]):
    """The ``learn`` of the single and the batched learners: it checks the budgets and
    runs the subclass's learning loop, :meth:`_learn`, which calls back with an
    :class:`EpisodeSummary` (batched: :class:`~rlkit.tabular.BatchedSummary`)."""

    def learn(
        self,
        total_steps: int | None = None,
        episodes: int | None = None,
        callback: CallbackT | None = None,
        progress_bar: bool = False,
    ) -> Self:
        """Train until a budget is spent.

        A batched learner trains every copy: its steps are vector steps (the steps of
        each copy; the ignored autoreset steps count but are not learned) and its
        episodes are counted per copy.

        Parameters
        ----------
        total_steps : int, optional
            Environment steps to take; fractional schedules are fractions of this.
        episodes : int, optional
            Episodes to finish. With both budgets, training stops at the first reached.
            Batched: a copy stops learning after its ``episodes``-th episode, and
            training ends when all have.
        callback : callable, optional
            ``callback(learner, summary)`` after every episode (:class:`EpisodeSummary`;
            batched: after every step where an episode ended,
            :class:`~rlkit.tabular.BatchedSummary`); returning ``False`` stops training.
        progress_bar : bool
            Show a tqdm progress bar (in steps, or in episodes of the slowest copy).

        Returns
        -------
        self

        Notes
        -----
        Schedules restart with every call (step 0 = the call's first step), like
        stable-baselines3's default; :attr:`num_timesteps` and :attr:`num_episodes` keep
        counting across calls. The environment is reset with a seed drawn from the
        learner's generator at the start of each call (a batched learner's first call
        uses its ``copy_seeds``).
        """
        total_steps = check_budget(total_steps, "total_steps")
        episodes = check_budget(episodes, "episodes")
        if total_steps is None and episodes is None:
            raise ValueError("give a budget: learn(total_steps=...) and/or learn(episodes=...)")
        self._learn(total_steps, episodes, callback, progress_bar)
        return self

    @abstractmethod
    def _learn(
        self, total_steps: int | None, episodes: int | None, callback: CallbackT | None, bar: bool
    ) -> None:
        """The learning loop, with checked budgets (at least one given); ``bar``: show a
        progress bar (:func:`open_progress_bar`)."""
