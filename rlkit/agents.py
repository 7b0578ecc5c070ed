"""Agents: one small protocol that every policy in rlkit is evaluated through.

An :class:`Agent` maps an observation to an action (:meth:`Agent.act`) and forgets its
episode state on :meth:`Agent.reset`. Two optional hooks let the evaluation harness
prepare an agent without knowing what it is:

- ``bind(env)`` -- called once with the env the harness steps (:class:`EnvBound`).
  Agents that read the environment rather than the observation, like
  :class:`PlannerAgent`, need it.
- ``seed(seed)`` -- called before every episode with a seed derived from the
  evaluation seed and the episode index (:class:`Seedable`), so that stochastic agents
  give the same records on every run.

Adapters turn what rlkit and its neighbours produce into agents: :class:`PlannerAgent`
(the env's ``expert_action()``), :class:`PolicyAgent` (anything with
``predict(obs, deterministic=...)``), :class:`TabularAgent` (an ``rlkit.tabular``
model), :class:`SB3Agent` (a stable-baselines3 model or policy), :class:`RandomAgent`
and :class:`CallableAgent`. :func:`as_agent` picks the adapter for an object and
:func:`load_agent` builds one from a name or a file.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import json
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

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
]

#: Agent names :func:`load_agent` understands besides file paths.
AGENT_NAMES = ("planner", "random")

#: stable-baselines3 algorithms :func:`load_agent` can infer from a saved ``.zip``.
_SB3_POLICY_MODULES = {
    "stable_baselines3.dqn.policies": "DQN",
    "stable_baselines3.sac.policies": "SAC",
    "stable_baselines3.td3.policies": "TD3",
}
#: ``(field of the saved data, algorithm)`` for models on :mod:`rlkit.deep.policies`,
#: checked in order (PPO and A2C both have ``gae_lambda``; only PPO ``clip_range``).
_RLKIT_POLICY_FIELDS = (
    ("clip_range", "PPO"),
    ("exploration_initial_eps", "DQN"),
    ("target_entropy", "SAC"),
    ("gae_lambda", "A2C"),
)


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
    >>> agent_name(RandomAgent(gym.spaces.Discrete(2)))
    'random'
    >>> agent_name(CallableAgent(lambda obs: 0))
    '<lambda>'
    """
    name = getattr(agent, "name", None)
    return name if isinstance(name, str) and name else type(agent).__name__


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


class PolicyAgent:
    """Adapter for any model with ``predict(obs, deterministic=...) -> (action, state)``.

    Parameters
    ----------
    model : object
        The model; ``predict`` is called with one (unbatched) observation.
    deterministic : bool
        Passed to ``predict``; :func:`~rlkit.evaluation.evaluate` overrides it with its
        own ``deterministic`` argument.
    name : str, optional
        Name in reports; defaults to the model's class name.

    Examples
    --------
    >>> class Greedy:
    ...     def predict(self, obs, deterministic=True):
    ...         return obs + 1, None
    >>> PolicyAgent(Greedy()).act(1)
    2
    """

    def __init__(self, model: Any, *, deterministic: bool = True, name: str | None = None) -> None:
        if not callable(getattr(model, "predict", None)):
            raise TypeError(f"{type(model).__name__} has no predict(obs, deterministic) method")
        self.model = model
        self.deterministic = deterministic
        self.name = name or type(model).__name__

    def with_deterministic(self, deterministic: bool) -> PolicyAgent:
        """The same model acting with another ``deterministic`` setting (a new adapter)."""
        if deterministic == self.deterministic:
            return self
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.deterministic = deterministic
        return clone

    def act(self, obs: Any) -> Any:
        """The model's action for ``obs``."""
        action, _state = self.model.predict(obs, deterministic=self.deterministic)
        return action

    def reset(self) -> None:
        """Nothing to forget: the model is stateless between steps."""

    def seed(self, seed: int) -> None:
        """Reseed the model when it can be (``set_random_seed`` or ``seed``)."""
        for method in ("set_random_seed", "seed"):
            reseed = getattr(self.model, method, None)
            if callable(reseed):
                reseed(seed)
                return


class TabularAgent(PolicyAgent):
    """An ``rlkit.tabular`` model (Q-learning, SARSA, ...) acting greedily by default.

    Parameters
    ----------
    model : object
        A tabular model with ``predict(obs, deterministic=True) -> (action, None)``.
    deterministic : bool
        Greedy (``True``) or the model's exploration policy (``False``).
    name : str, optional
        Name in reports; defaults to ``"tabular:<ModelClass>"``.
    """

    def __init__(self, model: Any, *, deterministic: bool = True, name: str | None = None) -> None:
        super().__init__(
            model, deterministic=deterministic, name=name or f"tabular:{type(model).__name__}"
        )

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        env: gym.Env[Any, Any] | None = None,
        *,
        deterministic: bool = True,
    ) -> TabularAgent:
        """Load a model saved by ``rlkit.tabular`` (``.npz``; plain arrays, no code runs).

        Parameters
        ----------
        path : path-like
            The ``.npz`` file.
        env : gymnasium.Env, optional
            Checked against the saved table's state and action counts.
        deterministic : bool
            Greedy or exploring actions.

        Raises
        ------
        ImportError
            If ``rlkit.tabular`` is not installed.
        ValueError
            If the file is not a tabular model or does not fit ``env``.
        """
        try:
            tabular = importlib.import_module("rlkit.tabular")
        except ImportError as exc:
            raise ImportError(f"loading {os.fspath(path)!r} needs rlkit.tabular: {exc}") from exc
        model = tabular.load(path, env)
        algorithm = getattr(model, "algorithm", "") or type(model).__name__
        return cls(model, deterministic=deterministic, name=f"{algorithm}:{Path(path).stem}")


class SB3Agent(PolicyAgent):
    """A stable-baselines3 model (``PPO``, ``DQN``, ...) or policy.

    Carries the recurrent state between steps (``RecurrentPPO`` and friends) and
    reseeds the model through ``set_random_seed`` when the harness asks (which also
    seeds torch's, numpy's and ``random``'s global generators, as SB3 does).

    Parameters
    ----------
    model : stable_baselines3.common.base_class.BaseAlgorithm or BasePolicy
        The model.
    deterministic : bool
        Passed to ``predict``.
    name : str, optional
        Name in reports; defaults to the model's class name (``"PPO"``).
    """

    def __init__(self, model: Any, *, deterministic: bool = True, name: str | None = None) -> None:
        super().__init__(model, deterministic=deterministic, name=name)
        self._state: Any = None
        self._episode_start = True

    def act(self, obs: Any) -> Any:
        """The model's action for ``obs``."""
        action, self._state = self.model.predict(
            obs,
            state=self._state,
            episode_start=np.array([self._episode_start]),
            deterministic=self.deterministic,
        )
        self._episode_start = False
        return action

    def reset(self) -> None:
        """Drop the recurrent state."""
        self._state = None
        self._episode_start = True

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        algo: str | type | None = None,
        deterministic: bool = True,
        device: str = "auto",
    ) -> SB3Agent:
        """Load a model saved with ``model.save(path)``.

        .. warning::
           An SB3 ``.zip`` holds pickled Python objects: loading one executes code from
           the file. Only load files you trust.

        Parameters
        ----------
        path : path-like
            The ``.zip``.
        algo : str or type, optional
            The algorithm class or its name in ``stable_baselines3`` (``"PPO"``). Inferred
            from the file when omitted (DQN, SAC, TD3, PPO, A2C; DDPG loads as TD3, which
            acts the same).
        deterministic : bool
            Passed to ``predict``.
        device : str
            Torch device; ``"auto"`` uses CUDA when present.

        Raises
        ------
        ValueError
            If ``algo`` is an unknown name or cannot be inferred.
        """
        algo_class = _sb3_algorithm(path, algo)
        model = algo_class.load(os.fspath(path), device=device)
        return cls(
            model, deterministic=deterministic, name=f"{algo_class.__name__}:{Path(path).stem}"
        )


def _sb3_algorithm(path: str | os.PathLike[str], algo: str | type | None) -> Any:
    if isinstance(algo, type):
        return algo
    if algo is None:
        algo = _infer_sb3_algorithm(path)
    import stable_baselines3

    found = getattr(stable_baselines3, algo.upper(), None)
    if not isinstance(found, type):
        raise ValueError(
            f"unknown stable-baselines3 algorithm {algo!r}: pass one of "
            "A2C, DDPG, DQN, PPO, SAC, TD3, or the class itself (sb3-contrib models)"
        )
    return found


def _infer_sb3_algorithm(path: str | os.PathLike[str]) -> str:
    """Read the algorithm off a saved model's JSON ``data`` (no pickles are opened)."""
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"{os.fspath(path)!r} is not a stable-baselines3 model (.zip with a 'data' entry)"
        ) from exc
    module = str(data.get("policy_class", {}).get("__module__", ""))
    if module in _SB3_POLICY_MODULES:
        return _SB3_POLICY_MODULES[module]
    if module == "stable_baselines3.common.policies":  # shared by PPO and A2C
        return "PPO" if "clip_range" in data else "A2C"
    if module == "rlkit.deep.policies":  # one module for all: tell by the algorithm's fields
        for field, algorithm in _RLKIT_POLICY_FIELDS:
            if field in data:
                return algorithm
    raise ValueError(
        f"cannot tell which algorithm saved {os.fspath(path)!r} (policy from {module!r}): "
        "pass algo='PPO' (or the class, for sb3-contrib models)"
    )


def _is_sb3_model(model: object) -> bool:
    if "stable_baselines3" not in sys.modules:  # never import torch just to check
        return False
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.policies import BasePolicy

    return isinstance(model, (BaseAlgorithm, BasePolicy))


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
    if _is_sb3_model(policy):
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
