"""benchmarks/ensemble.py: a --quick smoke run end to end, and its statistics."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest


def test_quick_run_writes_the_comparison_and_the_disagreement(run_suite_quick: Any) -> None:
    run = run_suite_quick("ensemble.py")
    assert "## Ensemble vs its members (issue #16)" in run.stdout
    assert "| env | agent | row | success | SPL | seeds |" in run.report
    assert "## Does disagreement predict failure?" in run.report
    data = run.json("ensemble.json")
    rows = {row["agent"]: row for row in data["rows"]}
    assert set(rows) == {"planner", "random", "ensemble-seeds", "ensemble-bagging"}
    assert rows["planner"]["success"]["single"]["estimate"] == 1.0
    for name in ("ensemble-seeds", "ensemble-bagging"):
        row = rows[name]
        assert row["members"] == 2 and row["success"]["ensemble"]["n"] == 1
        assert row["disagreement"]["episodes"] == 2
    assert data["target"]["met"] is None  # no ensemble of 5 in the quick run
    assert "machine" in data and "command" in data


@pytest.fixture(scope="module")
def ensemble(load_script: Any) -> ModuleType:
    return load_script("ensemble.py")


def seed(number: int, ensemble: float, members: list[float], success: list[bool]) -> dict[str, Any]:
    """A seed's points as ``seed_points`` makes them (SPL = success here)."""
    return {
        "seed": number,
        "ensemble": {"success": ensemble, "spl": ensemble},
        "members": [{"x": k, "success": m, "spl": m} for k, m in enumerate(members)],
        "success": success,
        "disagreement": [0.1 if s else 0.5 for s in success],
        "max_disagreement": [0.2 if s else 0.4 for s in success],
    }


def test_gains_are_paired_by_seed_against_the_best_and_mean_member(ensemble: ModuleType) -> None:
    seeds = [seed(0, 0.8, [0.6, 0.7], [True]), seed(1, 0.5, [0.6, 0.2], [False])]
    out = ensemble.compare_members(seeds, 200)["success"]
    assert out["gain_vs_best"]["estimate"] == pytest.approx((0.1 - 0.1) / 2)
    assert out["gain_vs_mean"]["estimate"] == pytest.approx((0.15 + 0.1) / 2)
    assert out["best_member"]["n"] == 2 and out["seeds_at_least_best"] == 1
    low, high = out["gain_vs_best"]["ci"]
    assert low == pytest.approx(-0.1) and high == pytest.approx(0.1)


def test_disagreement_that_separates_failures_scores_auroc_one(ensemble: ModuleType) -> None:
    seeds = [seed(0, 0.5, [0.5], [True, False, True]), seed(1, 0.5, [0.5], [False, True])]
    out = ensemble.disagreement_vs_failure(seeds, 200)
    assert out["episodes"] == 5 and out["failed"] == 2
    mean = out["disagreement"]
    assert mean["failed_mean"] == pytest.approx(0.5) and mean["success_mean"] == pytest.approx(0.1)
    assert mean["auroc"] == 1.0 and mean["auroc_ci"] == [1.0, 1.0]
    assert ensemble.auroc(np.array([0.1, 0.3]), np.array([0.2, 0.2])) == 0.5
