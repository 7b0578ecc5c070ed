"""What the benchmark smoke tests share: running a script of ``benchmarks/`` the way a
user does (a subprocess, one torch thread, no display)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

RunScript = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def run_script() -> RunScript:
    """``run_script("learning.py", "--quick", ...)``: the finished process, output kept;
    ``env={...}`` sets more environment variables."""

    def run(
        name: str, *argv: str, timeout: int = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(BENCHMARKS / name), *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "OMP_NUM_THREADS": "1", "SDL_VIDEODRIVER": "dummy", **(env or {})},
        )

    return run


@pytest.fixture
def run_suite_quick(
    run_script: RunScript, tmp_path: Path
) -> Callable[[str], tuple[subprocess.CompletedProcess[str], Path]]:
    """``run_suite_quick("learning.py")``: a suite-based script's ``--quick`` run into
    ``tmp_path`` (200 bootstrap resamples), and the folder of its quick suite."""

    def run(name: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        result = run_script(name, "--quick", "--out", str(tmp_path), "--resamples", "200")
        return result, tmp_path / f"{Path(name).stem}-quick"

    return run
