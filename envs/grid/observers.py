"""The observations of GridNav kept up to date as agents move, for one env and for N.

A reset writes an episode's map, agent and goal into persistent buffers; a move
rewrites only the agent's old and new cells (``"symbolic"`` and full-view
``"pixels"``); :meth:`observe` reads them (``"index"``, ``"coords"`` and the
agent-centred pixel view are computed there). :class:`Observer` serves
:class:`~envs.grid.env.GridNavEnv`, :class:`BatchObserver` the N rows of
:class:`~envs.grid.vector.GridNavVectorEnv`, writing the same pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from envs.grid.config import GridNavConfig
from envs.grid.episode import Episode
from envs.grid.observations import AGENT, AGENT_ON_GOAL, FLOOR, GOAL, WALL

__all__ = ["BatchObserver", "Observer"]

IntArray = npt.NDArray[np.int64]


class Observer:
    """The observation of one GridNav env.

    Parameters
    ----------
    config : GridNavConfig
        The validated arguments (``obs``, ``view``, the pixel renderer).
    """

    def __init__(self, config: GridNavConfig) -> None:
        self.config = cfg = config
        self._goal = 0
        self._types = np.empty(cfg.n_cells, dtype=np.uint8)  # FLOOR / WALL / GOAL per cell
        self._symbolic = np.zeros((3, cfg.rows, cfg.cols), dtype=np.uint8)
        self._frame = np.zeros((*cfg.pixel_shape, 3), dtype=np.uint8)
        self._padded = np.empty(0, dtype=np.uint8)  # types with a wall margin (agent view)

    def begin(self, episode: Episode) -> None:
        """Write in a new episode, the agent on its start."""
        cfg = self.config
        self._goal = episode.goal
        types = self._types
        types[:] = np.where(episode.grid.occupancy.ravel(), WALL, FLOOR)
        types[episode.goal] = GOAL
        if cfg.obs == "symbolic":
            sym = self._symbolic.reshape(3, -1)
            sym[0] = episode.grid.occupancy.ravel()
            sym[1:] = 0
            sym[1, episode.start] = 1
            sym[2, episode.goal] = 1
        elif cfg.obs == "pixels" and cfg.pixel_renderer is not None:
            if cfg.view == "full":
                drawn = types.copy()
                drawn[episode.start] = AGENT
                self._frame[:] = cfg.pixel_renderer.draw(drawn)
            else:
                k = cfg.view_radius
                self._padded = np.full((cfg.rows + 2 * k, cfg.cols + 2 * k), WALL, np.uint8)
                self._padded[k:-k, k:-k] = types.reshape(cfg.rows, cfg.cols)

    def move(self, here: int, there: int) -> None:
        """The agent moved from flat cell ``here`` to ``there`` (another cell)."""
        cfg = self.config
        if cfg.obs == "symbolic":
            sym = self._symbolic.reshape(3, -1)
            sym[1, here] = 0
            sym[1, there] = 1
        elif cfg.obs == "pixels" and cfg.view == "full" and cfg.pixel_renderer is not None:
            flat = self._frame.reshape(-1, 3)
            cfg.pixel_renderer.paint(flat, here, FLOOR)  # the agent never leaves the goal
            cfg.pixel_renderer.paint(flat, there, AGENT_ON_GOAL if there == self._goal else AGENT)

    def observe(self, agent: int) -> Any:
        """The observation with the agent on flat cell ``agent`` (a fresh copy)."""
        cfg = self.config
        if cfg.obs == "index":
            return agent
        if cfg.obs == "coords":
            return np.array(
                [*divmod(agent, cfg.cols), *divmod(self._goal, cfg.cols)], dtype=np.int64
            )
        if cfg.obs == "symbolic":
            return self._symbolic.copy()
        if cfg.view == "full":
            return self._frame.copy()
        assert cfg.pixel_renderer is not None
        k = cfg.view_radius
        r, c = divmod(agent, cfg.cols)
        window = self._padded[r : r + 2 * k + 1, c : c + 2 * k + 1].copy()
        window[k, k] = AGENT_ON_GOAL if window[k, k] == GOAL else AGENT
        return cfg.pixel_renderer.draw(window.ravel())


class BatchObserver:
    """The observations of ``n`` GridNav envs, one row each.

    Parameters
    ----------
    config : GridNavConfig
        The validated arguments.
    n : int
        Number of envs.
    """

    def __init__(self, config: GridNavConfig, n: int) -> None:
        self.config = cfg = config
        self.n = n
        self._env_ids = np.arange(n)
        self._symbolic = np.zeros((n, 3, cfg.n_cells), dtype=np.uint8)
        self._symbolic_obs = self._symbolic.reshape(n, 3, cfg.rows, cfg.cols)  # a view
        self._frames = np.zeros((n, *cfg.pixel_shape, 3), dtype=np.uint8)
        k = cfg.view_radius
        self._padded = np.zeros((n, cfg.rows + 2 * k, cfg.cols + 2 * k), dtype=np.uint8)

    def begin(
        self,
        ids: npt.NDArray[np.intp],
        episodes: Sequence[Episode],
        starts: IntArray,
        goals: IntArray,
    ) -> None:
        """Write in new episodes for envs ``ids``, agents on ``starts``."""
        cfg = self.config
        if cfg.obs not in ("symbolic", "pixels"):
            return
        if cfg.sampler.fixed_map:
            occupancy = np.broadcast_to(cfg.sampler.grid.occupancy.ravel(), (ids.size, cfg.n_cells))
        else:
            occupancy = np.stack([e.grid.occupancy.ravel() for e in episodes])
        rows = np.arange(ids.size)
        if cfg.obs == "symbolic":
            self._symbolic[ids, 0] = occupancy
            self._symbolic[ids, 1:] = 0
            self._symbolic[ids, 1, starts] = 1
            self._symbolic[ids, 2, goals] = 1
        elif cfg.pixel_renderer is not None:
            types = np.where(occupancy, WALL, FLOOR).astype(np.uint8)
            types[rows, goals] = GOAL
            if cfg.view == "full":
                types[rows, starts] = AGENT
                self._frames[ids] = cfg.pixel_renderer.draw(types)
            else:
                k = cfg.view_radius
                self._padded[ids] = WALL
                self._padded[ids, k:-k, k:-k] = types.reshape(-1, cfg.rows, cfg.cols)

    def move(self, here: IntArray, there: IntArray, terminated: npt.NDArray[np.bool_]) -> None:
        """Every agent moved from ``here`` to ``there`` (the same cell: stayed)."""
        cfg = self.config
        if cfg.obs == "symbolic":
            self._symbolic[self._env_ids, 1, here] = 0
            self._symbolic[self._env_ids, 1, there] = 1
        elif cfg.obs == "pixels" and cfg.view == "full" and cfg.pixel_renderer is not None:
            moved = np.flatnonzero(here != there)
            if moved.size:
                flat = self._frames.reshape(self.n, -1, 3)
                renderer = cfg.pixel_renderer
                renderer.paint_batch(flat, moved, here[moved], FLOOR)
                walk, arrive = moved[~terminated[moved]], moved[terminated[moved]]
                renderer.paint_batch(flat, walk, there[walk], AGENT)
                renderer.paint_batch(flat, arrive, there[arrive], AGENT_ON_GOAL)

    def observe(self, agent: IntArray, goal: IntArray, copy: bool) -> Any:
        """The batched observation; with ``copy=False`` the buffers themselves where kept."""
        cfg = self.config
        if cfg.obs == "index":
            return agent.copy()
        if cfg.obs == "coords":
            out = np.empty((self.n, 4), dtype=np.int64)
            out[:, 0], out[:, 1] = np.divmod(agent, cfg.cols)
            out[:, 2], out[:, 3] = np.divmod(goal, cfg.cols)
            return out
        if cfg.obs == "symbolic":
            return self._symbolic_obs.copy() if copy else self._symbolic_obs
        if cfg.view == "full":
            return self._frames.copy() if copy else self._frames
        assert cfg.pixel_renderer is not None
        k = cfg.view_radius
        side = np.arange(2 * k + 1)
        rows, cols = np.divmod(agent, cfg.cols)
        window = self._padded[
            self._env_ids[:, None, None],
            rows[:, None, None] + side[None, :, None],
            cols[:, None, None] + side[None, None, :],
        ]
        centre = window[:, k, k]
        window[:, k, k] = np.where(centre == GOAL, AGENT_ON_GOAL, AGENT)
        return cfg.pixel_renderer.draw(window.reshape(self.n, -1))
