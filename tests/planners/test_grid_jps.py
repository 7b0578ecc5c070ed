"""Jump point search (backend "jps"): the same optimal costs as A* and Dijkstra, legal
full paths, and the published optima on the MovingAI maps.

Ground truth comes from scipy's Dijkstra (``GridMap.distance_field``) and from a plain
path checker written here: every step moves to an 8-neighbour, both cells are free, and a
diagonal step needs both cells it passes between free (no corner cutting).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import planners.grid
import planners.grid_backends
from planners import GridMap, NoPath, Plan
from planners.movingai import read_map, read_scen

pytestmark = pytest.mark.skipif(
    "jps" not in planners.grid.UNIFORM_BACKENDS, reason="the compiled searches were not built"
)

Cell = tuple[int, int]
QUICK_MAPS = ("empty-32-32", "random-32-32-20", "den312d")
TOLERANCE = 1e-4  # the published optimal lengths carry 8 decimals
DENSITIES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def assert_legal_path(
    occupancy: npt.NDArray[np.bool_], plan: Plan, start: Cell, goal: Cell
) -> None:
    """Start and goal right, every step a legal move, and the steps add up to the cost."""
    rows, cols = occupancy.shape

    def free(r: int, c: int) -> bool:
        return 0 <= r < rows and 0 <= c < cols and not occupancy[r, c]

    assert plan.path[0] == start
    assert plan.path[-1] == goal
    total = 0.0
    for (ar, ac), (br, bc) in itertools.pairwise(plan.path):
        dr, dc = br - ar, bc - ac
        assert max(abs(dr), abs(dc)) == 1, f"{(ar, ac)} -> {(br, bc)} is not one move"
        assert free(ar, ac) and free(br, bc), f"{(ar, ac)} -> {(br, bc)} touches a wall"
        if dr and dc:
            assert free(ar + dr, ac) and free(ar, ac + dc), (
                f"{(ar, ac)} -> {(br, bc)} cuts a corner"
            )
        total += math.sqrt(2) if dr and dc else 1.0
    assert math.isclose(total, plan.cost, rel_tol=0, abs_tol=1e-9)


def random_map(rng: np.random.Generator, density: float, size: int = 16) -> GridMap:
    rows, cols = (int(v) for v in rng.integers(1, size + 1, size=2))
    return GridMap(rng.random((rows, cols)) < density)


@pytest.mark.parametrize("density", DENSITIES)
@pytest.mark.parametrize("seed", range(4))
def test_jps_costs_equal_dijkstra_and_astar_from_one_start_to_every_cell(
    density: float, seed: int
) -> None:
    rng = np.random.default_rng([seed, int(density * 10)])
    grid = random_map(rng, density)
    free = [(int(r), int(c)) for r, c in np.argwhere(grid.free)]
    if not free:
        pytest.skip("the random map has no free cell")
    start = free[int(rng.integers(len(free)))]
    # scipy's Dijkstra; moves cost the same both ways, so cost-to-go is cost from start
    field = grid.distance_field(start)
    for goal in free:
        if np.isinf(field[goal]):
            with pytest.raises(NoPath):
                grid.plan(start, goal, backend="jps")
            continue
        jps = grid.plan(start, goal, backend="jps")
        assert math.isclose(jps.cost, field[goal], rel_tol=0, abs_tol=1e-9), goal
        assert math.isclose(jps.cost, grid.plan(start, goal, backend="astar").cost, abs_tol=1e-9)
        assert_legal_path(grid.occupancy, jps, start, goal)


@st.composite
def uniform_cases(draw: st.DrawFn) -> tuple[npt.NDArray[np.bool_], Cell, Cell]:
    rows, cols = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    density = draw(st.sampled_from(DENSITIES))
    cells = st.floats(0, 1).map(lambda x: x < density)
    occupancy = draw(arrays(np.bool_, (rows, cols), elements=cells, fill=st.nothing()))
    cell = st.tuples(st.integers(0, rows - 1), st.integers(0, cols - 1))
    start, goal = draw(cell), draw(cell)
    occupancy[start] = occupancy[goal] = False
    return occupancy, start, goal


@settings(max_examples=300, deadline=None)
@given(case=uniform_cases())
def test_jps_agrees_with_astar_on_small_maps(
    case: tuple[npt.NDArray[np.bool_], Cell, Cell],
) -> None:
    occupancy, start, goal = case
    grid = GridMap(occupancy)
    try:
        expected = grid.plan(start, goal, backend="astar")
    except NoPath:
        with pytest.raises(NoPath, match="no path from start"):
            grid.plan(start, goal, backend="jps")
        return
    jps = grid.plan(start, goal, backend="jps")
    assert math.isclose(jps.cost, expected.cost, rel_tol=0, abs_tol=1e-9)
    assert_legal_path(occupancy, jps, start, goal)
    assert jps.expanded <= expected.expanded  # jump points are a subset of A*'s work


def test_auto_takes_jps_on_uniform_8_connected_maps_only() -> None:
    resolve = planners.grid_backends.resolve_backend
    assert resolve("auto", uniform=True, connectivity=8) == "jps"
    assert resolve("auto", uniform=True, connectivity=4) == "astar"
    assert resolve("auto", uniform=False, connectivity=8) == "astar"
    # observable: on open ground A* expands the whole diagonal, JPS jumps straight there
    grid = GridMap(np.zeros((40, 40), dtype=bool))
    auto, jps = grid.plan((0, 0), (39, 39)), grid.plan((0, 0), (39, 39), backend="jps")
    assert auto.expanded == jps.expanded < 5
    assert grid.plan((0, 0), (39, 39), backend="astar").expanded >= 40


def test_uniform_terrain_scales_the_cost() -> None:
    occupancy = np.random.default_rng(3).random((20, 20)) < 0.2
    occupancy[0, 0] = occupancy[19, 19] = False
    grid = GridMap(occupancy, np.full((20, 20), 2.5))
    astar = grid.plan((0, 0), (19, 19), backend="astar")
    jps = grid.plan((0, 0), (19, 19), backend="jps")
    assert math.isclose(jps.cost, astar.cost, rel_tol=1e-12)
    assert math.isclose(jps.cost, grid.path_cost(jps.path), rel_tol=1e-12)
    assert grid.plan((0, 0), (19, 19)).cost == jps.cost  # auto takes JPS here


def test_blocked_cells_may_hold_other_terrain_and_stay_uniform() -> None:
    grid = GridMap([[0, 1, 0], [0, 0, 0]], [[3.0, 99.0, 3.0], [3.0, 3.0, 3.0]])
    # around the wall, no corner cut: four straight moves at cost 3
    assert grid.plan((0, 0), (0, 2), backend="jps").cost == pytest.approx(12.0)


@pytest.mark.parametrize(
    ("terrain", "connectivity", "why"),
    [
        ([[1.0, 2.0], [1.0, 1.0]], 8, "terrain costs that differ between cells"),
        (None, 4, "connectivity=4"),
    ],
)
def test_jps_refuses_maps_it_cannot_search(
    terrain: list[list[float]] | None, connectivity: int, why: str
) -> None:
    grid = GridMap(np.zeros((2, 2), dtype=bool), terrain)
    message = f"backend 'jps' .*needs 8-connected moves on a map of uniform cost, got {why}"
    with pytest.raises(ValueError, match=message):
        grid.plan((0, 0), (1, 1), connectivity=connectivity, backend="jps")  # type: ignore[arg-type]


def test_jps_walls_and_start_equal_to_goal() -> None:
    grid = GridMap.from_ascii(
        """
        .#.
        .#.
        """
    )
    with pytest.raises(NoPath, match=r"no path from start \(0, 0\) to goal \(1, 2\)"):
        grid.plan((0, 0), (1, 2), backend="jps")
    same = grid.plan((1, 0), (1, 0), backend="jps")
    assert (same.path, same.cost) == ([(1, 0)], 0.0)


def test_jps_does_not_cut_corners() -> None:
    grid = GridMap.from_ascii(
        """
        .#
        ..
        """
    )
    assert grid.plan((0, 0), (1, 1), backend="jps").path == [(0, 0), (1, 0), (1, 1)]


def test_jps_scans_lines_longer_than_one_word() -> None:
    # straight jumps read 64 cells at a time: walls and goals past a word boundary
    occupancy = np.zeros((3, 200), dtype=bool)
    occupancy[0, 130] = True  # a forced neighbour at column 131 of row 1
    grid = GridMap(occupancy)
    for goal in [(1, 63), (1, 64), (1, 127), (1, 128), (1, 199), (2, 199), (0, 199)]:
        plan = grid.plan((1, 0), goal, backend="jps")
        assert plan.cost == pytest.approx(grid.plan((1, 0), goal, backend="astar").cost)
        assert_legal_path(occupancy, plan, (1, 0), goal)
    tall = GridMap(occupancy.T.copy())
    plan = tall.plan((0, 1), (199, 0), backend="jps")
    assert plan.cost == pytest.approx(tall.plan((0, 1), (199, 0), backend="astar").cost)


def test_jps_query_stamps_wrap_around() -> None:
    # White-box, as for A*: stamps start over near 2**32 and the answers must not change.
    grid = GridMap.from_ascii(
        """
        ....
        .##.
        ....
        """
    )
    expected = grid.distance_field((0, 0))
    grid.plan((0, 0), (2, 3), backend="jps")
    grid._astar.mark = 0xFFFFFFFF - 6
    for _ in range(6):
        for goal in [(2, 3), (1, 0), (0, 3)]:
            assert grid.plan((0, 0), goal, backend="jps").cost == pytest.approx(expected[goal])


@pytest.mark.parametrize("name", QUICK_MAPS)
def test_jps_meets_every_published_optimum_on_the_quick_maps(movingai_dir: Path, name: str) -> None:
    grid = read_map(movingai_dir / f"{name}.map")
    for scenario in read_scen(movingai_dir / f"{name}-random-1.scen"):
        plan = grid.plan(scenario.start, scenario.goal, backend="jps")
        assert abs(plan.cost - scenario.optimal_length) <= TOLERANCE, scenario
        assert_legal_path(grid.occupancy, plan, scenario.start, scenario.goal)


def test_jps_meets_every_published_optimum_on_every_map(movingai_dir: Path) -> None:
    for scen in sorted(movingai_dir.glob("*.scen")):
        scenarios = read_scen(scen)
        grid = read_map(movingai_dir / scenarios[0].map_name)
        costs = grid.plan_many(
            [s.start for s in scenarios], [s.goal for s in scenarios], backend="jps"
        )
        optimum = np.array([s.optimal_length for s in scenarios])
        worst = int(np.argmax(np.abs(costs - optimum)))
        assert abs(costs[worst] - optimum[worst]) <= TOLERANCE, (scen.name, scenarios[worst])
