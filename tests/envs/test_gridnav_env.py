"""GridNavEnv: seeding, solvability, the planner as referee, rewards, model and observations."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import data_equivalence

from envs.grid import GridNavEnv, RandomLayout
from envs.grid.episode import move_table
from envs.grid.observations import AGENT, AGENT_ON_GOAL, FLOOR, GOAL, WALL, PixelRenderer
from planners import MOVES_4, MOVES_8, GridMap
from planners.movingai import read_scen

MakeEnv = Callable[..., gym.Env[Any, Any]]
FAMILY_IDS = [
    "rlkit/GridNav-Empty-v0",
    "rlkit/GridNav-Random-v0",
    "rlkit/GridNav-Rooms-v0",
    "rlkit/GridNav-Maze-v0",
    "rlkit/GridNav-Map-v0",
]
SMALL_MAP = """
......
.##.#.
....#.
.#....
"""


def _rollout(env: gym.Env[Any, Any], seed: int, actions: list[int]) -> list[Any]:
    out: list[Any] = [env.reset(seed=seed)]
    for a in actions:
        step = env.step(a)
        out.append(step)
        if step[2] or step[3]:
            out.append(env.reset())
    return out


def _same(a: Any, b: Any) -> bool:
    return data_equivalence(a, b, exact=True)


@pytest.mark.parametrize("obs", ["coords", "symbolic", "pixels"])
def test_same_seed_same_episodes(make_env: MakeEnv, env_id: str, obs: str) -> None:
    actions = np.random.default_rng(0).integers(0, 4, 150).tolist()
    first = _rollout(make_env(env_id, obs=obs, slip=0.2, max_steps=30), 3, actions)
    again = _rollout(make_env(env_id, obs=obs, slip=0.2, max_steps=30), 3, actions)
    assert _same(first, again)
    other = _rollout(make_env(env_id, obs=obs, slip=0.2, max_steps=30), 4, actions)
    assert not _same(first, other)


def test_unseeded_reset_continues_the_seeded_generator(make_env: MakeEnv) -> None:
    a, b = make_env("rlkit/GridNav-v0"), make_env("rlkit/GridNav-v0")
    a.reset(seed=11)
    b.reset(seed=11)
    for _ in range(3):
        assert _same(a.reset(), b.reset())


@pytest.mark.parametrize("env_id", FAMILY_IDS)
@pytest.mark.parametrize("diagonal", [False, True])
def test_generated_episodes_are_solvable(make_env: MakeEnv, env_id: str, diagonal: bool) -> None:
    env = make_env(env_id, diagonal=diagonal)
    base = env.unwrapped
    assert isinstance(base, GridNavEnv)
    connectivity: Literal[4, 8] = 8 if diagonal else 4
    for seed in range(60):
        _, info = env.reset(seed=seed)
        start, goal = base.agent_cell, base.goal_cell
        assert start != goal
        plan = base.grid.plan(start, goal, connectivity=connectivity)
        assert info["optimal_length"] == pytest.approx(plan.cost)
        assert info["distance_to_goal"] == info["optimal_length"] > 0
        assert info["path_length"] == 0.0 and info["is_success"] is False


@pytest.mark.parametrize("env_id", FAMILY_IDS)
@pytest.mark.parametrize("diagonal", [False, True])
def test_expert_reaches_the_goal_at_optimal_length(
    make_env: MakeEnv, env_id: str, diagonal: bool
) -> None:
    env = make_env(env_id, diagonal=diagonal, obs="coords")
    base = env.unwrapped
    assert isinstance(base, GridNavEnv)
    for seed in range(25):
        _, info = env.reset(seed=seed)
        optimal = info["optimal_length"]
        terminated = truncated = False
        steps = 0
        while not (terminated or truncated):
            before = info["distance_to_goal"]
            _, reward, terminated, truncated, info = env.step(base.expert_action())
            steps += 1
            assert info["distance_to_goal"] < before  # every expert move makes progress
        assert terminated and not truncated and info["is_success"]
        assert reward == 1.0
        assert info["path_length"] == pytest.approx(optimal, rel=1e-12)
        assert info["distance_to_goal"] == 0.0
        if not diagonal:
            assert steps == optimal


@pytest.mark.parametrize("diagonal", [False, True])
def test_move_table_agrees_with_gridmap_move_cost(diagonal: bool) -> None:
    grid = GridMap.from_ascii("..#.\n.3..\n#..#\n..9.")
    next_cell, cost = move_table(grid, diagonal=diagonal)
    rows, cols = grid.shape
    for r, c in itertools.product(range(rows), range(cols)):
        for a, (dr, dc) in enumerate(MOVES_8 if diagonal else MOVES_4):
            expected = grid.move_cost((r, c), (r + dr, c + dc)) if grid.is_free((r, c)) else None
            s = r * cols + c
            if expected is None:
                assert next_cell[s, a] == s and cost[s, a] == 0.0
            else:
                assert next_cell[s, a] == (r + dr) * cols + c + dc
                assert cost[s, a] == expected


def test_terrain_costs_count_in_path_length(make_env: MakeEnv) -> None:
    env = make_env("rlkit/GridNav-Map-v0", map="1.9\n...", start=(0, 0), goal=(0, 2))
    base = env.unwrapped
    assert isinstance(base, GridNavEnv)
    _, info = env.reset(seed=0)
    assert info["optimal_length"] == base.grid.plan((0, 0), (0, 2), connectivity=4).cost
    _, _, _, _, info = env.step(3)  # right onto the cost-1 cell next to the cost-9 one
    assert info["path_length"] == 1.0


def test_bumping_a_wall_stays_put(make_env: MakeEnv) -> None:
    env = make_env("rlkit/GridNav-Map-v0", map=SMALL_MAP, start=(0, 0), goal=(3, 5), obs="coords")
    obs, _ = env.reset(seed=0)
    for action in (0, 2):  # up and left run off the map
        again, reward, terminated, _, info = env.step(action)
        assert _same(again, obs) and reward == 0.0 and not terminated
        assert info["path_length"] == 0.0
    env.step(1)  # down to (1, 0)
    obs, *_ = env.step(3)  # right into the wall at (1, 1)
    assert obs.tolist() == [1, 0, 3, 5]


def test_diagonals_do_not_cut_corners(make_env: MakeEnv) -> None:
    env = make_env("rlkit/GridNav-Map-v0", map="..\n#.", start=(0, 0), goal=(1, 1), diagonal=True)
    env.reset(seed=0)
    _, _, terminated, _, info = env.step(7)  # down-right would cut the corner at (1, 0)
    assert not terminated and info["path_length"] == 0.0
    env.step(3)
    _, reward, terminated, _, info = env.step(1)
    assert terminated and reward == 1.0 and info["path_length"] == 2.0


def test_step_penalty_and_potential_shaping(make_env: MakeEnv) -> None:
    gamma = 0.9
    env = make_env(
        "rlkit/GridNav-Map-v0", map=SMALL_MAP, shaping=True, gamma=gamma, step_penalty=0.05
    )
    base = env.unwrapped
    assert isinstance(base, GridNavEnv)
    rng = np.random.default_rng(1)
    _, info = env.reset(seed=2)
    for _ in range(200):
        before = info["distance_to_goal"]
        _, reward, terminated, truncated, info = env.step(int(rng.integers(4)))
        expected = float(terminated) - 0.05 + before - gamma * info["distance_to_goal"]
        assert reward == pytest.approx(expected, abs=1e-12)
        if terminated or truncated:
            _, info = env.reset()


def test_truncates_at_max_steps(make_env: MakeEnv) -> None:
    env = make_env("rlkit/GridNav-Empty-v0", start=(0, 0), goal=(10, 10), max_steps=5)
    env.reset(seed=0)
    flags = [env.step(0)[2:4] for _ in range(5)]  # keep bumping the top edge
    assert flags == [(False, False)] * 4 + [(False, True)]
    assert make_env("rlkit/GridNav-v0").unwrapped.config.max_steps == 4 * 11 * 11  # type: ignore[attr-defined]


def test_slip_replaces_actions_uniformly(make_env: MakeEnv) -> None:
    env = make_env("rlkit/GridNav-Empty-v0", size=41, start=(20, 20), goal=(0, 0), slip=0.4)
    base = env.unwrapped
    assert isinstance(base, GridNavEnv)
    moves: Counter[tuple[int, int]] = Counter()
    env.reset(seed=0)
    for _ in range(4000):
        env.step(3)  # always "right", from the centre
        r, c = base.agent_cell
        moves[(r - 20, c - 20)] += 1
        env.reset()  # fixed start and goal: draws nothing, the slip draws go on
    # right: 0.6 + 0.4 / 4 = 0.7; each other move 0.1
    assert moves[(0, 1)] / 4000 == pytest.approx(0.7, abs=0.03)
    for move in MOVES_4[:3]:
        assert moves[move] / 4000 == pytest.approx(0.1, abs=0.02)


@pytest.mark.parametrize("slip", [0.0, 0.3])
def test_transition_model_matches_step(make_env: MakeEnv, slip: float) -> None:
    env = make_env(
        "rlkit/GridNav-Map-v0",
        map=SMALL_MAP,
        goal=(3, 5),
        obs="index",
        slip=slip,
        shaping=True,
        step_penalty=0.1,
        diagonal=True,
    )
    base = env.unwrapped
    assert isinstance(base, GridNavEnv)
    P = base.P
    n_states, n_actions = 24, 8
    assert sorted(P) == list(range(n_states))
    for s in P:
        assert sorted(P[s]) == list(range(n_actions))
        for a in P[s]:
            assert sum(p for p, *_ in P[s][a]) == pytest.approx(1.0)
    seen: Counter[tuple[int, int, int]] = Counter()
    tried: Counter[tuple[int, int]] = Counter()
    rng = np.random.default_rng(0)
    s, _ = env.reset(seed=0)
    for _ in range(3000):
        a = int(rng.integers(n_actions))
        s2, reward, terminated, truncated, _ = env.step(a)
        outcomes = {(n, r, t) for _, n, r, t in P[s][a]}
        assert (s2, reward, terminated) in outcomes
        seen[(s, a, s2)] += 1
        tried[(s, a)] += 1
        s = s2
        if terminated or truncated:
            s, _ = env.reset()
    (s, a), count = tried.most_common(1)[0]
    expected: dict[int, float] = {}
    for p, n, _, _ in P[s][a]:
        expected[n] = expected.get(n, 0.0) + p
    for n, p in expected.items():
        assert seen[(s, a, n)] / count == pytest.approx(p, abs=0.15)


def test_transition_model_goal_and_walls_absorb(make_env: MakeEnv) -> None:
    env = make_env("rlkit/GridNav-Map-v0", map=SMALL_MAP, goal=(0, 0), obs="index")
    P = env.unwrapped.P  # type: ignore[attr-defined]
    assert P[0][1] == [(1.0, 0, 0.0, True)]  # the goal
    assert P[7][0] == [(1.0, 7, 0.0, True)]  # the wall at (1, 1)
    assert P[1][2] == [(1.0, 0, 1.0, True)]  # left onto the goal


def test_observations_describe_the_state(make_env: MakeEnv) -> None:
    kwargs: dict[str, Any] = {"map": SMALL_MAP, "goal": (3, 5), "start": (2, 0)}
    envs_by_obs = {
        obs: make_env("rlkit/GridNav-Map-v0", obs=obs, **kwargs)
        for obs in ("index", "coords", "symbolic")
    }
    grid = GridMap.from_ascii(SMALL_MAP)
    actions = [3, 3, 1, 3, 3, 0, 1, 3]
    results = {obs: _rollout(env, 0, actions) for obs, env in envs_by_obs.items()}
    for index_step, coords_step, sym_step in zip(*results.values(), strict=True):
        index, coords, sym = index_step[0], coords_step[0], sym_step[0]
        r, c = divmod(index, 6)
        assert coords.tolist() == [r, c, 3, 5]
        assert sym.shape == (3, 4, 6) and sym.dtype == np.uint8
        assert np.array_equal(sym[0], grid.occupancy)
        assert np.argwhere(sym[1]).tolist() == [[r, c]]
        assert np.argwhere(sym[2]).tolist() == [[3, 5]]


@pytest.mark.parametrize("pixel_size", [64, 16, 37, (48, 80)])
@pytest.mark.parametrize("env_id", ["rlkit/GridNav-Rooms-v0", "rlkit/GridNav-Map-v0"])
def test_pixel_observations_match_a_fresh_drawing(
    make_env: MakeEnv, env_id: str, pixel_size: int | tuple[int, int]
) -> None:
    env = make_env(env_id, obs="pixels", pixel_size=pixel_size, max_steps=25)
    base = env.unwrapped
    assert isinstance(base, GridNavEnv)
    height, width = (pixel_size, pixel_size) if isinstance(pixel_size, int) else pixel_size
    renderer = PixelRenderer(11, 11, height, width)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    for _ in range(80):
        types = np.where(base.grid.occupancy.ravel(), WALL, FLOOR).astype(np.uint8)
        gr, gc = base.goal_cell
        types[gr * 11 + gc] = GOAL
        ar, ac = base.agent_cell
        types[ar * 11 + ac] = AGENT if (ar, ac) != (gr, gc) else AGENT_ON_GOAL
        assert obs.shape == (height, width, 3) and obs.dtype == np.uint8
        assert np.array_equal(obs, renderer.draw(types))  # incremental == full redraw
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(4)))
        if terminated or truncated:
            obs, _ = env.reset()


def test_pixel_observations_are_identical_across_calls(make_env: MakeEnv) -> None:
    a = make_env("rlkit/GridNav-v0", obs="pixels")
    b = make_env("rlkit/GridNav-v0", obs="pixels", render_mode="rgb_array")
    first, _ = a.reset(seed=5)
    again, _ = a.reset(seed=5)
    third, _ = b.reset(seed=5)
    assert np.array_equal(first, again) and np.array_equal(first, third)
    first[:] = 0  # the caller owns the array
    assert a.step(0)[0].any()


def test_agent_view_is_centred_on_the_agent(make_env: MakeEnv) -> None:
    env = make_env(
        "rlkit/GridNav-Map-v0",
        map=SMALL_MAP,
        start=(0, 0),
        goal=(3, 5),
        obs="pixels",
        view="agent",
        view_radius=1,
        pixel_size=30,
    )
    obs, _ = env.reset(seed=0)
    assert obs.shape == (30, 30, 3)
    # 3x3 cells of 10 px: outside the map above and left is wall, the centre is the agent
    assert obs[5, 5].tolist() == [64, 64, 72] and obs[5, 25].tolist() == [64, 64, 72]
    assert obs[15, 15].tolist() == [229, 57, 53]
    assert obs[25, 25].tolist() == [64, 64, 72]  # the wall at (1, 1)


def test_layout_instances_and_sizes(make_env: MakeEnv) -> None:
    env = make_env("rlkit/GridNav-v0", layout=RandomLayout(density=0.4), size=(8, 13))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 8, 13)
    assert env.unwrapped.grid.occupancy.mean() > 0.2  # type: ignore[attr-defined]


def _maps_seen(env: GridNavEnv, seed: int, resets: int) -> set[bytes]:
    env.reset(seed=seed)
    seen = set()
    for _ in range(resets):
        env.reset()
        seen.add(env.grid.occupancy.tobytes())
    return seen


def test_map_sets_draw_from_a_fixed_set_of_maps() -> None:
    three = _maps_seen(GridNavEnv(layout="maze", num_maps=3), seed=0, resets=60)
    assert len(three) == 3
    assert _maps_seen(GridNavEnv(layout="maze", num_maps=3), seed=1, resets=60) == three
    other = _maps_seen(GridNavEnv(layout="maze", num_maps=3, map_seed=1), seed=0, resets=60)
    assert not other & three
    fresh = _maps_seen(GridNavEnv(layout="maze"), seed=0, resets=20)
    assert len(fresh) == 20


def test_movingai_map_and_scenarios(make_env: MakeEnv, movingai_dir: Path) -> None:
    map_path = movingai_dir / "den312d.map"
    scenarios = read_scen(movingai_dir / "den312d-random-1.scen")[::40][:12]
    for scen in scenarios:
        env = make_env(
            "rlkit/GridNav-Map-v0",
            map=map_path,
            start=scen.start,
            goal=scen.goal,
            diagonal=True,
            obs="coords",
        )
        _, info = env.reset(seed=0)
        assert info["optimal_length"] == pytest.approx(scen.optimal_length, abs=1e-6)
        terminated = False
        while not terminated:
            _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())  # type: ignore[attr-defined]
            assert not truncated
        assert info["path_length"] == pytest.approx(scen.optimal_length, abs=1e-6)


BAD_INPUTS: list[tuple[dict[str, Any], str]] = [
    ({"map": "###\n###"}, "no free cell"),
    ({"map": "#.#\n###"}, "no two connected free cells"),
    ({"map": "..#..", "start": (0, 0), "goal": (0, 4)}, r"goal \(0, 4\) is unreachable"),
    ({"map": "..#..", "start": (0, 2)}, r"start \(0, 2\) is a blocked cell"),
    ({"map": "..#..", "goal": (5, 0)}, r"goal \(5, 0\) is outside the 1x5 map"),
    ({"map": "...", "start": (0, 1), "goal": (0, 1)}, "start and goal are the same cell"),
    ({"map": ".#.#.", "goal": (0, 2)}, "goal .* is walled in"),
    ({"layout": "random", "start": (0, 0)}, "start= and goal= need a fixed map"),
    ({"obs": "rgb"}, "obs must be one of"),
    ({"obs": "index"}, 'obs="index" .* needs a fixed map and a fixed goal'),
    ({"obs": "pixels", "pixel_size": 8}, "pixel_size must be at least 16"),
    ({"obs": "pixels", "pixel_size": (32, "x")}, "pixel_size must be an int"),
    ({"obs": "pixels", "size": 40, "pixel_size": 32}, "pixel_size=32 gives fewer pixels"),
    ({"slip": 1.5}, r"slip must be a probability in \[0, 1\]"),
    ({"slip": -0.1}, "slip must be a probability"),
    ({"slip": "high"}, "slip must be a probability"),
    ({"gamma": 0.0}, "gamma must be in"),
    ({"step_penalty": math.nan}, "step_penalty must be a finite number"),
    ({"max_steps": 0}, "max_steps must be an int >= 1"),
    ({"size": 1}, "size must be an int >= 2"),
    ({"layout": "caves"}, "layout must be one of"),
    ({"map": "...", "size": 5}, "size is taken from map"),
    ({"view": "side"}, "view must be one of"),
    ({"view": "agent"}, 'view="agent" crops pixel observations'),
    ({"obs": "pixels", "view": "agent", "view_radius": 0}, "view_radius must be an int >= 1"),
    ({"render_mode": "ascii"}, "render_mode must be one of"),
    ({"render_tile_size": 0}, "render_tile_size must be an int >= 1"),
    ({"num_maps": 0}, "num_maps must be None or an int >= 1"),
    ({"map_seed": -1}, "map_seed must be an int >= 0"),
    ({"map": "...", "num_maps": 5}, "num_maps picks among procedural maps"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_arguments_name_the_argument(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GridNavEnv(**kwargs)


@pytest.mark.parametrize("action", [4, -1, 1.0, "up", None, True, np.array([1])])
def test_actions_outside_the_space(make_env: MakeEnv, action: Any) -> None:
    env = make_env("rlkit/GridNav-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action .* is outside the action space Discrete\(4\)"):
        env.unwrapped.step(action)


def test_numpy_actions_are_accepted(make_env: MakeEnv) -> None:
    env = make_env("rlkit/GridNav-v0")
    env.reset(seed=0)
    for action in (np.int64(1), np.array(2), np.uint8(3)):
        env.step(action)


def test_no_model_or_step_without_the_right_setup() -> None:
    env = GridNavEnv()
    with pytest.raises(ResetNeeded):
        env.step(0)
    with pytest.raises(ResetNeeded):
        env.expert_action()
    with pytest.raises(AttributeError, match="needs a fixed map and a fixed goal"):
        _ = env.P


@pytest.mark.slow
@pytest.mark.parametrize("env_id", FAMILY_IDS)
@pytest.mark.parametrize("size", [(5, 5), (11, 11), (24, 17)])
def test_many_seeds_are_solvable_and_expert_optimal(env_id: str, size: tuple[int, int]) -> None:
    kwargs: dict[str, Any] = {} if env_id.endswith("Map-v0") else {"size": size}
    for diagonal in (False, True):
        env = GridNavEnv(**gym.spec(env_id).kwargs, **kwargs, diagonal=diagonal, obs="coords")
        for seed in range(300):
            _, info = env.reset(seed=seed)
            optimal = info["optimal_length"]
            assert math.isfinite(optimal) and optimal > 0
            terminated = False
            while not terminated:
                _, _, terminated, truncated, info = env.step(env.expert_action())
                assert not truncated
            assert info["path_length"] == pytest.approx(optimal, rel=1e-12)
