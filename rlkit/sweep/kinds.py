"""Agent kinds: how a cell turns an agent spec into something ``evaluate()`` can run.

A kind is one function ``build(cell) -> TrainedAgent`` registered under a name with
:func:`register_agent_kind`. It makes whatever envs it needs from the cell
(``cell.make_env()``), trains within ``cell.agent.steps`` when it trains, and returns
the agent with its training facts; the cell runner times it, evaluates the agent and
writes the file. Adding a kind (``ppo``, ``bc``) is one decorated function here::

    @register_agent_kind("ppo", trains=True, summary="stable-baselines3 PPO")
    def _ppo(cell: Cell) -> TrainedAgent:
        model = PPO("MlpPolicy", cell.make_env(), seed=cell.seed, **cell.agent.kwargs)
        model.learn(cell.agent.steps)
        return TrainedAgent(model, steps=model.num_timesteps)

Kinds run in worker processes (or Ray workers), so they must live in an importable
module: the built-in ones here, or any ``"package.module:function"`` named as the kind
in a suite file.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlkit.sweep.suite import Cell

__all__ = [
    "AGENT_KINDS",
    "AgentKind",
    "LearningCurve",
    "TrainedAgent",
    "check_agent_kind",
    "register_agent_kind",
    "resolve_agent_kind",
]

#: The tabular algorithms of :mod:`rlkit.tabular` (their ``algorithm`` names).
TABULAR_KINDS = ("q_learning", "sarsa", "expected_sarsa", "double_q_learning", "nstep_sarsa")


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


# -- learning curves -------------------------------------------------------------------


class LearningCurve:
    """Training episodes averaged over ``points`` equal windows of the step budget.

    A point per window in which at least one episode ended: its last step, and the mean
    return and length of the episodes that ended in it. Curves of several seeds share
    their steps, so they can be averaged.

    Examples
    --------
    >>> curve = LearningCurve(total_steps=100, points=2)
    >>> for steps, ret in [(20, 0.0), (40, 1.0), (90, 1.0)]:
    ...     curve.add(steps, ret, 20)
    >>> curve.points()
    [{'step': 50, 'episode_return': 0.5, 'episode_length': 20.0, 'episodes': 2},
     {'step': 100, 'episode_return': 1.0, 'episode_length': 20.0, 'episodes': 1}]
    """

    def __init__(self, total_steps: int, points: int = 20) -> None:
        self.total_steps = total_steps
        self.n_points = max(1, min(points, total_steps))
        self._sums: dict[int, list[float]] = {}

    def add(self, steps: int, episode_return: float, episode_length: int) -> None:
        """Count an episode that ended after ``steps`` training steps."""
        window = min(self.n_points - 1, (steps - 1) * self.n_points // self.total_steps)
        sums = self._sums.setdefault(window, [0.0, 0.0, 0.0])
        sums[0] += episode_return
        sums[1] += episode_length
        sums[2] += 1

    def points(self) -> list[dict[str, float]]:
        """The curve, one dict per window that saw an episode end."""
        out: list[dict[str, float]] = []
        for window in sorted(self._sums):
            total_return, total_length, count = self._sums[window]
            step = (window + 1) * self.total_steps // self.n_points
            out.append(
                {
                    "step": step,
                    "episode_return": total_return / count,
                    "episode_length": total_length / count,
                    "episodes": int(count),
                }
            )
        return out


# -- built-in kinds ----------------------------------------------------------------------


@register_agent_kind("planner", trains=False, summary="the env's planner (expert_action)")
def _planner(cell: Cell) -> TrainedAgent:
    return TrainedAgent("planner")


@register_agent_kind("random", trains=False, summary="uniformly random actions")
def _random(cell: Cell) -> TrainedAgent:
    return TrainedAgent("random")


def _check_tabular_kwargs(algorithm: str, kwargs: dict[str, Any]) -> None:
    from rlkit.tabular import ALGORITHMS

    parameters = inspect.signature(ALGORITHMS[algorithm].__init__).parameters
    allowed = [p for p in parameters if p not in ("self", "env", "seed")]
    if "seed" in kwargs:
        raise ValueError("kwargs.seed: the cell's seed seeds training; remove it")
    for key in kwargs:
        if key not in allowed:
            raise ValueError(
                f"kwargs: {algorithm} takes no argument {key!r} (it takes {', '.join(allowed)})"
            )


def _train_tabular(cell: Cell, algorithm: str) -> TrainedAgent:
    from rlkit.tabular import ALGORITHMS

    steps = cell.agent.steps
    if steps is None:
        raise ValueError(f"kind {algorithm!r} needs a training budget 'steps'")
    env = cell.make_env()
    try:
        learner = ALGORITHMS[algorithm](env, seed=cell.seed, **cell.agent.kwargs)
        curve = LearningCurve(steps)
        learner.learn(
            total_steps=steps,
            callback=lambda _, s: curve.add(s.steps, s.episode_return, s.episode_length),
        )
    finally:
        env.close()
    return TrainedAgent(
        learner,
        steps=learner.num_timesteps,
        episodes=learner.num_episodes,
        learning_curve=curve.points(),
        info={"algorithm": algorithm, "hyperparameters": learner.get_hyperparameters()},
    )


for _algorithm in TABULAR_KINDS:
    register_agent_kind(
        _algorithm,
        trains=True,
        takes_kwargs=True,
        check_kwargs=partial(_check_tabular_kwargs, _algorithm),
        summary=f"rlkit.tabular {_algorithm}, trained for `steps` on the cell's env",
    )(partial(_train_tabular, algorithm=_algorithm))


# -- deep kinds (rlkit.deep: torch and stable-baselines3, imported in the worker) ------


#: Keyword of the ppo/dqn/sac kinds (not of train()): snapshots of the policy taken at
#: that many equal steps of the budget, evaluated as the cell's ``eval_curve``.
CURVE_POINTS = "curve_points"


def _check_deep_kwargs(
    function_path: str, fixed: tuple[str, ...], kwargs: dict[str, Any], extra: tuple[str, ...] = ()
) -> None:
    """Check ``kwargs`` against the signature of ``module:function`` (without importing
    torch twice: the module is imported once per process), plus the kind's own ``extra``
    keywords."""
    module_name, _, function_name = function_path.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    parameters = inspect.signature(function).parameters
    allowed = [p for p in parameters if p not in fixed and p != "callback"] + list(extra)
    points = kwargs.get(CURVE_POINTS, 0)
    if CURVE_POINTS in extra and (
        isinstance(points, bool) or not isinstance(points, int) or points < 0
    ):
        raise ValueError(f"kwargs.{CURVE_POINTS} must be an int >= 0, got {points!r}")
    for key in kwargs:
        if key in fixed:
            raise ValueError(f"kwargs.{key}: set by the cell ({', '.join(fixed)}); remove it")
        if key not in allowed:
            raise ValueError(
                f"kwargs: {function_name} takes no argument {key!r} (it takes {', '.join(allowed)})"
            )


#: Arguments every deep kind's cell sets itself.
_DEEP_FIXED = ("algo", "env_id", "env_kwargs", "seed", "total_steps", "progress_bar", "out")


def _snapshots(every: int, into: list[tuple[int, Any]]) -> Any:
    """An SB3 callback appending ``(env steps, policy copy)`` to ``into`` each time
    another ``every`` env steps have passed."""
    from stable_baselines3.common.callbacks import BaseCallback

    from rlkit.deep.policies import policy_snapshot

    class Snapshots(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps >= every * (len(into) + 1):
                into.append((int(self.num_timesteps), policy_snapshot(self.model.policy)))
            return True

    return Snapshots()


def _train_deep(cell: Cell, algo: str) -> TrainedAgent:
    from rlkit.deep import train

    steps = cell.agent.steps
    if steps is None:
        raise ValueError(f"kind {algo!r} needs a training budget 'steps'")
    kwargs = dict(cell.agent.kwargs)
    points = int(kwargs.pop(CURVE_POINTS, 0))
    checkpoints: list[tuple[int, Any]] = []
    callback = _snapshots(max(1, steps // points), checkpoints) if points else None
    result = train(
        algo,
        cell.env.id,
        env_kwargs=dict(cell.env.kwargs),
        total_steps=steps,
        seed=cell.seed,
        callback=callback,
        **kwargs,
    )
    if points:
        checkpoints = [c for c in checkpoints if c[0] < result.steps]
        checkpoints.append((result.steps, result.model))
    curve = LearningCurve(steps)
    for point in result.learning_curve:
        curve.add(int(point["step"]), float(point["episode_return"]), int(point["episode_length"]))
    return TrainedAgent(
        result.model,
        steps=result.steps,
        episodes=result.episodes,
        learning_curve=curve.points(),
        info={"algorithm": algo, "hyperparameters": result.hyperparams},
        checkpoints=checkpoints,
        curve_x="env steps" if points else None,
    )


for _algorithm in ("ppo", "dqn", "sac"):
    register_agent_kind(
        _algorithm,
        trains=True,
        takes_kwargs=True,
        check_kwargs=partial(
            _check_deep_kwargs, "rlkit.deep.trainer:train", _DEEP_FIXED, extra=(CURVE_POINTS,)
        ),
        summary=f"stable-baselines3 {_algorithm.upper()} on the rlkit backbone "
        "(rlkit.deep.train), for `steps` env steps",
    )(partial(_train_deep, algo=_algorithm))


#: Arguments every distillation cell sets itself.
_DISTILL_FIXED = ("env_id", "env_kwargs", "seed", "progress_bar")


def _distill(cell: Cell, method: str) -> TrainedAgent:
    from rlkit.deep import distill
    from rlkit.deep.policies import policy_snapshot

    function = distill.behaviour_cloning if method == "bc" else distill.dagger
    # DAgger's learning curve over rounds: every round's student, evaluated by the cell.
    rounds: list[tuple[int, Any]] = []

    def snapshot(round_: int, model: Any) -> None:
        rounds.append((round_, policy_snapshot(model.policy)))

    result = function(
        cell.env.id,
        env_kwargs=dict(cell.env.kwargs),
        seed=cell.seed,
        callback=snapshot if method == "dagger" else None,
        **cell.agent.kwargs,
    )
    if rounds:
        rounds[-1] = (rounds[-1][0], result.model)
    return TrainedAgent(
        result.model,
        steps=result.updates,
        episodes=result.expert_episodes,
        info={"method": method, **result.summary()},
        checkpoints=rounds,
        curve_x="DAgger round" if rounds else None,
    )


for _method, _function in (("bc", "behaviour_cloning"), ("dagger", "dagger")):
    register_agent_kind(
        _method,
        trains=True,
        needs_steps=False,
        takes_kwargs=True,
        check_kwargs=partial(_check_deep_kwargs, f"rlkit.deep.distill:{_function}", _DISTILL_FIXED),
        summary=f"{_method} from planner demos into the pixel policy (rlkit.deep.distill); "
        "budget: kwargs demos, epochs",
    )(partial(_distill, method=_method))
