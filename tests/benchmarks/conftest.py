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
    """``run_script("learning.py", "--quick", ...)``: the finished process, output kept."""

    def run(name: str, *argv: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "SDL_VIDEODRIVER": "dummy"}
        return subprocess.run(
            [sys.executable, str(BENCHMARKS / name), *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )

    return run
