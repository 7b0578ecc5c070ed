"""Faults injected into ``rlkit bench`` (issue #18, item 2): kill -9 and rerun, damaged
cell files, two runs on one folder, a full disk, a read-only folder, killed workers.

Every test runs the six-cell suite of :mod:`tests.faults.bench_helpers` (a few seconds)
and compares what survives with one uninterrupted run (the ``reference`` fixture).
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rlkit.sweep import folder as results_folder
from rlkit.sweep import runner
from rlkit.sweep.cells import cell_path, cell_state, is_finished, read_cell
from rlkit.sweep.cli import main
from rlkit.sweep.folder import LOCK_NAME
from rlkit.sweep.runner import run_suite
from rlkit.sweep.schema import load_suite
from rlkit.sweep.suite import Cell, Suite
from tests.faults.bench_helpers import (
    DYING_KINDS,
    SUITE,
    bench_args,
    cell_files,
    digests,
    kill_group,
    results,
    start_bench,
    temporaries,
    wait_for,
)

JOB = "rlkit bench"


@dataclass(frozen=True)
class Reference:
    """One uninterrupted run of the suite: its file, folder and cell results."""

    suite_file: Path
    suite: Suite
    folder: Path
    results: dict[str, dict[str, Any]]

    def cell(self, name: str) -> Cell:
        return next(c for c in self.suite.cells() if c.name == name)

    def copy(self, out: Path) -> Path:
        """A copy of the finished results folder under ``out``; its path."""
        target = out / self.suite.name
        shutil.copytree(self.folder, target)
        return target


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    base = tmp_path_factory.mktemp("reference")
    suite_file = base / "faults.yaml"
    suite_file.write_text(SUITE)
    suite = load_suite(suite_file)
    run = run_suite(suite, out=base / "out", workers=2, progress_bar=False)
    assert not run.errors and len(run.ran) == 6
    return Reference(suite_file, suite, run.folder, results(run.folder))


# -- kill -9 at a random moment, then rerun --------------------------------------------


@pytest.mark.parametrize("moment", [0, 1, 5])
def test_kill_9_then_rerun_gives_the_uninterrupted_results(
    moment: int, reference: Reference, tmp_path: Path, fault_log: Callable[..., None]
) -> None:
    # The seeded moment: after this many cells are written (6: in the report), plus a delay.
    rng = random.Random(moment)
    after_cells, delay = rng.randint(0, 6), rng.uniform(0, 0.2)
    args = bench_args(reference.suite_file, tmp_path)
    folder = tmp_path / reference.suite.name
    process = start_bench(args)
    wait_for(
        lambda: (folder / LOCK_NAME).exists() and len(cell_files(folder)) >= after_cells,
        process,
        f"{after_cells} finished cells",
    )
    time.sleep(delay)
    assert process.poll() is None, "the run ended before the kill moment"
    kill_group(process)  # the driver and its workers
    assert process.returncode == -signal.SIGKILL
    kept = {name: path.read_bytes() for name, path in cell_files(folder).items()}
    for name, data in kept.items():  # only whole, finished files under final names
        assert is_finished(json.loads(data), reference.cell(name)), name
    left = len(temporaries(folder))

    assert main(args) == 0  # the same command again; the dead run's lock is gone
    assert {
        name: path.read_bytes() for name, path in cell_files(folder).items() if name in kept
    } == kept
    assert results(folder) == reference.results
    assert not temporaries(folder) and (folder / "report.md").is_file()
    fault_log(
        job=JOB,
        fault=f"kill -9 (process group) after {after_cells} cells + {delay:.2f} s",
        outcome="identical",
        killed=1,
        resumed=1,
        files_lost=0,
        detail=f"{len(kept)} of 6 cells kept and reused, {left} temporaries removed",
    )


# -- damaged cell files ----------------------------------------------------------------


def _truncated(data: bytes, document: dict[str, Any]) -> bytes:
    return data[: len(data) // 2]


def _garbage(data: bytes, document: dict[str, Any]) -> bytes:
    return random.Random(0).randbytes(len(data))


def _wrong_shape(data: bytes, document: dict[str, Any]) -> bytes:
    # Valid JSON and a cell document's header, but no readable result (no checksum, as
    # in files written before cells had one).
    document = {k: v for k, v in document.items() if k != "sha256"}
    return json.dumps({**document, "result": [1, 2, 3]}).encode()


def _other_config(data: bytes, document: dict[str, Any]) -> bytes:
    # The recorded config no longer matches the suite's cell, the fingerprint does.
    document = {k: v for k, v in document.items() if k != "sha256"}
    document["config"] = {**document["config"], "episodes": 2}
    return json.dumps(document).encode()


def _edited_record(data: bytes, document: dict[str, Any]) -> bytes:
    document["result"]["records"][0]["success"] = not document["result"]["records"][0]["success"]
    return json.dumps(document).encode()


def _format_not_a_mapping(data: bytes, document: dict[str, Any]) -> bytes:
    return json.dumps({**document, "format": "rlkit.sweep.cell"}).encode()


def _version_not_a_number(data: bytes, document: dict[str, Any]) -> bytes:
    return json.dumps({**document, "format": {"name": "rlkit.sweep.cell", "version": "x"}}).encode()


#: Corruption -> the cell whose file gets it (a different one each).
CORRUPTIONS: dict[str, tuple[Callable[[bytes, dict[str, Any]], bytes], str]] = {
    "truncated": (_truncated, "random__tiny-index__seed0"),
    "garbage bytes": (_garbage, "random__tiny-index__seed1"),
    "valid JSON, wrong shape": (_wrong_shape, "q_learning__tiny-index__seed0"),
    "config not the suite's": (_other_config, "q_learning__tiny-index__seed1"),
    "edited episode record": (_edited_record, "q_learning__tiny-index__seed2"),
}


def corrupt(path: Path, how: Callable[[bytes, dict[str, Any]], bytes]) -> None:
    data = path.read_bytes()
    path.write_bytes(how(data, json.loads(data)))


@pytest.mark.parametrize(
    "how",
    [*(c for c, _ in CORRUPTIONS.values()), _format_not_a_mapping, _version_not_a_number],
    ids=[*CORRUPTIONS, "format not a mapping", "version not a number"],
)
def test_a_damaged_cell_file_is_not_trusted(
    how: Callable[[bytes, dict[str, Any]], bytes], reference: Reference, tmp_path: Path
) -> None:
    folder = reference.copy(tmp_path)
    cell = reference.cell("q_learning__tiny-index__seed3")
    assert cell_state(cell_path(folder, cell.name), cell)[0] == "ok"
    corrupt(cell_path(folder, cell.name), how)
    assert cell_state(cell_path(folder, cell.name), cell)[0] == "damaged"
    assert not is_finished(read_cell(cell_path(folder, cell.name)), cell)


def test_another_cells_file_is_not_trusted(reference: Reference, tmp_path: Path) -> None:
    folder = reference.copy(tmp_path)
    cell = reference.cell("random__tiny-index__seed0")
    shutil.copy(cell_path(folder, "random__tiny-index__seed1"), cell_path(folder, cell.name))
    assert cell_state(cell_path(folder, cell.name), cell)[0] == "damaged"


def test_a_rerun_deletes_temporaries_a_killed_run_left_and_nothing_else(
    reference: Reference, tmp_path: Path
) -> None:
    folder = reference.copy(tmp_path)
    name = "random__tiny-index__seed0"
    half = cell_path(folder, name).read_bytes()[:100]
    cell_path(folder, name).unlink()
    planted = [
        folder / "cells" / f".{name}.json.k2j4_x9a.json",  # a cell cut short mid-write
        folder / ".report.md.0a1b2c3d.md",
        folder / "plots" / ".tiny-index__spl.png.zz9y8x7w.png",
    ]
    for path in planted:
        path.write_bytes(half)
    (folder / ".gitignore").write_text("*\n")  # the user's: kept
    run = run_suite(reference.suite, out=tmp_path, workers=1, progress_bar=False, report=False)
    assert run.ran == [name] and not run.damaged  # the temporary was never read
    assert not any(p.exists() for p in planted) and (folder / ".gitignore").exists()
    assert results(folder) == reference.results


def test_a_rerun_redoes_damaged_cells(
    reference: Reference, tmp_path: Path, fault_log: Callable[..., None]
) -> None:
    folder = reference.copy(tmp_path)
    for how, name in CORRUPTIONS.values():
        corrupt(cell_path(folder, name), how)
    intact = cell_path(folder, "q_learning__tiny-index__seed3").read_bytes()
    run = run_suite(reference.suite, out=tmp_path, workers=2, progress_bar=False, report=False)
    damaged = sorted(name for _, name in CORRUPTIONS.values())
    assert sorted(run.damaged) == sorted(run.ran) == damaged and not run.errors
    assert run.reused == ["q_learning__tiny-index__seed3"]
    assert cell_path(folder, "q_learning__tiny-index__seed3").read_bytes() == intact
    assert results(folder) == reference.results
    for fault, (_, name) in CORRUPTIONS.items():
        fault_log(
            job=JOB,
            fault=f"corrupt cell JSON: {fault}",
            outcome="detected",
            resumed=1,
            detail=f"{name} not trusted, run again; result equals the uninterrupted run's",
        )


def test_report_of_a_folder_with_a_damaged_cell_lists_it(
    reference: Reference, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = reference.copy(tmp_path)
    corrupt(cell_path(folder, "q_learning__tiny-index__seed0"), _wrong_shape)
    assert main(bench_args(reference.suite_file, tmp_path, "--report-only")) == 0
    report = (folder / "report.md").read_text()
    assert "5 of 6 finished" in report and "1 damaged" in report
    assert main(bench_args(reference.suite_file, tmp_path, "--list")) == 0
    assert "q_learning__tiny-index__seed0\tdamaged" in capsys.readouterr().out


# -- two runs on one results folder ----------------------------------------------------


def test_a_second_run_on_a_busy_folder_stops_with_a_clear_error(
    reference: Reference,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fault_log: Callable[..., None],
) -> None:
    args = bench_args(reference.suite_file, tmp_path)
    folder = tmp_path / reference.suite.name
    first = start_bench(args)
    holder = f"{first.pid}\n"
    lock = folder / LOCK_NAME
    wait_for(lambda: lock.exists() and lock.read_text() == holder, first, "the lock")

    assert main(args) == 2  # the second run, while the first one runs
    error = capsys.readouterr().err
    assert f"results folder {folder} is in use by process {first.pid}" in error
    assert "wait for it to finish, or pass another --out" in error
    assert first.poll() is None, "the first run ended before the second started"
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert results(folder) == reference.results and not temporaries(folder)
    fault_log(
        job=JOB,
        fault="two runs on one results folder",
        outcome="clear-error",
        detail="the second stops at once (folder lock); the first finishes, identical",
    )


def test_without_fcntl_runs_go_on_unlocked(
    reference: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = reference.copy(tmp_path)
    (folder / LOCK_NAME).unlink()
    monkeypatch.setattr(results_folder, "fcntl", None)  # as on Windows
    run = run_suite(reference.suite, out=tmp_path, progress_bar=False, report=False)
    assert len(run.reused) == 6 and not (folder / LOCK_NAME).exists()


# -- a full disk, a read-only folder ---------------------------------------------------


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """``full_disk(folder)``: from now on, text written under ``folder`` fails halfway
    with ENOSPC (half of it reaches the file, as on a real full disk)."""
    original = Path.write_text

    def fill(folder: Path) -> None:
        def write_text(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
            if not self.is_relative_to(folder):
                return original(self, data, *args, **kwargs)
            original(self, data[: len(data) // 2], *args, **kwargs)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

        monkeypatch.setattr(Path, "write_text", write_text)

    return fill


@pytest.mark.parametrize("stage", ["cell", "report"])
def test_a_full_disk_stops_with_a_clear_error_and_no_half_written_file(
    stage: str,
    reference: Reference,
    tmp_path: Path,
    full_disk: Callable[[Path], None],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fault_log: Callable[..., None],
) -> None:
    folder = reference.copy(tmp_path)
    redo = ["q_learning__tiny-index__seed0", "random__tiny-index__seed1"] if stage == "cell" else []
    for name in redo:
        cell_path(folder, name).unlink()
    before = digests(folder)
    full_disk(folder)
    assert main(bench_args(reference.suite_file, tmp_path)) == 2
    error = capsys.readouterr().err
    assert f"cannot write to results folder {folder}: the disk is full" in error
    assert "free some space or pass another --out" in error
    assert not temporaries(folder)  # nothing half-written left behind
    after = digests(folder)
    kept = [p for p in before if not p.startswith("plots")]  # plots are redrawn first
    assert {p: after.get(p) for p in kept} == {p: before[p] for p in kept}
    assert not any(cell_path(folder, name).exists() for name in redo)

    monkeypatch.undo()  # space again: the same command finishes the suite
    rerun = run_suite(reference.suite, out=tmp_path, progress_bar=False, report=False)
    assert sorted(rerun.ran) == sorted(redo) and results(folder) == reference.results
    fault_log(
        job=JOB,
        fault=f"disk full (ENOSPC) writing the {stage}",
        outcome="clear-error",
        resumed=1,
        detail="exit 2 naming the folder and the fix; no temporary left, earlier files intact",
    )


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path, str], str]]:
    """``read_only(folder, code)``: make ``folder`` read-only; returns how.

    ``"EACCES"``: ``chmod 0o555`` the folder and its subfolders, except as root (where
    modes stop no write): there, and for ``"EROFS"`` (a read-only mount), opening a file
    under the folder for writing fails with that error.
    """
    modes: dict[Path, int] = {}

    def protect(folder: Path, code: str) -> str:
        if code == "EACCES" and os.geteuid() != 0:
            for place in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
                modes[place] = place.stat().st_mode
                place.chmod(0o555)
            return "chmod 0o555"
        number = getattr(errno, code)
        original = os.open
        writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

        def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if flags & writes and Path(os.fsdecode(path)).is_relative_to(folder):
                raise OSError(number, os.strerror(number), os.fsdecode(path))
            return original(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", open_)
        return f"{code} on opening for writing (simulated)"

    yield protect
    for place, mode in modes.items():
        place.chmod(mode)


@pytest.mark.parametrize("code", ["EACCES", "EROFS"])
def test_a_read_only_folder_stops_with_a_clear_error_before_any_cell_runs(
    code: str,
    reference: Reference,
    tmp_path: Path,
    read_only: Callable[[Path, str], str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fault_log: Callable[..., None],
) -> None:
    folder = reference.copy(tmp_path)
    cell_path(folder, "q_learning__tiny-index__seed0").unlink()
    before = digests(folder)
    monkeypatch.setattr(runner, "run_local", lambda *_: pytest.fail("a cell ran"))
    how = read_only(folder, code)
    started = time.perf_counter()
    assert main(bench_args(reference.suite_file, tmp_path)) == 2
    seconds = time.perf_counter() - started
    error = capsys.readouterr().err
    assert f"cannot write to results folder {folder}: it is read-only" in error
    assert f"chmod -R u+w {folder}" in error
    assert digests(folder) == before and not temporaries(folder)
    fault_log(
        job=JOB,
        fault=f"read-only results folder ({how})",
        outcome="clear-error",
        detail=f"exit 2 naming the folder and the fix after {seconds:.1f} s, before any cell "
        "ran; nothing written",
    )


# -- a worker killed mid-cell ----------------------------------------------------------


@pytest.fixture
def dying_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The module of :data:`DYING_KINDS`, importable by pool workers and Ray workers;
    the folder of the marker files."""
    (tmp_path / "bench_dying_kinds.py").write_text(DYING_KINDS)
    monkeypatch.syspath_prepend(str(tmp_path))  # pool workers inherit sys.path
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # Ray workers, the environment
    markers = tmp_path / "markers"
    markers.mkdir()
    return markers


def dying_suite(tmp_path: Path, markers: Path, kind: str) -> Suite:
    """One cell of ``kind`` (of :data:`DYING_KINDS`), then two planner cells: with two
    workers, a planner cell is usually in flight beside it when it kills its worker."""
    text = SUITE.split("agents:")[0] + (
        "agents:\n"
        f'  - {{name: dying, kind: "bench_dying_kinds:{kind}", seeds: [0], '
        f"kwargs: {{markers: {str(markers)!r}}}}}\n"
        "  - {name: planner, kind: planner}\n"
    )
    (tmp_path / "dying.yaml").write_text(text)
    return load_suite(tmp_path / "dying.yaml")


def test_a_pool_worker_killed_mid_cell_is_retried(
    tmp_path: Path, dying_kinds: Path, fault_log: Callable[..., None]
) -> None:
    suite = dying_suite(tmp_path, dying_kinds, "die_once")
    run = run_suite(suite, out=tmp_path, workers=2, progress_bar=False, report=False)
    assert (dying_kinds / "dying__tiny-index__seed0.died").exists()  # it did die once
    assert not run.errors and sorted(run.ran) == sorted(c.name for c in suite.cells())
    document = read_cell(cell_path(run.folder, "dying__tiny-index__seed0"))
    assert document is not None and document["status"] == "ok"
    detail = "the cell ran again on a fresh pool; the suite finished"
    fault_log(
        job=JOB,
        fault="local pool worker killed mid-cell (kill -9)",
        outcome="retried",
        killed=1,
        detail=detail,
    )


def test_a_cell_that_always_kills_its_worker_is_marked_failed(
    tmp_path: Path, dying_kinds: Path, fault_log: Callable[..., None]
) -> None:
    suite = dying_suite(tmp_path, dying_kinds, "die_always")
    run = run_suite(suite, out=tmp_path, workers=2, progress_bar=False, report=False)
    assert run.errors == ["dying__tiny-index__seed0"] and len(run.ran) == 3
    document = read_cell(cell_path(run.folder, "dying__tiny-index__seed0"))
    assert document is not None and document["status"] == "error"
    assert (
        "a worker process died while this cell ran, on each of its 2 tries"
        in (document["error"]["message"])
    )
    for name in ("planner__tiny-index__seed0", "planner__tiny-index__seed1"):
        planner = read_cell(cell_path(run.folder, name))
        assert planner is not None and planner["status"] == "ok"  # its neighbours finish
    detail = "tried twice, then marked failed; the other cells finished"
    fault_log(
        job=JOB,
        fault="local pool worker killed on every try of a cell",
        outcome="retried",
        killed=2,
        detail=detail,
    )


@pytest.fixture
def ray_folder() -> Iterator[str]:
    """A short temporary folder for Ray's sessions (socket paths are capped at 107
    characters, too short for pytest's tmp_path), removed afterwards."""
    pytest.importorskip("ray")
    folder = tempfile.mkdtemp(prefix="rk-ray-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow  # starting Ray takes 5-10 s; the local pool's test covers the default run
def test_a_ray_worker_killed_mid_cell_is_retried_or_marked_failed(
    tmp_path: Path,
    dying_kinds: Path,
    ray_folder: str,
    monkeypatch: pytest.MonkeyPatch,
    fault_log: Callable[..., None],
) -> None:
    monkeypatch.setenv("RAY_TMPDIR", ray_folder)
    text = SUITE.split("agents:")[0] + (
        "agents:\n"
        "  - {name: planner, kind: planner, seeds: [0]}\n"
        f'  - {{name: once, kind: "bench_dying_kinds:die_once", seeds: [0], '
        f"kwargs: {{markers: {str(dying_kinds)!r}}}}}\n"
        '  - {name: always, kind: "bench_dying_kinds:die_always", seeds: [0]}\n'
    )
    (tmp_path / "ray.yaml").write_text(text)
    suite = load_suite(tmp_path / "ray.yaml")
    run = run_suite(suite, backend="ray", out=tmp_path, workers=2, progress_bar=False, report=False)
    assert (dying_kinds / "once__tiny-index__seed0.died").exists()
    assert run.errors == ["always__tiny-index__seed0"] and len(run.ran) == 3
    once = read_cell(cell_path(run.folder, "once__tiny-index__seed0"))
    assert once is not None and once["status"] == "ok" and once["backend"] == "ray"
    always = read_cell(cell_path(run.folder, "always__tiny-index__seed0"))
    assert always is not None and always["status"] == "error"
    assert (
        "the Ray task failed (a worker that dies is tried 2 times)" in (always["error"]["message"])
    )
    fault_log(
        job=JOB,
        fault="Ray worker killed mid-cell (kill -9)",
        outcome="retried",
        killed=1,
        detail="Ray ran the task again; the suite finished",
    )
    detail = "tried twice, then marked failed; the other cells finished"
    fault_log(
        job=JOB,
        fault="Ray worker killed on every try of a cell",
        outcome="retried",
        killed=2,
        detail=detail,
    )
