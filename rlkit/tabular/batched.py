"""Many independent tabular learners trained at once on a vector environment.

A batched learner holds ``K = env.num_envs`` tables of shape (S, A), one per
sub-environment, and updates all of them with one numpy operation per step. Copy ``k``
learns only from sub-environment ``k``: the result is ``K`` independent runs (for
seeds, confidence intervals, or an :class:`~rlkit.tabular.Ensemble`) for far less than
``K`` times the cost. :meth:`BatchedTabularLearner.extract` returns any copy as an
ordinary single learner.

Any ``gymnasium.vector.VectorEnv`` with Discrete single spaces and Gymnasium 1.x
next-step autoreset works: ``gym.make_vec(id, num_envs=K)``, the numpy
:class:`~rlkit.tabular.ModelVectorEnv` for toy-text tasks, or a native vector env. The
step after an episode ends (its action ignored, a start state returned) is not learned.

This module holds the four update rules, one numpy expression each; their base class
(the tables, the vector-env loop, ``extract``) is in :mod:`rlkit.tabular.batched_base`
and is re-exported here.
"""

from __future__ import annotations

import numpy as np

from rlkit.tabular.algorithms import SARSA, DoubleQLearning, ExpectedSARSA, QLearning
from rlkit.tabular.base import FloatArray
from rlkit.tabular.batched_base import BatchedCallback as BatchedCallback
from rlkit.tabular.batched_base import BatchedSummary, BatchedTabularLearner, IntArray, Transitions
from rlkit.tabular.batched_base import BoolArray as BoolArray

__all__ = [
    "BatchedDoubleQLearning",
    "BatchedExpectedSARSA",
    "BatchedQLearning",
    "BatchedSARSA",
    "BatchedSummary",
    "BatchedTabularLearner",
]


def _masked_step(q: FloatArray, entries: IntArray, target: FloatArray, alpha: FloatArray) -> None:
    """``Q[k, s_k, a_k] += alpha_k (target_k - Q[k, s_k, a_k])`` for every copy ``k``
    (``entries`` from :meth:`BatchedTabularLearner._entries`; one entry per copy)."""
    flat = q.reshape(-1)  # a view: the table is contiguous
    current = flat[entries]
    flat[entries] = current + alpha * (target - current)


class BatchedQLearning(BatchedTabularLearner):
    """:class:`~rlkit.tabular.QLearning` on ``K`` copies at once.

    Examples
    --------
    >>> from rlkit.tabular import ModelVectorEnv
    >>> envs = ModelVectorEnv.from_env("FrozenLake-v1", 8, is_slippery=False)
    >>> batch = BatchedQLearning(envs, learning_rate=0.5, epsilon=0.3, seed=0)
    >>> batch.learn(total_steps=3000).q_tables.shape
    (8, 16, 4)
    >>> agent = batch.extract(0)  # an ordinary QLearning agent
    >>> type(agent).__name__, agent.predict(14)
    ('QLearning', (2, None))
    """

    single_class = QLearning

    def _update(self, t: Transitions) -> None:
        best = self._row_max(self._rows(self._q, t.s2))
        target = t.r + self.gamma * np.where(t.terminated, 0.0, best)
        _masked_step(self._q, self._entries(t.s, t.a), target, t.alpha)


class BatchedSARSA(BatchedTabularLearner):
    """:class:`~rlkit.tabular.SARSA` on ``K`` copies at once."""

    single_class = SARSA

    def _update(self, t: Transitions) -> None:
        following = self._q.reshape(-1)[self._entries(t.s2, t.a2)]
        target = t.r + self.gamma * np.where(t.terminated, 0.0, following)
        _masked_step(self._q, self._entries(t.s, t.a), target, t.alpha)


class BatchedExpectedSARSA(BatchedTabularLearner):
    """:class:`~rlkit.tabular.ExpectedSARSA` on ``K`` copies at once."""

    single_class = ExpectedSARSA

    def _update(self, t: Transitions) -> None:
        rows = self._rows(self._q, t.s2)
        # The mean as a matrix product: numpy's mean over a short last axis is slow.
        mean = rows @ np.full(self.n_actions, 1.0 / self.n_actions)
        expected = (1.0 - t.eps) * self._row_max(rows) + t.eps * mean
        target = t.r + self.gamma * np.where(t.terminated, 0.0, expected)
        _masked_step(self._q, self._entries(t.s, t.a), target, t.alpha)


class BatchedDoubleQLearning(BatchedTabularLearner):
    """:class:`~rlkit.tabular.DoubleQLearning` on ``K`` copies at once."""

    single_class = DoubleQLearning

    def _init_tables(self) -> None:
        shape = (2, self.num_copies, self.n_states, self.n_actions)
        self._pair = np.full(shape, self._config.q_init)

    @property
    def q_tables(self) -> FloatArray:
        """Mean of each copy's two tables, shape (K, n_states, n_actions)."""
        return np.asarray(self._pair.mean(axis=0))

    def _table_arrays(self) -> dict[str, FloatArray]:
        return {"q_a": self._pair[0], "q_b": self._pair[1]}

    def _acting_rows(self, obs: IntArray) -> FloatArray:
        return self._rows(self._pair[0], obs) + self._rows(self._pair[1], obs)

    def _update(self, t: Transitions) -> None:
        # Table t of the pair holds rows t * K * S ... (t + 1) * K * S - 1 of the (2 K S, A)
        # view; each copy picks its own chooser table.
        rows_per_table = self.num_copies * self.n_states
        chooser = (self._rng.random(self.num_copies) >= 0.5).astype(np.int64) * rows_per_table
        evaluator = rows_per_table - chooser
        next_rows = self._row_base + t.s2
        best = self._pair.reshape(-1, self.n_actions)[chooser + next_rows].argmax(axis=1)
        value = self._pair.reshape(-1)[(evaluator + next_rows) * self.n_actions + best]
        target = t.r + self.gamma * np.where(t.terminated, 0.0, value)
        entries = chooser * self.n_actions + self._entries(t.s, t.a)
        _masked_step(self._pair, entries, target, t.alpha)
