"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import settings

import planners.grid

REPO_ROOT = Path(__file__).resolve().parents[1]

# Before any test imports pygame: rendering tests must never open a window, and CI
# machines have no display.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

# CI explores the same examples on every run (a red build must be reproducible); a
# developer's run keeps hypothesis's random exploration and its example database.
# No deadline: timings on shared 2-core machines are noise.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

#: stable-baselines3's default-logger folders in the temp folder when the session began.
_SB3_FOLDERS_BEFORE: set[str] = set()


def _sb3_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("SB3-*")}


def pytest_sessionstart(session: pytest.Session) -> None:
    _SB3_FOLDERS_BEFORE.update(_sb3_folders())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if some test let stable-baselines3 make its default logger folder
    (/tmp/SB3-<time>): tests and jobs write only under their own folders (issue #18)."""
    made = sorted(_sb3_folders() - _SB3_FOLDERS_BEFORE)
    if made:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"{len(made)} stable-baselines3 logger folder(s) left in "
                f"{tempfile.gettempdir()}: {', '.join(made[:5])} (a model.learn() without "
                "model.set_logger(rlkit.deep.runs.quiet_logger(0)))",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


#: Backends `GridMap.plan` accepts on this install.
PLAN_BACKENDS: tuple[str, ...] = planners.grid.BACKENDS

PlanFunction = Callable[..., planners.grid.Plan]


@pytest.fixture(scope="session")
def movingai_dir() -> Path:
    """The MovingAI benchmark folder (maps and scenarios); skips the test when absent.

    The data is not part of the repository: it lies beside the checkout in
    ``shared/data/movingai``, or wherever ``RLKIT_MOVINGAI_DIR`` points.
    """
    default = REPO_ROOT.parent / "shared" / "data" / "movingai"
    folder = Path(os.environ.get("RLKIT_MOVINGAI_DIR", default))
    if not folder.is_dir():
        pytest.skip(
            f"MovingAI data not found at {folder}; set RLKIT_MOVINGAI_DIR to the folder "
            "holding the .map and .scen files"
        )
    return folder


@pytest.fixture(params=PLAN_BACKENDS, scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """Each planning backend available on this install, in turn."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def plan(backend: str) -> PlanFunction:
    """``plan(grid, start, goal, connectivity=8)``: ``grid.plan`` with the current backend."""

    def run(
        grid: planners.grid.GridMap,
        start: Sequence[int],
        goal: Sequence[int],
        *,
        connectivity: int = 8,
    ) -> planners.grid.Plan:
        return grid.plan(start, goal, connectivity=connectivity, backend=backend)

    return run
