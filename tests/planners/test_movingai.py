"""MovingAI .map/.scen reading and writing, and our plans against the published optima."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from planners import GridMap, Plan
from planners.movingai import Scenario, read_map, read_scen, write_map

PlanFunction = Callable[..., Plan]

# The maps of shared/data/movingai (see its README). Listed rather than globbed so that
# a map going missing fails loudly instead of shrinking the test.
MAPS = (
    "AR0011SR",
    "Berlin_1_256",
    "den312d",
    "den520d",
    "empty-32-32",
    "ht_chantry",
    "lak303d",
    "maze-128-128-2",
    "orz900d",
    "random-32-32-20",
)
# The published optimal lengths are printed with 8 decimals.
TOLERANCE = 1e-4
# queries per map in the default run: every 20th line at least, at most about 60
SAMPLE = 60


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="ascii")
    return path


# ---------------------------------------------------------------------- .map


TINY_MAP = "type octile\nheight 2\nwidth 3\nmap\n..@\nT.G\n"


def test_read_map_converts_x_y_to_row_col(tmp_path: Path) -> None:
    grid = read_map(write(tmp_path / "tiny.map", TINY_MAP))
    assert grid.shape == (2, 3)  # height rows of width characters
    assert grid.name == "tiny"
    # x = 2, y = 0 ('@') is row 0, column 2; x = 0, y = 1 ('T') is row 1, column 0
    np.testing.assert_array_equal(grid.occupancy, [[False, False, True], [True, False, False]])
    assert grid.terrain is None
    assert GridMap.from_movingai(tmp_path / "tiny.map") == grid


@pytest.mark.parametrize("char", list("@OTW"))
def test_every_blocked_character(tmp_path: Path, char: str) -> None:
    grid = read_map(write(tmp_path / "b.map", f"type octile\nheight 1\nwidth 2\nmap\n.{char}\n"))
    assert grid.occupancy.tolist() == [[False, True]]


def test_unknown_character_names_its_column(tmp_path: Path) -> None:
    path = write(tmp_path / "c.map", "type octile\nheight 1\nwidth 4\nmap\n..?.\n")
    with pytest.raises(ValueError, match=r"c\.map:5: unknown character '\?' at column 3"):
        read_map(path)


def test_missing_map_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_map(tmp_path / "absent.map")


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 1), (9, 13)])
@pytest.mark.parametrize("seed", [0, 1])
def test_write_then_read_round_trip(tmp_path: Path, shape: tuple[int, int], seed: int) -> None:
    grid = GridMap(np.random.default_rng(seed).random(shape) < 0.4)
    path = tmp_path / "round.map"
    write_map(path, grid)
    assert read_map(path) == grid
    # written through a temporary file renamed into place: nothing else is left behind
    assert list(tmp_path.iterdir()) == [path]


def test_write_map_replaces_an_existing_file(tmp_path: Path) -> None:
    path = write(tmp_path / "old.map", TINY_MAP)
    grid = GridMap([[1, 0, 0, 0]])
    write_map(path, grid)
    assert read_map(path) == grid
    assert list(tmp_path.iterdir()) == [path]


def test_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "keep.map", TINY_MAP)

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)  # the moment the new file would go live
    with pytest.raises(OSError, match="disk full"):
        write_map(path, GridMap([[0]]))
    assert path.read_text() == TINY_MAP
    assert list(tmp_path.iterdir()) == [path]


def test_written_map_has_the_usual_file_mode(tmp_path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / "mode.map"
    write_map(path, GridMap([[0]]))
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_map_refuses_terrain(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.map format has no terrain costs"):
        write_map(tmp_path / "t.map", GridMap.from_ascii("12"))
    assert list(tmp_path.iterdir()) == []
    write_map(tmp_path / "ones.map", GridMap([[0, 0]], [[1.0, 1.0]]))  # all-1 terrain is fine
    assert read_map(tmp_path / "ones.map") == GridMap([[0, 0]])


# ---------------------------------------------------------------------- .scen


def test_read_scen_converts_x_y_to_row_col(tmp_path: Path) -> None:
    path = write(
        tmp_path / "tiny.map.scen",
        "version 1\n"
        "3\ttiny.map\t3\t2\t0\t1\t2\t0\t2.41421356\n"
        "\n"  # blank lines are skipped
        "0\ttiny.map\t3\t2\t1\t0\t1\t0\t0\n",
    )
    assert read_scen(path) == [
        Scenario(3, "tiny.map", 3, 2, start=(1, 0), goal=(0, 2), optimal_length=2.41421356),
        Scenario(0, "tiny.map", 3, 2, start=(0, 1), goal=(0, 1), optimal_length=0.0),
    ]


def test_read_scen_accepts_space_separated_fields(tmp_path: Path) -> None:
    path = write(tmp_path / "s.scen", "version 1.0\n1 m.map 4 4 0 1 2 3 3.5\n")
    assert read_scen(path)[0].start == (1, 0)
    assert read_scen(path)[0].goal == (3, 2)


# ---------------------------------------------------------------------- malformed files

READERS: dict[str, Callable[[Path], object]] = {"map": read_map, "scen": read_scen}
LINE = "1\tm.map\t3\t2\t0\t0\t2\t1\t2.41421356"  # a valid .scen query line
# (file kind, text, line the error names, what it says), then the name of each case
MALFORMED = [
    ("map", "", 1, "file ends before the header line 'type ...'"),
    ("map", "typ octile\nheight 1\nwidth 1\nmap\n.\n", 1, "expected header line 'type ...'"),
    ("map", "type octile\n", 2, "file ends before the header line 'height ...'"),
    ("map", "type octile\nwidth 1\nheight 1\nmap\n.\n", 2, "expected header line 'height ...'"),
    ("map", "type octile\nheight 1\nwidth 1\n.\n", 4, "expected header line 'map ...'"),
    ("map", "type octile\nheight 1 2\nwidth 1\nmap\n.\n", 2, "expected 'height VALUE'"),
    ("map", "type grid\nheight 1\nwidth 1\nmap\n.\n", 1, "unsupported map type 'grid'"),
    ("map", "type octile\nheight two\nwidth 1\nmap\n.\n", 2, "height must be a positive integer"),
    ("map", "type octile\nheight 1\nwidth 1.5\nmap\n.\n", 3, "width must be a positive integer"),
    ("map", "type octile\nheight 0\nwidth 1\nmap\n", 2, "height must be a positive integer, got 0"),
    ("map", "type octile\nheight 2\nwidth 3\nmap\n...\n..\n", 6, "row 1 has 2 characters"),
    ("map", "type octile\nheight 2\nwidth 3\nmap\n...\n....\n", 6, "expected width 3"),
    ("map", "type octile\nheight 2\nwidth 3\nmap\n...\n..x\n", 6, "unknown character 'x' at col"),
    ("map", "type octile\nheight 3\nwidth 3\nmap\n...\n...\n", 7, "expected 3 map rows, found 2"),
    ("map", "type octile\nheight 1\nwidth 3\nmap\n...\n...\n", 6, "expected 1 map rows, found 2"),
    ("scen", "", 1, "expected 'version 1' first"),
    ("scen", LINE + "\n", 1, "expected 'version 1' first"),
    ("scen", "version 2\n" + LINE + "\n", 1, "unsupported scenario version"),
    ("scen", "version 1\n" + LINE + "\n1\tm.map\t3\t2\t0\t0\t2\t1\n", 3, "expected 9 fields"),
    ("scen", "version 1\n" + LINE + "\t7\n", 2, "got 10"),
    ("scen", "version 1\n1\tm.map\t3\t2\tx\t0\t2\t1\t2.4\n", 2, "'x'"),
    ("scen", "version 1\n1\tm.map\t3\t2\t0\t0\t2\t1\tlong\n", 2, "'long'"),
    ("scen", "version 1\n1\tm.map\t3\t2\t0\t0\t2\t1\tnan\n", 2, "must be finite and >= 0"),
    ("scen", "version 1\n1\tm.map\t3\t2\t0\t0\t2\t1\t-1\n", 2, "must be finite and >= 0"),
    ("scen", "version 1\n1\tm.map\t3\t2\t3\t0\t2\t1\t2.4\n", 2, "start (x=3, y=0) lies outside"),
    ("scen", "version 1\n1\tm.map\t3\t2\t0\t-1\t2\t1\t2.4\n", 2, "start (x=0, y=-1) lies outside"),
    ("scen", "version 1\n1\tm.map\t3\t2\t0\t0\t2\t2\t2.4\n", 2, "goal (x=2, y=2) lies outside the"),
]
MALFORMED_IDS = [
    "map-empty-file",
    "map-bad-type-line",
    "map-ends-in-header",
    "map-header-out-of-order",
    "map-no-map-line",
    "map-extra-header-value",
    "map-bad-type",
    "map-non-integer-height",
    "map-non-integer-width",
    "map-zero-height",
    "map-short-row",
    "map-long-row",
    "map-unknown-character",
    "map-too-few-rows",
    "map-too-many-rows",
    "scen-empty-file",
    "scen-missing-version",
    "scen-bad-version",
    "scen-too-few-fields",
    "scen-too-many-fields",
    "scen-non-numeric-x",
    "scen-non-numeric-length",
    "scen-nan-length",
    "scen-negative-length",
    "scen-start-outside",
    "scen-start-negative",
    "scen-goal-outside",
]


@pytest.mark.parametrize(("kind", "text", "line", "message"), MALFORMED, ids=MALFORMED_IDS)
def test_malformed_file_names_file_and_line(
    tmp_path: Path, kind: str, text: str, line: int, message: str
) -> None:
    path = write(tmp_path / f"broken.{kind}", text)
    with pytest.raises(ValueError, match=re.escape(f"{path}:{line}: ") + ".*" + re.escape(message)):
        READERS[kind](path)


# ---------------------------------------------------------------------- the benchmark data


def scen_path(folder: Path, name: str) -> Path:
    """The scenario file of map ``name``: ``NAME.scen`` or ``NAME-random-1.scen``."""
    for candidate in (folder / f"{name}.scen", folder / f"{name}-random-1.scen"):
        if candidate.exists():
            return candidate
    pytest.fail(f"no scenario file for map {name} in {folder}")


def sample(scenarios: list[Scenario]) -> list[Scenario]:
    """Every k-th scenario, k >= 20, about ``SAMPLE`` of them spread over the whole file."""
    return scenarios[:: max(20, math.ceil(len(scenarios) / SAMPLE))]


def mismatches(grid: GridMap, scenarios: list[Scenario], plan: PlanFunction) -> list[str]:
    wrong = []
    for s in scenarios:
        cost = plan(grid, s.start, s.goal).cost
        if not math.isclose(cost, s.optimal_length, rel_tol=0, abs_tol=TOLERANCE):
            wrong.append(f"{s.start} -> {s.goal}: planned {cost}, optimal {s.optimal_length}")
    return wrong


def test_every_map_in_the_data_is_tested(movingai_dir: Path) -> None:
    stems = {p.stem for p in movingai_dir.glob("*.map")}
    assert stems == set(MAPS), "update MAPS in this file to match the data folder"


@pytest.mark.parametrize("name", MAPS)
def test_scenario_files_fit_their_maps(movingai_dir: Path, name: str) -> None:
    grid = read_map(movingai_dir / f"{name}.map")
    scenarios = read_scen(scen_path(movingai_dir, name))
    assert scenarios
    assert {(s.map_name, s.height, s.width) for s in scenarios} == {(f"{name}.map", *grid.shape)}
    for s in scenarios:
        assert grid.is_free(s.start) and grid.is_free(s.goal), s


@pytest.mark.parametrize("name", MAPS)
def test_sampled_scenarios_match_optimal_length(
    movingai_dir: Path, plan: PlanFunction, name: str
) -> None:
    grid = read_map(movingai_dir / f"{name}.map")
    chosen = sample(read_scen(scen_path(movingai_dir, name)))
    assert len(chosen) >= min(20, len(read_scen(scen_path(movingai_dir, name))) // 20)
    assert mismatches(grid, chosen, plan) == []


def test_all_den312d_scenarios_match_optimal_length(movingai_dir: Path, plan: PlanFunction) -> None:
    # den312d is small (81x65): all 1000 queries take well under a second
    grid = read_map(movingai_dir / "den312d.map")
    scenarios = read_scen(scen_path(movingai_dir, "den312d"))
    assert len(scenarios) == 1000
    assert mismatches(grid, scenarios, plan) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", MAPS)
def test_all_scenarios_match_optimal_length(
    movingai_dir: Path, plan: PlanFunction, name: str
) -> None:
    grid = read_map(movingai_dir / f"{name}.map")
    assert mismatches(grid, read_scen(scen_path(movingai_dir, name)), plan) == []


def test_real_map_round_trip(movingai_dir: Path, tmp_path: Path) -> None:
    grid = read_map(movingai_dir / "den312d.map")
    write_map(tmp_path / "den312d.map", grid)
    assert read_map(tmp_path / "den312d.map") == grid
