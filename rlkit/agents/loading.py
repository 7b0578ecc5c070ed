"""Picking an adapter: :func:`as_agent` for objects, :func:`load_agent` for names and files,
and :func:`prepare_agent` (either, bound to the env) for the evaluation harness."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import gymnasium as gym

from rlkit.agents.base import Agent, EnvBound
from rlkit.agents.policy import PolicyAgent, TabularAgent
from rlkit.agents.sb3 import SB3Agent, is_sb3_model
from rlkit.agents.simple import CallableAgent, PlannerAgent, RandomAgent

__all__ = ["AGENT_NAMES", "as_agent", "load_agent", "prepare_agent"]

#: Agent names :func:`load_agent` understands besides file paths.
AGENT_NAMES = ("planner", "random")


def as_agent(policy: Any, *, deterministic: bool = True) -> Agent:
    """Wrap ``policy`` in the right adapter; an :class:`Agent` comes back as it is.

    Parameters
    ----------
    policy : Agent, model with ``predict``, or callable
        An agent; a stable-baselines3 model or policy (:class:`SB3Agent`); any other
        object with ``predict(obs, deterministic)`` (:class:`PolicyAgent`); or a function
        ``obs -> action`` (:class:`CallableAgent`).
    deterministic : bool
        For models with ``predict``, including :class:`PolicyAgent` adapters, which come
        back with this setting.

    Returns
    -------
    Agent

    Raises
    ------
    TypeError
        For strings and paths (use :func:`load_agent`, which needs the env) and for
        objects that cannot act.

    Examples
    --------
    >>> as_agent(lambda obs: 1).act(None)
    1
    >>> agent = RandomAgent(gym.spaces.Discrete(2))
    >>> as_agent(agent) is agent
    True
    """
    if isinstance(policy, PolicyAgent):
        return policy.with_deterministic(deterministic)
    if isinstance(policy, Agent):
        return policy
    if isinstance(policy, (str, os.PathLike)):
        raise TypeError(
            f"as_agent() got the name or path {os.fspath(policy)!r}: use "
            "load_agent(name_or_path, env), which knows the env to act in"
        )
    if is_sb3_model(policy):
        return SB3Agent(policy, deterministic=deterministic)
    if type(policy).__module__.startswith("rlkit.tabular"):
        return TabularAgent(policy, deterministic=deterministic)
    if callable(getattr(policy, "predict", None)):
        return PolicyAgent(policy, deterministic=deterministic)
    if callable(policy):
        return CallableAgent(policy)
    raise TypeError(
        f"cannot act with a {type(policy).__name__}: pass an Agent (act/reset), a model "
        "with predict(obs, deterministic), or a function obs -> action"
    )


def load_agent(
    name_or_path: str | os.PathLike[str],
    env: gym.Env[Any, Any],
    *,
    algo: str | type | None = None,
    deterministic: bool = True,
    seed: int | None = None,
) -> Agent:
    """Build an agent from a name (``"planner"``, ``"random"``) or a saved file.

    Parameters
    ----------
    name_or_path : str or path-like
        ``"planner"`` (:class:`PlannerAgent`, bound to ``env``), ``"random"``
        (:class:`RandomAgent` over ``env.action_space``), a tabular model ``.npz``
        (:class:`TabularAgent`) or a stable-baselines3 ``.zip`` (:class:`SB3Agent`).
        Loading an SB3 ``.zip`` unpickles it, which executes code from the file:
        only load files you trust. A ``.npz`` is read without pickles.
    env : gymnasium.Env
        The env the agent will act in.
    algo : str or type, optional
        The SB3 algorithm of a ``.zip`` (inferred when omitted).
    deterministic : bool
        For tabular and SB3 models.
    seed : int, optional
        Seed of the random agent.

    Returns
    -------
    Agent

    Raises
    ------
    FileNotFoundError
        If a path is given that does not exist.
    ValueError
        For an unknown name or file type.

    Examples
    --------
    >>> env = gym.make("FrozenLake-v1")
    >>> load_agent("random", env, seed=0).name
    'random'
    """
    text = os.fspath(name_or_path)
    if text == "planner":
        return PlannerAgent(env)
    if text == "random":
        return RandomAgent(env.action_space, seed=seed)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix in (".npz", ".zip"):
        if not path.is_file():
            raise FileNotFoundError(f"agent file {text!r} does not exist")
        if suffix == ".npz":
            return TabularAgent.load(path, env, deterministic=deterministic)
        return SB3Agent.load(path, algo=algo, deterministic=deterministic)
    hint = difflib.get_close_matches(text, AGENT_NAMES, n=1)
    did_you_mean = f"; did you mean {hint[0]!r}?" if hint else ""
    raise ValueError(
        f"unknown agent {text!r}: expected 'planner', 'random', a tabular model .npz or a "
        f"stable-baselines3 .zip{did_you_mean}"
    )


def prepare_agent(policy: Any, env: gym.Env[Any, Any], *, deterministic: bool = True) -> Agent:
    """The agent acting for ``policy`` in ``env``, bound to it, as the harness runs it.

    Parameters
    ----------
    policy : str, path-like, Agent, model with ``predict``, or callable
        A name or a file (:func:`load_agent`), or anything :func:`as_agent` wraps.
    env : gymnasium.Env
        The env the agent will act in; an :class:`~rlkit.agents.EnvBound` agent is
        bound to it.
    deterministic : bool
        For models with ``predict``.

    Returns
    -------
    Agent

    Examples
    --------
    >>> prepare_agent(lambda obs: 0, gym.make("FrozenLake-v1")).act(None)
    0
    """
    if isinstance(policy, (str, os.PathLike)):
        agent = load_agent(policy, env, deterministic=deterministic)
    else:
        agent = as_agent(policy, deterministic=deterministic)
    if isinstance(agent, EnvBound) and callable(agent.bind):
        agent.bind(env)
    return agent
