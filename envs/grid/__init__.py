"""GridNav: navigate grid maps, with the planner as teacher and referee.

:class:`GridNavEnv` is one environment, :class:`GridNavVectorEnv` many stepped with
numpy; maps come from the :mod:`envs.grid.layouts` families or a fixed map. The ids
are registered by ``import envs`` (:data:`envs.GRIDNAV_IDS`).

Where things are
----------------
- :mod:`~envs.grid.config`: :class:`~envs.grid.config.GridNavConfig`, every argument
  checked (the typed signature of both envs), the reward and the action check.
- :mod:`~envs.grid.env`: :class:`GridNavEnv`: reset, step, slip, ``expert_action``,
  ``P``, ``rgb_array`` frames.
- :mod:`~envs.grid.vector`: :class:`GridNavVectorEnv`: the batched step over flat
  successor, cost and distance tables.
- :mod:`~envs.grid.layouts`: map families (:data:`LAYOUTS`, :func:`make_layout`,
  :class:`FixedLayout`, :data:`FOUR_ROOMS`); a new family is one ``_gen_grid`` method.
- :mod:`~envs.grid.episode`: :class:`~envs.grid.episode.EpisodeSampler` (map, start,
  goal, the planner's tables; map sets and caches) and ``move_table``.
- :mod:`~envs.grid.observations`: :data:`OBS_MODES`, observation spaces, cell types and
  colours, the numpy :class:`~envs.grid.observations.PixelRenderer` and ``draw_frame``.
- :mod:`~envs.grid.observers`: the observation buffers a reset writes and a move
  updates, for one env (``Observer``) and N (``BatchObserver``).
- :mod:`~envs.grid.model`: the transition model ``P`` for tabular methods.
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
