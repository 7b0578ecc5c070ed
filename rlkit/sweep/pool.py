"""The local backend: cells in a pool of worker processes on this machine.

Workers run :func:`rlkit.sweep.cells.run_cell` and hand each document back to the
driver, which alone writes files. A worker that dies mid-cell (killed, a segfault, the
OOM killer) breaks the whole pool: the cells in flight are run again on a fresh pool,
one at a time until the one that killed its worker is known; that cell gets
:data:`MAX_WORKER_DEATHS` tries in all and is then recorded as failed. Workers end
themselves when the driver dies, ``kill -9`` included.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from rlkit.sweep.cells import error_document, run_cell
from rlkit.sweep.suite import Cell

__all__ = ["MAX_WORKER_DEATHS", "OnDone", "run_local"]

#: Called with each finished cell's document, in the driver.
OnDone = Callable[[Cell, dict[str, Any]], None]

#: Tries of a cell whose worker process dies under it before it is recorded as failed.
MAX_WORKER_DEATHS = 2


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


def _submit(
    executor: ProcessPoolExecutor,
    queue: deque[Cell],
    running: dict[Future[dict[str, Any]], Cell],
    command: list[str],
) -> bool:
    """Start the first cell of ``queue``; False, the cell left at the front, if the pool
    is already broken (a worker died a moment ago and ``wait`` has yet to report it)."""
    cell = queue.popleft()
    try:
        running[executor.submit(run_cell, cell, command, "local")] = cell
    except BrokenProcessPool:
        queue.appendleft(cell)
        return False
    return True


def run_local(todo: list[Cell], workers: int, command: list[str], done: OnDone) -> None:
    """Run ``todo`` on ``workers`` processes, calling ``done`` with each document."""
    pending = deque(todo)
    #: Cells in flight when a worker died, not yet cleared: they run one at a time.
    suspects: deque[Cell] = deque()
    deaths: dict[str, int] = {}
    running: dict[Future[dict[str, Any]], Cell] = {}
    solo = False  # whether the one cell in flight is a suspect, run alone
    executor = _new_pool(workers)
    try:
        while pending or suspects or running:
            submitted = True
            if suspects and not running:
                submitted = _submit(executor, suspects, running, command)
                solo = submitted
            while submitted and not solo and pending and len(running) < workers:
                submitted = _submit(executor, pending, running, command)
            if not running:  # the pool broke while idle: nothing was lost, start afresh
                executor.shutdown(wait=False, cancel_futures=True)
                executor = _new_pool(workers)
                continue
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            lost: list[Cell] = []
            broken: BaseException | None = None
            for future in finished:
                cell = running.pop(future)
                try:
                    document = future.result()
                except BrokenProcessPool as error:
                    lost.append(cell)
                    broken = error
                    continue
                except Exception as error:  # the task could not be sent or returned
                    document = error_document(
                        cell, error, note="the worker failed", command=command
                    )
                done(cell, document)
            solo = solo and bool(running)
            if broken is None:
                continue
            # A dead worker breaks the whole pool: every cell in flight is lost.
            lost += running.values()
            running.clear()
            executor.shutdown(wait=False, cancel_futures=True)
            executor = _new_pool(workers)
            if len(lost) > 1:  # which one killed its worker? run them alone to see
                suspects.extend(lost)
                continue
            cell = lost[0]
            deaths[cell.name] = deaths.get(cell.name, 0) + 1
            if deaths[cell.name] < MAX_WORKER_DEATHS:
                suspects.append(cell)
                continue
            note = (
                f"a worker process died while this cell ran, on each of its "
                f"{deaths[cell.name]} tries (it crashed, was killed or ran out of memory); "
                "a rerun retries it"
            )
            done(cell, error_document(cell, broken, note=note, command=command))
    except BaseException:
        _stop_workers(executor)
        raise
    executor.shutdown(wait=True)
