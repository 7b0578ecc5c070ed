"""The agent protocol: what the evaluation harness needs from a policy, and its name.

An :class:`Agent` maps an observation to an action (:meth:`Agent.act`) and forgets its
episode state on :meth:`Agent.reset`. Two optional hooks let the evaluation harness
prepare an agent without knowing what it is:

- ``bind(env)`` -- called once with the env the harness steps (:class:`EnvBound`).
  Agents that read the environment rather than the observation, like
  :class:`~rlkit.agents.PlannerAgent`, need it.
- ``seed(seed)`` -- called before every episode with a seed derived from the
  evaluation seed and the episode index (:class:`Seedable`), so that stochastic agents
  give the same records on every run.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import gymnasium as gym

__all__ = ["Agent", "EnvBound", "Seedable", "agent_name"]


@runtime_checkable
class Agent(Protocol):
    """What the evaluation harness needs from a policy.

    Examples
    --------
    >>> class AlwaysLeft:
    ...     def act(self, obs):
    ...         return 0
    ...
    ...     def reset(self):
    ...         pass
    >>> isinstance(AlwaysLeft(), Agent)
    True
    """

    def act(self, obs: Any) -> Any:
        """The action to take on observation ``obs``."""
        ...

    def reset(self) -> None:
        """Forget the state of the previous episode (called after every ``env.reset``)."""
        ...


@runtime_checkable
class EnvBound(Protocol):
    """An agent that reads the env it acts in; the harness calls :meth:`bind` first."""

    def bind(self, env: gym.Env[Any, Any]) -> None:
        """Act in ``env`` from now on."""
        ...


@runtime_checkable
class Seedable(Protocol):
    """A stochastic agent; the harness calls :meth:`seed` before every episode."""

    def seed(self, seed: int) -> None:
        """Reseed the agent's random number generator."""
        ...


def agent_name(agent: object) -> str:
    """A short human-readable name for ``agent``: its ``name`` attribute, else its class.

    Examples
    --------
    >>> from rlkit.agents import CallableAgent, RandomAgent
    >>> agent_name(RandomAgent(gym.spaces.Discrete(2)))
    'random'
    >>> agent_name(CallableAgent(lambda obs: 0))
    '<lambda>'
    """
    name = getattr(agent, "name", None)
    return name if isinstance(name, str) and name else type(agent).__name__
