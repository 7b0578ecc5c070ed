"""Smoke test: the headline experiment runs end to end in its --quick mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "headline.py"


def test_quick_run_writes_report_verdict_and_plots(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SDL_VIDEODRIVER": "dummy"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path), "--resamples", "200"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "## Verdict: did pretraining help?" in result.stdout
    folder = tmp_path / "headline-quick"
    report = (folder / "report.md").read_text()
    assert "## Verdict: did pretraining help?" in report
    assert "frozen - scratch+shift" in report  # the comparison column was computed
    assert (folder / "plots" / "gridnav-pixels__sample_efficiency.png").stat().st_size > 0
    verdict = json.loads((folder / "verdict.json").read_text())
    (row,) = verdict["rows"]
    assert row["method"] == "BC-2" and set(row["encoders"]) == {"scratch+shift", "frozen"}
    comparison = row["vs_baseline"]["frozen"]["success"]
    low, high = comparison["ci"]
    assert low <= comparison["difference"] <= high
    assert comparison["verdict"] in ("helped", "hurt", "unclear")
    assert not list(folder.rglob(".*.tmp*"))  # atomic writes left no temporaries
