"""The shared base of the tabular learners: configuration, the learning loop, acting,
and saving. A concrete algorithm supplies only its update rule (:mod:`.algorithms`)."""

from __future__ import annotations

import numbers
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from rlkit.tabular.saving import load_learner, save_learner
from rlkit.tabular.schedules import Schedule, ScheduleLike, as_schedule
from rlkit.tabular.training import (
    EpisodeSummary,
    check_budget,
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

#: Uniform numbers drawn from the generator at a time: one numpy call per block is far
#: cheaper than one per step, and the sequence (hence the result) is the same.
_BLOCK = 4096


class TabularLearner(ABC):
    """Base of the tabular learners: epsilon-greedy acting on a Q-table of shape (S, A).

    Subclasses set :attr:`algorithm` and implement :meth:`_update`. Randomness (actions,
    tie-breaking, environment reset seeds) comes from one ``numpy.random.Generator``
    seeded with ``seed``, so the same seed gives the same Q-table.

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

    n_states: int
    n_actions: int
    gamma: float
    learning_rate: Schedule
    epsilon: Schedule
    q_init: float
    seed: int
    num_timesteps: int
    num_episodes: int
    exploration_rate: float
    env: gym.Env[Any, Any] | None
    env_id: str | None
    env_kwargs: dict[str, Any] | None
    _rng: np.random.Generator
    _uniforms: list[float]
    _next_uniform: int
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

    def _set_extra_hyperparameters(self, hyperparameters: dict[str, Any]) -> None:  # noqa: B027
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

    def _table_arrays(self) -> dict[str, FloatArray]:
        return {"q_table": self._q}

    def _restore_tables(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        for name, current in self._table_arrays().items():
            array = arrays.get(name)
            if array is None or array.shape != current.shape or array.dtype.kind != "f":
                found = None if array is None else f"{array.dtype}{list(array.shape)}"
                raise ValueError(
                    f"array {name!r} must be float with shape {current.shape}, found {found}"
                )
            current[...] = array

    def _start_episode(self) -> None:  # noqa: B027
        """Hook: forget per-episode state (n-step buffers)."""

    @abstractmethod
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
        bootstrapping)."""

    # -- acting -----------------------------------------------------------------------

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
            :attr:`exploration_rate` otherwise.

        Returns
        -------
        (action, None)
            ``action`` is an ``int`` for a scalar observation, else an int array of the
            observation's shape.
        """
        obs = np.asarray(observation)
        if obs.dtype.kind not in "iu" or ((obs < 0) | (obs >= self.n_states)).any():
            raise ValueError(
                f"observation must be state indices in [0, {self.n_states}), got {observation!r}"
            )
        if deterministic:
            actions = np.asarray(self._acting_table()[obs].argmax(axis=-1))
        else:
            flat = [self._behaviour(int(s), self.exploration_rate) for s in obs.reshape(-1)]
            actions = np.asarray(flat, dtype=np.int64).reshape(obs.shape)
        if actions.ndim == 0:
            return int(actions), None
        return actions, None

    def act(self, observation: int) -> int:
        """The greedy action for one observation (``predict(obs)[0]``)."""
        action, _ = self.predict(observation, deterministic=True)
        return int(action)

    def _acting_table(self) -> FloatArray:
        return self._q

    # -- learning -------------------------------------------------------------------------

    def learn(
        self,
        total_steps: int | None = None,
        episodes: int | None = None,
        callback: Callback | None = None,
        progress_bar: bool = False,
    ) -> Self:
        """Train on the attached environment until a budget is spent.

        Parameters
        ----------
        total_steps : int, optional
            Environment steps to take; fractional schedules are fractions of this.
        episodes : int, optional
            Episodes to finish. With both budgets, training stops at the first reached.
        callback : callable, optional
            ``callback(learner, summary)`` after every episode (:class:`EpisodeSummary`);
            returning ``False`` stops training.
        progress_bar : bool
            Show a tqdm progress bar.

        Returns
        -------
        self

        Notes
        -----
        Schedules restart with every call (step 0 = the call's first step), like
        stable-baselines3's default; :attr:`num_timesteps` and :attr:`num_episodes` keep
        counting across calls. The environment is reset with a seed drawn from the
        learner's generator at the start of each call.
        """
        total_steps = check_budget(total_steps, "total_steps")
        episodes = check_budget(episodes, "episodes")
        if total_steps is None and episodes is None:
            raise ValueError("give a budget: learn(total_steps=...) and/or learn(episodes=...)")
        env = self.env
        if env is None:
            raise ValueError("this learner has no env; pass env= to load() or call set_env(env)")
        epsilon = resolve_schedule(self.epsilon, total_steps, "epsilon")
        learning_rate = resolve_schedule(self.learning_rate, total_steps, "learning_rate")
        bar = open_progress_bar(progress_bar, total_steps, episodes)
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
                if bar is not None:
                    bar.update(1 if total_steps is None else episode_length)
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
            if bar is not None:
                if total_steps is not None:
                    bar.update(step - bar.n)
                bar.close()
        return self

    # -- saving -------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the tables and a JSON header to ``path`` (``.npz`` added when missing).

        The header records the algorithm, hyper-parameters, environment id and keyword
        arguments, space sizes, counters and library versions (see
        :mod:`rlkit.tabular.saving`). Returns the path written.
        """
        return save_learner(self, path)

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
        return load_learner(cls, path, env)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_states={self.n_states}, n_actions={self.n_actions}, "
            f"env_id={self.env_id!r}, num_timesteps={self.num_timesteps})"
        )
