"""The deep kinds ``ppo``, ``dqn`` and ``sac``: :func:`rlkit.deep.train` for a cell.

torch and stable-baselines3 are imported in the worker that runs the cell, not here.
"""

from __future__ import annotations

import importlib
import inspect
from functools import partial
from typing import TYPE_CHECKING, Any

from rlkit.sweep.kinds.curve import LearningCurve
from rlkit.sweep.kinds.registry import TrainedAgent, register_agent_kind

if TYPE_CHECKING:
    from rlkit.sweep.suite import Cell

__all__ = ["CURVE_POINTS", "check_deep_kwargs"]


#: Keyword of the ppo/dqn/sac kinds (not of train()): snapshots of the policy taken at
#: that many equal steps of the budget, evaluated as the cell's ``eval_curve``.
CURVE_POINTS = "curve_points"


def check_deep_kwargs(
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
            check_deep_kwargs, "rlkit.deep.trainer:train", _DEEP_FIXED, extra=(CURVE_POINTS,)
        ),
        summary=f"stable-baselines3 {_algorithm.upper()} on the rlkit backbone "
        "(rlkit.deep.train), for `steps` env steps",
    )(partial(_train_deep, algo=_algorithm))
