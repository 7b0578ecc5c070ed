"""Layout families: shapes, reproducibility, connectivity and the fixed-map inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from envs.grid.layouts import (
    FOUR_ROOMS,
    LAYOUTS,
    EmptyLayout,
    FixedLayout,
    Layout,
    MazeLayout,
    RandomLayout,
    RoomsLayout,
    make_layout,
)
from planners import GridMap
from planners.movingai import write_map

SIZES = [(11, 11), (9, 14), (12, 7), (5, 5), (2, 3)]


def _region_sizes(grid: GridMap) -> list[int]:
    """Sizes of the connected free regions, measured with the planner's distance field."""
    left = grid.free.copy()
    sizes = []
    while left.any():
        cell = tuple(int(v) for v in np.argwhere(left)[0])
        reached = np.isfinite(grid.distance_field(cell, connectivity=4))
        sizes.append(int(reached.sum()))
        left &= ~reached
    return sizes


@pytest.mark.parametrize("name", list(LAYOUTS))
@pytest.mark.parametrize(("rows", "cols"), SIZES)
def test_layouts_have_the_asked_shape_and_repeat_from_a_seed(
    name: str, rows: int, cols: int
) -> None:
    layout = make_layout(name)
    first = layout.generate(np.random.default_rng(7), rows, cols)
    again = layout.generate(np.random.default_rng(7), rows, cols)
    assert first.shape == (rows, cols)
    assert first == again


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("rooms", [(2, 2), (3, 2), (1, 3), (4, 4)])
def test_rooms_are_all_connected(seed: int, rooms: tuple[int, int]) -> None:
    grid = RoomsLayout(rooms).generate(np.random.default_rng(seed), 13, 11)
    assert len(_region_sizes(grid)) == 1
    assert grid.occupancy.any()


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize(("rows", "cols"), [(11, 11), (10, 9), (7, 12)])
def test_maze_is_a_perfect_maze(seed: int, rows: int, cols: int) -> None:
    grid = MazeLayout().generate(np.random.default_rng(seed), rows, cols)
    assert _region_sizes(grid) == [int(grid.free.sum())]
    # a tree: one fewer corridor (4-neighbour free pair) than free cells
    free = grid.free
    edges = int((free[1:] & free[:-1]).sum() + (free[:, 1:] & free[:, :-1]).sum())
    assert edges == int(free.sum()) - 1


def test_maze_loops_add_cycles() -> None:
    rng = np.random.default_rng(0)
    grid = MazeLayout(loops=0.5).generate(rng, 11, 11)
    free = grid.free
    edges = int((free[1:] & free[:-1]).sum() + (free[:, 1:] & free[:, :-1]).sum())
    assert edges > int(free.sum()) - 1
    assert len(_region_sizes(grid)) == 1


def test_random_density_is_respected() -> None:
    grid = RandomLayout(density=0.3).generate(np.random.default_rng(0), 100, 100)
    assert grid.occupancy.mean() == pytest.approx(0.3, abs=0.02)
    assert not EmptyLayout().generate(np.random.default_rng(0), 4, 4).occupancy.any()


def test_fixed_layout_reads_grid_ascii_and_movingai_file(tmp_path: Path) -> None:
    grid = GridMap.from_ascii(FOUR_ROOMS)
    path = tmp_path / "four.map"
    write_map(path, grid)
    rng = np.random.default_rng(0)
    for source in (grid, FOUR_ROOMS, path, str(path)):
        layout = FixedLayout(source)
        assert layout.generate(rng, 3, 3) == grid  # size is the map's own
        assert layout.shape == (11, 11)
    assert FixedLayout(grid).generate(rng, 1, 1) is grid  # planner caches are kept
    assert FixedLayout("..#").grid.shape == (1, 3)


def test_a_new_family_is_one_method() -> None:
    class Corridor(Layout):
        name = "corridor"

        def _gen_grid(self, rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
            occupancy = np.ones((rows, cols), dtype=bool)
            occupancy[rows // 2] = False
            return occupancy

    grid = Corridor().generate(np.random.default_rng(0), 5, 6)
    assert int(grid.free.sum()) == 6


def test_bad_layout_arguments() -> None:
    with pytest.raises(ValueError, match="layout must be one of"):
        make_layout("caves")
    with pytest.raises(ValueError, match="density must be in"):
        RandomLayout(density=1.5)
    with pytest.raises(ValueError, match="loops must be in"):
        MazeLayout(loops=-0.1)
    with pytest.raises(ValueError, match="rooms must be"):
        RoomsLayout((0, 2))
    with pytest.raises(ValueError, match="no free cell"):
        FixedLayout("##\n##")
    with pytest.raises(ValueError, match=r"neither an existing \.map file nor valid ASCII"):
        FixedLayout("..x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FixedLayout("missing.map")
    with pytest.raises(ValueError, match="map must be a GridMap"):
        FixedLayout(42)  # type: ignore[arg-type]

    class Wrong(Layout):
        def _gen_grid(self, rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
            return np.zeros((rows + 1, cols), dtype=bool)

    with pytest.raises(RuntimeError, match="returned shape"):
        Wrong().generate(np.random.default_rng(0), 3, 3)
