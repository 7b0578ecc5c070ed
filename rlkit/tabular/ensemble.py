"""An ensemble of tabular learners trained on different seeds, acting together (with
the learners' ``predict``/``act`` interface, :class:`~rlkit.tabular.acting.Actor`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from rlkit.tabular.acting import Actor
from rlkit.tabular.base import Callback, FloatArray, TabularLearner
from rlkit.tabular.training import open_progress_bar

if TYPE_CHECKING:
    from typing_extensions import Self

    from rlkit.tabular.batched_base import BatchedTabularLearner

__all__ = ["Ensemble"]

Vote = Literal["mean", "majority"]


class Ensemble(Actor):
    """``K`` learners of the same task, trained on different seeds, acting as one agent.

    Differently seeded runs explore differently and disagree where they learned little;
    acting on their consensus is more reliable than any single run (bagging over
    seeds).

    Parameters
    ----------
    members : sequence of TabularLearner, or callable
        The learners; or a factory ``factory(seed) -> learner`` called once per seed.
    k : int, optional
        Number of members to build with a factory (seeds ``0 .. k-1`` by default).
    seeds : sequence of int, optional
        Seeds to pass to the factory.
    vote : {"mean", "majority"}
        ``"mean"``: greedy on the members' averaged Q-tables. ``"majority"``: the action
        most members choose greedily, ties broken by the averaged Q-values.

    Raises
    ------
    ValueError
        If the members disagree in table size, or ``k``/``seeds``/``vote`` are invalid.

    Examples
    --------
    >>> import gymnasium as gym
    >>> from rlkit.tabular import QLearning
    >>> def factory(seed):
    ...     env = gym.make("FrozenLake-v1", is_slippery=False)
    ...     return QLearning(env, learning_rate=0.5, epsilon=0.3, seed=seed)
    >>> ensemble = Ensemble(factory, k=3).learn(total_steps=3000)
    >>> ensemble.q_table.shape, ensemble.act(0)
    ((16, 4), 1)
    """

    def __init__(
        self,
        members: Sequence[TabularLearner] | Callable[[int], TabularLearner],
        k: int | None = None,
        seeds: Sequence[int] | None = None,
        *,
        vote: Vote = "mean",
    ) -> None:
        if callable(members):
            if seeds is None:
                if k is None or isinstance(k, bool) or k < 1:
                    raise ValueError(f"k must be an integer >= 1 with a factory, got {k!r}")
                seeds = range(k)
            elif k is not None and k != len(seeds):
                raise ValueError(f"k={k} does not match the {len(seeds)} seeds given")
            built = [members(int(seed)) for seed in seeds]
        else:
            if seeds is not None:
                raise ValueError("seeds only apply to a factory; the members are already built")
            built = list(members)
            if k is not None and k != len(built):
                raise ValueError(f"k={k} does not match the {len(built)} members given")
        if not built:
            raise ValueError("an ensemble needs at least one member")
        for member in built:
            if not isinstance(member, TabularLearner):
                raise ValueError(f"members must be TabularLearner, got {type(member).__name__}")
        sizes = {(m.n_states, m.n_actions) for m in built}
        if len(sizes) > 1:
            raise ValueError(f"members have different table sizes {sorted(sizes)}")
        if vote not in ("mean", "majority"):
            raise ValueError(f"vote must be 'mean' or 'majority', got {vote!r}")
        self.members: list[TabularLearner] = built
        self.vote: Vote = vote
        self.n_states, self.n_actions = built[0].n_states, built[0].n_actions
        self._rng = np.random.default_rng([m.seed for m in built])

    @classmethod
    def from_batched(cls, batched: BatchedTabularLearner, *, vote: Vote = "mean") -> Ensemble:
        """An ensemble of every copy of a batched learner."""
        return cls(batched.learners(), vote=vote)

    def learn(
        self,
        total_steps: int | None = None,
        episodes: int | None = None,
        callback: Callback | None = None,
        progress_bar: bool = False,
    ) -> Self:
        """Train every member in turn with the same budget (see ``TabularLearner.learn``)."""
        bar = open_progress_bar(progress_bar, None, len(self.members))
        try:
            for member in self.members:
                member.learn(total_steps=total_steps, episodes=episodes, callback=callback)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return self

    @property
    def q_table(self) -> FloatArray:
        """The members' mean Q-table, shape (n_states, n_actions)."""
        return np.asarray(np.mean([m.q_table for m in self.members], axis=0))

    def _actions(self, observation: int | npt.ArrayLike, deterministic: bool) -> npt.ArrayLike:
        """The consensus action(s); ``deterministic=False`` lets a member drawn at random
        act epsilon-greedily."""
        if not deterministic:
            member = self.members[int(self._rng.integers(len(self.members)))]
            return member.predict(observation, deterministic=False)[0]
        obs = np.asarray(observation)
        self.members[0].predict(obs)  # checks the observation, with its error message
        mean_q = self.q_table[obs]
        if self.vote == "mean":
            return np.asarray(mean_q.argmax(axis=-1))
        greedy = np.stack([np.asarray(m.predict(obs)[0]) for m in self.members])
        votes = (greedy[..., None] == np.arange(self.n_actions)).sum(axis=0)
        top = votes == votes.max(axis=-1, keepdims=True)
        return np.asarray(np.where(top, mean_q, -np.inf).argmax(axis=-1))

    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        kind = type(self.members[0]).__name__
        return f"Ensemble({len(self.members)} x {kind}, vote={self.vote!r})"
