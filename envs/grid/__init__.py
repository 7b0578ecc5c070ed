"""GridNav: navigate grid maps, with the planner as teacher and referee.

:class:`GridNavEnv` is one environment, :class:`GridNavVectorEnv` many stepped with
numpy; maps come from the :mod:`envs.grid.layouts` families or a fixed map.
"""

from __future__ import annotations

from envs.grid.env import GridNavEnv
from envs.grid.layouts import (
    FOUR_ROOMS,
    LAYOUTS,
    EmptyLayout,
    FixedLayout,
    Layout,
    MazeLayout,
    RandomLayout,
    RoomsLayout,
    make_layout,
)
from envs.grid.observations import OBS_MODES
from envs.grid.vector import GridNavVectorEnv

__all__ = [
    "FOUR_ROOMS",
    "LAYOUTS",
    "OBS_MODES",
    "EmptyLayout",
    "FixedLayout",
    "GridNavEnv",
    "GridNavVectorEnv",
    "Layout",
    "MazeLayout",
    "RandomLayout",
    "RoomsLayout",
    "make_layout",
]
