"""Smoke test: the headline experiment runs end to end in its --quick mode."""

from __future__ import annotations

import json
from typing import Any


def test_quick_run_writes_report_verdict_and_plots(run_suite_quick: Any) -> None:
    result, folder = run_suite_quick("headline.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "## Verdict: did pretraining help?" in result.stdout
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
