"""How tabular agents act: stable-baselines3's ``predict``/``act`` interface
(:class:`Actor`, shared by the learners and :class:`~rlkit.tabular.Ensemble`) and the
epsilon-greedy behaviour of a learner on its table (:class:`EpsilonGreedy`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Actor", "EpsilonGreedy"]

#: Uniform numbers drawn from the generator at a time: one numpy call per block is far
#: cheaper than one per step, and the sequence (hence the result) is the same.
_BLOCK = 4096


class Actor(ABC):
    """``predict`` with stable-baselines3's signature, and ``act``, on top of
    :meth:`_actions` (the action or actions for an observation or an array of them)."""

    def predict(
        self,
        observation: int | npt.ArrayLike,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[Any, None]:
        """Action(s) for observation(s), with stable-baselines3's signature.

        Parameters
        ----------
        observation : int or array_like of int
            A state index, or an array of them (e.g. from a vector env).
        state, episode_start
            Ignored (no recurrent state); present so SB3 harnesses can call this.
        deterministic : bool
            Greedy action (lowest index among ties) when True; epsilon-greedy with
            :attr:`exploration_rate` otherwise (an ensemble lets a member drawn at random
            act so).

        Returns
        -------
        (action, None)
            ``action`` is an ``int`` for a scalar observation, else an int array of the
            observation's shape.
        """
        actions = np.asarray(self._actions(observation, deterministic))
        if actions.ndim == 0:
            return int(actions), None
        return actions, None

    def act(self, observation: int) -> int:
        """The greedy action for one observation (``predict(obs)[0]``)."""
        action, _ = self.predict(observation, deterministic=True)
        return int(action)

    @abstractmethod
    def _actions(self, observation: int | npt.ArrayLike, deterministic: bool) -> npt.ArrayLike:
        """The action(s) of :meth:`predict`, of the observation's shape; checks it."""


class EpsilonGreedy(Actor):
    """Acting of a learner on its action values: greedy, or epsilon-greedy with random
    tie-breaking. Randomness comes from the learner's generator ``_rng``, drawn in
    blocks of uniform numbers (:meth:`_uniform`)."""

    n_states: int
    n_actions: int
    exploration_rate: float
    _rng: np.random.Generator
    _uniforms: list[float]
    _next_uniform: int

    @abstractmethod
    def _acting_row(self, s: int) -> list[float]:
        """The action values the behaviour policy acts on in state ``s``."""

    @abstractmethod
    def _acting_table(self) -> npt.NDArray[np.float64]:
        """The action values the greedy policy acts on, shape (n_states, n_actions)."""

    def _uniform(self) -> float:
        i = self._next_uniform
        if i >= len(self._uniforms):
            self._uniforms = self._rng.random(_BLOCK).tolist()
            i = 0
        self._next_uniform = i + 1
        return self._uniforms[i]

    def _behaviour(self, s: int, eps: float) -> int:
        """Epsilon-greedy action; ties between greedy actions are broken at random, which
        matters early on when a fresh table is all ties."""
        if self._uniform() < eps:
            return int(self._uniform() * self.n_actions)
        row = self._acting_row(s)
        best = max(row)
        if row.count(best) == 1:
            return row.index(best)
        ties = [i for i, value in enumerate(row) if value == best]
        return ties[int(self._uniform() * len(ties))]

    def _actions(self, observation: int | npt.ArrayLike, deterministic: bool) -> npt.ArrayLike:
        obs = np.asarray(observation)
        if obs.dtype.kind not in "iu" or ((obs < 0) | (obs >= self.n_states)).any():
            raise ValueError(
                f"observation must be state indices in [0, {self.n_states}), got {observation!r}"
            )
        if deterministic:
            return np.asarray(self._acting_table()[obs].argmax(axis=-1))
        flat = [self._behaviour(int(s), self.exploration_rate) for s in obs.reshape(-1)]
        return np.asarray(flat, dtype=np.int64).reshape(obs.shape)
