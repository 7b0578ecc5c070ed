"""GridNavEnv: reach the goal cell of a grid map; the planner knows the way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium.error import ResetNeeded

from envs.grid.config import GridNavConfig
from envs.grid.episode import Episode
from envs.grid.layouts import Layout, MapLike
from envs.grid.model import Transition, transition_model
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
from envs.render import Window
from planners import GridMap

__all__ = ["SLIP_BUFFER", "GridNavEnv"]

#: Uniform draws taken from ``np_random`` at a time for slipping (fewer generator calls).
SLIP_BUFFER = 256


class GridNavEnv(gym.Env[Any, np.int64]):
    """Navigate a grid map from a start cell to a goal cell.

    ## Description

    The agent moves between the free cells of a 2-D occupancy grid. Maps come from a
    layout family: ``"empty"``, ``"random"`` obstacles, ``"rooms"`` joined by doors,
    ``"maze"``, or one fixed map (``map=``: a :class:`planners.GridMap`, ASCII text or a
    MovingAI ``.map`` file). Procedural layouts draw a new map every reset (or one of
    a set of ``num_maps``). Start and goal are random cells of one connected region
    unless fixed (fixed maps only), so every episode is solvable. Moves, costs and
    optimal lengths all come from the planner (:class:`planners.GridMap`):
    :meth:`expert_action` gives its next move; :attr:`grid`, :attr:`agent_cell` and
    :attr:`goal_cell` show the episode to planning agents; :attr:`P` is the transition
    model on a fixed map with a fixed goal.

    ## Action Space

    ``Discrete(4)``: 0 up, 1 down, 2 left, 3 right (:data:`planners.MOVES_4`). With
    ``diagonal=True``, ``Discrete(8)`` adds 4 up-left, 5 up-right, 6 down-left,
    7 down-right (:data:`planners.MOVES_8`); a diagonal may not cut a blocked corner.
    A move into a wall, off the map or across a corner leaves the agent in place. With
    ``slip=p`` the action is replaced, with probability ``p``, by a uniformly random
    action (which may be the same one), as on FrozenLake's ice.

    ## Observation Space

    Chosen with ``obs=``:

    - ``"index"``: ``Discrete(rows * cols)``, the agent cell ``row * cols + col``. Only
      for a fixed map with a fixed goal (the goal is not in the observation).
    - ``"coords"``: ``Box(int64, (4,))``: agent row, agent col, goal row, goal col.
    - ``"symbolic"`` (default): ``Box(uint8, (3, rows, cols))`` of 0/1, channels first
      (PyTorch order): walls, agent, goal. Its bounds are 0 and 1, so stable-baselines3
      does not take it for an image (no division by 255); use an MLP or your own CNN.
    - ``"pixels"``: ``Box(uint8, (H, W, 3))`` RGB, ``pixel_size`` 64 by default (an int
      or ``(H, W)``, at least 16). ``view="full"`` shows the whole map (needs at least
      one pixel per cell); ``view="agent"`` a ``2 * view_radius + 1`` square of cells
      centred on the agent, outside the map drawn as wall.

    Every returned array is a fresh copy.

    ## Starting State

    The agent starts on ``start`` (or a random free cell that can reach the goal and
    is not the goal). The goal is ``goal`` or a random free cell with a neighbour.

    ## Rewards

    +1 for reaching the goal, minus ``step_penalty`` on every step (default 0). With
    ``shaping=True`` the potential-based term ``F = gamma * Phi(s') - Phi(s)`` is added
    with ``Phi = -distance_to_goal`` (the planner's cost-to-go), which leaves optimal
    policies unchanged (Ng, Harada & Russell, "Policy invariance under reward
    transformations", ICML 1999). The goal's potential is 0.

    ## Episode End

    Terminates on reaching the goal. Truncates after ``max_steps`` steps (default
    ``4 * rows * cols``).

    ``info`` on reset and step: ``is_success`` (agent on the goal), ``optimal_length``
    (the planner's cost from the start), ``path_length`` (cost of the moves made: 1 per
    cardinal move, sqrt(2) per diagonal, times terrain costs) and ``distance_to_goal``
    (the planner's cost-to-go from the agent).

    ## Arguments

    - ``layout``: ``"random"`` (default), ``"empty"``, ``"rooms"``, ``"maze"``, or a
      :class:`envs.grid.layouts.Layout` (e.g. ``RandomLayout(density=0.3)``).
    - ``size``: ``(rows, cols)`` or an int for procedural layouts (default 11).
    - ``num_maps``, ``map_seed``: ``None`` (default) makes a new map every reset; an
      int ``K`` draws each episode's map from a fixed set of ``K``, map ``i`` generated
      from seed ``(map_seed, i)`` alone, like Procgen's ``num_levels`` (train on a set,
      test on fresh maps). Map sets also make resets much cheaper.
    - ``map``: a fixed map (excludes ``layout``, ``size`` and ``num_maps``).
    - ``start``, ``goal``: fixed ``(row, col)`` cells or ``None`` (random each reset);
      fixed maps only.
    - ``obs``, ``pixel_size``, ``view``, ``view_radius``: see Observation Space.
    - ``diagonal``, ``slip``: see Action Space.
    - ``step_penalty``, ``shaping``, ``gamma`` (0.99): see Rewards.
    - ``max_steps``: see Episode End.
    - ``render_mode``: ``"rgb_array"`` returns frames with ``render_tile_size`` pixels
      per cell (32, less for maps over 32 cells across, so frames stay <= 1024 px);
      ``"human"`` shows them in a pygame window at ``render_fps``. ``render_path=True``
      overlays the planner's path from the agent to the goal.

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make(
    ...     "rlkit/GridNav-Map-v0", map="...\\n.#.\\n...", start=(0, 0), goal=(2, 2), obs="index"
    ... )
    >>> obs, info = env.reset(seed=0)
    >>> obs, info["optimal_length"]
    (0, 4.0)
    >>> env.unwrapped.expert_action()  # down (1) and right (3) are both optimal
    1
    >>> obs, reward, terminated, truncated, info = env.step(1)
    >>> obs, reward, terminated, info["path_length"], info["distance_to_goal"]
    (3, 0.0, False, 1.0, 3.0)

    ```

    ## Version History

    - v0: Initial version.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 - an instance variable of gymnasium.Env
        "render_modes": ["human", "rgb_array"],
        "render_fps": 8,
    }

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
        render_mode: str | None = None,
        render_path: bool = False,
        render_tile_size: int | None = None,
    ) -> None:
        self.config = cfg = GridNavConfig(
            layout=layout,
            size=size,
            map=map,
            start=start,
            goal=goal,
            num_maps=num_maps,
            map_seed=map_seed,
            obs=obs,
            diagonal=diagonal,
            slip=slip,
            step_penalty=step_penalty,
            shaping=shaping,
            gamma=gamma,
            max_steps=max_steps,
            pixel_size=pixel_size,
            view=view,
            view_radius=view_radius,
            render_path=render_path,
            render_tile_size=render_tile_size,
        )
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, "
                f"got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.observation_space = cfg.observation_space
        self.action_space = cfg.action_space
        self._episode: Episode | None = None
        self._agent = 0
        self._steps = 0
        self._path_length = 0.0
        self._slip_draws = np.empty(SLIP_BUFFER)
        self._slip_pos = SLIP_BUFFER
        self._types = np.empty(cfg.n_cells, dtype=np.uint8)  # FLOOR / WALL / GOAL per cell
        self._symbolic = np.zeros((3, cfg.rows, cfg.cols), dtype=np.uint8)
        self._frame = np.zeros((*cfg.pixel_shape, 3), dtype=np.uint8)
        self._padded = np.empty(0, dtype=np.uint8)  # types with a wall margin (agent view)
        self._frame_renderer: PixelRenderer | None = None
        self._P: dict[int, dict[int, list[Transition]]] | None = None
        self._window: Window | None = None

    # ------------------------------------------------------------------ API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Draw a new episode (map, start, goal) from ``np_random``."""
        super().reset(seed=seed)
        if seed is not None:
            self._slip_pos = SLIP_BUFFER  # draws of the old generator are stale
        episode = self.config.sampler.sample(self.np_random)
        self._begin(episode)
        if self.render_mode == "human":
            self.render()
        return self._observe(), self._info()

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Move one cell (or stay, when the move is illegal)."""
        episode = self._episode
        if episode is None:
            raise ResetNeeded("call reset() before step()")
        cfg = self.config
        a = cfg.check_action(action)
        if cfg.slip > 0.0:
            if self._slip_pos == SLIP_BUFFER:
                self._slip_draws = self.np_random.random(SLIP_BUFFER)
                self._slip_pos = 0
            u = float(self._slip_draws[self._slip_pos])
            self._slip_pos += 1
            if u < cfg.slip:  # u / slip is uniform in [0, 1): it picks the random action
                a = min(int(u / cfg.slip * cfg.n_actions), cfg.n_actions - 1)
        here = self._agent
        there = int(episode.next_cell[here, a])
        self._path_length += float(episode.move_cost[here, a])
        self._steps += 1
        terminated = there == episode.goal
        reward = cfg.reward(episode.goal, episode.dist, here, there)
        truncated = not terminated and self._steps >= cfg.max_steps
        if there != here:
            self._move(here, there)
        if self.render_mode == "human":
            self.render()
        return self._observe(), reward, terminated, truncated, self._info()

    def expert_action(self) -> int:
        """The planner's next action: the legal move minimising cost + cost-to-go.

        Following it from reset reaches the goal at ``optimal_length`` cost (when
        ``slip`` is 0); ties go to the lowest action number.
        """
        episode = self._require_episode()
        here = self._agent
        successors = episode.next_cell[here]
        value = episode.move_cost[here] + episode.dist[successors]
        value[successors == here] = np.inf
        return int(np.argmin(value))

    @property
    def grid(self) -> GridMap:
        """The current episode's map (for planners and agents that plan)."""
        return self._require_episode().grid

    @property
    def agent_cell(self) -> tuple[int, int]:
        """The agent's ``(row, col)``."""
        self._require_episode()
        return divmod(self._agent, self.config.cols)

    @property
    def goal_cell(self) -> tuple[int, int]:
        """The goal's ``(row, col)``."""
        return divmod(self._require_episode().goal, self.config.cols)

    @property
    def P(self) -> dict[int, dict[int, list[Transition]]]:
        """Transition model ``P[s][a] = [(prob, next_s, reward, terminated), ...]``.

        As in Gymnasium's toy-text environments, for tabular methods; states are the
        ``"index"`` observations. Slip is included; the goal and blocked cells are
        absorbing (``[(1.0, s, 0.0, True)]``). Only for a fixed map with a fixed goal.
        """
        sampler = self.config.sampler
        if not sampler.fixed_goal:
            raise AttributeError(
                "P (the transition model) needs a fixed map and a fixed goal: create the "
                "env with map=... and goal=(row, col) (rlkit/GridNav-Map-v0)"
            )
        if self._P is None:
            self._P = transition_model(self.config)
        return self._P

    def render(self) -> npt.NDArray[np.uint8] | None:
        """An RGB frame (``"rgb_array"``), or show it in the window (``"human"``)."""
        if self.render_mode is None:
            gym.logger.warn(
                "render() called without a render_mode: pass render_mode='rgb_array' or "
                "'human' when creating the environment"
            )
            return None
        frame = self._render_frame()
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            self._window = Window("rlkit GridNav", fps=self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        """Close the window, if one is open."""
        if self._window is not None:
            self._window.close()
            self._window = None

    # ------------------------------------------------------------------ internals
    def _require_episode(self) -> Episode:
        if self._episode is None:
            raise ResetNeeded("call reset() before using the episode")
        return self._episode

    def _begin(self, episode: Episode) -> None:
        cfg = self.config
        self._episode = episode
        self._agent = episode.start
        self._steps = 0
        self._path_length = 0.0
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

    def _move(self, here: int, there: int) -> None:
        self._agent = there
        cfg = self.config
        if cfg.obs == "symbolic":
            sym = self._symbolic.reshape(3, -1)
            sym[1, here] = 0
            sym[1, there] = 1
        elif cfg.obs == "pixels" and cfg.view == "full" and cfg.pixel_renderer is not None:
            flat = self._frame.reshape(-1, 3)
            cfg.pixel_renderer.paint(flat, here, FLOOR)  # the agent never leaves the goal
            on_goal = self._episode is not None and there == self._episode.goal
            cfg.pixel_renderer.paint(flat, there, AGENT_ON_GOAL if on_goal else AGENT)

    def _observe(self) -> Any:
        cfg = self.config
        if cfg.obs == "index":
            return self._agent
        if cfg.obs == "coords":
            episode = self._require_episode()
            return np.array(
                [*divmod(self._agent, cfg.cols), *divmod(episode.goal, cfg.cols)], dtype=np.int64
            )
        if cfg.obs == "symbolic":
            return self._symbolic.copy()
        if cfg.view == "full":
            return self._frame.copy()
        assert cfg.pixel_renderer is not None
        k = cfg.view_radius
        r, c = divmod(self._agent, cfg.cols)
        window = self._padded[r : r + 2 * k + 1, c : c + 2 * k + 1].copy()
        window[k, k] = AGENT_ON_GOAL if window[k, k] == GOAL else AGENT
        return cfg.pixel_renderer.draw(window.ravel())

    def _info(self) -> dict[str, Any]:
        episode = self._require_episode()
        return {
            "is_success": self._agent == episode.goal,
            "optimal_length": episode.optimal_length,
            "path_length": self._path_length,
            "distance_to_goal": float(episode.dist[self._agent]),
        }

    def _render_frame(self) -> npt.NDArray[np.uint8]:
        cfg = self.config
        if self._frame_renderer is None:
            self._frame_renderer = frame_renderer(cfg.rows, cfg.cols, cfg.render_tile_size)
        return draw_frame(
            self._frame_renderer,
            self._require_episode(),
            self._agent,
            path=cfg.render_path,
            connectivity=cfg.sampler.connectivity,
        )
