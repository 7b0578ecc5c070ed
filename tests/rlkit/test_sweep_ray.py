"""The Ray backend gives the same records as the local backend (wall times aside)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from rlkit.sweep.cells import read_cell
from rlkit.sweep.runner import run_suite
from rlkit.sweep.schema import parse_suite
from tests.faults.bench_helpers import comparable as same_results

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason='Ray is not installed (pip install "rlkit[ray]"; make test installs it)',
)

TINY: dict[str, Any] = {
    "suite": "tiny",
    "defaults": {"episodes": 3, "seeds": 2},
    "envs": [
        {
            "label": "tiny-index",
            "id": "rlkit/GridNav-Map-v0",
            "kwargs": {"map": ".....\n.#.#.\n.....", "obs": "index", "goal": [2, 4]},
        }
    ],
    "agents": [
        {"name": "planner", "kind": "planner"},
        {"name": "random", "kind": "random"},
        {"name": "q_learning", "kind": "q_learning", "steps": 400},
    ],
}


def comparable(document: dict[str, Any] | None) -> dict[str, Any]:
    """What two runs of a cell with the same seeds must agree on (the fault tests'
    :func:`~tests.faults.bench_helpers.comparable`), and the agent they recorded."""
    assert document is not None
    return {**same_results(document), "agent": document["result"]["metadata"]["agent"]}


def test_ray_and_local_backends_give_the_same_records(tmp_path: Path) -> None:
    suite = parse_suite(TINY)
    local = run_suite(suite, out=tmp_path / "local", workers=2, progress_bar=False, report=False)
    ray = run_suite(
        suite, backend="ray", out=tmp_path / "ray", workers=2, progress_bar=False, report=False
    )
    assert not local.errors and not ray.errors
    assert sorted(local.ran) == sorted(ray.ran) == sorted(c.name for c in suite.cells())
    for name in local.ran:
        from_local = read_cell(local.folder / "cells" / f"{name}.json")
        from_ray = read_cell(ray.folder / "cells" / f"{name}.json")
        assert from_local is not None and from_ray is not None
        assert (from_local["backend"], from_ray["backend"]) == ("local", "ray")
        assert comparable(from_local) == comparable(from_ray), name


def test_address_needs_the_ray_backend(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="address joins a Ray cluster"):
        run_suite(parse_suite(TINY), out=tmp_path, address="auto")
