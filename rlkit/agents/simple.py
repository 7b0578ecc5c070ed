"""Agents that need no model: the env's planner, random actions, and plain functions."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import gymnasium as gym

__all__ = ["CallableAgent", "PlannerAgent", "RandomAgent"]


class PlannerAgent:
    """The environment's planner: acts with ``env.unwrapped.expert_action()``.

    The planner ignores the observation and asks the env, which knows the map and the
    goal, for the next optimal action; it is the teacher for distillation and the
    upper bound of every GridNav report.

    Parameters
    ----------
    env : gymnasium.Env, optional
        The env to act in; :func:`~rlkit.evaluation.evaluate` binds the agent to the env
        it steps, so this is only needed when you drive the loop yourself.

    Raises
    ------
    ValueError
        If the env has no ``expert_action()`` method.
    """

    name = "planner"

    def __init__(self, env: gym.Env[Any, Any] | None = None) -> None:
        self._env: gym.Env[Any, Any] | None = None
        if env is not None:
            self.bind(env)

    def bind(self, env: gym.Env[Any, Any]) -> None:
        """Act in ``env`` from now on.

        Raises
        ------
        ValueError
            If ``env.unwrapped`` has no ``expert_action()`` method.
        """
        if not callable(getattr(env.unwrapped, "expert_action", None)):
            spec = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
            raise ValueError(
                f"env {spec!r} has no expert_action() method, so the 'planner' agent cannot "
                "act in it: use an rlkit env (rlkit/GridNav-v0, rlkit/ArmReach-v0, ...)"
            )
        self._env = env

    def act(self, obs: Any) -> Any:
        """The planner's next action; ``obs`` is ignored."""
        if self._env is None:
            raise RuntimeError(
                "PlannerAgent is not bound to an env: pass env= or call bind(env) "
                "(evaluate() and render_episodes() bind it for you)"
            )
        return self._env.unwrapped.expert_action()  # type: ignore[attr-defined]

    def reset(self) -> None:
        """Nothing to forget: the planner reads the env's state every step."""


class RandomAgent:
    """Uniformly random actions from ``action_space``.

    Parameters
    ----------
    action_space : gymnasium.spaces.Space
        The space to sample; the agent keeps its own copy, so sampling never disturbs
        the env's ``action_space`` random state.
    seed : int, optional
        Seed of the sampler; the harness reseeds it before every episode.

    Examples
    --------
    >>> agent = RandomAgent(gym.spaces.Discrete(4), seed=0)
    >>> first = [int(agent.act(None)) for _ in range(5)]
    >>> agent.seed(0)
    >>> [int(agent.act(None)) for _ in range(5)] == first
    True
    """

    name = "random"

    def __init__(self, action_space: gym.spaces.Space[Any], seed: int | None = None) -> None:
        # Our own copy, reseeded: sampling must not advance the env's action-space RNG.
        self.action_space = copy.deepcopy(action_space)
        self.action_space.seed(seed)

    def act(self, obs: Any) -> Any:
        """A uniformly random action; ``obs`` is ignored."""
        return self.action_space.sample()

    def reset(self) -> None:
        """Nothing to forget."""

    def seed(self, seed: int) -> None:
        """Reseed the sampler."""
        self.action_space.seed(seed)


class CallableAgent:
    """Wrap a function ``fn(obs) -> action`` as an :class:`Agent`.

    Parameters
    ----------
    fn : callable
        The policy.
    name : str, optional
        Name in reports; defaults to the function's ``__name__``.

    Examples
    --------
    >>> agent = CallableAgent(lambda obs: obs % 4, name="mod4")
    >>> agent.act(6), agent.name
    (2, 'mod4')
    """

    def __init__(self, fn: Callable[[Any], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)

    def act(self, obs: Any) -> Any:
        """``fn(obs)``."""
        return self.fn(obs)

    def reset(self) -> None:
        """Nothing to forget."""
