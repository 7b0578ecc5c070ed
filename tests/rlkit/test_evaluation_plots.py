"""Figures: bars with intervals and per-seed dots, learning curves, atomic PNG files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlkit.evaluation import EvalResult, evaluate
from rlkit.evaluation.plots import plot_comparison, plot_learning_curves

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results() -> list[EvalResult]:
    return [
        evaluate(agent, "FrozenLake-v1", episodes=4, seeds=3, progress_bar=False)
        for agent in ("random", lambda obs: 2)
    ]


def test_comparison_bars_with_seed_dots(tmp_path: Path, results: list[EvalResult]) -> None:
    figure = plot_comparison(results, "return", path=tmp_path / "bars.png")
    axes = figure.axes[0]
    assert len(axes.patches) == 2  # one bar per result
    dots = [np.asarray(c.get_offsets()) for c in axes.collections if hasattr(c, "get_offsets")]
    assert sum(len(d) for d in dots) >= 6  # a dot per seed and result
    assert [t.get_text() for t in axes.get_xticklabels()] == ["random", "<lambda>"]
    assert (tmp_path / "bars.png").read_bytes()[:8] == PNG_MAGIC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bars.png"]


def test_comparison_needs_the_metric(results: list[EvalResult]) -> None:
    with pytest.raises(ValueError, match=r"cannot plot 'success': n/a \(env gives no is_success\)"):
        plot_comparison(results, "success")
    with pytest.raises(ValueError, match="at least one result"):
        plot_comparison([], "return")


def test_learning_curves_from_pairs_and_csv(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    # Two seeds logged at the same steps: drawn as their mean with a min-max band.
    log.write_text("step,seed,success\n0,0,0.0\n0,1,0.2\n100,0,0.5\n100,1,0.7\n")
    figure = plot_learning_curves(
        {"pairs": [(0, 0.1), (100, 0.6)], "csv": log}, y="success", path=tmp_path / "curve.png"
    )
    axes = figure.axes[0]
    assert np.asarray(axes.lines[0].get_ydata()) == pytest.approx([0.1, 0.6])
    assert np.asarray(axes.lines[1].get_ydata()) == pytest.approx([0.1, 0.6])  # seed means
    assert len(axes.collections) == 1  # the band of the CSV curve only
    assert (tmp_path / "curve.png").read_bytes()[:8] == PNG_MAGIC


def test_learning_curve_bad_csv(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("step,reward\n0,1.0\n")
    with pytest.raises(ValueError, match="no column 'success'"):
        plot_learning_curves(log, y="success")
