"""Running suites on the local backend: cell files, report, failures, interruption."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlkit.sweep.cells import cell_result, read_cell
from rlkit.sweep.cli import add_bench_parser
from rlkit.sweep.runner import run_suite
from rlkit.sweep.schema import load_suite

#: A 3x5 map with two pillars; index observations need the fixed goal.
TINY_ENV = """\
envs:
  - label: tiny-index
    id: rlkit/GridNav-Map-v0
    kwargs: {map: ".....\\n.#.#.\\n.....", obs: index, goal: [2, 4]}
"""


def suite_text(name: str, episodes: int, seeds: int, *agents: str) -> str:
    """A suite on the tiny env; ``agents`` are YAML flow mappings, one per agent."""
    defaults = f"{{episodes: {episodes}, seeds: {seeds}}}"
    entries = "".join(f"  - {agent}\n" for agent in agents)
    return f"suite: {name}\ndefaults: {defaults}\n{TINY_ENV}\nagents:\n{entries}"


TINY = suite_text(
    "tiny",
    3,
    2,
    "{name: planner, kind: planner}",
    "{name: random, kind: random}",
    "{name: q_learning, kind: q_learning, steps: 400, kwargs: {learning_rate: 0.5}}",
)


def write_suite(folder: Path, text: str, name: str = "suite.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def cell_files(folder: Path) -> dict[str, Path]:
    """Cell files by cell name; temporary files of atomic writes are not cells."""
    return {p.stem: p for p in (folder / "cells").glob("*.json") if not p.name.startswith(".")}


def test_local_backend_writes_cells_and_report_then_reuses_them(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path, TINY))
    run = run_suite(suite, out=tmp_path / "results", workers=2, progress_bar=False)
    folder = tmp_path / "results" / "tiny"
    assert run.folder == folder and not run.errors and not run.reused
    files = cell_files(folder)
    assert sorted(files) == sorted(c.name for c in suite.cells()) and len(files) == 6
    for name, path in files.items():
        document = read_cell(path)
        assert document is not None and document["status"] == "ok", name
        result = cell_result(document)
        assert len(result.records) == 3 and result.seeds == [document["config"]["seed"]]
        assert document["provenance"]["command"] and "git_commit" in document["provenance"]
    trained = read_cell(files["q_learning__tiny-index__seed1"])
    assert trained is not None
    assert trained["train"]["steps"] == 400 and trained["train"]["wall_time_s"] > 0
    assert trained["train"]["learning_curve"][-1]["step"] == 400
    assert trained["train"]["info"]["hyperparameters"]["seed"] == 1

    report = (folder / "report.md").read_text()
    assert "## tiny-index: `rlkit/GridNav-Map-v0`" in report
    assert "Success rate IQM [95% CI]" in report and "| q_learning |" in report
    assert "- Command: `" in report and "commit" in report
    assert "Cells: 6 of 6 finished, 0 failed, 0 not run" in report
    for plot in ("success", "spl", "return", "learning_return", "learning_length"):
        assert (folder / "plots" / f"tiny-index__{plot}.png").stat().st_size > 1000
        assert f"plots/tiny-index__{plot}.png" in report

    mtimes = {name: path.stat().st_mtime_ns for name, path in files.items()}
    again = run_suite(suite, out=tmp_path / "results", progress_bar=False, report=False)
    assert sorted(again.reused) == sorted(files) and not again.ran
    assert {name: path.stat().st_mtime_ns for name, path in files.items()} == mtimes


def test_failing_cells_record_their_error_and_the_rest_finish(tmp_path: Path) -> None:
    text = suite_text(
        "failing",
        2,
        1,
        "{name: planner, kind: planner}",
        "{name: bad_gamma, kind: q_learning, steps: 100, kwargs: {gamma: 5}}",
        '{name: missing_plugin, kind: "rlkit_no_such_module:build"}',
    )
    suite = load_suite(write_suite(tmp_path, text))
    run = run_suite(suite, out=tmp_path, workers=1, progress_bar=False)
    assert sorted(run.errors) == [
        "bad_gamma__tiny-index__seed0",
        "missing_plugin__tiny-index__seed0",
    ]
    files = cell_files(tmp_path / "failing")
    planner = read_cell(files["planner__tiny-index__seed0"])
    assert planner is not None and planner["status"] == "ok"
    failed = read_cell(files["bad_gamma__tiny-index__seed0"])
    assert failed is not None and failed["status"] == "error" and failed["result"] is None
    assert failed["error"]["type"] == "ValueError" and "gamma" in failed["error"]["message"]
    assert "Traceback (most recent call last)" in failed["error"]["traceback"]
    plugin = read_cell(files["missing_plugin__tiny-index__seed0"])
    assert plugin is not None and "cannot be imported" in plugin["error"]["message"]
    report = (tmp_path / "failing" / "report.md").read_text()
    assert "## Failed cells" in report and "ValueError: gamma must be" in report

    rerun = run_suite(suite, out=tmp_path, workers=1, progress_bar=False, report=False)
    assert rerun.reused == ["planner__tiny-index__seed0"]
    assert sorted(rerun.ran) == sorted(run.errors)


#: A kind whose cells after seed 0 wait for a gate file: the interrupt always lands while
#: a cell is in flight, however slowly a loaded machine schedules the test.
GATED = """\
import time
from pathlib import Path

from rlkit.sweep.kinds import TrainedAgent

GATE = Path({gate!r})


def gated(cell):
    deadline = time.monotonic() + 120
    while cell.seed > 0 and not GATE.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return TrainedAgent("planner")


gated.trains = False
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_suite_resumes_without_redoing_or_corrupting_cells(
    tmp_path: Path, signum: signal.Signals, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = tmp_path / "gate"
    (tmp_path / "sweep_gate_plugin.py").write_text(GATED.format(gate=str(gate)))
    monkeypatch.syspath_prepend(str(tmp_path))  # workers inherit the driver's sys.path
    text = suite_text("long", 2, 8, '{name: gated, kind: "sweep_gate_plugin:gated"}')
    path = write_suite(tmp_path, text)
    # `python -m rlkit.sweep` with Ctrl-C enabled: a test run started as a background job
    # inherits SIGINT ignored (POSIX shells do that without job control), and Python keeps
    # an inherited SIG_IGN, as a user's foreground terminal never would.
    start = (
        "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "runpy.run_module('rlkit.sweep', run_name='__main__', alter_sys=True)"
    )
    command = [sys.executable, "-c", start, "--suite", str(path), "--out", str(tmp_path)]
    # Its own session: the signal goes to the driver and its workers, like Ctrl-C in a
    # terminal (SIGINT) or a killed job (SIGKILL).
    process = subprocess.Popen(
        [*command, "--workers", "1", "--no-progress"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},  # the plugin; rlkit is installed
    )
    folder = tmp_path / "long"
    deadline = time.monotonic() + 60
    while not cell_files(folder):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "no cell finished within 60 s"
        time.sleep(0.02)
    os.killpg(process.pid, signum)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"the suite did not stop within 60 s of {signum.name}: "
                    f"{process.communicate()[1]}")  # fmt: skip
    if signum == signal.SIGINT:
        assert process.returncode == 130 and "interrupted" in stderr
    finished = cell_files(folder)
    assert len(finished) == 1  # seed 0; seed 1 was in flight at the gate
    for cell in finished.values():
        json.loads(cell.read_text())  # whole files only
    mtimes = {name: cell.stat().st_mtime_ns for name, cell in finished.items()}

    gate.touch()
    suite = load_suite(path)
    rerun = run_suite(suite, out=tmp_path, workers=2, progress_bar=False, report=False)
    assert sorted(rerun.reused) == sorted(finished) and not rerun.errors
    assert len(rerun.ran) == 8 - len(finished)
    after = cell_files(folder)
    assert len(after) == 8 and not list((folder / "cells").glob(".*"))
    assert {name: after[name].stat().st_mtime_ns for name in finished} == mtimes
    for cell in after.values():
        document = read_cell(cell)
        assert document is not None and document["status"] == "ok"


PLUGINS = """\
import os

from rlkit.sweep.kinds import TrainedAgent


def crash(cell):
    os._exit(3)  # a worker dying mid-cell, as on a segfault or the OOM killer


def planner_too(cell):
    return TrainedAgent("planner", info={"plugin": True})


crash.trains = planner_too.trains = False
"""


def test_a_dying_worker_fails_its_cell_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sweep_test_plugins.py").write_text(PLUGINS)
    monkeypatch.syspath_prepend(str(tmp_path))  # workers inherit the driver's sys.path
    text = suite_text(
        "crashing",
        2,
        2,
        '{name: crash, kind: "sweep_test_plugins:crash", seeds: [0]}',
        '{name: plugin, kind: "sweep_test_plugins:planner_too"}',
    )
    run = run_suite(load_suite(write_suite(tmp_path, text)), out=tmp_path, workers=1,
                    progress_bar=False, report=False)  # fmt: skip
    assert run.errors == ["crash__tiny-index__seed0"] and len(run.ran) == 3
    crashed = read_cell(tmp_path / "crashing" / "cells" / "crash__tiny-index__seed0.json")
    assert crashed is not None and "a worker process died" in crashed["error"]["message"]
    plugin = read_cell(tmp_path / "crashing" / "cells" / "plugin__tiny-index__seed1.json")
    assert plugin is not None and plugin["status"] == "ok" and plugin["train"]["info"]["plugin"]


def test_ray_backend_without_ray_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    suite = load_suite(write_suite(tmp_path, TINY))
    with pytest.raises(ImportError, match=r'pip install "rlkit\[ray\]"'):
        run_suite(suite, backend="ray", out=tmp_path, progress_bar=False)


@pytest.fixture
def bench() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlkit")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_bench_parser(subparsers)
    return parser


def test_bench_command_lists_cells_and_reports_bad_input(
    bench: argparse.ArgumentParser, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_suite(tmp_path, TINY)
    args = bench.parse_args(["bench", "--suite", str(path), "--out", str(tmp_path), "--list"])
    assert args.func(args) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0] == "planner__tiny-index__seed0\tnot run" and len(listed) == 6

    args = bench.parse_args(["bench", "--suite", str(path), "--list", "--cells", "ppo__*"])
    assert args.func(args) == 2
    assert "rlkit bench: error: --cells 'ppo__*' matches no cell" in capsys.readouterr().err

    broken = write_suite(tmp_path, TINY.replace("steps: 400", "steps: 0"), "broken.yaml")
    args = bench.parse_args(["bench", "--suite", str(broken)])
    assert args.func(args) == 2
    assert (
        "broken.yaml: agents[2] (q_learning).steps: must be a positive" in capsys.readouterr().err
    )
