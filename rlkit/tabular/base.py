"""The shared base of the tabular learners: configuration, the one-step TD update
scaffold, the learning loop, and saving. A concrete algorithm supplies only the value its
target bootstraps from (:mod:`.algorithms`); acting lives in :mod:`.acting`, the
``learn`` entry point in :mod:`.training` and the file format in :mod:`.agent_file`."""

from __future__ import annotations

import numbers
import os
from abc import abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from rlkit.tabular.acting import EpsilonGreedy
from rlkit.tabular.agent_file import (
    copy_arrays,
    library_versions,
    read_agent_file,
    write_agent_file,
)
from rlkit.tabular.schedules import Schedule, ScheduleLike, as_schedule
from rlkit.tabular.training import (
    EpisodeSummary,
    Trainable,
    discrete_space_sizes,
    env_identity,
    open_progress_bar,
    resolve_schedule,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["TabularLearner"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
#: ``callback(learner, summary) -> False`` stops :meth:`TabularLearner.learn`.
Callback: TypeAlias = "Callable[[TabularLearner, EpisodeSummary], bool | None]"


class TabularLearner(EpsilonGreedy, Trainable[Callback]):
    """Base of the tabular learners: epsilon-greedy acting on a Q-table of shape (S, A).

    Subclasses set :attr:`algorithm` and implement :meth:`_next_value`, the value the
    one-step TD update (:meth:`_update`, :meth:`_backup`) bootstraps from.
    Randomness (actions, tie-breaking, environment reset seeds) comes from one
    ``numpy.random.Generator`` seeded with ``seed``, so the same seed gives the same
    Q-table.

    Parameters
    ----------
    env : gymnasium.Env
        Discrete observation and action spaces (wrap Box observations in
        :class:`~rlkit.tabular.DiscretizeObservation`).
    gamma : float
        Discount factor in [0, 1].
    learning_rate : float, str or Schedule
        Step size, > 0: a number or a schedule (see :mod:`rlkit.tabular.schedules`).
    epsilon : float, str or Schedule
        Exploration rate in [0, 1] of the epsilon-greedy behaviour policy.
    q_init : float
        Initial value of every table entry (optimistic values drive exploration).
    seed : int, optional
        Seed of all randomness; drawn from the OS and recorded when omitted.
    """

    #: Name used in save files and by the command line (``q_learning``, ``sarsa``, ...).
    algorithm: ClassVar[str] = ""
    _registry: ClassVar[dict[str, type[TabularLearner]]] = {}

    # n_states, n_actions, exploration_rate and the generator: see EpsilonGreedy.
    gamma: float
    learning_rate: Schedule
    epsilon: Schedule
    q_init: float
    seed: int
    num_timesteps: int
    num_episodes: int
    env: gym.Env[Any, Any] | None
    env_id: str | None
    env_kwargs: dict[str, Any] | None
    _q: FloatArray

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("algorithm"):
            TabularLearner._registry[cls.algorithm] = cls

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        gamma: float = 0.99,
        learning_rate: ScheduleLike = 0.1,
        epsilon: ScheduleLike = 0.1,
        q_init: float = 0.0,
        seed: int | None = None,
    ) -> None:
        if not isinstance(env, gym.Env):
            raise ValueError(f"env must be a gymnasium.Env, got {type(env).__name__}")
        n_states, n_actions = discrete_space_sizes(env.observation_space, env.action_space)
        self._setup(
            n_states,
            n_actions,
            gamma=gamma,
            learning_rate=learning_rate,
            epsilon=epsilon,
            q_init=q_init,
            seed=seed,
        )
        self.env = env
        self.env_id, self.env_kwargs = env_identity(env)

    # -- configuration --------------------------------------------------------------

    def _setup(
        self,
        n_states: int,
        n_actions: int,
        *,
        gamma: float,
        learning_rate: ScheduleLike,
        epsilon: ScheduleLike,
        q_init: float,
        seed: int | None,
    ) -> None:
        if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not 0 <= gamma <= 1:
            raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}")
        if not isinstance(q_init, numbers.Real) or not np.isfinite(float(q_init)):
            raise ValueError(f"q_init must be a finite number, got {q_init!r}")
        if seed is None:
            # Record the seed actually used so that every run can be repeated.
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.n_states, self.n_actions = n_states, n_actions
        self.gamma = float(gamma)
        self.learning_rate = as_schedule(
            learning_rate, "learning_rate", low=0.0, low_inclusive=False
        )
        self.epsilon = as_schedule(epsilon, "epsilon", low=0.0, high=1.0)
        self.q_init = float(q_init)
        self.seed = int(seed)
        self._rng = np.random.default_rng(self.seed)
        self._uniforms: list[float] = []
        self._next_uniform = 0
        self.num_timesteps = 0
        self.num_episodes = 0
        #: Epsilon of ``predict(deterministic=False)``: the last value used in training.
        self.exploration_rate = self.epsilon.values()[0]
        self._init_tables()

    def _init_tables(self) -> None:
        self._q = np.full((self.n_states, self.n_actions), self.q_init)

    def _set_extra_hyperparameters(self, hyperparameters: dict[str, Any]) -> None:
        """Pop the subclass's own hyper-parameters (restoring from a file)."""

    def _extra_hyperparameters(self) -> dict[str, Any]:
        return {}

    def get_hyperparameters(self) -> dict[str, Any]:
        """The constructor arguments (schedules as strings) that reproduce this learner."""
        return {
            "gamma": self.gamma,
            "learning_rate": str(self.learning_rate),
            "epsilon": str(self.epsilon),
            "q_init": self.q_init,
            "seed": self.seed,
            **self._extra_hyperparameters(),
        }

    @classmethod
    def _detached(cls, n_states: int, n_actions: int, hyperparameters: Mapping[str, Any]) -> Self:
        """An instance without an environment (loading, extracting a batched copy)."""
        learner = cls.__new__(cls)
        remaining = dict(hyperparameters)
        learner._set_extra_hyperparameters(remaining)
        learner._setup(n_states, n_actions, **remaining)
        learner.env, learner.env_id, learner.env_kwargs = None, None, None
        return learner

    def set_env(self, env: gym.Env[Any, Any]) -> None:
        """Attach an environment, e.g. after :meth:`load`; its spaces must match.

        :attr:`env_id` and :attr:`env_kwargs` then describe this environment (saved with
        the agent from now on).
        """
        sizes = discrete_space_sizes(env.observation_space, env.action_space)
        if sizes != (self.n_states, self.n_actions):
            raise ValueError(
                f"env has {sizes[0]} states and {sizes[1]} actions, but this agent's table "
                f"is for {self.n_states} states and {self.n_actions} actions"
            )
        self.env = env
        self.env_id, self.env_kwargs = env_identity(env)

    # -- the table and the update rule ----------------------------------------------

    @property
    def q_table(self) -> FloatArray:
        """Action values, shape (n_states, n_actions); the greedy policy is its argmax."""
        return self._q

    def _acting_row(self, s: int) -> list[float]:
        return self._q[s].tolist()

    def _acting_table(self) -> FloatArray:
        return self._q

    def _table_arrays(self) -> dict[str, FloatArray]:
        return {"q_table": self._q}

    def _restore_tables(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        copy_arrays(arrays, into=self._table_arrays())

    def _start_episode(self) -> None:
        """Hook: forget per-episode state (n-step buffers)."""

    def _learning_table(self) -> FloatArray:
        """The table :meth:`_update` changes (Double Q-learning draws one of its two)."""
        return self._q

    @abstractmethod
    def _next_value(self, s2: int, a2: int | None, eps: float) -> float:
        """The value of ``s2`` that the target of a non-terminal step bootstraps from;
        ``a2`` is the action that will be taken there, ``eps`` the exploration rate."""

    def _update(
        self,
        s: int,
        a: int,
        r: float,
        s2: int,
        a2: int | None,
        terminated: bool,
        truncated: bool,
        alpha: float,
        eps: float,
    ) -> None:
        """Learn from ``(s, a, r, s2)``; ``a2`` is the action that will be taken in ``s2``
        (None when the episode terminated; after a truncation it is still drawn, for
        bootstrapping).

        The scaffold of every update rule: the table to change (:meth:`_learning_table`)
        and the value of ``s2`` to bootstrap from (:meth:`_next_value`; None after a
        terminal step, while a truncated step still bootstraps: a time limit is not part
        of the task) go to :meth:`_backup`.
        """
        q = self._learning_table()
        value = None if terminated else self._next_value(s2, a2, eps)
        self._backup(q, s, a, r, value, terminated or truncated, alpha)

    def _backup(
        self, q: FloatArray, s: int, a: int, r: float, value: float | None, end: bool, alpha: float
    ) -> None:
        """The one-step TD update ``q[s, a] += alpha * (target - q[s, a])`` with target
        ``r + gamma * value`` (``r`` alone when ``value`` is None); ``end``: the episode
        ended at this step. n-step SARSA overrides it to back up several steps at once."""
        target = r if value is None else r + self.gamma * value
        q[s, a] += alpha * (target - q[s, a])

    # -- learning -------------------------------------------------------------------------

    def _bound_schedules(self, total_steps: int | None) -> tuple[Schedule, Schedule]:
        """``(epsilon, learning_rate)`` bound to a ``learn`` call's step budget."""
        epsilon = resolve_schedule(self.epsilon, total_steps, "epsilon")
        return epsilon, resolve_schedule(self.learning_rate, total_steps, "learning_rate")

    def _learn(
        self, total_steps: int | None, episodes: int | None, callback: Callback | None, bar: bool
    ) -> None:
        env = self.env
        if env is None:
            raise ValueError("this learner has no env; pass env= to load() or call set_env(env)")
        epsilon, learning_rate = self._bound_schedules(total_steps)
        progress = open_progress_bar(bar, total_steps, episodes)
        update, behaviour = self._update, self._behaviour
        step = episode = episode_length = 0
        episode_return = 0.0
        eps = epsilon(0)
        self._start_episode()
        obs, _ = env.reset(seed=int(self._rng.integers(2**31 - 1)))
        s = int(obs)
        a = behaviour(s, eps)
        try:
            while (total_steps is None or step < total_steps) and (
                episodes is None or episode < episodes
            ):
                eps, alpha = epsilon(step), learning_rate(step)
                obs, reward, terminated, truncated, _ = env.step(a)
                s2, r = int(obs), float(reward)
                step += 1
                a2 = None if terminated else behaviour(s2, eps)
                update(s, a, r, s2, a2, bool(terminated), bool(truncated), alpha, eps)
                episode_return += r
                episode_length += 1
                if not (terminated or truncated):
                    assert a2 is not None
                    s, a = s2, a2
                    continue
                episode += 1
                if progress is not None:
                    progress.update(1 if total_steps is None else episode_length)
                summary = EpisodeSummary(step, episode, episode_return, episode_length, eps, alpha)
                if callback is not None and callback(self, summary) is False:
                    break
                episode_return, episode_length = 0.0, 0
                self._start_episode()
                obs, _ = env.reset()
                s = int(obs)
                a = behaviour(s, epsilon(step))
        finally:
            self.num_timesteps += step
            self.num_episodes += episode
            self.exploration_rate = eps
            if progress is not None:
                if total_steps is not None:
                    progress.update(step - progress.n)
                progress.close()

    # -- saving -------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the tables and a JSON header to ``path`` (``.npz`` added when missing).

        The header records the algorithm, hyper-parameters, environment id and keyword
        arguments, space sizes, counters and library versions (see
        :mod:`rlkit.tabular.agent_file`). Returns the path written.
        """
        header = {
            "algorithm": self.algorithm,
            "hyperparameters": self.get_hyperparameters(),
            "env_id": self.env_id,
            "env_kwargs": self.env_kwargs,
            "n_states": self.n_states,
            "n_actions": self.n_actions,
            "num_timesteps": self.num_timesteps,
            "num_episodes": self.num_episodes,
            "exploration_rate": self.exploration_rate,
            "versions": library_versions(),
        }
        return write_agent_file(path, header, self._table_arrays())

    @classmethod
    def load(cls, path: str | os.PathLike[str], env: gym.Env[Any, Any] | None = None) -> Self:
        """Read an agent written by :meth:`save` (never unpickles anything).

        ``TabularLearner.load`` returns whichever algorithm the file holds; a subclass's
        ``load`` (``SARSA.load``) insists on that algorithm.

        Raises
        ------
        ValueError
            If the file is truncated or corrupted, holds another algorithm, or ``env``'s
            spaces do not match the saved table.
        """
        header, arrays = read_agent_file(path)
        name = header.get("algorithm")
        target = cls._registry.get(str(name))
        if target is None:
            raise ValueError(f"{path} holds unknown algorithm {name!r}")
        if not issubclass(target, cls):
            raise ValueError(
                f"{path} holds a {name} agent, not {cls.algorithm}: load it with "
                f"{target.__name__}.load or TabularLearner.load"
            )
        try:
            learner = target._detached(
                int(header["n_states"]), int(header["n_actions"]), header["hyperparameters"]
            )
            learner._restore_tables(arrays)
            learner.num_timesteps = int(header.get("num_timesteps", 0))
            learner.num_episodes = int(header.get("num_episodes", 0))
            learner.exploration_rate = float(header.get("exploration_rate", 0.0))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path} has an invalid header or tables: {error}") from None
        learner.env_id, learner.env_kwargs = header.get("env_id"), header.get("env_kwargs")
        if env is not None:
            learner.set_env(env)
        return learner

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_states={self.n_states}, n_actions={self.n_actions}, "
            f"env_id={self.env_id!r}, num_timesteps={self.num_timesteps})"
        )
