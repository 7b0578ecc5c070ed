"""The update rules: Q-learning, SARSA, Expected SARSA, Double Q-learning, n-step SARSA.

Each learner is a :class:`~rlkit.tabular.base.TabularLearner` whose only code is the
value its temporal-difference target bootstraps from, ``_next_value`` (Sutton & Barto,
*Reinforcement Learning: An Introduction*, 2nd ed., chapters 6 and 7): the base class's
``_update`` does the rest. Double Q-learning also draws the table that learns
(``_learning_table``); n-step SARSA, which backs up several rewards at once, replaces
the one-step ``_backup``. All targets stop bootstrapping at a *terminated* step but
keep bootstrapping at a *truncated* one (a time limit is not part of the task).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np

from rlkit.tabular.base import FloatArray, TabularLearner
from rlkit.tabular.schedules import ScheduleLike

__all__ = [
    "ALGORITHMS",
    "SARSA",
    "DoubleQLearning",
    "ExpectedSARSA",
    "NStepSARSA",
    "QLearning",
]


class QLearning(TabularLearner):
    """Off-policy TD control: target ``r + gamma * max_a Q(s', a)`` (Watkins, 1989).

    Learns the greedy policy's values while exploring, so the greedy policy converges to
    the optimum even with a constant exploration rate.

    Examples
    --------
    >>> import gymnasium as gym
    >>> env = gym.make("FrozenLake-v1", is_slippery=False)
    >>> agent = QLearning(env, learning_rate=0.5, epsilon=0.3, seed=0).learn(total_steps=5000)
    >>> agent.q_table.shape
    (16, 4)
    >>> agent.predict(0)
    (1, None)
    """

    algorithm = "q_learning"

    def _next_value(self, s2: int, a2: int | None, eps: float) -> float:
        return max(self._q[s2].tolist())


class SARSA(TabularLearner):
    """On-policy TD control: target ``r + gamma * Q(s', a')`` with ``a'`` the action taken.

    Learns the values of the epsilon-greedy policy it follows: let ``epsilon`` decay
    (e.g. ``"linear(1.0,0.0,0.8)"``) for the greedy policy to become optimal.

    Examples
    --------
    >>> import gymnasium as gym
    >>> env = gym.make("FrozenLake-v1", is_slippery=False)
    >>> agent = SARSA(env, learning_rate=0.5, epsilon="linear(1.0,0.0,0.8)", seed=0)
    >>> agent.learn(total_steps=5000).act(0)
    1
    """

    algorithm = "sarsa"

    def _next_value(self, s2: int, a2: int | None, eps: float) -> float:
        assert a2 is not None  # drawn for every step that did not terminate
        return self._q[s2, a2]


class ExpectedSARSA(TabularLearner):
    """Target ``r + gamma * E_pi[Q(s', .)]`` under the epsilon-greedy policy.

    Removes SARSA's variance from sampling ``a'``; the expectation is
    ``(1 - eps) * max_a Q(s', a) + eps * mean_a Q(s', a)``.

    Examples
    --------
    >>> import gymnasium as gym
    >>> env = gym.make("FrozenLake-v1", is_slippery=False)
    >>> agent = ExpectedSARSA(env, learning_rate=0.5, epsilon="linear(1.0,0.0,0.8)", seed=0)
    >>> agent.learn(total_steps=5000).act(0)
    1
    """

    algorithm = "expected_sarsa"

    def _next_value(self, s2: int, a2: int | None, eps: float) -> float:
        row = self._q[s2].tolist()
        return (1.0 - eps) * max(row) + eps * sum(row) / len(row)


class DoubleQLearning(TabularLearner):
    """Two tables; each update picks one at random to choose ``argmax_a Q(s', a)`` and
    the other to evaluate it (van Hasselt, 2010), removing Q-learning's maximisation bias.

    Acts greedily on the sum of the tables; :attr:`q_table` is their mean. Saves both.

    Examples
    --------
    >>> import gymnasium as gym
    >>> env = gym.make("FrozenLake-v1", is_slippery=False)
    >>> agent = DoubleQLearning(env, learning_rate=0.5, epsilon=0.3, seed=0)
    >>> agent.learn(total_steps=5000).act(0) in (1, 2)  # down and right are both optimal
    True
    """

    algorithm = "double_q_learning"

    def _init_tables(self) -> None:
        self._pair = np.full((2, self.n_states, self.n_actions), self.q_init)
        self._chooser = 0  # the table of the current update, drawn by _learning_table

    @property
    def q_table(self) -> FloatArray:
        """Mean of the two tables, shape (n_states, n_actions)."""
        return np.asarray(self._pair.mean(axis=0))

    def _acting_row(self, s: int) -> list[float]:
        return (self._pair[0, s] + self._pair[1, s]).tolist()

    def _acting_table(self) -> FloatArray:
        return np.asarray(self._pair.sum(axis=0))

    def _table_arrays(self) -> dict[str, FloatArray]:
        return {"q_a": self._pair[0], "q_b": self._pair[1]}

    def _learning_table(self) -> FloatArray:
        """Draws which table learns from this step (the chooser); the other evaluates."""
        self._chooser = 0 if self._uniform() < 0.5 else 1
        return self._pair[self._chooser]

    def _next_value(self, s2: int, a2: int | None, eps: float) -> float:
        row = self._pair[self._chooser, s2].tolist()
        return self._pair[1 - self._chooser, s2, row.index(max(row))]


class NStepSARSA(TabularLearner):
    """n-step SARSA: target ``r_t + ... + gamma^(n-1) r_(t+n-1) + gamma^n Q(s_(t+n), a_(t+n))``.

    Longer backups spread a reward back along the path faster; ``n = 1`` is
    :class:`SARSA` (same seed, same table). At the end of an episode the remaining
    steps are updated with shorter returns.

    Parameters
    ----------
    env : gymnasium.Env
        Discrete observation and action spaces.
    n : int
        Number of rewards before bootstrapping, >= 1.
    **kwargs
        ``gamma``, ``learning_rate``, ``epsilon``, ``q_init``, ``seed`` as in
        :class:`~rlkit.tabular.base.TabularLearner`.

    Examples
    --------
    >>> import gymnasium as gym
    >>> env = gym.make("FrozenLake-v1", is_slippery=False)
    >>> agent = NStepSARSA(env, n=3, learning_rate=0.5, epsilon="linear(1.0,0.0,0.8)", seed=0)
    >>> agent.learn(total_steps=5000).act(0)
    1
    """

    algorithm = "nstep_sarsa"

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        n: int = 3,
        gamma: float = 0.99,
        learning_rate: ScheduleLike = 0.1,
        epsilon: ScheduleLike = 0.1,
        q_init: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.n = _check_n(n)
        super().__init__(
            env,
            gamma=gamma,
            learning_rate=learning_rate,
            epsilon=epsilon,
            q_init=q_init,
            seed=seed,
        )

    def _set_extra_hyperparameters(self, hyperparameters: dict[str, Any]) -> None:
        self.n = _check_n(hyperparameters.pop("n", 3))

    def _extra_hyperparameters(self) -> dict[str, Any]:
        return {"n": self.n}

    def _start_episode(self) -> None:
        self._pending: deque[tuple[int, int, float]] = deque()

    def _backup(
        self, q: FloatArray, s: int, a: int, r: float, value: float | None, end: bool, alpha: float
    ) -> None:
        """Queue ``(s, a, r)``; update the oldest queued pair once ``n`` are queued, and
        all of them when the episode ends (``value`` is None after a terminal step)."""
        pending = self._pending
        pending.append((s, a, r))
        bootstrap = 0.0 if value is None else value
        if end:
            while pending:
                self._backup_oldest(bootstrap, alpha)
        elif len(pending) == self.n:
            self._backup_oldest(bootstrap, alpha)

    def _next_value(self, s2: int, a2: int | None, eps: float) -> float:
        assert a2 is not None  # drawn for every step that did not terminate
        return float(self._q[s2, a2])

    def _backup_oldest(self, bootstrap: float, alpha: float) -> None:
        """Update the oldest pending pair with the return of all pending rewards."""
        target = bootstrap
        for _, _, r in reversed(self._pending):
            target = r + self.gamma * target
        s, a, _ = self._pending.popleft()
        q = self._q
        q[s, a] += alpha * (target - q[s, a])


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    return int(n)


#: Learner classes by their command-line / save-file name.
ALGORITHMS: dict[str, type[TabularLearner]] = {
    cls.algorithm: cls for cls in (QLearning, SARSA, ExpectedSARSA, DoubleQLearning, NStepSARSA)
}
