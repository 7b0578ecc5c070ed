"""The validated arguments of GridNav, shared by the single and the vector environment.

Both :class:`~envs.grid.env.GridNavEnv` and :class:`~envs.grid.vector.GridNavVectorEnv`
build one :class:`GridNavConfig` from the same keyword arguments, so they accept and
reject exactly the same things, with the same messages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from envs.base import check_discrete_action
from envs.grid.episode import EpisodeSampler
from envs.grid.layouts import FixedLayout, Layout, MapLike, make_layout
from envs.grid.observations import (
    VIEWS,
    PixelRenderer,
    check_pixel_shape,
    make_observation_space,
)
from planners import MOVES_4, MOVES_8

__all__ = ["DEFAULT_SIZE", "GridNavConfig"]

#: Map size of the procedural layouts when ``size`` is not given.
DEFAULT_SIZE = 11
#: Most cells of a procedural map (``size``): 1024 x 1024, the largest MovingAI maps.
MAX_CELLS = 1 << 20
#: Longest side of an ``rgb_array`` frame when ``render_tile_size`` is not given.
_MAX_FRAME = 1024


def _as_size(size: int | Sequence[int] | None) -> tuple[int, int]:
    if size is None:
        return (DEFAULT_SIZE, DEFAULT_SIZE)
    pair = (size, size) if isinstance(size, int | np.integer) else tuple(size)
    if len(pair) != 2 or not all(isinstance(v, int | np.integer) and v >= 2 for v in pair):
        raise ValueError(f"size must be an int >= 2 or a (rows, cols) pair of them, got {size!r}")
    if int(pair[0]) * int(pair[1]) > MAX_CELLS:  # the distance tables would fill the memory
        raise ValueError(f"size {size!r} has more than {MAX_CELLS} cells: give at most 1024x1024")
    return (int(pair[0]), int(pair[1]))


def _probability(value: float, name: str) -> float:
    if not isinstance(value, int | float | np.number) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


class GridNavConfig:
    """Arguments of a GridNav environment, checked; see :class:`~envs.grid.env.GridNavEnv`.

    Raises
    ------
    ValueError
        Naming the argument, for any argument out of its range or inconsistent with
        another (e.g. ``obs="index"`` without a fixed map and goal).
    """

    def __init__(
        self,
        *,
        layout: str | Layout | None = None,
        size: int | Sequence[int] | None = None,
        map: MapLike | None = None,
        start: Sequence[int] | None = None,
        goal: Sequence[int] | None = None,
        num_maps: int | None = None,
        map_seed: int = 0,
        obs: str = "symbolic",
        diagonal: bool = False,
        slip: float = 0.0,
        step_penalty: float = 0.0,
        shaping: bool = False,
        gamma: float = 0.99,
        max_steps: int | None = None,
        pixel_size: int | tuple[int, int] = 64,
        view: str = "full",
        view_radius: int = 3,
        render_path: bool = False,
        render_tile_size: int | None = None,
    ) -> None:
        self._init_map(layout, size, map, start, goal, num_maps, map_seed, diagonal)
        self._init_rewards(slip, step_penalty, shaping, gamma, max_steps)
        self._init_observations(obs, pixel_size, view, view_radius)
        self._init_rendering(render_path, render_tile_size)

    # ------------------------------------------------------------------ checks, in order
    def _init_map(
        self,
        layout: str | Layout | None,
        size: int | Sequence[int] | None,
        map: MapLike | None,
        start: Sequence[int] | None,
        goal: Sequence[int] | None,
        num_maps: int | None,
        map_seed: int,
        diagonal: bool,
    ) -> None:
        """Layout, episode sampler, map shape and moves."""
        if map is not None:
            if layout not in (None, "map"):
                raise ValueError(f"pass either map= or layout= (got layout={layout!r} and a map)")
            if size is not None:
                raise ValueError("size is taken from map=: drop size=")
            self.layout: Layout = FixedLayout(map)
        else:
            self.layout = make_layout("random" if layout is None else layout)
        self.diagonal = bool(diagonal)
        self.sampler = EpisodeSampler(
            self.layout,
            _as_size(size),
            start=start,
            goal=goal,
            diagonal=self.diagonal,
            num_maps=num_maps,
            map_seed=map_seed,
        )
        self.rows, self.cols = self.sampler.shape
        self.n_cells = self.rows * self.cols
        self.moves = MOVES_8 if self.diagonal else MOVES_4
        self.n_actions = len(self.moves)

    def _init_rewards(
        self, slip: float, step_penalty: float, shaping: bool, gamma: float, max_steps: int | None
    ) -> None:
        """Slip, reward terms and the step limit."""
        self.slip = _probability(slip, "slip")
        if not isinstance(step_penalty, int | float | np.number) or not (
            math.isfinite(step_penalty) and step_penalty >= 0
        ):
            raise ValueError(f"step_penalty must be a finite number >= 0, got {step_penalty!r}")
        self.step_penalty = float(step_penalty)
        self.shaping = bool(shaping)
        if not isinstance(gamma, int | float | np.number) or not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        self.gamma = float(gamma)
        if max_steps is None:
            max_steps = 4 * self.n_cells
        if not isinstance(max_steps, int | np.integer) or max_steps < 1:
            raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")
        self.max_steps = int(max_steps)

    def _init_observations(
        self, obs: str, pixel_size: int | tuple[int, int], view: str, view_radius: int
    ) -> None:
        """Observation mode and space, pixel view and its renderer."""
        self.obs = obs
        self.pixel_shape = check_pixel_shape(pixel_size)
        self.observation_space = make_observation_space(obs, self.rows, self.cols, self.pixel_shape)
        if view not in VIEWS:
            raise ValueError(f"view must be one of {list(VIEWS)}, got {view!r}")
        if view == "agent" and obs != "pixels":
            raise ValueError('view="agent" crops pixel observations: use it with obs="pixels"')
        self.view = view
        if not isinstance(view_radius, int | np.integer) or view_radius < 1:
            raise ValueError(f"view_radius must be an int >= 1, got {view_radius!r}")
        self.view_radius = int(view_radius)
        if obs == "index" and not self.sampler.fixed_goal:
            raise ValueError(
                'obs="index" observes only the agent cell, so it needs a fixed map and a fixed '
                "goal: pass map=... and goal=(row, col) (rlkit/GridNav-Map-v0), or use "
                'obs="coords" or obs="symbolic"'
            )
        self.pixel_renderer: PixelRenderer | None = None
        if obs == "pixels":
            height, width = self.pixel_shape
            grid_h, grid_w = (
                (self.rows, self.cols) if view == "full" else (2 * view_radius + 1,) * 2
            )
            if grid_h > height or grid_w > width:
                raise ValueError(
                    f"pixel_size={pixel_size!r} gives fewer pixels than the {grid_h}x{grid_w} "
                    f"cells in view: use pixel_size >= {max(grid_h, grid_w)} or "
                    'view="agent" with a smaller view_radius'
                )
            self.pixel_renderer = PixelRenderer(grid_h, grid_w, height, width)

    def _init_rendering(self, render_path: bool, render_tile_size: int | None) -> None:
        """``rgb_array`` frames: the path overlay and the tile size."""
        self.render_path = bool(render_path)
        if render_tile_size is None:
            render_tile_size = max(1, min(32, _MAX_FRAME // max(self.rows, self.cols)))
        if not isinstance(render_tile_size, int | np.integer) or render_tile_size < 1:
            raise ValueError(f"render_tile_size must be an int >= 1, got {render_tile_size!r}")
        self.render_tile_size = int(render_tile_size)

    def reward(self, goal: int, dist: npt.NDArray[np.float64], here: int, there: int) -> float:
        """Reward of the move ``here -> there`` (flat cells) towards ``goal``.

        ``1`` on reaching the goal, minus ``step_penalty``, plus with ``shaping`` the
        potential-based term ``gamma * Phi(there) - Phi(here)``, ``Phi = -dist``.
        """
        reward = (1.0 if there == goal else 0.0) - self.step_penalty
        if self.shaping:
            reward += float(dist[here]) - self.gamma * float(dist[there])
        return reward

    @property
    def action_space(self) -> spaces.Discrete:
        """``Discrete(4)``, or ``Discrete(8)`` with diagonal moves."""
        return spaces.Discrete(self.n_actions)

    def check_action(self, action: object) -> int:
        """``action`` as an int, or ValueError naming it."""
        return check_discrete_action(action, self.n_actions)
