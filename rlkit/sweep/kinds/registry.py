"""The kind registry: what a kind is, registering one, and finding one by name.

A kind is one function ``build(cell) -> TrainedAgent`` registered under a name with
:func:`register_agent_kind`. It makes whatever envs it needs from the cell
(``cell.make_env()``), trains within ``cell.agent.steps`` when it trains, and returns
the agent with its training facts; the cell runner times it, evaluates the agent and
writes the file. Adding a kind (``ppo``, ``bc``) is one decorated function in a module
of :mod:`rlkit.sweep.kinds` (imported by the package, so that it registers)::

    @register_agent_kind("ppo", trains=True, summary="stable-baselines3 PPO")
    def _ppo(cell: Cell) -> TrainedAgent:
        model = PPO("MlpPolicy", cell.make_env(), seed=cell.seed, **cell.agent.kwargs)
        model.learn(cell.agent.steps)
        return TrainedAgent(model, steps=model.num_timesteps)

Kinds run in worker processes (or Ray workers), so they must live in an importable
module: the built-in ones of this package, or any ``"package.module:function"`` named
as the kind in a suite file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlkit.sweep.suite import Cell

__all__ = [
    "AGENT_KINDS",
    "AgentKind",
    "BuildAgent",
    "TrainedAgent",
    "check_agent_kind",
    "register_agent_kind",
    "resolve_agent_kind",
]


@dataclass
class TrainedAgent:
    """What a kind's build function returns.

    Attributes
    ----------
    agent : object
        Anything :func:`rlkit.evaluation.evaluate` takes: an Agent, a model with
        ``predict``, or a name such as ``"planner"``.
    steps, episodes : int, optional
        Training environment steps and episodes taken (None when the kind does not train).
    learning_curve : list of dict, optional
        Points ``{"step": ..., "episode_return": ..., ...}`` in step order.
    info : dict
        Anything else worth keeping (hyper-parameters), JSON-serialisable.
    checkpoints : list of (int, object)
        Snapshots taken during training, ``(x, agent)`` in order of ``x``, the budget
        spent when it was taken (``curve_x`` names it: DAgger rounds, env steps). The
        cell evaluates each on its own held-out seeds, like the final agent, and writes
        the ``eval_curve``.
    curve_x : str, optional
        What the ``x`` of ``checkpoints`` counts.
    """

    agent: Any
    steps: int | None = None
    episodes: int | None = None
    learning_curve: list[dict[str, float]] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    checkpoints: list[tuple[int, Any]] = field(default_factory=list)
    curve_x: str | None = None


BuildAgent = Callable[["Cell"], TrainedAgent]


@dataclass(frozen=True)
class AgentKind:
    """A registered kind: its build function and what a suite may give it."""

    name: str
    build: BuildAgent
    trains: bool
    #: Whether ``kwargs`` are allowed; ``check_kwargs`` validates them when loading a suite.
    takes_kwargs: bool = False
    check_kwargs: Callable[[dict[str, Any]], None] | None = None
    summary: str = ""
    #: Whether a training kind takes its budget as ``steps`` (env steps); kinds that
    #: train on a fixed dataset (behaviour cloning) set their budget in ``kwargs``.
    needs_steps: bool = True


#: Kind name -> kind.
AGENT_KINDS: dict[str, AgentKind] = {}


def register_agent_kind(
    name: str,
    *,
    trains: bool,
    takes_kwargs: bool = False,
    check_kwargs: Callable[[dict[str, Any]], None] | None = None,
    summary: str = "",
    needs_steps: bool = True,
) -> Callable[[BuildAgent], BuildAgent]:
    """Decorator registering ``build(cell) -> TrainedAgent`` as the kind ``name``.

    Parameters
    ----------
    name : str
        The ``kind:`` of suite files.
    trains : bool
        Whether the kind trains; a suite must then give ``steps`` (and must not otherwise).
    takes_kwargs : bool
        Whether suite files may give ``kwargs``.
    check_kwargs : callable, optional
        Raises ValueError for bad ``kwargs``, so a suite fails when loaded rather than in
        every cell.
    summary : str
        One line for help texts.
    needs_steps : bool
        Whether a kind that trains takes ``steps`` (False: it must not; its budget,
        such as demos and epochs, is in ``kwargs``).

    Examples
    --------
    >>> @register_agent_kind("always_left", trains=False, summary="action 0, always")
    ... def _always_left(cell):
    ...     return TrainedAgent(lambda obs: 0)
    >>> AGENT_KINDS["always_left"].trains
    False
    >>> del AGENT_KINDS["always_left"]
    """

    def register(build: BuildAgent) -> BuildAgent:
        AGENT_KINDS[name] = AgentKind(
            name, build, trains, takes_kwargs, check_kwargs, summary, needs_steps
        )
        return build

    return register


def resolve_agent_kind(kind: str) -> AgentKind:
    """The registered kind ``kind``, or the function ``"module:function"`` imported.

    A plugin function's attributes ``trains`` and ``takes_kwargs`` (default: both True)
    say what it accepts.

    Raises
    ------
    ValueError
        For an unknown kind name, or a ``module:function`` that cannot be imported.
    """
    if kind in AGENT_KINDS:
        return AGENT_KINDS[kind]
    if ":" in kind:
        module_name, _, function_name = kind.partition(":")
        try:
            build = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError) as error:
            raise ValueError(f"agent kind {kind!r} cannot be imported: {error}") from None
        if not callable(build):
            raise ValueError(f"agent kind {kind!r} is not a function")
        trains = bool(getattr(build, "trains", True))
        takes_kwargs = bool(getattr(build, "takes_kwargs", True))
        return AgentKind(kind, build, trains, takes_kwargs, None, f"plugin {kind}")
    import difflib

    close = difflib.get_close_matches(kind, list(AGENT_KINDS), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"unknown agent kind {kind!r}{hint} (kinds: {', '.join(sorted(AGENT_KINDS))}, "
        "or 'package.module:function')"
    )


def check_agent_kind(kind: str, kwargs: dict[str, Any], steps: int | None) -> None:
    """Check a suite's ``kind``, ``kwargs`` and ``steps`` of one agent together.

    Plugin kinds (``module:function``) are only checked in their cells, where they are
    imported.

    Raises
    ------
    ValueError
        Naming the key at fault.

    Examples
    --------
    >>> check_agent_kind("planner", {}, steps=1000)
    Traceback (most recent call last):
    ...
    ValueError: kind 'planner' does not train: remove 'steps'
    """
    if ":" in kind:
        return
    spec = resolve_agent_kind(kind)
    if spec.trains and spec.needs_steps and steps is None:
        raise ValueError(f"kind {kind!r} trains: give a training budget 'steps: N'")
    if not spec.trains and steps is not None:
        raise ValueError(f"kind {kind!r} does not train: remove 'steps'")
    if spec.trains and not spec.needs_steps and steps is not None:
        raise ValueError(
            f"kind {kind!r} trains on a fixed dataset: remove 'steps' (its budget is in "
            "kwargs, e.g. demos and epochs)"
        )
    if kwargs and not spec.takes_kwargs:
        raise ValueError(f"kind {kind!r} takes no kwargs: remove 'kwargs'")
    if spec.check_kwargs is not None:
        spec.check_kwargs(kwargs)
