"""Smoke test: the tabular benchmark runs end to end in its --quick mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def test_quick_run_writes_its_results(tmp_path: Path, run_script: Any) -> None:
    out = tmp_path / "results" / "tabular.json"  # the folder does not exist yet
    result = run_script("tabular.py", "--quick", "--out", str(out), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| env | algorithm | plain updates/s |" in result.stdout
    assert "batched/plain" in result.stdout
    assert "machine:" in result.stdout
    assert "GridNav:" in result.stdout

    data = json.loads(out.read_text())
    assert list(out.parent.iterdir()) == [out]  # written atomically: no temporary left
    assert {"command", "args", "machine", "wall_time_s", "throughput", "episodes_to_optimal",
            "tables", "gridnav"} <= data.keys()  # fmt: skip
    assert data["args"]["quick"] is True
    assert {"python", "numpy", "gymnasium", "rlkit", "cpu", "date", "git_commit"} <= data[
        "machine"
    ].keys()
    algorithms = {row["algorithm"] for row in data["throughput"]}
    assert algorithms == {"q_learning", "sarsa", "expected_sarsa", "double_q_learning",
                          "nstep_sarsa"}  # fmt: skip
    for row in data["throughput"]:
        assert row["plain_per_s"] > 0
        if row["algorithm"] != "nstep_sarsa":
            assert row["batched_per_s"] > 0 and row["sync_per_s"] > 0
            assert row["ratio"] == row["batched_per_s"] / row["plain_per_s"]
    for row in data["episodes_to_optimal"]:
        assert row["optimal_length"] == (6 if row["env"].startswith("FrozenLake") else 20)
        assert len(row["plain"]) == data["args"]["seeds"]
