"""Smoke test: benchmarks/gpu_check.sh trains on the CPU when asked, and fails loudly
when CUDA is requested on a machine without it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.sh"


def run(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1", "STEPS": "64", **env},
    )


def test_cpu_run_trains_and_reports_steps_per_second() -> None:
    result = run(DEVICE="cpu")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "policy parameters on: cpu" in result.stdout
    assert "steps/s on the CPU" in result.stdout
    assert "gpu_check: OK" in result.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: nothing to refuse")
def test_cuda_requested_without_cuda_exits_1_with_the_reason() -> None:
    result = run(DEVICE="cuda")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CUDA was requested but torch sees no CUDA device" in result.stderr


def test_learning_quick_runs_the_learning_curves_after_the_check() -> None:
    result = run(DEVICE="cpu", LEARNING="quick")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gpu_check: OK" in result.stdout
    assert "gpu_check: learning curves: benchmarks/learning.py --quick" in result.stdout
    assert "## Targets (issue #14)" in result.stdout


def test_unknown_learning_budget_is_refused() -> None:
    result = run(DEVICE="cpu", LEARNING="huge")
    assert result.returncode == 2
    assert "LEARNING must be full or quick, got 'huge'" in result.stderr
