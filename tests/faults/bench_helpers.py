"""The small suite and the file checks shared by the ``rlkit bench`` fault tests."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rlkit.sweep.cells import read_cell
from rlkit.sweep.folder import LOCK_NAME

#: Six fast cells on a 3x5 map (index observations): random agents and tabular
#: Q-learning, each seeded, so two runs give the same records.
SUITE = """\
suite: faults
defaults: {episodes: 3, seeds: 2}
envs:
  - label: tiny-index
    id: rlkit/GridNav-Map-v0
    kwargs: {map: ".....\\n.#.#.\\n.....", obs: index, goal: [2, 4]}
agents:
  - {name: random, kind: random}
  - {name: q_learning, kind: q_learning, steps: 800, seeds: 4}
"""

#: Cell kinds that kill their own worker process (``kill -9``), as a Ray worker or a pool
#: worker killed mid-cell; ``die_once`` only on its first try (a marker file remembers it).
DYING_KINDS = """\
import os
import signal
from pathlib import Path

from rlkit.sweep.kinds import TrainedAgent


def die_once(cell):
    marker = Path(cell.agent.kwargs["markers"]) / f"{cell.name}.died"
    if not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return TrainedAgent("planner")


def die_always(cell):
    os.kill(os.getpid(), signal.SIGKILL)


die_once.trains = die_always.trains = False
"""


def bench_args(suite: Path, out: Path, *extra: str) -> list[str]:
    """Arguments of ``rlkit bench`` (``python -m rlkit.sweep``) on two workers."""
    return ["--suite", str(suite), "--out", str(out), "--workers", "2", "--no-progress", *extra]


def start_bench(args: list[str]) -> subprocess.Popen[str]:
    """``rlkit bench ARGS`` in a process group of its own (driver and workers)."""
    return subprocess.Popen(
        [sys.executable, "-m", "rlkit.sweep", *args],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_group(process: subprocess.Popen[str]) -> None:
    """``kill -9`` the process group of ``process`` (its workers too) and reap it."""
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)


def wait_for(condition: Any, process: subprocess.Popen[str], what: str, limit: float = 60) -> None:
    """Poll ``condition()`` while ``process`` runs; fail naming ``what`` after ``limit`` s."""
    deadline = time.monotonic() + limit
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"rlkit bench ended before {what}: {process.communicate()[1]}")
        if time.monotonic() > deadline:
            kill_group(process)
            raise AssertionError(f"no {what} within {limit} s")
        time.sleep(0.01)


def cell_files(folder: Path) -> dict[str, Path]:
    """Cell files by cell name; temporary files of atomic writes are not cells."""
    return {p.stem: p for p in (folder / "cells").glob("*.json") if not p.name.startswith(".")}


def temporaries(folder: Path) -> list[Path]:
    """Hidden files under ``folder`` (temporaries of atomic writes), the lock aside."""
    return [p for p in folder.rglob(".*") if p.name != LOCK_NAME]


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` but the lock, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != LOCK_NAME
    }


def comparable(document: dict[str, Any] | None) -> dict[str, Any]:
    """What two runs of a cell with the same seed agree on: everything but wall times,
    the date and where and how it ran (the metric fields)."""
    assert document is not None and document["status"] == "ok", document
    records = [
        {k: v for k, v in row.items() if k != "wall_time_s"}
        for row in document["result"]["records"]
    ]
    train = {k: v for k, v in document["train"].items() if k != "wall_time_s"}
    return {
        "fingerprint": document["fingerprint"],
        "config": document["config"],
        "records": records,
        "train": train,
    }


def results(folder: Path) -> dict[str, dict[str, Any]]:
    """:func:`comparable` of every cell file in ``folder``, by cell name."""
    return {name: comparable(read_cell(path)) for name, path in cell_files(folder).items()}
