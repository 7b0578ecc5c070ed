"""The distillation kinds ``bc`` and ``dagger``: :mod:`rlkit.deep.distill` for a cell.

Also what the kinds that train a pixel student share (``ensemble``, ``transfer``, ...):
:func:`register_student_kind` and :func:`student_agent`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from rlkit.sweep.kinds.deep import check_deep_kwargs
from rlkit.sweep.kinds.registry import BuildAgent, TrainedAgent, register_agent_kind

if TYPE_CHECKING:
    from rlkit.sweep.suite import Cell

__all__ = ["register_student_kind", "student_agent"]

#: Arguments every distillation cell sets itself.
_DISTILL_FIXED = ("env_id", "env_kwargs", "seed", "progress_bar")


def register_student_kind(
    name: str, check_kwargs: Callable[[dict[str, Any]], None], summary: str
) -> Callable[[BuildAgent], BuildAgent]:
    """:func:`~rlkit.sweep.kinds.registry.register_agent_kind` for a kind that trains a
    student with its budget in ``kwargs`` (demos, epochs, ...), not in ``steps``.

    >>> from rlkit.sweep.kinds.registry import AGENT_KINDS
    >>> kind = AGENT_KINDS["bc"]
    >>> kind.trains, kind.needs_steps, kind.takes_kwargs
    (True, False, True)
    """
    return register_agent_kind(
        name,
        trains=True,
        needs_steps=False,
        takes_kwargs=True,
        check_kwargs=check_kwargs,
        summary=summary,
    )


def student_agent(
    result: Any, rounds: list[tuple[int, Any]], info: dict[str, Any], curve_x: str
) -> TrainedAgent:
    """The cell's agent: ``result``'s student (a :class:`rlkit.deep.rounds.DistillResult`
    or alike: ``model``, ``updates``, ``expert_episodes``), with ``rounds`` (round, policy
    snapshot) as its checkpoints, the last one replaced by the final model itself.

    ``curve_x`` labels the checkpoints' axis; without checkpoints there is no curve.
    """
    if rounds:
        rounds[-1] = (rounds[-1][0], result.model)
    return TrainedAgent(
        result.model,
        steps=result.updates,
        episodes=result.expert_episodes,
        info=info,
        checkpoints=rounds,
        curve_x=curve_x if rounds else None,
    )


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
    return student_agent(result, rounds, {"method": method, **result.summary()}, "DAgger round")


for _method, _function in (("bc", "behaviour_cloning"), ("dagger", "dagger")):
    register_student_kind(
        _method,
        partial(check_deep_kwargs, f"rlkit.deep.distill:{_function}", _DISTILL_FIXED),
        f"{_method} from planner demos into the pixel policy (rlkit.deep.distill); "
        "budget: kwargs demos, epochs",
    )(partial(_distill, method=_method))
