"""benchmarks/teacher.py: a --quick smoke run end to end, and its verdict."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def test_quick_run_writes_report_cells_and_verdicts(tmp_path: Path, run_script: Any) -> None:
    out = tmp_path / "teacher"
    result = run_script("teacher.py", "--quick", "--out", str(out), timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (out / "report.md").read_text()
    assert text.startswith("# Teacher -> student distillation")
    assert "- Command: `python benchmarks/teacher.py --quick --out" in text
    assert "| fourrooms |" in text and "| armreach |" in text
    data = json.loads((out / "teacher.json").read_text())
    assert data["args"]["quick"] is True and data["args"]["cache"] == str(out / "cache")
    assert {"torch", "stable-baselines3", "git_commit"} <= data["machine"].keys()
    tasks = {row["task"]: row for row in data["tasks"]}
    assert set(tasks) == {"fourrooms", "armreach"}
    for task, row in tasks.items():
        assert row["parameter_ratio"] <= 0.25, task  # the student sizes of the benchmark
        assert row["seeds"] == 2 and len(data["cells"][task]) == 2
        assert {"iqm", "low", "high"} <= row["student"].keys()
    assert sorted(p.name for p in (out / "cells").iterdir()) == [
        "armreach__seed0.json", "armreach__seed1.json",
        "fourrooms__seed0.json", "fourrooms__seed1.json",
    ]  # fmt: skip
    assert sorted(p.name for p in (out / "cache").iterdir()) == [
        "armreach-sac-her-seed0-quick.json", "armreach-sac-her-seed0-quick.zip",
        "fourrooms-dagger-seed0-quick.json", "fourrooms-dagger-seed0-quick.zip",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def teacher(load_script: Any) -> ModuleType:
    return load_script("teacher.py")


def cell(seed: int, teacher_success: float, student_success: float) -> dict[str, Any]:
    return {
        "seed": seed, "teacher_success": teacher_success, "student_success": student_success,
        "random_success": 0.2, "teacher_parameters": 1000, "student_parameters": 200,
        "teacher_forward_s": 2.0, "student_forward_s": 1.0,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("student", "met"),
    [([1.0, 0.95, 1.0, 0.9, 1.0], True), ([0.9, 0.9, 0.9, 0.95, 0.8], False)],
)
def test_verdict_is_the_iqm_of_per_seed_ratios(
    teacher: ModuleType, student: list[float], met: bool
) -> None:
    args = teacher.Args(resamples=200)
    cells = [cell(i, 1.0, s) for i, s in enumerate(student)]
    row = teacher.aggregate("fourrooms", cells, 1.0, args)
    assert row["met"] is met and row["parameter_ratio"] == 0.2 and row["speedup_median"] == 2.0
    assert row["ratio"]["low"] <= row["ratio"]["iqm"] <= row["ratio"]["high"]
    # a student with too many parameters misses whatever its success
    big = [{**c, "student_parameters": 300} for c in cells]
    assert teacher.aggregate("fourrooms", big, 1.0, args)["met"] is False


def test_a_teacher_that_never_succeeds_gives_no_ratio(teacher: ModuleType) -> None:
    row = teacher.aggregate("armreach", [cell(0, 0.0, 0.0), cell(1, 0.5, 0.5)], 1.0,
                            teacher.Args(resamples=50))  # fmt: skip
    assert row["ratio"]["iqm"] == 1.0  # the seed whose teacher scored 0 has no ratio
