"""GridNavVectorEnv: N GridNav environments stepped together with numpy batch operations."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.vector import AutoresetMode

from envs.grid.config import GridNavConfig
from envs.grid.env import SLIP_BUFFER, GridNavEnv
from envs.grid.episode import Episode
from envs.grid.observations import PixelRenderer, draw_frame, frame_renderer
from envs.grid.observers import BatchObserver
from envs.vector import NumpyVectorEnv

__all__ = ["GridNavVectorEnv"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


class GridNavVectorEnv(NumpyVectorEnv[GridNavConfig]):
    """``num_envs`` GridNav environments in one process, stepped with numpy batch operations.

    Sub-environment ``i`` behaves exactly like a :class:`~envs.grid.env.GridNavEnv` made
    with the same keyword arguments and reset with seed ``seed + i`` (the seeding of
    :class:`gymnasium.vector.SyncVectorEnv`): same episodes, observations, rewards,
    terminations, truncations and infos for the same actions, in every observation
    mode. Each sub-environment keeps its own random generator and draws its episodes
    with the single environment's code; agent moves, rewards and observations are then
    batched over per-environment tables of successors, move costs and distance fields,
    all from the planner (one shared table when the map is fixed).

    Speed: steps cost a few dozen numpy operations whatever ``num_envs``; resets run
    per sub-environment in Python. A procedural layout builds a new map and its
    planner graph at every reset (a few hundred microseconds), which dominates when
    episodes are short: ``num_maps=K`` (a fixed set of maps, cached with their tables)
    makes resets an order of magnitude cheaper, with the same semantics in the single
    env. Agent-centred pixel views are redrawn whole at every step.

    Observations are batched like :func:`gymnasium.vector.utils.batch_space`. The
    ``"symbolic"`` and full-view ``"pixels"`` observations live in persistent buffers
    of which a step only rewrites the agent's old and new cells; with ``copy=True``
    (default) a copy is returned, with ``copy=False`` the buffer itself, which the next
    :meth:`step` or :meth:`reset` overwrites.

    Parameters
    ----------
    num_envs, autoreset_mode, max_episode_steps, render_mode
        As for every :class:`~envs.vector.NumpyVectorEnv` (defaults: 1 sub-environment,
        autoreset ``NEXT_STEP``, no rendering).
    copy : bool, default True
        Return copies of the observation buffers (see above).
    **kwargs
        The arguments of :class:`~envs.grid.env.GridNavEnv`.

    Examples
    --------
    >>> import gymnasium as gym
    >>> import envs
    >>> vec = gym.make_vec("rlkit/GridNav-v0", num_envs=3, vectorization_mode="vector_entry_point")
    >>> obs, infos = vec.reset(seed=0)
    >>> obs.shape
    (3, 3, 11, 11)
    >>> obs, rewards, terminations, truncations, infos = vec.step(vec.unwrapped.expert_actions())
    >>> infos["path_length"].tolist()
    [1.0, 1.0, 1.0]
    """

    info_keys = ("is_success", "optimal_length", "path_length", "distance_to_goal")

    def __init__(
        self,
        num_envs: int = 1,
        *,
        copy: bool = True,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(num_envs, int | np.integer) or num_envs < 1:
            raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
        super().__init__(
            int(num_envs),
            GridNavConfig(**kwargs),
            autoreset_mode=autoreset_mode,
            max_episode_steps=max_episode_steps,
            render_mode=render_mode,
            render_fps=GridNavEnv.metadata["render_fps"],
        )
        n, cfg = self.num_envs, self.config
        self.copy = copy
        sampler = cfg.sampler
        n_cells, n_act = cfg.n_cells, cfg.n_actions
        self._slip_draws = np.empty((n, SLIP_BUFFER))
        self._slip_pos = np.full(n, SLIP_BUFFER, dtype=np.intp)
        self._episodes: list[Episode | None] = [None] * n
        self._agent = np.zeros(n, dtype=np.int64)
        self._goal = np.zeros(n, dtype=np.int64)
        self._steps = np.zeros(n, dtype=np.int64)
        self._path_length = np.zeros(n)
        self._optimal = np.zeros(n)
        # Tables flattened; env i reads its own slice (or the shared one: offset 0).
        if sampler.fixed_map:
            next_cell, cost = sampler.tables
            self._next = np.ascontiguousarray(next_cell, dtype=np.int64).ravel()
            self._cost = cost.ravel()
            self._table_off = np.zeros(n, dtype=np.int64)
        else:
            self._next = np.zeros(n * n_cells * n_act, dtype=np.int64)
            self._cost = np.zeros(n * n_cells * n_act)
            self._table_off = np.arange(n, dtype=np.int64) * (n_cells * n_act)
        if sampler.fixed_goal:
            self._dist = sampler.goal_field()
            self._dist_off = np.zeros(n, dtype=np.int64)
        else:
            self._dist = np.zeros(n * n_cells)
            self._dist_off = np.arange(n, dtype=np.int64) * n_cells
        self._env_ids = np.arange(n)
        self._observer = BatchObserver(cfg, n)
        self._frame_renderer: PixelRenderer | None = None

    # ------------------------------------------------------------------ API
    def expert_actions(self) -> npt.NDArray[np.int64]:
        """The planner's next action in every sub-environment (see ``GridNavEnv.expert_action``)."""
        cfg = self.config
        base = (self._table_off + self._agent * cfg.n_actions)[:, None] + np.arange(cfg.n_actions)
        there = self._next[base]
        value = self._cost[base] + self._dist[self._dist_off[:, None] + there]
        value[there == self._agent[:, None]] = np.inf
        return np.argmin(value, axis=1).astype(np.int64)

    def render(self) -> tuple[npt.NDArray[np.uint8], ...] | None:
        """One ``rgb_array`` frame per sub-environment (``None`` without a render_mode)."""
        if self.render_mode is None:
            return None
        cfg = self.config
        if self._frame_renderer is None:
            self._frame_renderer = frame_renderer(cfg.rows, cfg.cols, cfg.render_tile_size)
        renderer = self._frame_renderer
        return tuple(
            draw_frame(
                renderer,
                episode,
                int(agent),
                path=cfg.render_path,
                connectivity=cfg.sampler.connectivity,
            )
            for episode, agent in zip(self._episodes, self._agent, strict=True)
            if episode is not None
        )

    # ------------------------------------------------------------------ internals
    def _check_actions(self, actions: npt.ArrayLike) -> npt.NDArray[np.int64]:
        a = np.asarray(actions)
        n_act = self.config.n_actions
        if a.shape != (self.num_envs,) or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(
                f"actions must be {self.num_envs} ints in 0..{n_act - 1}, "
                f"got {a.dtype} array of shape {a.shape}"
            )
        if a.size and (a.min() < 0 or a.max() >= n_act):
            i = int(np.flatnonzero((a < 0) | (a >= n_act))[0])
            raise ValueError(
                f"action {a[i].item()!r} of env {i} is outside the action space Discrete({n_act}): "
                f"give ints in 0..{n_act - 1}"
            )
        return a.astype(np.int64, copy=False)

    def _slip(
        self, a: npt.NDArray[np.int64], active: npt.NDArray[np.bool_] | None
    ) -> npt.NDArray[np.int64]:
        """Replace actions as GridNavEnv.step does, drawing from each env's own buffer."""
        cfg = self.config
        ids = self._env_ids if active is None else np.flatnonzero(active)
        pos = self._slip_pos[ids]
        for i in ids[pos == SLIP_BUFFER]:
            rng = self._rngs[i]
            assert rng is not None
            self._slip_draws[i] = rng.random(SLIP_BUFFER)
            self._slip_pos[i] = 0
        u = self._slip_draws[ids, self._slip_pos[ids]]
        self._slip_pos[ids] += 1
        random_action = np.minimum(
            (u / cfg.slip * cfg.n_actions).astype(np.int64), cfg.n_actions - 1
        )
        a = a.copy()
        a[ids] = np.where(u < cfg.slip, random_action, a[ids])
        return a

    def _step_batch(
        self, actions: npt.ArrayLike, active: BoolArray | None
    ) -> tuple[FloatArray, BoolArray, BoolArray]:
        cfg = self.config
        a = self._check_actions(actions)
        if cfg.slip > 0.0:
            a = self._slip(a, active)
        here = self._agent
        flat = self._table_off + here * cfg.n_actions + a
        there = self._next[flat]
        cost = self._cost[flat]
        if active is not None:  # the others' action is ignored: the reset replaces everything
            there = np.where(active, there, here)
            cost = np.where(active, cost, 0.0)
        self._path_length += cost
        self._steps += 1
        terminated = there == self._goal
        rewards = terminated.astype(np.float64) - cfg.step_penalty
        if cfg.shaping:  # gamma * Phi(s') - Phi(s) with Phi = -dist
            rewards += (
                self._dist[self._dist_off + here] - cfg.gamma * self._dist[self._dist_off + there]
            )
        truncated = ~terminated & (self._steps >= cfg.max_steps)
        self._observer.move(here, there, terminated)
        self._agent = there
        return rewards, terminated, truncated

    def _reseeded(self, i: int) -> None:
        self._slip_pos[i] = SLIP_BUFFER  # draws of the old generator are stale

    def _begin(self, ids: npt.NDArray[np.intp], rngs: list[np.random.Generator]) -> None:
        """New episodes for envs ``ids``: drawn one by one, written in batch."""
        cfg = self.config
        episodes = []
        for i, rng in zip(ids.tolist(), rngs, strict=True):
            episode = cfg.sampler.sample(rng)
            self._episodes[i] = episode
            episodes.append(episode)
        starts = np.array([e.start for e in episodes], dtype=np.int64)
        goals = np.array([e.goal for e in episodes], dtype=np.int64)
        self._agent[ids] = starts
        self._goal[ids] = goals
        self._steps[ids] = 0
        self._path_length[ids] = 0.0
        self._optimal[ids] = [e.optimal_length for e in episodes]
        n = self.num_envs
        if not cfg.sampler.fixed_map:
            self._next.reshape(n, -1)[ids] = np.stack([e.next_cell.ravel() for e in episodes])
            self._cost.reshape(n, -1)[ids] = np.stack([e.move_cost.ravel() for e in episodes])
        if not cfg.sampler.fixed_goal:
            self._dist.reshape(n, -1)[ids] = np.stack([e.dist for e in episodes])
        self._observer.begin(ids, episodes, starts, goals)

    def _observe(self) -> Any:
        return self._observer.observe(self._agent, self._goal, self.copy)

    def _info_values(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "is_success": self._agent == self._goal,
            "optimal_length": self._optimal.copy(),
            "path_length": self._path_length.copy(),
            "distance_to_goal": self._dist[self._dist_off + self._agent],
        }
