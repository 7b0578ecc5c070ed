"""Agents: one small protocol that every policy in rlkit is evaluated through.

An :class:`Agent` maps an observation to an action (``act``) and forgets its episode
state on ``reset``; the optional hooks ``bind(env)`` (:class:`EnvBound`) and
``seed(seed)`` (:class:`Seedable`) let the evaluation harness prepare an agent without
knowing what it is. Adapters turn what rlkit and its neighbours produce into agents;
:func:`as_agent` picks the adapter for an object and :func:`load_agent` builds one from
a name or a file.

Where each piece lives (every name is importable from ``rlkit.agents``):

- :mod:`~rlkit.agents.base` -- the protocol: :class:`Agent`, :class:`EnvBound`,
  :class:`Seedable`, :func:`agent_name`.
- :mod:`~rlkit.agents.simple` -- agents without a model: :class:`PlannerAgent` (the
  env's ``expert_action()``), :class:`RandomAgent`, :class:`CallableAgent` (a function).
- :mod:`~rlkit.agents.policy` -- :class:`PolicyAgent` (anything with
  ``predict(obs, deterministic=...)``) and :class:`TabularAgent` (an ``rlkit.tabular``
  model, loaded from ``.npz``).
- :mod:`~rlkit.agents.sb3` -- :class:`SB3Agent` (a stable-baselines3 model or policy,
  loaded from ``.zip`` with its algorithm inferred).
- :mod:`~rlkit.agents.loading` -- :func:`as_agent`, :func:`load_agent`,
  :data:`AGENT_NAMES`, and :func:`prepare_agent` (either one, bound to the env: what
  the evaluation harness and the renderer run).
"""

from __future__ import annotations

from rlkit.agents.base import Agent, EnvBound, Seedable, agent_name
from rlkit.agents.loading import AGENT_NAMES, as_agent, load_agent, prepare_agent
from rlkit.agents.policy import PolicyAgent, TabularAgent
from rlkit.agents.sb3 import SB3Agent
from rlkit.agents.simple import CallableAgent, PlannerAgent, RandomAgent

__all__ = [
    "AGENT_NAMES",
    "Agent",
    "CallableAgent",
    "EnvBound",
    "PlannerAgent",
    "PolicyAgent",
    "RandomAgent",
    "SB3Agent",
    "Seedable",
    "TabularAgent",
    "agent_name",
    "as_agent",
    "load_agent",
    "prepare_agent",
]
