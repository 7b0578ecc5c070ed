"""Shared pieces of the fault-injection tests (issue #18, item 2).

Each test injects one fault into a long job (``kill -9`` at a random moment, a corrupted
result or checkpoint, two writers on one folder, a full disk, a read-only folder, a
killed Ray worker), lets the job recover or fail, and checks the outcome. It reports
that outcome through the :func:`fault_log` fixture, which ``benchmarks/reliability.py``
collects into the reliability scorecard (``benchmarks/results/reliability.md``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

#: Environment variable naming a JSON-lines file that receives one line per fault.
FAULT_LOG_ENV = "RLKIT_FAULT_LOG"

#: Outcomes a fault may end in. ``identical``: the recovered run's results equal an
#: uninterrupted run's; ``within-interval``: they lose at most one checkpoint interval;
#: ``detected``: a corrupted file was noticed and redone, not trusted; ``clear-error``:
#: the job stopped with a typed error naming the problem; ``retried``: the lost work was
#: run again and the job finished. Anything else is a failure of the test itself.
OUTCOMES = ("identical", "within-interval", "detected", "clear-error", "retried")

FaultLog = Callable[..., None]


@pytest.fixture
def fault_log(request: pytest.FixtureRequest) -> FaultLog:
    """Record one injected fault: ``fault_log(job=, fault=, outcome=, killed=, resumed=,
    files_lost=, detail=)``.

    ``job``: the long job (``"rlkit bench"``, ``"rlkit train --resume"``, ...);
    ``fault``: what was injected (``"kill -9"``, ``"corrupt cell JSON"``, ...);
    ``outcome``: one of :data:`OUTCOMES`; ``killed`` / ``resumed``: processes killed and
    runs resumed; ``files_lost``: finished results that were gone or damaged afterwards.
    Call it only after the test's checks passed. Writes nothing unless
    ``RLKIT_FAULT_LOG`` names a file.
    """

    def record(
        *,
        job: str,
        fault: str,
        outcome: str,
        killed: int = 0,
        resumed: int = 0,
        files_lost: int = 0,
        detail: str = "",
    ) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {list(OUTCOMES)}, got {outcome!r}")
        target = os.environ.get(FAULT_LOG_ENV)
        if not target:
            return
        entry: dict[str, Any] = {
            "test": request.node.nodeid,
            "job": job,
            "fault": fault,
            "outcome": outcome,
            "killed": int(killed),
            "resumed": int(resumed),
            "files_lost": int(files_lost),
            "detail": detail,
        }
        with Path(target).open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(entry) + "\n")

    return record
