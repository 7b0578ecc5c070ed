"""The kinds that do not train: the env's planner and uniformly random actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlkit.sweep.kinds.registry import TrainedAgent, register_agent_kind

if TYPE_CHECKING:
    from rlkit.sweep.suite import Cell


@register_agent_kind("planner", trains=False, summary="the env's planner (expert_action)")
def _planner(cell: Cell) -> TrainedAgent:
    return TrainedAgent("planner")


@register_agent_kind("random", trains=False, summary="uniformly random actions")
def _random(cell: Cell) -> TrainedAgent:
    return TrainedAgent("random")
