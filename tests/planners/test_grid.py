"""GridMap: plans are optimal, legal and agree with networkx on random grids.

Move legality and cost are recomputed here by a deliberately plain implementation (a
loop over the 3x3 neighbourhood), independent of the vectorised and compiled code in
``planners.grid``: a move from ``a`` to ``b`` costs ``step * (terrain[a] + terrain[b]) / 2``
with ``step`` 1 or sqrt(2), and a diagonal move needs both cardinal cells it passes
between to be free (no corner cutting).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import planners
import planners.grid
from planners import GridMap, NoPath, Plan

Cell = tuple[int, int]
PlanFunction = Callable[..., Plan]
PROPERTY = settings(max_examples=150, deadline=None)
CONNECTIVITY = pytest.mark.parametrize("connectivity", [4, 8])


class GridCase:
    """Occupancy, optional terrain, and a start and goal on free cells."""

    # a plain class: hypothesis prints it through __repr__, as an ASCII picture
    def __init__(
        self, occupancy: npt.NDArray[np.bool_], terrain: npt.NDArray[np.float64] | None,
        start: Cell, goal: Cell,
    ) -> None:  # fmt: skip
        self.occupancy, self.terrain, self.start, self.goal = occupancy, terrain, start, goal

    def grid(self) -> GridMap:
        return GridMap(self.occupancy, self.terrain)

    def cost_of(self, cell: Cell) -> float:
        return 1.0 if self.terrain is None else float(self.terrain[cell])

    def __repr__(self) -> str:
        picture = "\n".join("".join("#" if b else "." for b in row) for row in self.occupancy)
        terrain = "None" if self.terrain is None else np.array2string(self.terrain, precision=17)
        return f"GridCase(start={self.start}, goal={self.goal})\n{picture}\nterrain={terrain}"


@st.composite
def grid_cases(draw: st.DrawFn, *, with_terrain: bool | None = None) -> GridCase:
    rows, cols = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    # fill=nothing() draws every cell: the default fill makes mostly uniform grids
    density = draw(st.sampled_from([0.1, 0.25, 0.4]))
    cells = st.floats(0, 1).map(lambda x: x < density)
    occupancy = draw(arrays(np.bool_, (rows, cols), elements=cells, fill=st.nothing()))
    if with_terrain is None:
        with_terrain = draw(st.booleans())
    terrain = None
    if with_terrain:
        terrain = draw(arrays(np.float64, (rows, cols), elements=st.floats(1, 5)))
    cell = st.tuples(st.integers(0, rows - 1), st.integers(0, cols - 1))
    start, goal = draw(cell), draw(cell)
    occupancy[start] = occupancy[goal] = False
    return GridCase(occupancy, terrain, start, goal)


def reference_moves(case: GridCase, connectivity: int) -> dict[tuple[Cell, Cell], float]:
    """Every legal move ``(a, b)`` and its cost, by the rules in the module docstring."""
    occ = case.occupancy
    rows, cols = occ.shape

    def blocked(r: int, c: int) -> bool:
        return not (0 <= r < rows and 0 <= c < cols) or bool(occ[r, c])

    moves = {}
    for r, c in itertools.product(range(rows), range(cols)):
        if blocked(r, c):
            continue
        for dr, dc in itertools.product((-1, 0, 1), repeat=2):
            diagonal = dr != 0 and dc != 0
            if (dr, dc) == (0, 0) or (diagonal and connectivity == 4):
                continue
            if blocked(r + dr, c + dc):
                continue
            if diagonal and (blocked(r + dr, c) or blocked(r, c + dc)):
                continue  # would cut a corner
            step = math.sqrt(2) if diagonal else 1.0
            cost = step * (case.cost_of((r, c)) + case.cost_of((r + dr, c + dc))) / 2
            moves[(r, c), (r + dr, c + dc)] = cost
    return moves


def assert_legal_path(case: GridCase, result: Plan, connectivity: int) -> None:
    """The plan starts and ends right, makes only legal moves, and its cost adds up."""
    moves = reference_moves(case, connectivity)
    path = [tuple(cell) for cell in result.path]
    assert path[0] == case.start
    assert path[-1] == case.goal
    assert all(type(v) is int for cell in path for v in cell)
    total = 0.0
    for a, b in itertools.pairwise(path):
        assert (a, b) in moves, f"illegal move {a} -> {b}"
        total += moves[a, b]
    assert math.isclose(total, result.cost, rel_tol=0, abs_tol=1e-9)
    assert len(result) == len(path) - 1


# ---------------------------------------------------------------------- properties


@CONNECTIVITY
@PROPERTY
@given(case=grid_cases())
def test_plan_is_optimal_and_legal(case: GridCase, connectivity: int, plan: PlanFunction) -> None:
    grid = case.grid()
    try:
        expected = nx.dijkstra_path_length(grid.to_networkx(connectivity), case.start, case.goal)
    except nx.NetworkXNoPath:
        with pytest.raises(NoPath, match="no path from start"):
            plan(grid, case.start, case.goal, connectivity=connectivity)
        return
    result = plan(grid, case.start, case.goal, connectivity=connectivity)
    assert math.isclose(result.cost, expected, rel_tol=0, abs_tol=1e-9)
    assert_legal_path(case, result, connectivity)


@CONNECTIVITY
@PROPERTY
@given(case=grid_cases())
def test_to_networkx_has_exactly_the_legal_moves(case: GridCase, connectivity: int) -> None:
    G = GridMap(case.occupancy, case.terrain).to_networkx(connectivity)
    moves = reference_moves(case, connectivity)
    free = {(int(r), int(c)) for r, c in np.argwhere(~case.occupancy)}
    assert set(G.nodes) == free
    assert G.number_of_nodes() == int((~case.occupancy).sum())
    assert G.number_of_edges() == len(moves) // 2  # every move has its reverse
    for (a, b), cost in moves.items():
        assert G.has_edge(a, b), f"missing move {a} -> {b}"
        assert math.isclose(G[a][b]["weight"], cost, rel_tol=0, abs_tol=1e-12)


@CONNECTIVITY
@PROPERTY
@given(case=grid_cases(), data=st.data())
def test_distance_field_matches_networkx(
    case: GridCase, connectivity: int, data: st.DataObject
) -> None:
    grid = case.grid()
    free = [(int(r), int(c)) for r, c in np.argwhere(~case.occupancy)]
    goals = data.draw(st.lists(st.sampled_from(free), min_size=1, max_size=3))
    lengths = nx.multi_source_dijkstra_path_length(grid.to_networkx(connectivity), set(goals))
    expected = np.full(case.occupancy.shape, np.inf)
    for cell, cost in lengths.items():
        expected[cell] = cost
    field = grid.distance_field(goals, connectivity=connectivity)
    assert field.shape == case.occupancy.shape
    assert field.dtype == np.float64
    np.testing.assert_allclose(field, expected, rtol=0, atol=1e-9)  # inf must match inf
    np.testing.assert_array_equal(
        planners.distance_field(grid, goals, connectivity=connectivity), field
    )


@PROPERTY
@given(case=grid_cases())
def test_many_queries_on_one_map_agree_with_its_distance_field(
    case: GridCase, plan: PlanFunction
) -> None:
    # One map answers many queries in a row (the compiled search reuses its work buffer
    # between queries): every answer must match the distance field from the start.
    grid = case.grid()
    field = grid.distance_field(case.start)
    for r, c in np.argwhere(~case.occupancy):
        goal = (int(r), int(c))
        if np.isinf(field[goal]):
            with pytest.raises(NoPath):
                plan(grid, case.start, goal)
        else:
            assert math.isclose(plan(grid, case.start, goal).cost, field[goal], abs_tol=1e-9)


# ---------------------------------------------------------------------- examples


def test_open_grid_counts_and_costs(plan: PlanFunction) -> None:
    grid = GridMap(np.zeros((3, 3), dtype=bool))
    assert grid.to_networkx(4).number_of_edges() == 12
    assert grid.to_networkx(8).number_of_edges() == 12 + 8
    assert grid.to_networkx(8).number_of_nodes() == 9
    assert plan(grid, (0, 0), (2, 2)).cost == pytest.approx(2 * math.sqrt(2))
    assert plan(grid, (0, 0), (2, 2), connectivity=4).cost == 4.0


def test_no_corner_cutting(plan: PlanFunction) -> None:
    grid = GridMap.from_ascii(
        """
        .#
        ..
        """
    )
    # (0, 0) -> (1, 1) would squeeze past the wall at (0, 1): two straight moves instead
    assert plan(grid, (0, 0), (1, 1)).path == [(0, 0), (1, 0), (1, 1)]
    # the anti-diagonal (1, 0) <-> (0, 1) does not exist: (0, 1) is blocked anyway, and
    # a single blocked corner is enough to forbid a diagonal
    assert not grid.to_networkx().has_edge((0, 0), (1, 1))


def test_terrain_cost_is_the_mean_of_both_cells(plan: PlanFunction) -> None:
    grid = GridMap.from_ascii("13")
    assert plan(grid, (0, 0), (0, 1)).cost == 2.0
    # diagonal moves average their two end cells only, not the corners passed between
    diagonal = GridMap([[0, 0], [0, 0]], [[1, 5], [5, 3]])
    assert plan(diagonal, (0, 0), (1, 1)).cost == pytest.approx(math.sqrt(2) * 2)


def test_start_equal_to_goal(plan: PlanFunction) -> None:
    grid = GridMap([[False]])
    result = plan(grid, (0, 0), (0, 0))
    assert result.path == [(0, 0)]
    assert result.cost == 0.0
    assert len(result) == 0


def test_walled_off_goal_raises_no_path(plan: PlanFunction) -> None:
    grid = GridMap.from_ascii(
        """
        .#.
        .#.
        """
    )
    with pytest.raises(NoPath, match=r"no path from start \(0, 0\) to goal \(1, 2\)"):
        plan(grid, (0, 0), (1, 2))
    # code written against networkx catches it too
    with pytest.raises(nx.NetworkXNoPath):
        plan(grid, (0, 0), (1, 2), connectivity=4)


def test_numpy_integers_are_accepted_as_cells(plan: PlanFunction) -> None:
    grid = GridMap(np.zeros((2, 2), dtype=bool))
    result = plan(grid, np.array([0, 0]), (np.int64(1), np.int32(1)))
    assert result.path[-1] == (1, 1)
    assert all(type(v) is int for cell in result.path for v in cell)


def test_plans_stay_right_across_queries_and_threads(plan: PlanFunction) -> None:
    rng = np.random.default_rng(0)
    occupancy = rng.random((30, 30)) < 0.25
    occupancy[0, 0] = False
    grid = GridMap(occupancy)
    field = grid.distance_field((0, 0))
    goals = [tuple(int(v) for v in cell) for cell in np.argwhere(np.isfinite(field))]

    def cost(goal: Cell) -> float:
        return plan(grid, goal, (0, 0)).cost

    with ThreadPoolExecutor(4) as pool:
        costs = list(pool.map(cost, goals * 3))
    np.testing.assert_allclose(costs, [field[g] for g in goals * 3], atol=1e-9)


@pytest.mark.skipif("astar" not in getattr(planners.grid, "BACKENDS", ()), reason="no C A*")
def test_astar_query_stamps_wrap_around() -> None:
    # White-box: the compiled A* tells queries apart by a 32-bit stamp per cell and
    # starts over when the stamps would overflow; the answers must not change there.
    grid = GridMap.from_ascii(
        """
        ....
        .##.
        ....
        """
    )
    expected = grid.distance_field((0, 0))
    grid.plan((0, 0), (2, 3), backend="astar")
    grid._astar.mark = 0xFFFFFFFF - 6
    for _ in range(6):
        for goal in [(2, 3), (1, 0), (0, 3)]:
            result = grid.plan((0, 0), goal, backend="astar")
            assert result.cost == pytest.approx(expected[goal])
            assert result.path[0] == (0, 0)


# ---------------------------------------------------------------------- errors


@pytest.fixture
def small_grid() -> GridMap:
    return GridMap.from_ascii(
        """
        ..#
        ...
        """
    )


@pytest.mark.parametrize("which", ["start", "goal"])
@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ((2, 0), r"\(2, 0\) is outside the 2x3 map \(rows 0..1, cols 0..2\)"),
        ((0, 3), r"\(0, 3\) is outside the 2x3 map"),
        ((-1, 0), r"\(-1, 0\) is outside the 2x3 map"),
        ((0, 2), r"\(0, 2\) is a blocked cell"),
        ((0.5, 1), r"must be a \(row, col\) pair of integers, got \(0\.5, 1\)"),
        ((1.0, 1), r"must be a \(row, col\) pair of integers, got \(1\.0, 1\)"),
        ((0, 0, 0), r"must be a \(row, col\) pair of integers, got \(0, 0, 0\)"),
        ("ab", r"must be a \(row, col\) pair of integers, got 'ab'"),
        (None, r"must be a \(row, col\) pair of integers, got None"),
        (3, r"must be a \(row, col\) pair of integers, got 3"),
    ],
)
def test_bad_start_or_goal(
    small_grid: GridMap, plan: PlanFunction, which: str, cell: Any, message: str
) -> None:
    start, goal = (cell, (1, 1)) if which == "start" else ((1, 1), cell)
    with pytest.raises(ValueError, match=f"^{which} {message}"):
        plan(small_grid, start, goal)


@pytest.mark.parametrize("connectivity", [0, 6, "8", None])
def test_bad_connectivity(small_grid: GridMap, plan: PlanFunction, connectivity: Any) -> None:
    message = re.escape(f"connectivity must be 4 or 8, got {connectivity!r}")
    with pytest.raises(ValueError, match=message):
        plan(small_grid, (0, 0), (1, 2), connectivity=connectivity)
    with pytest.raises(ValueError, match=message):  # even when there is nothing to search
        plan(small_grid, (0, 0), (0, 0), connectivity=connectivity)
    with pytest.raises(ValueError, match=message):
        small_grid.to_networkx(connectivity)
    with pytest.raises(ValueError, match=message):
        small_grid.distance_field((0, 0), connectivity=connectivity)


@pytest.mark.skipif(not hasattr(planners.grid, "BACKENDS"), reason="no backend keyword yet")
def test_unknown_backend(small_grid: GridMap) -> None:
    with pytest.raises(ValueError, match=r"backend must be one of \('auto', .*got 'fast'"):
        small_grid.plan((0, 0), (1, 2), backend="fast")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("goals", "message"),
    [
        ([], "goals is empty"),
        ([(0, 0), (0, 2)], r"goal \(0, 2\) is a blocked cell"),
        ((5, 5), r"goal \(5, 5\) is outside the 2x3 map"),
    ],
)
def test_bad_distance_field_goals(small_grid: GridMap, goals: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        small_grid.distance_field(goals)


@pytest.mark.parametrize(
    ("occupancy", "message"),
    [
        (np.zeros(3, dtype=bool), r"2-D array with at least one cell, got shape \(3,\)"),
        (np.zeros((2, 2, 2), dtype=bool), r"2-D array .* got shape \(2, 2, 2\)"),
        (np.zeros((0, 3), dtype=bool), r"at least one cell, got shape \(0, 3\)"),
        (np.zeros((3, 0), dtype=bool), r"at least one cell, got shape \(3, 0\)"),
        ([[0, 2]], r"occupancy must be boolean \(True = blocked\) or contain only 0/1"),
        ([[0.0, 0.5]], r"occupancy must be boolean"),
        ([["a", "b"]], r"occupancy must be boolean"),
    ],
)
def test_bad_occupancy(occupancy: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GridMap(occupancy)


def test_zero_one_occupancy_is_accepted() -> None:
    assert GridMap([[0, 1]]) == GridMap(np.array([[False, True]]))
    assert GridMap(np.array([[0.0, 1.0]])).occupancy.dtype == bool


def test_terrain_shape_mismatch() -> None:
    with pytest.raises(
        ValueError, match=r"terrain has shape \(2, 2\) but occupancy has shape \(2, 3\)"
    ):
        GridMap(np.zeros((2, 3), dtype=bool), np.ones((2, 2)))


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_non_positive_or_non_finite_terrain(bad: float) -> None:
    terrain = np.ones((2, 3))
    terrain[1, 2] = bad
    with pytest.raises(
        ValueError, match=r"terrain must be finite and > 0 on free cells; cell \(1, 2\) has"
    ):
        GridMap(np.zeros((2, 3), dtype=bool), terrain)


def test_blocked_cells_may_have_any_terrain() -> None:
    grid = GridMap([[0, 1]], [[2.0, 0.0]])
    assert grid.plan((0, 0), (0, 0)).cost == 0.0


# ---------------------------------------------------------------------- from_ascii


def test_from_ascii_reads_cells_and_terrain() -> None:
    grid = GridMap.from_ascii(
        """
        S.#@
        O29G
        TW..
        """
    )
    assert grid.shape == (3, 4)
    np.testing.assert_array_equal(
        grid.occupancy,
        [[False, False, True, True], [True, False, False, False], [True, True, False, False]],
    )
    assert grid.terrain is not None
    assert grid.terrain[1, 1] == 2.0
    assert grid.terrain[1, 2] == 9.0
    assert GridMap.from_ascii("..\n..").terrain is None  # all-1 terrain is no terrain


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("...\n..\n...", r"line 2 has 2 cells, expected 3"),
        ("..\n...", r"line 2 has 3 cells, expected 2"),
        ("...\n.x.", r"line 2, column 2: unknown character 'x'"),
        ("x..", r"line 1, column 1: unknown character 'x'"),
        ("..0", r"line 1, column 3: unknown character '0'"),
        (". .", r"line 1, column 2: unknown character ' '"),
    ],
)
def test_from_ascii_errors_name_line_and_column(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GridMap.from_ascii(text)


@pytest.mark.parametrize("text", ["", "\n\n", "   \n  \n"])
def test_from_ascii_empty_map(text: str) -> None:
    with pytest.raises(ValueError, match="ASCII map is empty"):
        GridMap.from_ascii(text)


def test_gridmap_copies_and_pickles_after_planning() -> None:
    import copy
    import pickle

    grid = GridMap.from_ascii("...\n.#.\n...")
    first = grid.plan((0, 0), (2, 2))
    for clone in (copy.deepcopy(grid), pickle.loads(pickle.dumps(grid))):
        assert clone == grid
        assert clone.plan((0, 0), (2, 2)) == first
