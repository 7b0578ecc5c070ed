"""Smoke tests: the MovingAI planner benchmark runs end to end in its --quick mode, with
and without the optional C libraries (tcod, pyastar2d); and the checks it puts on their
paths and on ``GridMap.plan_many`` catch what they are there to catch."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from planners import GridMap
from planners.movingai import Scenario

INSTALLED = all(importlib.util.find_spec(name) for name in ("tcod", "pyastar2d"))
# a wall between (0, 0) and (0, 2): the way round it has a corner a diagonal could cut
WALLED = """
.#.
...
"""


@pytest.fixture
def script(load_script: Callable[[str], ModuleType]) -> ModuleType:
    return load_script("planners_movingai.py")


@pytest.fixture
def baselines(script: ModuleType) -> ModuleType:
    """The helper module the script imported (by its bare name, as when run)."""
    return sys.modules["movingai_baselines"]


def test_quick_run_writes_its_results(movingai_dir: Path, tmp_path: Path, run_script: Any) -> None:
    out = tmp_path / "results" / "bench.json"  # the folder does not exist yet
    result = run_script(
        "planners_movingai.py", "--quick", "--data", str(movingai_dir), "--out", str(out),
        timeout=120, env={"RLKIT_MOVINGAI_DIR": "/nonexistent"},  # --data must win
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| map |" in result.stdout
    assert "machine:" in result.stdout
    report = out.parent / "report.md"
    assert sorted(out.parent.iterdir()) == sorted([out, report])  # atomic: no temporary left
    assert "target >= 1.0x" in report.read_text()

    data = json.loads(out.read_text())
    assert {"command", "args", "machine", "wall_time_s", "mismatches", "maps"} <= data.keys()
    assert data["args"]["quick"] is True
    assert data["mismatches"] == 0
    assert {"python", "numpy", "scipy", "networkx", "tcod", "pyastar2d", "cpu", "date",
            "git_commit"} <= data["machine"].keys()  # fmt: skip
    assert data["maps"]
    for row in data["maps"]:
        assert row["mismatches"] == 0
        assert row["queries_checked"] > 0
        assert row["ours_median_ms"] > 0
        assert row["networkx_median_ms"] > 0
        assert row["median_speedup"] > 0
        assert row["build_speedup"] > 0
        assert 1 <= len(row["sample"]) <= 5
        for query in row["sample"]:
            assert query["ours_s"] > 0
            assert query["networkx_s"] > 0
            assert abs(query["networkx_cost"] - query["optimal_length"]) < 1e-4


@pytest.mark.skipif(not INSTALLED, reason="tcod and pyastar2d not installed (.[bench])")
def test_quick_run_times_and_checks_the_c_libraries(
    movingai_dir: Path, tmp_path: Path, script: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    argv = ["--quick", "--data", str(movingai_dir), "--maps", "den312d", "--out", str(out)]
    assert script.main(argv) == 0
    (row,) = json.loads(out.read_text())["maps"]
    assert set(row["baselines"]) == set(sys.modules["movingai_baselines"].BASELINES)
    for name, summary in row["baselines"].items():
        assert summary["median_ms"] > 0 and summary["ratio"] > 0, name
        assert summary["invalid"] == 0, (name, summary["invalid_examples"])
        assert summary["rule_misses"] == 0, name  # each is optimal by its own rule
    # tcod's graph forbids corner cutting: its paths are the published optima
    assert row["baselines"]["tcod A*"]["off_optimum"] == 0
    assert row["baselines"]["tcod Dijkstra"]["off_optimum"] == 0
    assert row["target"]["fastest"] in row["baselines"]
    assert "| den312d |" in capsys.readouterr().out


def test_without_the_libraries_their_columns_say_so(
    movingai_dir: Path,
    tmp_path: Path,
    script: ModuleType,
    baselines: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("tcod", "tcod.path", "pyastar2d"):
        monkeypatch.setitem(sys.modules, name, None)  # `import name` now fails
    out = tmp_path / "bench.json"
    argv = ["--quick", "--data", str(movingai_dir), "--maps", "empty-32-32", "--out", str(out)]
    assert script.main(argv) == 0
    data = json.loads(out.read_text())
    assert data["libraries"] == {"tcod": baselines.NOT_INSTALLED,
                                 "pyastar2d": baselines.NOT_INSTALLED}  # fmt: skip
    assert data["maps"][0]["baselines"] == {}
    assert data["maps"][0]["target"] is None
    assert data["machine"]["tcod"] is None
    text = (tmp_path / "report.md").read_text()
    assert "| GridMap.plan ms |" in text
    assert text.count(baselines.NOT_INSTALLED) >= len(baselines.BASELINES)
    assert "| map |" in capsys.readouterr().out


def test_missing_data_folder_is_a_clear_error(tmp_path: Path, run_script: Any) -> None:
    absent = str(tmp_path / "absent")
    result = run_script("planners_movingai.py", "--quick", "--data", absent, timeout=60)
    assert result.returncode == 2
    assert "MovingAI data not found" in result.stderr


def test_an_unknown_library_is_a_usage_error(script: ModuleType) -> None:
    with pytest.raises(SystemExit) as exit_info:
        script.parse_args(["--libraries", "tcod", "lemon"])
    assert exit_info.value.code == 2


# ---------------------------------------------------------------------- path checks


def test_a_corner_cut_is_counted(baselines: ModuleType) -> None:
    grid = GridMap.from_ascii(WALLED)
    assert baselines.corner_cuts([(0, 0), (1, 1), (0, 2)], grid.occupancy) == 2
    assert baselines.corner_cuts([(0, 0), (1, 0), (1, 1), (1, 2), (0, 2)], grid.occupancy) == 0


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ([(0, 0), (1, 1), (1, 2)], "runs from"),
        ([(0, 0), (0, 1), (0, 2)], "blocked"),
        ([(0, 0), (1, 2), (0, 2)], "single step"),
        (None, "no path"),
    ],
)
def test_a_path_that_is_no_walk_is_named(baselines: ModuleType, path: Any, problem: str) -> None:
    grid = GridMap.from_ascii(WALLED)
    found = baselines.walk_problem(path, (0, 0), (0, 2), grid, baselines.RULES["octile-cut"])
    assert found is not None and problem in found


def test_own_rule_optimum_cuts_corners(baselines: ModuleType) -> None:
    grid = GridMap.from_ascii(WALLED)
    optimum = baselines.RuleOptimum(grid)
    cut = optimum.cost(baselines.RULES["octile-cut"], (0, 0), (0, 2), 0.0, np.inf)
    assert cut == pytest.approx(2 * baselines.SQRT2)
    assert grid.plan((0, 0), (0, 2)).cost == 4.0  # no corner cut: four straight moves


def test_tcod_graph_keeps_the_movingai_rule(baselines: ModuleType) -> None:
    pytest.importorskip("tcod")
    grid = GridMap.from_ascii(WALLED)
    made = {b.name: b for b in baselines.tcod_baselines(grid, (0, 0))}
    for name in ("tcod A*", "tcod Dijkstra"):
        path = made[name].query((0, 0), (0, 2))
        assert baselines.corner_cuts(path, grid.occupancy) == 0, name
        assert baselines.octile_length(path) == pytest.approx(grid.plan((0, 0), (0, 2)).cost)


# ---------------------------------------------------------------------- plan_many


@pytest.fixture
def timing(script: ModuleType) -> ModuleType:
    return sys.modules["movingai_timing"]


def _queries(grid: GridMap) -> list[Scenario]:
    pairs = [((0, 0), (1, 2)), ((1, 0), (0, 2))]
    return [Scenario(0, "walled.map", grid.shape[1], grid.shape[0], s, g,
                     grid.plan(s, g).cost) for s, g in pairs]  # fmt: skip


def test_plan_many_is_blank_where_rlkit_has_none(
    timing: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(GridMap, "plan_many", raising=False)
    grid = GridMap.from_ascii(WALLED)
    assert timing.time_plan_many(grid, _queries(grid), {}, 1) is None


def test_a_wrong_plan_many_cost_is_counted(
    timing: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def plan_many(self: GridMap, starts: Any, goals: Any, **_: Any) -> Any:
        return np.ones(len(starts))  # no query here costs 1

    monkeypatch.setattr(GridMap, "plan_many", plan_many, raising=False)
    grid = GridMap.from_ascii(WALLED)
    many = timing.time_plan_many(grid, _queries(grid), {}, 1)
    assert many["queries"] == 2
    assert many["mismatches"] == 2
    assert many["speedup"] > 0
