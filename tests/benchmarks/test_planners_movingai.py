"""Smoke test: the MovingAI planner benchmark runs end to end in its --quick mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def test_quick_run_writes_its_results(movingai_dir: Path, tmp_path: Path, run_script: Any) -> None:
    out = tmp_path / "results" / "bench.json"  # the folder does not exist yet
    result = run_script(
        "planners_movingai.py", "--quick", "--data", str(movingai_dir), "--out", str(out),
        timeout=120, env={"RLKIT_MOVINGAI_DIR": "/nonexistent"},  # --data must win
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| map |" in result.stdout
    assert "machine:" in result.stdout

    data = json.loads(out.read_text())
    assert list(out.parent.iterdir()) == [out]  # written atomically: no temporary left
    assert {"command", "args", "machine", "wall_time_s", "mismatches", "maps"} <= data.keys()
    assert data["args"]["quick"] is True
    assert data["mismatches"] == 0
    assert {"python", "numpy", "scipy", "networkx", "cpu", "date", "git_commit"} <= data[
        "machine"
    ].keys()
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


def test_missing_data_folder_is_a_clear_error(tmp_path: Path, run_script: Any) -> None:
    absent = str(tmp_path / "absent")
    result = run_script("planners_movingai.py", "--quick", "--data", absent, timeout=60)
    assert result.returncode == 2
    assert "MovingAI data not found" in result.stderr
