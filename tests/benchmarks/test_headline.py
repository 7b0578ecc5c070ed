"""Smoke test: the headline experiment runs end to end in its --quick mode."""

from __future__ import annotations

from typing import Any


def test_quick_run_writes_report_verdict_and_plots(run_suite_quick: Any) -> None:
    run = run_suite_quick("headline.py")
    assert "## Verdict: did pretraining help?" in run.stdout
    assert "## Verdict: did pretraining help?" in run.report
    assert "frozen - scratch+shift" in run.report  # the comparison column was computed
    assert (run.folder / "plots" / "gridnav-pixels__sample_efficiency.png").stat().st_size > 0
    verdict = run.json("verdict.json")
    (row,) = verdict["rows"]
    assert row["method"] == "BC-2" and set(row["encoders"]) == {"scratch+shift", "frozen"}
    comparison = row["vs_baseline"]["frozen"]["success"]
    low, high = comparison["ci"]
    assert low <= comparison["difference"] <= high
    assert comparison["verdict"] in ("helped", "hurt", "unclear")
