"""The local pool's bookkeeping when the pool breaks at awkward moments.

The real pool breaks when a worker dies (``tests/faults`` kills workers for real). Those
tests cannot choose *when* the driver notices, so the races are replayed here with an
in-process stand-in for :class:`~concurrent.futures.ProcessPoolExecutor`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from types import SimpleNamespace
from typing import Any

import pytest

from rlkit.sweep import pool


class FakePool:
    """Runs each task at once, in this process; ``break_at`` submits (0-based, counted
    over this pool) raise :class:`BrokenProcessPool` and fail the tasks still pending,
    as a pool does once one of its workers has died."""

    def __init__(self, break_at: set[int], hold: bool) -> None:
        self.break_at = break_at
        self.hold = hold  # keep tasks pending until the next submit, so one is in flight
        self.submits = 0
        self.held: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        index = self.submits
        self.submits += 1
        if index in self.break_at:
            for held, _, _ in self.held:
                held.set_exception(BrokenProcessPool("a worker died"))
            self.held.clear()
            raise BrokenProcessPool("a worker died")
        future: Future[Any] = Future()
        if self.hold and not self.held:
            self.held.append((future, fn, args))
        else:
            future.set_result(fn(*args))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        for future, fn, args in self.held:  # the pool ended with a task still running
            future.set_result(fn(*args))
        self.held.clear()


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[FakePool]:
    """The pools ``run_local`` uses: the test puts in the first, fresh working ones
    follow. Cells 'run' to a document naming them."""
    made: list[FakePool] = []
    handed = iter(range(10**6))

    def new_pool(workers: int) -> FakePool:
        if next(handed) >= len(made):
            made.append(FakePool(set(), hold=False))
        return made[-1]

    monkeypatch.setattr(pool, "_new_pool", new_pool)
    monkeypatch.setattr(pool, "run_cell", lambda cell, *_: {"status": "ok", "cell": cell.name})
    return made


def run(cells: list[str], first: FakePool, pools: list[FakePool]) -> dict[str, list[Any]]:
    """``run_local`` on ``cells`` starting with the pool ``first``: each cell's documents."""
    pools.append(first)
    done: dict[str, list[Any]] = {}

    def on_done(cell: Any, document: dict[str, Any]) -> None:
        done.setdefault(cell.name, []).append(document)

    todo: list[Any] = [SimpleNamespace(name=name) for name in cells]
    pool.run_local(todo, 2, ["rlkit", "bench"], on_done)
    return done


def test_a_pool_broken_at_submit_with_a_cell_in_flight_loses_only_that_cell(
    pools: list[FakePool],
) -> None:
    # Cell a is in flight; the pool breaks as b is submitted (the race CI once hit).
    done = run(["a", "b", "c"], FakePool({1}, hold=True), pools)
    assert sorted(done) == ["a", "b", "c"]
    assert all(len(docs) == 1 and docs[0]["status"] == "ok" for docs in done.values())
    assert len(pools) == 2  # one fresh pool, on which a reran and b, c ran


def test_a_pool_broken_while_idle_is_replaced_and_nothing_is_lost(
    pools: list[FakePool],
) -> None:
    done = run(["a", "b"], FakePool({0}, hold=False), pools)
    assert {name: [d["cell"] for d in docs] for name, docs in done.items()} == {
        "a": ["a"],
        "b": ["b"],
    }
    assert len(pools) == 2
