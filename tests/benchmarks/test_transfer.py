"""Smoke test: the transfer experiment runs end to end in its --quick mode, and the
suite's MovingAI crop is the map file's."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from rlkit.sweep.schema import load_suite

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_quick_run_writes_matrix_verdict_and_plot(run_suite_quick: Any) -> None:
    run = run_suite_quick("transfer.py")
    assert "## Verdict: did starting from the source policy help?" in run.stdout
    assert "## Matrix: source (rows) x target (columns)" in run.report
    assert "| four rooms -> maze-pixels |" in run.report
    assert (run.folder / "transfer.png").stat().st_size > 0
    analysis = run.json("transfer.json")
    (pair,) = analysis["pairs"]
    assert pair["source"] == "four rooms" and pair["target"] == "maze-pixels"
    assert set(pair["inits"]) == {"source", "pretrained", "scratch"}
    assert pair["zero_shot"] is not None and pair["carried"]["copied"] > 0
    assert pair["verdict"].startswith("four rooms -> maze-pixels: ")
    # the source was trained once, into the cache beside the cells
    assert len(list((run.folder / "sources").glob("GridNav-Map-v0__bc__*__seed0.zip"))) == 1


@pytest.fixture(scope="module")
def transfer(load_script: Any) -> ModuleType:
    return load_script("transfer.py")


def test_the_suite_crop_is_the_movingai_map(transfer: ModuleType, movingai_dir: Path) -> None:
    folder = movingai_dir  # tests/conftest.py: skips where the data is absent
    suite = load_suite(BENCHMARKS / "suites" / "transfer.yaml")
    (note,) = transfer.check_movingai(suite, folder)
    assert "checked against" in note
    (env,) = [e for e in suite.envs if e.label == "movingai-pixels"]
    assert str(env.kwargs["map"]).strip() == transfer.movingai_crop(folder, "den312d", 52, 7, 11)
