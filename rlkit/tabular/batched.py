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
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, cast

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium.vector import AutoresetMode, VectorEnv

from rlkit.tabular.algorithms import SARSA, DoubleQLearning, ExpectedSARSA, QLearning
from rlkit.tabular.base import FloatArray, TabularLearner
from rlkit.tabular.schedules import ScheduleLike
from rlkit.tabular.training import (
    check_budget,
    discrete_space_sizes,
    open_progress_bar,
    resolve_schedule,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "BatchedDoubleQLearning",
    "BatchedExpectedSARSA",
    "BatchedQLearning",
    "BatchedSARSA",
    "BatchedSummary",
    "BatchedTabularLearner",
]

IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
BatchedCallback: TypeAlias = "Callable[[BatchedTabularLearner, BatchedSummary], bool | None]"


@dataclass(frozen=True)
class BatchedSummary:
    """What a batched ``learn`` callback receives after each step where an episode ended."""

    steps: int  #: vector steps so far in this ``learn`` call (= steps of each copy)
    episodes: IntArray  #: episodes learned from so far, per copy, shape (K,)
    episode_returns: FloatArray  #: return of each copy's last finished episode (nan: none)
    epsilon: float
    learning_rate: float


@dataclass(frozen=True)
class Transitions:
    """One vector step of every copy, as the update rules see it (arrays of shape (K,))."""

    s: IntArray
    a: IntArray
    r: FloatArray
    s2: IntArray
    a2: IntArray  #: the action each copy takes next (ignored where terminated)
    terminated: BoolArray
    alpha: FloatArray  #: step size of each copy; 0 where the copy does not learn
    eps: float  #: exploration rate of this step


class BatchedTabularLearner(ABC):
    """Base of the batched learners; hyper-parameters as in :class:`TabularLearner`.

    Parameters
    ----------
    env : gymnasium.vector.VectorEnv
        ``K`` sub-environments with Discrete spaces and next-step autoreset.
    gamma, learning_rate, epsilon, q_init
        Shared by all copies (see :class:`~rlkit.tabular.TabularLearner`).
    seed : int, optional
        Seed of all randomness of the batch (actions, tie-breaking, environment seeds).
        Copy ``k``'s results depend on the whole batch's random stream, so a copy is not
        reproduced by a single learner with some seed; the same ``seed`` and ``K``
        reproduce every copy.
    """

    #: The single learner a copy is extracted as.
    single_class: ClassVar[type[TabularLearner]]

    def __init__(
        self,
        env: VectorEnv[Any, Any, Any],
        *,
        gamma: float = 0.99,
        learning_rate: ScheduleLike = 0.1,
        epsilon: ScheduleLike = 0.1,
        q_init: float = 0.0,
        seed: int | None = None,
    ) -> None:
        if not isinstance(env, VectorEnv):
            raise ValueError(
                f"env must be a gymnasium.vector.VectorEnv, got {type(env).__name__}; "
                f"e.g. gym.make_vec(env_id, num_envs=K) or ModelVectorEnv.from_env(env_id, K)"
            )
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if AutoresetMode(getattr(mode, "value", mode)) != AutoresetMode.NEXT_STEP:
            raise ValueError(
                f"env uses autoreset mode {mode}; batched learners need next-step autoreset "
                f"(gym.make_vec(..., vector_kwargs={{'autoreset_mode': 'NextStep'}}))"
            )
        n_states, n_actions = discrete_space_sizes(
            env.single_observation_space, env.single_action_space
        )
        # A detached single learner checks the hyper-parameters and holds the schedules,
        # so the rules for valid values live in one place.
        self._config = self.single_class._detached(
            n_states,
            n_actions,
            {
                "gamma": gamma,
                "learning_rate": learning_rate,
                "epsilon": epsilon,
                "q_init": q_init,
                "seed": seed,
            },
        )
        self.env = env
        self.num_copies = int(env.num_envs)
        self.n_states, self.n_actions = n_states, n_actions
        self.gamma = self._config.gamma
        self.seed = self._config.seed
        #: Seed of each sub-environment's first reset (recorded in extracted copies).
        self.copy_seeds: list[int] = [
            int(x) % (2**31 - 1)
            for x in np.random.SeedSequence(self.seed).generate_state(self.num_copies)
        ]
        self._rng = np.random.default_rng(self.seed)
        # Copy k's rows start at k * n_states in a table viewed as (K * S, A): 1-D takes on
        # flat indices are the cheapest numpy indexing, and they run every step.
        self._row_base = np.arange(self.num_copies, dtype=np.int64) * n_states
        self._row_offsets = np.arange(self.num_copies, dtype=np.int64) * n_actions
        self._reset_seeds: list[int] | None = self.copy_seeds
        self.num_timesteps = 0
        self.num_episodes = np.zeros(self.num_copies, dtype=np.int64)
        self._init_tables()

    def _init_tables(self) -> None:
        shape = (self.num_copies, self.n_states, self.n_actions)
        self._q = np.full(shape, self._config.q_init)

    @property
    def q_tables(self) -> FloatArray:
        """Action values of every copy, shape (K, n_states, n_actions)."""
        return self._q

    def _table_arrays(self) -> dict[str, FloatArray]:
        """Arrays with a leading copy axis, named as the single learner saves them."""
        return {"q_table": self._q}

    def _rows(self, table: FloatArray, s: IntArray) -> FloatArray:
        """``table[k, s[k]]`` for every copy ``k``, shape (K, A)."""
        return table.reshape(-1, self.n_actions)[self._row_base + s]

    def _row_max(self, rows: FloatArray) -> FloatArray:
        """``rows.max(axis=1)`` of a (K, A) array, several times faster for small A: numpy
        reduces along a short last axis slowly, while its argmax there is fast."""
        return rows.reshape(-1)[self._row_offsets + rows.argmax(axis=1)]

    def _entries(self, s: IntArray, a: IntArray) -> IntArray:
        """Flat indices of ``table[k, s[k], a[k]]`` in ``table.reshape(-1)``."""
        return (self._row_base + s) * self.n_actions + a

    def _acting_rows(self, obs: IntArray) -> FloatArray:
        return self._rows(self._q, obs)

    @abstractmethod
    def _update(self, t: Transitions) -> None:
        """Update every copy's table from its transition (one numpy operation each)."""

    def _behaviour(self, obs: IntArray, eps: float) -> IntArray:
        rows = self._acting_rows(obs)
        u = self._rng.random((self.num_copies, self.n_actions + 2))
        # Random tie-breaking: among the greedy actions, the one with the largest noise.
        is_best = rows == self._row_max(rows)[:, None]
        greedy = np.where(is_best, u[:, : self.n_actions], -1.0)
        explore = u[:, -2] < eps
        random_action = (u[:, -1] * self.n_actions).astype(np.int64)
        return np.where(explore, random_action, greedy.argmax(axis=1))

    def predict(
        self,
        observation: npt.ArrayLike,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[IntArray, None]:
        """Each copy's greedy action for its sub-environment's observation, shape (K,)."""
        obs = np.asarray(observation)
        if obs.shape != (self.num_copies,) or obs.dtype.kind not in "iu":
            raise ValueError(
                f"observation must be {self.num_copies} state indices (one per copy), "
                f"got {observation!r}"
            )
        if deterministic:
            return np.asarray(self._acting_rows(obs).argmax(axis=1)), None
        return self._behaviour(obs, self._config.exploration_rate), None

    def learn(
        self,
        total_steps: int | None = None,
        episodes: int | None = None,
        callback: BatchedCallback | None = None,
        progress_bar: bool = False,
    ) -> Self:
        """Train every copy until a budget is spent.

        Parameters
        ----------
        total_steps : int, optional
            Steps of each copy (vector steps); autoreset steps count but are not learned.
        episodes : int, optional
            Episodes per copy: a copy stops learning after its ``episodes``-th episode, and
            training ends when all have.
        callback : callable, optional
            ``callback(learner, summary)`` after every step where an episode ended
            (:class:`BatchedSummary`); returning ``False`` stops training.
        progress_bar : bool
            Show a tqdm progress bar (in steps, or in episodes of the slowest copy).
        """
        total_steps = check_budget(total_steps, "total_steps")
        episodes = check_budget(episodes, "episodes")
        if total_steps is None and episodes is None:
            raise ValueError("give a budget: learn(total_steps=...) and/or learn(episodes=...)")
        epsilon = resolve_schedule(self._config.epsilon, total_steps, "epsilon")
        learning_rate = resolve_schedule(self._config.learning_rate, total_steps, "learning_rate")
        bar = open_progress_bar(progress_bar, total_steps, episodes)
        K = self.num_copies
        seeds = self._reset_seeds or self._rng.integers(2**31 - 1, size=K).tolist()
        self._reset_seeds = None
        # One seed per sub-environment: Gymnasium's vector envs accept a list although
        # VectorEnv.reset is annotated with a single int.
        obs, _ = self.env.reset(seed=cast(Any, seeds))
        obs = np.asarray(obs, dtype=np.int64)
        finished = np.zeros(K, dtype=np.int64)
        returns, last_returns = np.zeros(K), np.full(K, np.nan)
        restarting = np.zeros(K, dtype=bool)  # next step is an ignored autoreset step
        step, eps = 0, epsilon(0)
        action = self._behaviour(obs, eps)
        try:
            while total_steps is None or step < total_steps:
                eps, alpha = epsilon(step), learning_rate(step)
                learning = ~restarting
                if episodes is not None:
                    if (finished >= episodes).all():
                        break
                    learning &= finished < episodes
                obs2, reward, terminated, truncated, _ = self.env.step(action)
                obs2 = np.asarray(obs2, dtype=np.int64)
                reward = np.asarray(reward, dtype=np.float64)
                terminated = np.asarray(terminated, dtype=bool)
                step += 1
                action2 = self._behaviour(obs2, eps)
                self._update(
                    Transitions(
                        obs, action, reward, obs2, action2, terminated, alpha * learning, eps
                    )
                )
                restarting = terminated | np.asarray(truncated, dtype=bool)
                if callback is not None:  # returns are only reported to callbacks
                    returns += np.where(learning, reward, 0.0)
                ended = restarting & learning
                obs, action = obs2, action2
                if bar is not None and total_steps is not None:
                    bar.update(1)
                if not ended.any():
                    continue
                finished += ended
                last_returns = np.where(ended, returns, last_returns)
                returns[ended] = 0.0
                if bar is not None and total_steps is None:
                    bar.update(int(finished.min()) - bar.n)
                summary = BatchedSummary(step, finished.copy(), last_returns, eps, alpha)
                if callback is not None and callback(self, summary) is False:
                    break
        finally:
            self.num_timesteps += step
            self.num_episodes += finished
            self._config.exploration_rate = eps
            if bar is not None:
                bar.close()
        return self

    def extract(self, k: int, env: gym.Env[Any, Any] | None = None) -> TabularLearner:
        """Copy ``k`` as a single learner (its own tables; ``seed`` = ``copy_seeds[k]``).

        Parameters
        ----------
        k : int
            Index of the copy, in ``[0, num_copies)``.
        env : gymnasium.Env, optional
            Environment to attach (spaces must match), e.g. to keep training it alone.
        """
        if not 0 <= k < self.num_copies:
            raise ValueError(f"k must be in [0, {self.num_copies}), got {k}")
        hyperparameters = {**self._config.get_hyperparameters(), "seed": self.copy_seeds[k]}
        learner = self.single_class._detached(self.n_states, self.n_actions, hyperparameters)
        learner._restore_tables({name: array[k] for name, array in self._table_arrays().items()})
        learner.num_timesteps = self.num_timesteps
        learner.num_episodes = int(self.num_episodes[k])
        learner.exploration_rate = self._config.exploration_rate
        spec = self.env.spec
        learner.env_id = spec.id if spec is not None else None
        if env is not None:
            learner.set_env(env)
        return learner

    def learners(self) -> list[TabularLearner]:
        """Every copy as a single learner (see :meth:`extract`)."""
        return [self.extract(k) for k in range(self.num_copies)]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_copies={self.num_copies}, n_states={self.n_states}, "
            f"n_actions={self.n_actions}, num_timesteps={self.num_timesteps})"
        )


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
