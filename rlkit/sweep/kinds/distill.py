"""The distillation kinds ``bc`` and ``dagger``: :mod:`rlkit.deep.distill` for a cell."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from rlkit.sweep.kinds.deep import check_deep_kwargs
from rlkit.sweep.kinds.registry import TrainedAgent, register_agent_kind

if TYPE_CHECKING:
    from rlkit.sweep.suite import Cell


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
        check_kwargs=partial(check_deep_kwargs, f"rlkit.deep.distill:{_function}", _DISTILL_FIXED),
        summary=f"{_method} from planner demos into the pixel policy (rlkit.deep.distill); "
        "budget: kwargs demos, epochs",
    )(partial(_distill, method=_method))
