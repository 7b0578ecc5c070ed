"""GridMap.plan's compiled fast path and the Plan it returns.

A compiled backend checks the cells, searches and builds the :class:`~planners.Plan` in
one C call, and leaves anything but a ``(row, col)`` tuple or list of ints on the map and
free to the Python checks, which word the errors. These tests hold the fast path to the
slow one: same plans from every way of giving a cell, same errors, and a Plan from C that
behaves as one built in Python (its path is unpacked when first read).
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from planners import GridMap, NoPath, Plan
from planners.grid import ALL_BACKENDS

COMPILED = [b for b in ALL_BACKENDS if b != "dijkstra"]
needs_compiled = pytest.mark.skipif(not COMPILED, reason="compiled searches not built")


def random_grid(rng: np.random.Generator, rows: int, cols: int) -> GridMap:
    return GridMap(rng.random((rows, cols)) < 0.3)


def free_pairs(grid: GridMap, n: int, rng: np.random.Generator) -> list[tuple[Any, Any]]:
    free = np.argwhere(grid.free)
    picks = rng.integers(0, len(free), size=(n, 2))
    return [(free[i], free[j]) for i, j in picks]


@needs_compiled
@pytest.mark.parametrize("seed", range(4))
def test_every_way_of_giving_a_cell_plans_the_same(seed: int, plan: Any) -> None:
    # tuples and lists of ints take the C checks; numpy ints go through check_cell first
    rng = np.random.default_rng(seed)
    grid = random_grid(rng, int(rng.integers(5, 40)), int(rng.integers(5, 40)))
    for s, g in free_pairs(grid, 30, rng):
        forms = [
            (tuple(int(v) for v in s), tuple(int(v) for v in g)),
            ([int(v) for v in s], [int(v) for v in g]),
            (s, g),  # numpy int64 arrays
            (tuple(s), tuple(g)),  # tuples of numpy ints
        ]
        results = []
        for start, goal in forms:
            try:
                results.append(plan(grid, start, goal))
            except NoPath as error:
                results.append(str(error))
        assert all(r == results[0] for r in results[1:]), results
        if isinstance(results[0], Plan):
            assert len({r.expanded for r in results}) == 1  # type: ignore[union-attr]


@needs_compiled
@pytest.mark.parametrize("seed", range(3))
def test_plan_agrees_with_plan_many_and_dijkstra(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    grid = random_grid(rng, 33, 29)
    pairs = free_pairs(grid, 60, rng)
    starts = np.array([s for s, _ in pairs])
    goals = np.array([g for _, g in pairs])
    for backend in COMPILED:
        costs, paths = grid.plan_many(starts, goals, backend=backend, paths=True)
        for (s, g), cost, path in zip(pairs, costs, paths, strict=True):
            start, goal = tuple(int(v) for v in s), tuple(int(v) for v in g)
            if not np.isfinite(cost):
                with pytest.raises(NoPath):
                    grid.plan(start, goal, backend=backend)
                continue
            result = grid.plan(start, goal, backend=backend)
            assert result.cost == cost
            assert result.path == [tuple(c) for c in path.tolist()]
            expected = grid.plan(start, goal, backend="dijkstra").cost
            assert result.cost == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ([2, 0], r"\(2, 0\) is outside the 2x3 map"),
        ((2**70, 0), r"\(1180591620717411303424, 0\) is outside the 2x3 map"),
        ((0, -(2**70)), r"\(0, -1180591620717411303424\) is outside the 2x3 map"),
        ([0, 2], r"\(0, 2\) is a blocked cell"),
        ((np.int8(0), np.uint64(2)), r"\(0, 2\) is a blocked cell"),
        ([0.0, 1], r"must be a \(row, col\) pair of integers, got \[0\.0, 1\]"),
        ((0, "1"), r"must be a \(row, col\) pair of integers, got \(0, '1'\)"),
        ([0], r"must be a \(row, col\) pair of integers, got \[0\]"),
        ((), r"must be a \(row, col\) pair of integers, got \(\)"),
    ],
)
@pytest.mark.parametrize("which", ["start", "goal"])
def test_cells_the_fast_path_refuses_raise_the_python_errors(
    plan: Any, which: str, cell: Any, message: str
) -> None:
    grid = GridMap.from_ascii("..#\n...")
    start, goal = (cell, (1, 1)) if which == "start" else ((1, 1), cell)
    for _ in range(2):  # before and after the route is cached
        with pytest.raises(ValueError, match=f"^{which} {message}"):
            plan(grid, start, goal)


def test_bool_cells_count_as_ints_as_before(plan: Any) -> None:
    grid = GridMap.from_ascii("...\n...")
    assert plan(grid, (True, False), (0, 2)) == plan(grid, (1, 0), (0, 2))


def test_no_path_is_raised_with_the_cells_named(plan: Any) -> None:
    grid = GridMap.from_ascii(".#.\n.#.")
    message = re.escape("no path from start (0, 0) to goal (1, 2) on <GridMap 2x3, 4 free")
    for goal in [(1, 2), [1, 2], (np.int64(1), np.int64(2))]:
        with pytest.raises(NoPath, match=message):
            plan(grid, (0, 0), goal)


def test_a_plan_from_the_search_behaves_as_one_built_in_python(plan: Any) -> None:
    grid = GridMap.from_ascii("....\n.#..\n....")
    found = plan(grid, (0, 0), (2, 3))
    assert len(found) == 4  # before the path is read
    built = Plan(list(found.path), found.cost, found.expanded)
    assert found == built and built == found
    assert found != Plan(found.path, found.cost + 1.0)
    assert found.__eq__("a plan") is NotImplemented
    assert repr(found) == repr(built)
    assert repr(found).startswith("Plan(path=[(0, 0), ")
    assert found.path is found.path  # unpacked once
    assert all(type(v) is int for cell in found.path for v in cell)
    for clone in (copy.copy(found), copy.deepcopy(found), pickle.loads(pickle.dumps(found))):
        assert clone == found and clone.expanded == found.expanded
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.cost = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        del found.path
    with pytest.raises(TypeError, match="unhashable"):
        hash(found)


def test_start_equal_to_goal_is_a_plan_of_no_moves(plan: Any) -> None:
    found = plan(GridMap.from_ascii("..\n.."), [1, 1], (1, 1))
    assert (found.path, found.cost, len(found)) == ([(1, 1)], 0.0, 0)


@needs_compiled
@pytest.mark.parametrize("size", [20, 70])  # 70 x 70: the search lets other threads run
def test_threads_planning_on_one_map_get_the_distance_field(size: int) -> None:
    rng = np.random.default_rng(size)
    occupancy = rng.random((size, size)) < 0.25
    occupancy[0, 0] = False
    grid = GridMap(occupancy)
    field = grid.distance_field((0, 0))
    goals = [tuple(int(v) for v in cell) for cell in np.argwhere(np.isfinite(field))]

    def costs(backend: str) -> list[float]:
        return [grid.plan((0, 0), goal, backend=backend).cost for goal in goals]

    with ThreadPoolExecutor(4) as pool:
        for result in pool.map(costs, COMPILED * 3):
            np.testing.assert_allclose(result, [field[g] for g in goals], atol=1e-9)
