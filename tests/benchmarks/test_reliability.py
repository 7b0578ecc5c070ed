"""Smoke test: the reliability scorecard counts what tiny fake fuzz and fault folders do.

The fakes are known in advance: a hypothesis test that runs exactly 7 generated inputs
and one ``@example``, a regression test, a reader that raises ``KeyError`` (an uncaught
error), a test that kills its own process; a fault test that records a fault through
the real ``fault_log`` fixture, one that fails, and a slow one that runs only with
``--slow``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

PASSING_FUZZ = '''
from hypothesis import example, given, settings
from hypothesis import strategies as st


@settings(max_examples=7, database=None, derandomize=True, deadline=None)
@given(st.integers(0, 10**6))
@example(3)
def test_reads_any_number(n):
    assert n >= 0


def test_fixed_input():
    """Regression (fuzz): a fixed input that once crashed."""
    assert int("12") == 12
'''
PROFILED_FUZZ = """
from hypothesis import given, settings
from hypothesis import strategies as st

FUZZ = settings.get_profile("fuzz")  # tests/fuzz/conftest.py's campaign size


@settings(FUZZ, database=None)
@given(st.integers(0, 10**9))
def test_any_number(n):
    assert n >= 0
"""
BROKEN_FUZZ = """
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=20, database=None, derandomize=True, deadline=None)
@given(st.integers(0, 100))
def test_reader_raises_key_error(n):
    if n > 50:
        raise KeyError(n)
"""
CRASHING_FUZZ = """
import os
import signal


def test_reader_kills_the_process():
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel does to a runaway allocation
"""
FAULTS = """
import pytest


def test_kill_and_resume(fault_log):
    fault_log(job="fake job", fault="kill -9", outcome="identical", killed=1, resumed=1)


@pytest.mark.slow
def test_kill_twice(fault_log):
    fault_log(job="fake job", fault="kill -9 twice", outcome="within-interval", killed=2,
              resumed=2, detail="one interval lost")
"""
FAILING_FAULT = """
def test_recovery_differs(fault_log):
    assert 1 + 1 == 3, "recovered results differ"
"""


def _folder(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir()
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Fake fuzz and fault folders; the fault ones use the real ``fault_log`` fixture."""
    root = tmp_path_factory.mktemp("reliability")
    folders = {
        "fuzz": _folder(root, "fuzz", {"test_fuzz_fake.py": PASSING_FUZZ,
                                       "test_fuzz_profiled.py": PROFILED_FUZZ}),
        "broken_fuzz": _folder(root, "broken_fuzz", {"test_fuzz_fake.py": PASSING_FUZZ,
                                                     "test_fuzz_broken.py": BROKEN_FUZZ,
                                                     "test_fuzz_zz_crash.py": CRASHING_FUZZ}),
        "faults": _folder(root, "faults", {"test_fake_faults.py": FAULTS}),
        "failing_faults": _folder(root, "failing_faults", {"test_fake_faults.py": FAULTS,
                                                           "test_failing.py": FAILING_FAULT}),
    }  # fmt: skip
    shutil.copyfile(REPO / "tests" / "fuzz" / "conftest.py", folders["fuzz"] / "conftest.py")
    for name in ("faults", "failing_faults"):
        shutil.copyfile(REPO / "tests" / "faults" / "conftest.py", folders[name] / "conftest.py")
    return folders


Scorecard = tuple["subprocess.CompletedProcess[str]", str]


@pytest.fixture
def scorecard(run_script: Any, fakes: dict[str, Path], tmp_path: Path) -> Any:
    """``scorecard(fuzz, faults, *flags)``: the script's run on two fake folders and the
    report it wrote."""

    def run(fuzz: str, faults: str, *flags: str) -> Scorecard:
        out = tmp_path / "results" / "reliability.md"
        result = run_script("reliability.py", "--fuzz-dir", str(fakes[fuzz]), "--faults-dir",
                            str(fakes[faults]), "--out", str(out), *flags, timeout=120)  # fmt: skip
        assert out.exists(), result.stdout + result.stderr
        assert not list(out.parent.glob(".*.tmp*"))  # written atomically
        return result, out.read_text()

    return run


def _row(report: str, first_cell: str) -> list[str]:
    """The cells of the table row that starts with ``first_cell``."""
    (line,) = [line for line in report.splitlines() if line.startswith(f"| {first_cell} |")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def _goal(report: str, goal: str) -> list[str]:
    (line,) = [line for line in report.splitlines() if line.startswith(f"| {goal}")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_counts_match_the_fake_tests_and_a_failed_fault_test_misses_a_goal(
    scorecard: Any,
) -> None:
    result, report = scorecard("fuzz", "failing_faults")
    assert result.returncode == 1, result.stdout + result.stderr
    # reader "fake": 2 test cases, none skipped, 7 generated, 2 pinned (1 @example + 1
    # plain test), 1 regression test, no uncaught error, hang, failed check or failure
    assert _row(report, "fake")[1:] == ["2", "0", "7", "2", "1", "0", "0", "0", "0"]
    bounded = int(_row(report, "profiled")[3])
    assert 0 < bounded < 1000  # the bounded campaign
    assert _goal(report, "uncaught errors")[2:] == [f"0 in {9 + bounded} inputs", "yes"]
    recorded = _row(report, "fake job")
    assert recorded[1:6] == ["kill -9", "identical", "1", "1", "0"]
    failed = [line for line in report.splitlines() if "`test_recovery_differs`" in line]
    assert len(failed) == 1 and "**failed**" in failed[0]
    assert "recovered results differ" in failed[0]
    assert _goal(report, "fault tests failed")[2:] == ["1 of 2", "**no**"]
    assert "Slow fault test cases not run: 1 (`--slow` runs them)." in report
    assert "## Goals: MISSED" in result.stdout


def test_all_goals_met_exits_zero_and_slow_fault_tests_run(scorecard: Any) -> None:
    result, report = scorecard("fuzz", "faults", "--slow", "--profile", "slow")
    assert result.returncode == 0, report
    assert _row(report, "profiled")[3] == "1000"  # RLKIT_FUZZ=slow: 1000 examples per test
    assert "## Goals: all met" in report
    assert _goal(report, "faults that killed a job")[2:] == ["2 of 2 (3 kills, 3 resumes)", "yes"]
    assert _goal(report, "finished result files lost")[2:] == ["0 in 2 faults", "yes"]
    slow = [line for line in report.splitlines() if "`test_kill_twice`" in line]
    assert len(slow) == 1 and "within-interval" in slow[0]
    for field in ("Command: `python benchmarks/reliability.py", "Python ", "hypothesis ",
                  "pytest ", "Commit: ", "date: ", "Wall time: "):  # fmt: skip
        assert field in report


def test_uncaught_errors_and_a_dead_test_process_are_counted(scorecard: Any) -> None:
    result, report = scorecard("broken_fuzz", "faults")
    assert result.returncode == 1
    for reader in ("broken", "zz_crash"):  # 1 uncaught error, 1 failed test case each
        row = _row(report, reader)
        assert row[6] == "1" and row[-1] == "1", row
    measured, met = _goal(report, "uncaught errors")[2:4]
    assert measured.startswith("2 in ") and met == "**no**"
    (failure,) = [line for line in report.splitlines() if "test_reader_raises_key_error" in line]
    assert "uncaught: KeyError" in failure
    assert "`test_fuzz_zz_crash.py::test_reader_kills_the_process`: crashed" in report
