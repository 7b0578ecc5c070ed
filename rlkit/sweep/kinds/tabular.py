"""The tabular kinds: the algorithms of :mod:`rlkit.tabular`, trained on the cell's env."""

from __future__ import annotations

import inspect
from functools import partial
from typing import TYPE_CHECKING, Any

from rlkit.sweep.kinds.curve import LearningCurve
from rlkit.sweep.kinds.registry import TrainedAgent, register_agent_kind

if TYPE_CHECKING:
    from rlkit.sweep.suite import Cell

__all__ = ["TABULAR_KINDS"]

#: The tabular algorithms of :mod:`rlkit.tabular` (their ``algorithm`` names).
TABULAR_KINDS = ("q_learning", "sarsa", "expected_sarsa", "double_q_learning", "nstep_sarsa")


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
