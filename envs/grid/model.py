"""The transition model ``P`` of a fixed GridNav task, for tabular methods.

The format is that of Gymnasium's toy-text environments (FrozenLake, Taxi):
``P[s][a] = [(probability, next_state, reward, terminated), ...]`` with states the flat
cells ``row * cols + col`` (the ``"index"`` observations).
"""

from __future__ import annotations

from envs.grid.config import GridNavConfig

__all__ = ["Transition", "transition_model"]

#: ``(probability, next_state, reward, terminated)``, as in Gymnasium's toy-text ``P``.
Transition = tuple[float, int, float, bool]


def transition_model(config: GridNavConfig) -> dict[int, dict[int, list[Transition]]]:
    """``P`` of a fixed map with a fixed goal, slip included.

    Every cell is a state. The goal and the blocked cells (which the agent never
    reaches) are absorbing: ``[(1.0, s, 0.0, True)]`` for every action. From any other
    cell, action ``a`` is executed with probability ``1 - slip`` and each action
    (``a`` included) with probability ``slip / n_actions``: one entry per executed
    action, with the reward :meth:`GridNavConfig.reward` gives.

    Raises
    ------
    ValueError
        If the map or the goal is not fixed.

    Examples
    --------
    >>> config = GridNavConfig(map="...", goal=(0, 2), slip=0.5)
    >>> transition_model(config)[1][3]  # right from the middle: 0.5 + 0.5 / 4 to the goal
    [(0.125, 1, 0.0, False), (0.125, 1, 0.0, False), (0.125, 0, 0.0, False), (0.625, 2, 1.0, True)]
    """
    sampler = config.sampler
    next_cell, _ = sampler.tables
    dist = sampler.goal_field()  # raises without a fixed goal
    goal = int(sampler.goal or 0)
    blocked = sampler.grid.occupancy.ravel()
    n = config.n_actions
    P: dict[int, dict[int, list[Transition]]] = {}
    for s in range(config.n_cells):
        if blocked[s] or s == goal:
            P[s] = {a: [(1.0, s, 0.0, True)] for a in range(n)}
            continue
        outcomes = [
            (int(there), config.reward(goal, dist, s, int(there)), bool(there == goal))
            for there in next_cell[s]
        ]
        P[s] = {
            a: [
                ((1.0 - config.slip) * (b == a) + config.slip / n, *outcomes[b])
                for b in range(n)
                if b == a or config.slip > 0.0
            ]
            for a in range(n)
        }
    return P
