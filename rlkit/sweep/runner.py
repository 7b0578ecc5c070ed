"""Running a suite's cells on a backend: local worker processes, or Ray tasks.

Both backends run :func:`rlkit.sweep.cells.run_cell` in workers and hand each document
back to the driver, which alone writes files (atomically), so workers need no shared
file system. At most ``workers`` cells are in flight at a time. What happens when things
go wrong:

- Ctrl-C, or ``kill -9`` of the driver and its workers: the cells in flight are lost,
  nothing else. Every file under its final name is whole; a rerun of the same command
  deletes the temporaries the killed run left, reuses the finished cells and runs the
  rest, which give the same results as an uninterrupted run (cells are seeded).
- A damaged cell file (truncated, garbage, edited, another cell's, a config that does not
  match the suite's cell): a rerun does not trust it; it runs the cell again and lists
  it in :attr:`SweepRun.damaged` (see :func:`rlkit.sweep.cells.cell_state`).
- Two runs on one results folder: the second stops at once with a
  :class:`~rlkit.sweep.folder.ResultsFolderError` naming the process that holds the
  folder's lock (:func:`~rlkit.sweep.folder.lock_results_folder`).
- A full disk or a read-only folder: a :class:`~rlkit.sweep.folder.ResultsFolderError`
  naming the folder and the fix; the workers are stopped, no temporary file is left and
  the files of finished cells are kept.
- A worker killed mid-cell: the cell runs again (local pool: :mod:`rlkit.sweep.pool`;
  Ray: one retry of the task); a cell that kills its worker every time is recorded as
  failed and the suite goes on.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlkit.sweep.cells import cell_path, cell_state, error_document, run_cell, write_cell
from rlkit.sweep.folder import lock_results_folder, remove_temporaries, writing
from rlkit.sweep.pool import OnDone, run_local
from rlkit.sweep.suite import Cell, Suite

__all__ = ["BACKENDS", "SweepRun", "available_cores", "import_ray", "run_suite"]

BACKENDS = ("local", "ray")
#: Tries of a Ray task whose worker dies (Ray reruns it; errors in the cell are kept).
RAY_TRIES = 2


@dataclass
class SweepRun:
    """What :func:`run_suite` did.

    Attributes
    ----------
    suite : Suite
        The suite.
    folder : pathlib.Path
        ``<out>/<suite name>``: ``cells/``, ``report.md``, ``plots/``.
    selected : list of str
        Names of the cells asked for (all, or those matching ``cells=`` patterns).
    reused : list of str
        Cells finished by an earlier run and not run again.
    ran : list of str
        Cells run now (successfully or not).
    errors : list of str
        Cells run now that failed (their files hold the traceback).
    damaged : list of str
        Cells whose files were damaged (unreadable, cut short, edited, not matching the
        suite's cell): not trusted, run again.
    report : pathlib.Path or None
        The report written, if any.
    wall_time_s : float
        Seconds the run took, report included.
    """

    suite: Suite
    folder: Path
    selected: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    report: Path | None = None
    wall_time_s: float = 0.0


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def run_suite(
    suite: Suite,
    *,
    out: str | os.PathLike[str] = "results",
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    cells: Sequence[str] | None = None,
    command: list[str] | None = None,
    progress_bar: bool = True,
    report: bool = True,
) -> SweepRun:
    """Run the unfinished cells of ``suite`` and write the report.

    Parameters
    ----------
    suite : Suite
        From :func:`~rlkit.sweep.schema.load_suite`.
    out : path-like
        Results go to ``out/<suite name>/``.
    backend : {"local", "ray"}
        Worker processes on this machine, or Ray tasks.
    workers : int, optional
        Cells run at once; default: the cores available (local; for Ray without
        ``address``, the cores of the local instance started) or every cell (Ray
        cluster), never more than the cells to run.
    address : str, optional
        Ray cluster to join (``"auto"``: ``RAY_ADDRESS`` or the cluster ``ray start``
        made here; ``"HOST:6379"``; ``"ray://HOST:10001"``); without it Ray starts a
        local instance, stopped at the end. Only with ``backend="ray"``. Cluster
        nodes need rlkit (the same version) installed: cells import it there.
    cells : sequence of str, optional
        fnmatch patterns of cell names to run (default: all).
    command : list of str, optional
        Command line recorded in every file (default ``sys.argv``).
    progress_bar : bool
        Show a tqdm bar over cells.
    report : bool
        Write ``report.md`` and the plots once the cells are done.

    Returns
    -------
    SweepRun

    Raises
    ------
    ValueError
        For an unknown backend, ``address`` without Ray, a bad ``workers`` count, or a
        pattern matching no cell.
    ImportError
        If ``backend="ray"`` and Ray is not installed.
    ResultsFolderError
        If another run holds the results folder, or it cannot be written (full disk,
        read-only); the message names the folder and the fix.
    KeyboardInterrupt
        After stopping the workers; the files of finished cells are kept.
    """
    started = time.perf_counter()
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if address is not None and backend != "ray":
        raise ValueError("address joins a Ray cluster: use it with backend='ray'")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if command is None:
        command = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else []
    folder = Path(out) / suite.name
    selected = suite.select(cells)
    run = SweepRun(suite, folder, selected=[c.name for c in selected])
    with lock_results_folder(folder):
        with writing(folder):
            remove_temporaries(folder)
        todo = []
        for cell in selected:
            state, _ = cell_state(cell_path(folder, cell.name), cell)
            if state == "ok":
                run.reused.append(cell.name)
                continue
            todo.append(cell)
            if state == "damaged":
                run.damaged.append(cell.name)
        if todo:
            _run_cells(run, todo, backend, workers, address, command, progress_bar)
        if report:
            from rlkit.sweep.report import write_report

            with writing(folder):
                run.report = write_report(suite, folder, command=command)
    run.wall_time_s = time.perf_counter() - started
    return run


def _run_cells(
    run: SweepRun,
    todo: list[Cell],
    backend: str,
    workers: int | None,
    address: str | None,
    command: list[str],
    progress_bar: bool,
) -> None:
    from tqdm import tqdm

    bar = tqdm(
        total=len(run.selected),
        initial=len(run.reused),
        desc=f"bench {run.suite.name}",
        unit="cell",
        disable=not progress_bar,
        dynamic_ncols=True,
    )

    def done(cell: Cell, document: dict[str, Any]) -> None:
        with writing(run.folder):
            write_cell(run.folder, document)
        run.ran.append(cell.name)
        if document.get("status") != "ok":
            run.errors.append(cell.name)
            bar.set_postfix(errors=len(run.errors))
        bar.update()

    try:
        if backend == "local":
            run_local(todo, min(workers or available_cores(), len(todo)), command, done)
        else:
            _run_ray(todo, workers, address, command, done)
    finally:
        bar.close()


# -- Ray backend ---------------------------------------------------------------------------


def import_ray() -> Any:
    """The ``ray`` module, or an ImportError saying how to install it."""
    try:
        import ray
    except ImportError as error:
        raise ImportError(
            f'the Ray backend needs Ray ({error}): pip install "rlkit[ray]" '
            "(or pip install ray), or use --backend local"
        ) from None
    return ray


def _run_ray(
    todo: list[Cell], workers: int | None, address: str | None, command: list[str], done: OnDone
) -> None:
    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        # "local": a new instance even when RAY_ADDRESS is set or `ray start` ran here
        # (--address auto joins those).
        options: dict[str, Any] = {"address": address or "local"}
        if address is None:
            # A local instance: one CPU per cell at once, no dashboard, quiet workers
            # (what a cell prints or warns is in its file), and a small object store:
            # cell documents are a few hundred kB at most. A cluster keeps its own
            # settings (Ray refuses most of these when joining one).
            options.update(
                num_cpus=min(workers or available_cores(), len(todo)),
                object_store_memory=100 * 1024 * 1024,
                include_dashboard=False,
                log_to_driver=False,
                logging_level="ERROR",
            )
        ray.init(**options)
    try:
        limit = workers or len(todo)
        # A worker that dies mid-cell (killed, OOM) is a system failure: Ray runs the task
        # again. Errors inside the cell are not retried: run_cell returns them.
        remote = ray.remote(num_cpus=1, max_retries=RAY_TRIES - 1)(run_cell)
        pending = deque(todo)
        running: dict[Any, Cell] = {}
        try:
            while pending or running:
                while pending and len(running) < limit:
                    cell = pending.popleft()
                    running[remote.remote(cell, command, "ray")] = cell
                ready, _ = ray.wait(list(running), num_returns=1)
                for ref in ready:
                    cell = running.pop(ref)
                    try:
                        document = ray.get(ref)
                    except Exception as error:  # the worker died, or Ray lost the task
                        note = (
                            f"the Ray task failed (a worker that dies is tried {RAY_TRIES} "
                            "times); a rerun retries it"
                        )
                        document = error_document(
                            cell, error, note=note, command=command, backend="ray"
                        )
                    done(cell, document)
        except BaseException:
            for ref in running:
                ray.cancel(ref, force=True)
            raise
    finally:
        if started_here:
            ray.shutdown()
