"""Smoke test: the transfer experiment runs end to end in its --quick mode, and the
suite's MovingAI crop is the map file's."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from rlkit.sweep.schema import load_suite

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def transfer() -> ModuleType:
    """The script as a module (its folder on sys.path, as when run)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("transfer_script", BENCHMARKS / "transfer.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def test_quick_run_writes_matrix_verdict_and_plot(run_suite_quick: Any) -> None:
    result, folder = run_suite_quick("transfer.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "## Verdict: did starting from the source policy help?" in result.stdout
    report = (folder / "report.md").read_text()
    assert "## Matrix: source (rows) x target (columns)" in report
    assert "| four rooms -> maze-pixels |" in report
    assert (folder / "transfer.png").stat().st_size > 0
    analysis = json.loads((folder / "transfer.json").read_text())
    (pair,) = analysis["pairs"]
    assert pair["source"] == "four rooms" and pair["target"] == "maze-pixels"
    assert set(pair["inits"]) == {"source", "pretrained", "scratch"}
    assert pair["zero_shot"] is not None and pair["carried"]["copied"] > 0
    assert pair["verdict"].startswith("four rooms -> maze-pixels: ")
    # the source was trained once, into the cache beside the cells
    assert len(list((folder / "sources").glob("GridNav-Map-v0__bc__*__seed0.zip"))) == 1
    assert not list(folder.rglob(".*.tmp*"))  # atomic writes left no temporaries


def test_the_suite_crop_is_the_movingai_map(transfer: ModuleType) -> None:
    folder = Path(transfer.DEFAULT_MOVINGAI)
    if not (folder / "den312d.map").is_file():
        pytest.skip(f"MovingAI data not at {folder} (set RLKIT_MOVINGAI_DIR)")
    suite = load_suite(BENCHMARKS / "suites" / "transfer.yaml")
    (note,) = transfer.check_movingai(suite, folder)
    assert "checked against" in note
    (env,) = [e for e in suite.envs if e.label == "movingai-pixels"]
    assert str(env.kwargs["map"]).strip() == transfer.movingai_crop(folder, "den312d", 52, 7, 11)
