"""What the benchmark smoke tests share: running a script of ``benchmarks/`` the way a
user does (a subprocess, one torch thread, no display), checking a suite-based script's
``--quick`` run, and importing a script as a module."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

RunScript = Callable[..., "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class QuickRun:
    """A suite-based script's ``--quick`` run that succeeded: its standard output and its
    suite folder; ``report`` is the folder's ``report.md``, ``json(name)`` a JSON file."""

    stdout: str
    folder: Path

    @property
    def report(self) -> str:
        return (self.folder / "report.md").read_text()

    def json(self, name: str) -> Any:
        return json.loads((self.folder / name).read_text())


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
def run_suite_quick(run_script: RunScript, tmp_path: Path) -> Callable[[str], QuickRun]:
    """``run_suite_quick("learning.py")``: a suite-based script's ``--quick`` run into
    ``tmp_path`` (200 bootstrap resamples) and the folder of its quick suite, once it is
    checked to have exited with 0 and, its files written atomically, to have left no
    temporary file behind."""

    def run(name: str) -> QuickRun:
        result = run_script(name, "--quick", "--out", str(tmp_path), "--resamples", "200")
        assert result.returncode == 0, result.stdout + result.stderr
        folder = tmp_path / f"{Path(name).stem}-quick"
        assert not list(folder.rglob(".*.tmp*"))  # atomic writes left no temporaries
        return QuickRun(result.stdout, folder)

    return run


@pytest.fixture(scope="session")
def load_script() -> Callable[[str], ModuleType]:
    """``load_script("learning.py")``: the script as a module named ``learning_script``
    (its folder on ``sys.path`` while it loads, as when run), loaded once a session."""
    loaded: dict[str, ModuleType] = {}

    def load(name: str) -> ModuleType:
        if name not in loaded:
            sys.path.insert(0, str(BENCHMARKS))
            try:
                spec = importlib.util.spec_from_file_location(
                    f"{Path(name).stem}_script", BENCHMARKS / name
                )
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = module  # dataclasses look their module up there
                spec.loader.exec_module(module)
            finally:
                sys.path.remove(str(BENCHMARKS))
            loaded[name] = module
        return loaded[name]

    return load
