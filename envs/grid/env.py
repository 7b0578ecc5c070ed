"""GridNavEnv: reach the goal cell of a grid map; the planner knows the way."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.error import ResetNeeded

from envs.base import PlannedEnv
from envs.grid.config import GridNavConfig
from envs.grid.episode import Episode
from envs.grid.model import Transition, transition_model
from envs.grid.observations import PixelRenderer, draw_frame, frame_renderer
from envs.grid.observers import Observer
from planners import GridMap

__all__ = ["SLIP_BUFFER", "GridNavEnv"]

#: Uniform draws taken from ``np_random`` at a time for slipping (fewer generator calls).
SLIP_BUFFER = 256


class GridNavEnv(PlannedEnv[Any, np.int64, GridNavConfig]):
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

    All keyword arguments; every one but ``render_mode`` goes to
    :class:`~envs.grid.config.GridNavConfig`, whose signature gives their types and
    defaults.

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

    metadata: dict[str, Any] = {**PlannedEnv.metadata, "render_fps": 8}  # noqa: RUF012

    window_title = "rlkit GridNav"

    def __init__(self, *, render_mode: str | None = None, **kwargs: Any) -> None:
        super().__init__(GridNavConfig(**kwargs), render_mode)
        self._episode: Episode | None = None
        self._agent = 0
        self._steps = 0
        self._path_length = 0.0
        self._slip_draws = np.empty(SLIP_BUFFER)
        self._slip_pos = SLIP_BUFFER
        self._observer = Observer(self.config)
        self._frame_renderer: PixelRenderer | None = None
        self._P: dict[int, dict[int, list[Transition]]] | None = None

    # ------------------------------------------------------------------ API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Draw a new episode (map, start, goal) from ``np_random``."""
        super().reset(seed=seed)
        if seed is not None:
            self._slip_pos = SLIP_BUFFER  # draws of the old generator are stale
        episode = self.config.sampler.sample(self.np_random)
        self._episode = episode
        self._agent = episode.start
        self._steps = 0
        self._path_length = 0.0
        self._observer.begin(episode)
        if self.render_mode == "human":
            self.render()
        return self._observer.observe(self._agent), self._info()

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
            self._agent = there
            self._observer.move(here, there)
        if self.render_mode == "human":
            self.render()
        return self._observer.observe(self._agent), reward, terminated, truncated, self._info()

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

    # ------------------------------------------------------------------ internals
    def _require_episode(self) -> Episode:
        if self._episode is None:
            raise ResetNeeded("call reset() before using the episode")
        return self._episode

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
