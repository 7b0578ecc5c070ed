"""GridMap.plan_many: one call, many queries, the same answers as a loop of plan()."""

from __future__ import annotations

import math
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import planners.grid
import planners.grid_backends
from planners import GridMap, NoPath

ALL = planners.grid.ALL_BACKENDS


def random_queries(
    grid: GridMap, n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    free = np.argwhere(grid.free)
    return free[rng.integers(len(free), size=n)], free[rng.integers(len(free), size=n)]


def loop_of_plans(
    grid: GridMap, starts: Any, goals: Any, **options: Any
) -> tuple[list[float], list[list[tuple[int, int]]]]:
    costs, paths = [], []
    for s, g in zip(starts, goals, strict=True):
        try:
            plan = grid.plan(tuple(s), tuple(g), **options)
        except NoPath:
            costs.append(math.inf)
            paths.append([])
        else:
            costs.append(plan.cost)
            paths.append(plan.path)
    return costs, paths


# every backend built here on every kind of map it takes (jps: uniform cost, 8-connected)
CASES = [
    (backend, connectivity, terrain)
    for backend in ("auto", *ALL)
    for connectivity in (4, 8)
    for terrain in (False, True)
    if backend != "jps" or (connectivity == 8 and not terrain)
]


@pytest.mark.parametrize(("backend", "connectivity", "terrain"), CASES)
@pytest.mark.parametrize("density", [0.0, 0.2, 0.45])
def test_plan_many_equals_a_loop_of_plan(
    backend: str, connectivity: int, terrain: bool, density: float
) -> None:
    rng = np.random.default_rng([int(density * 100), connectivity, terrain])
    occupancy = rng.random((17, 23)) < density
    occupancy[0, 0] = False
    grid = GridMap(occupancy, rng.uniform(1, 4, occupancy.shape) if terrain else None)
    starts, goals = random_queries(grid, 60, rng)
    options: dict[str, Any] = {"connectivity": connectivity, "backend": backend}
    expected_costs, expected_paths = loop_of_plans(grid, starts, goals, **options)

    costs = grid.plan_many(starts, goals, **options)
    assert costs.dtype == np.float64
    assert costs.shape == (60,)
    np.testing.assert_array_equal(costs, expected_costs)  # inf where no path, same bits else

    costs_too, paths = grid.plan_many(starts, goals, paths=True, **options)
    np.testing.assert_array_equal(costs_too, costs)
    assert len(paths) == 60
    for path, expected in zip(paths, expected_paths, strict=True):
        assert path.dtype == np.int64
        assert path.shape == (len(expected), 2) if expected else path.shape == (0, 2)
        assert [tuple(cell) for cell in path.tolist()] == expected


def test_sequences_of_pairs_and_other_integer_types_are_accepted() -> None:
    grid = GridMap(np.zeros((4, 4), dtype=bool))
    expected = grid.plan_many(np.array([[0, 0], [3, 3]]), np.array([[3, 3], [3, 0]]))
    np.testing.assert_array_equal(grid.plan_many([(0, 0), (3, 3)], [[3, 3], (3, 0)]), expected)
    starts32 = np.array([[0, 0], [3, 3]], dtype=np.int32)
    goals8 = np.array([[3, 3], [3, 0]], dtype=np.uint8)
    np.testing.assert_array_equal(grid.plan_many(starts32, goals8), expected)
    np.testing.assert_allclose(expected, [3 * math.sqrt(2), 3.0])


def test_no_queries_give_empty_results() -> None:
    grid = GridMap(np.zeros((2, 2), dtype=bool))
    assert grid.plan_many([], []).shape == (0,)
    costs, paths = grid.plan_many(
        np.zeros((0, 2), dtype=int), np.zeros((0, 2), dtype=int), paths=True
    )
    assert costs.shape == (0,)
    assert paths == []


def test_unreachable_goals_cost_inf_and_have_empty_paths() -> None:
    grid = GridMap.from_ascii(".#.")
    costs, paths = grid.plan_many([(0, 0), (0, 0)], [(0, 2), (0, 0)], paths=True)
    np.testing.assert_array_equal(costs, [np.inf, 0.0])
    assert paths[0].shape == (0, 2)
    assert paths[1].tolist() == [[0, 0]]


@pytest.mark.parametrize("backend", ALL)
def test_a_batch_of_only_unreachable_goals_still_has_a_path_per_query(backend: str) -> None:
    # no cell at all to return: each query still gets its empty (0, 2) path
    grid = GridMap.from_ascii(".#.")
    costs, paths = grid.plan_many([(0, 0), (0, 2)], [(0, 2), (0, 0)], backend=backend, paths=True)
    np.testing.assert_array_equal(costs, [np.inf, np.inf])
    assert [p.shape for p in paths] == [(0, 2), (0, 2)]


@pytest.mark.parametrize(
    ("starts", "goals", "message"),
    [
        (
            [0, 0],
            [(1, 1)],
            r"starts must be an \(n, 2\) array of \(row, col\) pairs, got shape \(2,\)",
        ),
        ([(0, 0)], [(1, 1, 1)], r"goals must be an \(n, 2\) array .* got shape \(1, 3\)"),
        ([(0.0, 0.0)], [(1, 1)], r"starts must hold integers, got dtype float64"),
        ([(0, 0), (5, 0)], [(1, 1), (1, 1)], r"starts\[1\] \(5, 0\) is outside the 2x3 map"),
        ([(0, 0)], [(0, -1)], r"goals\[0\] \(0, -1\) is outside the 2x3 map \(rows 0..1"),
        ([(0, 0)], [(0, 2)], r"goals\[0\] \(0, 2\) is a blocked cell"),
        (
            [(0, 0), (1, 1)],
            [(1, 1)],
            r"starts and goals must hold as many cells, got 2 starts and 1 goals",
        ),
    ],
)
def test_bad_queries_are_named(starts: Any, goals: Any, message: str) -> None:
    grid = GridMap.from_ascii("..#\n...")
    with pytest.raises(ValueError, match=message):
        grid.plan_many(starts, goals)


def test_bad_connectivity_and_backend_are_named() -> None:
    grid = GridMap(np.zeros((2, 2), dtype=bool), [[1.0, 2.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match=re.escape("connectivity must be 4 or 8, got 6")):
        grid.plan_many([(0, 0)], [(1, 1)], connectivity=6)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match=r"backend must be one of \('auto', .*got 'fast'"):
        grid.plan_many([(0, 0)], [(1, 1)], backend="fast")  # type: ignore[call-overload]
    if "jps" in ALL:
        with pytest.raises(ValueError, match=r"backend 'jps' .*terrain costs that differ"):
            grid.plan_many([(0, 0)], [(1, 1)], backend="jps")


@pytest.mark.parametrize("backend", [b for b in ALL if b != "dijkstra"])
def test_a_batch_across_the_restart_of_the_stamps_keeps_paths_in_order(backend: str) -> None:
    # White-box: stamps are 32-bit; a mark near 2**32 makes them start over mid-batch.
    rng = np.random.default_rng(7)
    occupancy = rng.random((12, 12)) < 0.25
    grid = GridMap(occupancy)
    starts, goals = random_queries(grid, 11, rng)
    expected_costs, expected_paths = loop_of_plans(grid, starts, goals, backend=backend)
    grid._astar.mark = 0xFFFFFFFF - 8
    costs, paths = grid.plan_many(starts, goals, backend=backend, paths=True)
    np.testing.assert_array_equal(costs, expected_costs)
    assert [[tuple(c) for c in p.tolist()] for p in paths] == expected_paths


def test_threads_share_one_map() -> None:
    rng = np.random.default_rng(1)
    occupancy = rng.random((30, 30)) < 0.25
    occupancy[0, 0] = False
    grid = GridMap(occupancy)
    field = grid.distance_field((0, 0))
    goals = np.argwhere(grid.free)
    starts = np.zeros_like(goals)

    def costs(_: int) -> npt.NDArray[np.float64]:
        return grid.plan_many(starts, goals)

    with ThreadPoolExecutor(4) as pool:
        for result in pool.map(costs, range(8)):
            np.testing.assert_allclose(result, field[goals[:, 0], goals[:, 1]], atol=1e-9)


def test_without_the_compiled_searches_dijkstra_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The install without a C compiler: "auto" falls back to scipy's Dijkstra.
    monkeypatch.setattr(planners.grid_backends, "_gridsearch", None)
    monkeypatch.setattr(planners.grid_backends, "ALL_BACKENDS", ("dijkstra",))
    grid = GridMap.from_ascii("...\n.#.\n...")
    costs, paths = grid.plan_many([(0, 0), (0, 0)], [(2, 2), (0, 0)], paths=True)
    np.testing.assert_allclose(costs, [4.0, 0.0])
    assert paths[0].shape == (5, 2)
    assert grid.plan((0, 0), (2, 2)).cost == 4.0
    with pytest.raises(ValueError, match="not built"):
        grid.plan((0, 0), (2, 2), backend="jps")
