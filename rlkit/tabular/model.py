"""Explicit MDP models in Gymnasium's toy-text format, as dense arrays and as environments.

Gymnasium's toy-text environments (FrozenLake, CliffWalking, Taxi) expose their dynamics
as ``env.unwrapped.P``: ``P[s][a]`` is a list of outcomes ``(prob, next_state, reward,
terminated)``. :class:`TabularModel` converts that once into numpy arrays, which the
planners (:mod:`rlkit.tabular.planning`) and the model environments below use.

:class:`ModelVectorEnv` samples many copies of a model at once with numpy: a
``gymnasium.vector.VectorEnv`` (next-step autoreset) for batched learning on toy-text
tasks, whose sub-environments Gymnasium's own ``SyncVectorEnv`` would step one by one in
Python. :class:`ModelEnv` is the single-environment counterpart, for hand-made MDPs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, SupportsFloat, TypeAlias

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

__all__ = ["ModelEnv", "ModelVectorEnv", "TabularModel", "TransitionModel"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]

#: ``P[s][a] = [(prob, next_state, reward, terminated), ...]`` (Gymnasium toy-text).
TransitionModel: TypeAlias = Mapping[int, Mapping[int, Sequence[tuple[Any, ...]]]]

#: Tolerance on the outcome probabilities of one ``P[s][a]`` summing to 1.
_PROB_TOL = 1e-6


@dataclass(frozen=True)
class TabularModel:
    """A finite MDP as arrays, built from a toy-text model by :meth:`from_transitions`.

    Attributes
    ----------
    n_states, n_actions : int
        Sizes of the state and action sets.
    probability, reward : numpy.ndarray of float, shape (S, A, O)
        Outcome ``o`` of action ``a`` in state ``s`` (``O`` = most outcomes of any pair;
        unused slots have probability 0).
    next_state : numpy.ndarray of int, shape (S, A, O)
    terminated : numpy.ndarray of bool, shape (S, A, O)
    initial : numpy.ndarray of float, shape (S,), or None
        Start-state distribution, where known.
    """

    n_states: int
    n_actions: int
    probability: FloatArray
    next_state: IntArray
    reward: FloatArray
    terminated: BoolArray
    initial: FloatArray | None = None

    @classmethod
    def from_transitions(
        cls,
        P: TransitionModel,
        n_states: int | None = None,
        n_actions: int | None = None,
        *,
        initial: npt.ArrayLike | None = None,
    ) -> TabularModel:
        """Convert ``P[s][a] = [(prob, next_state, reward, terminated), ...]`` to arrays.

        Parameters
        ----------
        P : mapping
            The toy-text model, e.g. ``gym.make("FrozenLake-v1").unwrapped.P``.
        n_states, n_actions : int, optional
            Expected sizes; by default ``len(P)`` and ``len(P[0])``.
        initial : array_like of float, shape (S,), optional
            Start-state distribution.

        Raises
        ------
        ValueError
            Naming the entry ``P[s][a]`` that is missing, empty, out of range or whose
            probabilities do not sum to 1.

        Examples
        --------
        >>> P = {0: {0: [(1.0, 1, 0.0, False)], 1: [(0.5, 0, 1.0, False), (0.5, 1, 0.0, True)]},
        ...      1: {0: [(1.0, 1, 0.0, True)], 1: [(1.0, 0, 2.0, False)]}}
        >>> model = TabularModel.from_transitions(P)
        >>> model.n_states, model.n_actions, model.probability.shape
        (2, 2, (2, 2, 2))
        >>> model.expected_reward.tolist()
        [[0.0, 0.5], [0.0, 2.0]]
        """
        try:
            S = len(P) if n_states is None else n_states
            A = len(P[0]) if n_actions is None else n_actions
        except (KeyError, IndexError, TypeError):
            raise ValueError("P must map every state 0..S-1 to {action: outcomes}") from None
        if S < 1 or A < 1:
            raise ValueError(f"P needs at least one state and one action, got S={S}, A={A}")
        rows: list[list[list[tuple[float, int, float, bool]]]] = []
        for s in range(S):
            row = []
            for a in range(A):
                try:
                    outcomes = [(float(p), int(n), float(r), bool(t)) for p, n, r, t, *_ in P[s][a]]
                except (KeyError, IndexError, TypeError, ValueError):
                    raise ValueError(
                        f"P[{s}][{a}] must be a list of (prob, next_state, reward, terminated)"
                    ) from None
                total = sum(p for p, *_ in outcomes)
                if not outcomes or abs(total - 1.0) > _PROB_TOL:
                    raise ValueError(f"P[{s}][{a}]: outcome probabilities sum to {total}, not 1")
                for p, n, r, _ in outcomes:
                    if p < 0 or not 0 <= n < S or not np.isfinite(r):
                        raise ValueError(
                            f"P[{s}][{a}] has an invalid outcome (prob={p}, next_state={n}, "
                            f"reward={r}); next_state must be in [0, {S})"
                        )
                row.append(outcomes)
            rows.append(row)
        shape = (S, A, max(len(outcomes) for row in rows for outcomes in row))
        probability = np.zeros(shape)
        next_state = np.zeros(shape, dtype=np.int64)
        reward = np.zeros(shape)
        terminated = np.zeros(shape, dtype=bool)
        for s, row in enumerate(rows):
            for a, outcomes in enumerate(row):
                for o, (p, n, r, t) in enumerate(outcomes):
                    probability[s, a, o], next_state[s, a, o] = p, n
                    reward[s, a, o], terminated[s, a, o] = r, t
                # Unused slots point at the state itself so sampling code can index safely.
                next_state[s, a, len(outcomes) :] = s
        start = None
        if initial is not None:
            start = np.asarray(initial, dtype=np.float64)
            if start.shape != (S,) or (start < 0).any() or abs(start.sum() - 1) > _PROB_TOL:
                raise ValueError(f"initial must be a distribution over {S} states")
        return cls(S, A, probability, next_state, reward, terminated, start)

    @classmethod
    def from_env(cls, env: gym.Env[Any, Any]) -> TabularModel:
        """The model of a toy-text environment (``env.unwrapped.P``), with its start states.

        Raises
        ------
        ValueError
            If the environment does not expose a ``P`` model.
        """
        base = env.unwrapped
        P = getattr(base, "P", None)
        if P is None:
            raise ValueError(
                f"env {base!r} has no toy-text model env.unwrapped.P; planning needs one"
            )
        sizes = [getattr(space, "n", None) for space in (env.observation_space, env.action_space)]
        initial = getattr(base, "initial_state_distrib", None)
        return cls.from_transitions(P, sizes[0], sizes[1], initial=initial)

    @cached_property
    def transition(self) -> FloatArray:
        """``T[s, a, s']``: probability of reaching ``s'``, shape (S, A, S)."""
        return self._scatter(self.probability)

    @cached_property
    def continuation(self) -> FloatArray:
        """``C[s, a, s']``: probability of reaching ``s'`` *without terminating*.

        Bootstrapped values use ``C``, so the value after a terminating outcome is 0 even
        when another outcome reaches the same state without terminating.
        """
        return self._scatter(np.where(self.terminated, 0.0, self.probability))

    @cached_property
    def expected_reward(self) -> FloatArray:
        """``R[s, a]``: expected immediate reward, shape (S, A)."""
        return np.asarray((self.probability * self.reward).sum(axis=-1))

    def _scatter(self, weights: FloatArray) -> FloatArray:
        dense = np.zeros((self.n_states, self.n_actions, self.n_states))
        s, a, _ = np.indices(weights.shape)
        np.add.at(dense, (s, a, self.next_state), weights)
        return dense


class ModelVectorEnv(VectorEnv[IntArray, IntArray, npt.NDArray[Any]]):
    """``num_envs`` independent copies of a :class:`TabularModel`, stepped with numpy.

    Next-step autoreset (Gymnasium 1.x default): the step after an episode ends ignores
    that copy's action and returns a start state with reward 0. Episodes are truncated
    after ``max_episode_steps``, like ``gym.make``'s ``TimeLimit``.

    Parameters
    ----------
    model : TabularModel
        Must have an ``initial`` distribution.
    num_envs : int
        Number of copies.
    max_episode_steps : int, optional
        Truncation limit; ``None`` for none.

    Examples
    --------
    >>> envs = ModelVectorEnv.from_env("FrozenLake-v1", 3, is_slippery=False)
    >>> obs, info = envs.reset(seed=0)
    >>> obs
    array([0, 0, 0])
    >>> obs, reward, terminated, truncated, info = envs.step(np.array([2, 1, 0]))
    >>> obs, terminated
    (array([1, 4, 0]), array([False, False, False]))
    """

    # A class attribute, as Gymnasium's own vector envs declare it.
    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(
        self, model: TabularModel, num_envs: int, *, max_episode_steps: int | None = None
    ) -> None:
        if model.initial is None:
            raise ValueError("model has no initial state distribution; build it with initial=")
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1 or None, got {max_episode_steps}")
        self.model = model
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.single_observation_space = gym.spaces.Discrete(model.n_states)
        self.single_action_space = gym.spaces.Discrete(model.n_actions)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        # Normalised so the last real outcome ends at exactly 1: rounding can then never
        # select an unused (probability 0) slot.
        cum_outcome = np.cumsum(model.probability, axis=-1)
        self._cum_outcome = cum_outcome / cum_outcome[..., -1:]
        self._cum_initial = np.cumsum(model.initial) / model.initial.sum()
        self._state = np.zeros(num_envs, dtype=np.int64)
        self._elapsed = np.zeros(num_envs, dtype=np.int64)
        self._autoreset = np.zeros(num_envs, dtype=bool)

    @classmethod
    def from_env(
        cls, env: gym.Env[Any, Any] | str, num_envs: int, **make_kwargs: Any
    ) -> ModelVectorEnv:
        """Copies of a toy-text environment (an instance, or an id for ``gym.make``).

        The time limit is taken from the environment's registration.
        """
        if isinstance(env, str):
            env = gym.make(env, **make_kwargs)
        limit = env.spec.max_episode_steps if env.spec is not None else None
        vector = cls(TabularModel.from_env(env), num_envs, max_episode_steps=limit)
        vector.spec = env.spec
        return vector

    def reset(
        self,
        *,
        seed: int | Sequence[int] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[IntArray, dict[str, Any]]:
        """Start every copy afresh; a list of seeds is folded into one generator seed."""
        if seed is not None and not isinstance(seed, (int, np.integer)):
            seed = int(np.random.SeedSequence([int(s) for s in seed]).generate_state(1)[0])
        super().reset(seed=None if seed is None else int(seed))
        self._state = self._sample_initial(self.num_envs)
        self._elapsed[:] = 0
        self._autoreset[:] = False
        return self._state.copy(), {}

    def step(
        self, actions: npt.ArrayLike
    ) -> tuple[IntArray, FloatArray, BoolArray, BoolArray, dict[str, Any]]:
        """Step every copy; copies whose episode ended last step start a new one instead."""
        actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)
        if actions.min() < 0 or actions.max() >= self.model.n_actions:
            raise ValueError(f"actions must be in [0, {self.model.n_actions}), got {actions}")
        # Row (state, action) of the flattened (S * A, O) outcome tables: 1-D takes are
        # the cheapest numpy indexing, and this runs once per vector step.
        row = self._state * self.model.n_actions + actions
        n_outcomes = self._cum_outcome.shape[-1]
        if n_outcomes == 1:  # deterministic model: nothing to sample
            flat = row
        else:
            cum = self._cum_outcome.reshape(-1, n_outcomes)[row]
            u = self.np_random.random(self.num_envs)[:, None]
            # Index of the first cumulative probability above u; the clip guards rounding.
            outcome = np.minimum((cum <= u).sum(axis=1), n_outcomes - 1)
            flat = row * n_outcomes + outcome
        next_state = self.model.next_state.reshape(-1)[flat]
        reward = self.model.reward.reshape(-1)[flat]
        terminated = self.model.terminated.reshape(-1)[flat]
        self._elapsed += 1
        truncated = np.zeros(self.num_envs, dtype=bool)
        if self.max_episode_steps is not None:
            truncated = ~terminated & (self._elapsed >= self.max_episode_steps)
        restart = self._autoreset
        if restart.any():
            next_state[restart] = self._sample_initial(int(restart.sum()))
            reward[restart], terminated[restart], truncated[restart] = 0.0, False, False
            self._elapsed[restart] = 0
        self._autoreset = terminated | truncated
        self._state = next_state
        return next_state.copy(), reward, terminated, truncated, {}

    def _sample_initial(self, count: int) -> IntArray:
        u = self.np_random.random(count)
        index = np.searchsorted(self._cum_initial, u, side="right")
        return np.minimum(index, self.model.n_states - 1).astype(np.int64)


class ModelEnv(gym.Env[np.int64, np.int64]):
    """A single Gymnasium environment that samples a :class:`TabularModel`.

    Parameters
    ----------
    model : TabularModel
        Must have an ``initial`` distribution.
    max_episode_steps : int, optional
        Truncate episodes after this many steps.

    Examples
    --------
    >>> P = {0: {0: [(1.0, 1, 0.0, False)]}, 1: {0: [(1.0, 1, 1.0, True)]}}
    >>> env = ModelEnv(TabularModel.from_transitions(P, initial=[1.0, 0.0]))
    >>> obs, info = env.reset(seed=0)
    >>> int(obs)
    0
    >>> obs, reward, terminated, truncated, info = env.step(0)
    >>> int(obs), reward, terminated
    (1, 0.0, False)
    >>> obs, reward, terminated, truncated, info = env.step(0)
    >>> int(obs), reward, terminated
    (1, 1.0, True)
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (Gymnasium's convention)

    def __init__(self, model: TabularModel, *, max_episode_steps: int | None = None) -> None:
        if model.initial is None:
            raise ValueError("model has no initial state distribution; build it with initial=")
        self.model = model
        self.max_episode_steps = max_episode_steps
        self.observation_space = gym.spaces.Discrete(model.n_states)
        self.action_space = gym.spaces.Discrete(model.n_actions)
        self._state = 0
        self._elapsed = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.int64, dict[str, Any]]:
        super().reset(seed=seed)
        assert self.model.initial is not None  # checked in __init__
        self._state = int(self.np_random.choice(self.model.n_states, p=self.model.initial))
        self._elapsed = 0
        return np.int64(self._state), {}

    def step(
        self, action: np.int64 | int
    ) -> tuple[np.int64, SupportsFloat, bool, bool, dict[str, Any]]:
        s, a = self._state, int(action)
        p = self.model.probability[s, a]
        o = int(self.np_random.choice(p.size, p=p))
        self._state = int(self.model.next_state[s, a, o])
        self._elapsed += 1
        terminated = bool(self.model.terminated[s, a, o])
        limit = self.max_episode_steps
        truncated = not terminated and limit is not None and self._elapsed >= limit
        reward = float(self.model.reward[s, a, o])
        return np.int64(self._state), reward, terminated, truncated, {}
