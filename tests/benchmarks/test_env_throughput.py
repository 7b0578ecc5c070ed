"""Smoke test: the environment-throughput benchmark runs end to end in its --quick mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def test_quick_run_writes_its_results(tmp_path: Path, run_script: Any) -> None:
    out = tmp_path / "results" / "throughput.json"  # the folder does not exist yet
    result = run_script("env_throughput.py", "--quick", "--seconds", "0.05", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| env | obs | kind |" in result.stdout
    assert "machine:" in result.stdout
    assert "targets:" in result.stdout

    data = json.loads(out.read_text())
    assert list(out.parent.iterdir()) == [out]  # written atomically: no temporary left
    assert {"command", "args", "machine", "wall_time_s", "notes", "rows", "targets"} <= data.keys()
    assert data["args"]["quick"] is True
    assert {"python", "numpy", "gymnasium", "cpu", "cpus", "date", "git_commit"} <= data[
        "machine"
    ].keys()
    rows = {row["key"]: row for row in data["rows"]}
    for obs in ("index", "coords", "symbolic", "pixels"):
        env = "rlkit/GridNav-Map-v0"
        assert f"{env}/{obs}/gym.make" in rows
        assert f"{env}/{obs}/.unwrapped" in rows
        assert f"{env}/{obs}/vector N=16" in rows
    for row in data["rows"]:
        assert row["error"] is None, row
        assert row["steps_per_s"] > 0
        assert row["steps"] > 0
        assert {"env", "obs", "kind", "wrappers", "elapsed_s", "baseline"} <= row.keys()
    assert rows["rlkit/GridNav-Map-v0/symbolic/gym.make"]["wrappers"] != "none"
    assert rows["rlkit/GridNav-Map-v0/symbolic/.unwrapped"]["wrappers"] == "none"
    # a target is judged (PASS/MISS) or, when its rows were skipped, marked n/a
    assert {v["status"] for v in data["targets"]} <= {"PASS", "MISS", "n/a"}
    assert len(data["targets"]) == 9


def test_bad_section_is_a_clear_error(tmp_path: Path, run_script: Any) -> None:
    out = str(tmp_path / "x.json")
    result = run_script("env_throughput.py", "--sections", "atari", "--out", out, timeout=60)
    assert result.returncode == 2
    assert "unknown --sections ['atari']" in result.stderr
