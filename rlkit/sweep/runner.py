"""Running a suite's cells on a backend: local worker processes, or Ray tasks.

Both backends run :func:`rlkit.sweep.cells.run_cell` in workers and hand each document
back to the driver, which alone writes files (atomically), so workers need no shared
file system and an interrupted suite leaves only whole files. At most ``workers`` cells
are in flight at a time; Ctrl-C loses those and nothing else.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlkit.sweep.cells import (
    cell_path,
    error_document,
    is_finished,
    read_cell,
    run_cell,
    write_cell,
)
from rlkit.sweep.suite import Cell, Suite

__all__ = ["BACKENDS", "SweepRun", "available_cores", "import_ray", "run_suite"]

BACKENDS = ("local", "ray")

#: Called with each finished cell's document, in the driver.
OnDone = Callable[[Cell, dict[str, Any]], None]


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
    todo = []
    for cell in selected:
        if is_finished(read_cell(cell_path(folder, cell.name)), cell):
            run.reused.append(cell.name)
        else:
            todo.append(cell)
            _remove_stale_temporaries(folder, cell.name)

    if todo:
        from tqdm import tqdm

        bar = tqdm(
            total=len(selected),
            initial=len(run.reused),
            desc=f"bench {suite.name}",
            unit="cell",
            disable=not progress_bar,
            dynamic_ncols=True,
        )

        def done(cell: Cell, document: dict[str, Any]) -> None:
            write_cell(folder, document)
            run.ran.append(cell.name)
            if document.get("status") != "ok":
                run.errors.append(cell.name)
                bar.set_postfix(errors=len(run.errors))
            bar.update()

        try:
            if backend == "local":
                count = min(workers or available_cores(), len(todo))
                _run_local(todo, count, command, done)
            else:
                _run_ray(todo, workers, address, command, done)
        finally:
            bar.close()
    if report:
        from rlkit.sweep.report import write_report

        run.report = write_report(suite, folder, command=command)
    run.wall_time_s = time.perf_counter() - started
    return run


def _remove_stale_temporaries(folder: Path, name: str) -> None:
    # A killed driver can leave the temporary file of an atomic write behind (it never
    # gets a final name, so readers never see it); this cell is about to be rewritten.
    for leftover in (folder / "cells").glob(f".{name}.json.*"):
        leftover.unlink(missing_ok=True)


# -- local backend -----------------------------------------------------------------------


def _init_worker(driver: int) -> None:
    # Ctrl-C goes to the whole process group; the driver stops the workers itself, so a
    # worker must not die mid-cell printing a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One thread per worker: a pool of N workers already fills N cores, and numerical
    # libraries that each start a thread per core would oversubscribe them.
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    threading.Thread(target=_exit_with_driver, args=(driver,), daemon=True).start()


def _exit_with_driver(driver: int, interval: float = 1.0) -> None:
    """End this worker once the driver is gone.

    A worker holds both ends of its task queue, so it never sees the queue close: a
    driver killed with SIGKILL would leave it running (and its cell's work wasted)
    forever.
    """
    while _alive(driver):
        time.sleep(interval)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the pid was reused by another user's process
        return False
    try:  # a killed driver stays a zombie until its parent reaps it
        with open(f"/proc/{pid}/stat", encoding="ascii") as file:
            return file.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _start_method() -> str:
    # Never fork: the driver may hold threads (tqdm's monitor, Ray's) and a forked child
    # of a threaded process can deadlock. forkserver starts faster than spawn.
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _new_pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context(_start_method())
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),)
    )


def _stop_workers(executor: ProcessPoolExecutor) -> None:
    """End the workers now; ``shutdown`` alone waits for the cells in flight to finish."""
    terminate = getattr(executor, "terminate_workers", None)  # Python >= 3.14
    if callable(terminate):
        terminate()
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def _run_local(todo: list[Cell], workers: int, command: list[str], done: OnDone) -> None:
    pending = deque(todo)
    running: dict[Future[dict[str, Any]], Cell] = {}
    executor = _new_pool(workers)
    try:
        while pending or running:
            while pending and len(running) < workers:
                cell = pending.popleft()
                running[executor.submit(run_cell, cell, command, "local")] = cell
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for future in finished:
                cell = running.pop(future)
                try:
                    document = future.result()
                except BrokenProcessPool as error:
                    broken = True
                    note = (
                        "a worker process died while this cell ran (it or a cell beside it "
                        "crashed or ran out of memory); a rerun retries it"
                    )
                    document = error_document(cell, error, note=note, command=command)
                except Exception as error:  # the task could not be sent or returned
                    document = error_document(
                        cell, error, note="the worker failed", command=command
                    )
                done(cell, document)
            if broken:
                # A dead worker breaks the whole pool: the cells in flight are lost (and
                # recorded), the rest run on a fresh pool.
                for future, cell in list(running.items()):
                    running.pop(future)
                    pending.appendleft(cell)
                executor.shutdown(wait=False, cancel_futures=True)
                executor = _new_pool(workers)
    except BaseException:
        _stop_workers(executor)
        raise
    executor.shutdown(wait=True)


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
        remote = ray.remote(num_cpus=1, max_retries=0)(run_cell)
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
                        note = "the Ray task failed; a rerun retries it"
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
