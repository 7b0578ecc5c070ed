"""The base of the batched learners: ``K`` tables, the vector-env learning loop, and
extracting a copy as a single learner (the update rules are in :mod:`.batched`).

:class:`BatchedTabularLearner` holds ``K = env.num_envs`` tables of shape (S, A), one per
sub-environment, and calls its subclass's ``_update`` once per vector step with the
:class:`Transitions` of every copy. The step after an episode ends (its action ignored,
a start state returned by next-step autoreset) is not learned.
"""

from __future__ import annotations

import inspect
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, cast

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium.vector import AutoresetMode, VectorEnv

from rlkit.tabular.base import FloatArray, TabularLearner
from rlkit.tabular.training import (
    Hyperparameters,
    Trainable,
    discrete_space_sizes,
    open_progress_bar,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["BatchedSummary", "BatchedTabularLearner", "Transitions"]

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


class BatchedTabularLearner(Trainable[BatchedCallback]):
    """Base of the batched learners; hyper-parameters as in :class:`TabularLearner`.

    Parameters
    ----------
    env : gymnasium.vector.VectorEnv
        ``K`` sub-environments with Discrete spaces and next-step autoreset.
    gamma, learning_rate, epsilon, q_init
        Shared by all copies, with the defaults of :attr:`single_class` (see
        :class:`~rlkit.tabular.TabularLearner`).
    seed : int, optional
        Seed of all randomness of the batch (actions, tie-breaking, environment seeds).
        Copy ``k``'s results depend on the whole batch's random stream, so a copy is not
        reproduced by a single learner with some seed; the same ``seed`` and ``K``
        reproduce every copy.
    """

    #: The single learner a copy is extracted as.
    single_class: ClassVar[type[TabularLearner]]

    def __init__(
        self, env: VectorEnv[Any, Any, Any], **hyperparameters: Unpack[Hyperparameters]
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
        # so the rules for valid values (and the defaults) live in one place.
        defaults = inspect.signature(self.single_class.__init__).parameters.values()
        self._config = self.single_class._detached(
            n_states,
            n_actions,
            {
                **{p.name: p.default for p in defaults if p.kind is p.KEYWORD_ONLY},
                **hyperparameters,
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

    def _learn(
        self,
        total_steps: int | None,
        episodes: int | None,
        callback: BatchedCallback | None,
        bar: bool,
    ) -> None:
        epsilon, learning_rate = self._config._bound_schedules(total_steps)
        progress = open_progress_bar(bar, total_steps, episodes)
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
                if progress is not None and total_steps is not None:
                    progress.update(1)
                if not ended.any():
                    continue
                finished += ended
                last_returns = np.where(ended, returns, last_returns)
                returns[ended] = 0.0
                if progress is not None and total_steps is None:
                    progress.update(int(finished.min()) - progress.n)
                summary = BatchedSummary(step, finished.copy(), last_returns, eps, alpha)
                if callback is not None and callback(self, summary) is False:
                    break
        finally:
            self.num_timesteps += step
            self.num_episodes += finished
            self._config.exploration_rate = eps
            if progress is not None:
                progress.close()

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
