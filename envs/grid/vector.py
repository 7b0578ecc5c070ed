"""GridNavVectorEnv: N GridNav environments stepped together with numpy batch operations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.error import ResetNeeded
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.grid.config import GridNavConfig
from envs.grid.env import SLIP_BUFFER, GridNavEnv
from envs.grid.episode import Episode
from envs.grid.observations import (
    AGENT,
    AGENT_ON_GOAL,
    FLOOR,
    GOAL,
    WALL,
    PixelRenderer,
    draw_frame,
    frame_renderer,
)
from envs.vector import reset_mask, sub_env_seeds

__all__ = ["GridNavVectorEnv"]

_INFO_KEYS = ("is_success", "optimal_length", "path_length", "distance_to_goal")


class GridNavVectorEnv(VectorEnv[Any, Any, Any]):
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
    num_envs : int
        Number of sub-environments.
    copy : bool, default True
        Return copies of the observation buffers (see above).
    autoreset_mode : AutoresetMode or str, default NEXT_STEP
        Gymnasium 1.x autoreset: ``NEXT_STEP`` (the step after an episode ends resets
        that sub-environment and ignores its action), ``SAME_STEP`` (reset at once;
        ``info["final_obs"]`` and ``info["final_info"]`` hold the end of the episode) or
        ``DISABLED`` (reset with ``reset(options={"reset_mask": mask})``).
    max_episode_steps : int, optional
        Truncation limit from :func:`gymnasium.make_vec`; the smaller of it and
        ``max_steps`` applies. (A :class:`~gymnasium.wrappers.TimeLimit` around a single
        env would also truncate an episode that terminates on its last step.)
    render_mode : {None, "rgb_array"}
        ``render()`` returns one frame per sub-environment.
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
        self.config = cfg = GridNavConfig(**kwargs)
        if max_episode_steps is not None:
            cfg.max_steps = min(cfg.max_steps, int(max_episode_steps))
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self.metadata = {
            "render_modes": ["rgb_array"],
            "render_fps": GridNavEnv.metadata["render_fps"],
            "autoreset_mode": self.autoreset_mode,
        }
        self.num_envs = n = int(num_envs)
        self.copy = copy
        self.single_observation_space = cfg.observation_space
        self.single_action_space = cfg.action_space
        self.observation_space = batch_space(cfg.observation_space, n)
        self.action_space = batch_space(cfg.action_space, n)

        sampler = cfg.sampler
        n_cells, n_act = cfg.n_cells, cfg.n_actions
        self._rngs: list[np.random.Generator | None] = [None] * n
        self._slip_draws = np.empty((n, SLIP_BUFFER))
        self._slip_pos = np.full(n, SLIP_BUFFER, dtype=np.intp)
        self._episodes: list[Episode | None] = [None] * n
        self._agent = np.zeros(n, dtype=np.int64)
        self._goal = np.zeros(n, dtype=np.int64)
        self._steps = np.zeros(n, dtype=np.int64)
        self._path_length = np.zeros(n)
        self._optimal = np.zeros(n)
        self._autoreset = np.zeros(n, dtype=bool)
        self._ready = np.zeros(n, dtype=bool)
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
        self._symbolic = np.zeros((n, 3, n_cells), dtype=np.uint8)
        self._symbolic_obs = self._symbolic.reshape(n, 3, cfg.rows, cfg.cols)  # a view
        self._frames = np.zeros((n, *cfg.pixel_shape, 3), dtype=np.uint8)
        k = cfg.view_radius
        self._padded = np.zeros((n, cfg.rows + 2 * k, cfg.cols + 2 * k), dtype=np.uint8)
        self._frame_renderer: PixelRenderer | None = None

    # ------------------------------------------------------------------ API
    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """Reset all sub-environments (or those in ``options["reset_mask"]``).

        ``seed``: ``None``, an int (sub-environment ``i`` gets ``seed + i``) or one seed
        per sub-environment.
        """
        n = self.num_envs
        seeds = sub_env_seeds(seed, n)
        mask = reset_mask(options, n)
        ids = np.flatnonzero(mask)
        self._reset_envs(ids, [seeds[i] for i in ids])
        self._autoreset[mask] = False
        return self._observe(), self._infos(mask)

    def step(
        self, actions: npt.ArrayLike
    ) -> tuple[
        Any, npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_], dict[str, Any]
    ]:
        """Step every sub-environment; see the class docstring for autoreset."""
        if not self._ready.all():
            raise ResetNeeded("call reset() before step()")
        cfg = self.config
        a = self._check_actions(actions)
        resetting = self._autoreset  # all False unless NEXT_STEP
        any_resetting = bool(resetting.any())
        if cfg.slip > 0.0:
            a = self._slip(a, ~resetting if any_resetting else None)
        here = self._agent
        flat = self._table_off + here * cfg.n_actions + a
        there = self._next[flat]
        cost = self._cost[flat]
        if any_resetting:  # their action is ignored; the reset below replaces everything
            there = np.where(resetting, here, there)
            cost = np.where(resetting, 0.0, cost)
        self._path_length += cost
        self._steps += 1
        terminated = there == self._goal
        rewards = terminated.astype(np.float64) - cfg.step_penalty
        if cfg.shaping:  # gamma * Phi(s') - Phi(s) with Phi = -dist
            rewards += (
                self._dist[self._dist_off + here] - cfg.gamma * self._dist[self._dist_off + there]
            )
        truncated = ~terminated & (self._steps >= cfg.max_steps)
        self._move(here, there, terminated)
        self._agent = there
        infos: dict[str, Any] = {}
        if any_resetting:
            ids = np.flatnonzero(resetting)
            self._reset_envs(ids, [None] * ids.size)
            rewards[resetting] = 0.0
            terminated[resetting] = False
            truncated[resetting] = False
        elif self.autoreset_mode == AutoresetMode.SAME_STEP:
            done = terminated | truncated
            if done.any():
                infos = self._final(done)
                ids = np.flatnonzero(done)
                self._reset_envs(ids, [None] * ids.size)
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            self._autoreset = terminated | truncated
        infos.update(self._infos(None))
        return self._observe(), rewards, terminated, truncated, infos

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

    def _reset_envs(self, ids: npt.NDArray[np.intp], seeds: Sequence[int | None]) -> None:
        """New episodes for envs ``ids``: drawn one by one, written in batch."""
        cfg = self.config
        episodes = []
        for i, seed in zip(ids.tolist(), seeds, strict=True):
            if seed is not None or self._rngs[i] is None:
                self._rngs[i], _ = seeding.np_random(seed)
                self._slip_pos[i] = SLIP_BUFFER  # draws of the old generator are stale
            rng = self._rngs[i]
            assert rng is not None
            episode = cfg.sampler.sample(rng)
            self._episodes[i] = episode
            episodes.append(episode)
        starts = np.array([e.start for e in episodes], dtype=np.int64)
        goals = np.array([e.goal for e in episodes], dtype=np.int64)
        self._ready[ids] = True
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

    def _move(
        self,
        here: npt.NDArray[np.int64],
        there: npt.NDArray[np.int64],
        terminated: npt.NDArray[np.bool_],
    ) -> None:
        cfg = self.config
        if cfg.obs == "symbolic":
            self._symbolic[self._env_ids, 1, here] = 0
            self._symbolic[self._env_ids, 1, there] = 1
        elif cfg.obs == "pixels" and cfg.view == "full" and cfg.pixel_renderer is not None:
            moved = np.flatnonzero(here != there)
            if moved.size:
                flat = self._frames.reshape(self.num_envs, -1, 3)
                renderer = cfg.pixel_renderer
                renderer.paint_batch(flat, moved, here[moved], FLOOR)
                walk, arrive = moved[~terminated[moved]], moved[terminated[moved]]
                renderer.paint_batch(flat, walk, there[walk], AGENT)
                renderer.paint_batch(flat, arrive, there[arrive], AGENT_ON_GOAL)

    def _observe(self) -> Any:
        cfg = self.config
        if cfg.obs == "index":
            return self._agent.copy()
        if cfg.obs == "coords":
            out = np.empty((self.num_envs, 4), dtype=np.int64)
            out[:, 0], out[:, 1] = np.divmod(self._agent, cfg.cols)
            out[:, 2], out[:, 3] = np.divmod(self._goal, cfg.cols)
            return out
        if cfg.obs == "symbolic":
            return self._symbolic_obs.copy() if self.copy else self._symbolic_obs
        if cfg.view == "full":
            return self._frames.copy() if self.copy else self._frames
        assert cfg.pixel_renderer is not None
        k = cfg.view_radius
        side = np.arange(2 * k + 1)
        rows, cols = np.divmod(self._agent, cfg.cols)
        window = self._padded[
            self._env_ids[:, None, None],
            rows[:, None, None] + side[None, :, None],
            cols[:, None, None] + side[None, None, :],
        ]
        centre = window[:, k, k]
        window[:, k, k] = np.where(centre == GOAL, AGENT_ON_GOAL, AGENT)
        return cfg.pixel_renderer.draw(window.reshape(self.num_envs, -1))

    def _infos(self, mask: npt.NDArray[np.bool_] | None) -> dict[str, Any]:
        """Infos batched as ``VectorEnv._add_info`` does: zeros and a False mask where absent."""
        values = {
            "is_success": self._agent == self._goal,
            "optimal_length": self._optimal.copy(),
            "path_length": self._path_length.copy(),
            "distance_to_goal": self._dist[self._dist_off + self._agent],
        }
        present = np.ones(self.num_envs, dtype=bool) if mask is None else mask
        infos: dict[str, Any] = {}
        for key in _INFO_KEYS:
            value = values[key]
            if mask is not None:
                value = np.where(mask, value, np.zeros_like(value))
            infos[key] = value
            infos[f"_{key}"] = present.copy()
        return infos

    def _final(self, done: npt.NDArray[np.bool_]) -> dict[str, Any]:
        """``final_obs`` and ``final_info`` of the episodes ending now (SAME_STEP)."""
        obs = self._observe()
        final_obs = np.full(self.num_envs, None, dtype=object)
        for i in np.flatnonzero(done):  # what the single env returned: an int or an array
            final_obs[i] = int(obs[i]) if self.config.obs == "index" else obs[i].copy()
        return {
            "final_obs": final_obs,
            "_final_obs": done.copy(),
            "final_info": self._infos(done),
            "_final_info": done.copy(),
        }
