"""The shared evaluation harness: every agent, every env, one set of numbers.

>>> from rlkit.evaluation import evaluate
>>> result = evaluate("random", "FrozenLake-v1", episodes=5, seeds=2, progress_bar=False)
>>> result.summary()["return"].n_runs
2

Modules: :mod:`~rlkit.evaluation.evaluate` (running episodes),
:mod:`~rlkit.evaluation.records` and :mod:`~rlkit.evaluation.result` (what is kept, and
its files), :mod:`~rlkit.evaluation.metrics` (IQM, bootstrap intervals, optimality gap,
probability of improvement, SPL), :mod:`~rlkit.evaluation.report` (markdown),
:mod:`~rlkit.evaluation.plots` (matplotlib, imported on first use),
:mod:`~rlkit.evaluation.render` (watching or recording episodes) and
:mod:`~rlkit.evaluation.cli` (the ``rlkit eval`` and ``rlkit render`` commands).
"""

from __future__ import annotations

from typing import Any

from rlkit.evaluation.evaluate import evaluate, make_env, reset_seeds
from rlkit.evaluation.metrics import (
    MetricSummary,
    aggregate_mean,
    aggregate_median,
    iqm,
    optimality_gap,
    probability_of_improvement,
    spl,
    stratified_bootstrap_ci,
)
from rlkit.evaluation.records import METRICS, EpisodeRecord
from rlkit.evaluation.report import compare
from rlkit.evaluation.result import EvalResult

__all__ = [
    "METRICS",
    "EpisodeRecord",
    "EvalResult",
    "MetricSummary",
    "aggregate_mean",
    "aggregate_median",
    "compare",
    "evaluate",
    "iqm",
    "make_env",
    "optimality_gap",
    "plot_comparison",
    "plot_learning_curves",
    "probability_of_improvement",
    "render_episodes",
    "reset_seeds",
    "spl",
    "stratified_bootstrap_ci",
]

_LAZY = {
    "plot_comparison": "rlkit.evaluation.plots",
    "plot_learning_curves": "rlkit.evaluation.plots",
    "render_episodes": "rlkit.evaluation.render",
}


def __getattr__(name: str) -> Any:
    # Plotting and recording pull in matplotlib and imageio: only on first use.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
