"""The shared evaluation harness: every agent, every env, one set of numbers.

>>> from rlkit.evaluation import evaluate
>>> result = evaluate("random", "FrozenLake-v1", episodes=5, seeds=2, progress_bar=False)
>>> result.summary()["return"].n_runs
2

Where each piece lives (the names in ``__all__`` are importable from here too):

- :mod:`~rlkit.evaluation.evaluate` -- running episodes: :func:`evaluate`,
  :func:`run_episode`, :func:`make_env`, :func:`reset_seeds`, ``STEP_CAP``.
  (Agents and how a policy becomes one: :mod:`rlkit.agents`.)
- :mod:`~rlkit.evaluation.records` -- one :class:`EpisodeRecord` per episode, the
  :data:`METRICS` read off records and ``DEFAULT_METRICS``.
- :mod:`~rlkit.evaluation.result` -- :class:`EvalResult`: records with their metadata,
  score matrices, summaries, merging, JSON and CSV files.
- :mod:`~rlkit.evaluation.metrics` -- the statistics: :func:`iqm`, means and medians,
  :func:`stratified_bootstrap_ci`, :func:`optimality_gap`,
  :func:`probability_of_improvement`, :func:`spl`, :class:`MetricSummary`, and
  ``summarize`` (behind :meth:`EvalResult.summary`).
- :mod:`~rlkit.evaluation.markdown` -- markdown of one result
  (:meth:`EvalResult.to_markdown`), its summary table, number formatting, ``TITLES``.
- :mod:`~rlkit.evaluation.report` -- :func:`compare`: results side by side.
- :mod:`~rlkit.evaluation.plots` -- :func:`plot_comparison`,
  :func:`plot_learning_curves` (matplotlib, imported on first use).
- :mod:`~rlkit.evaluation.render` -- :func:`render_episodes`: watching or recording
  episodes (imported on first use).
- :mod:`~rlkit.evaluation.provenance` -- command, versions, git commit and date of a
  result; :mod:`~rlkit.evaluation.atomic` -- atomic file writes.
- :mod:`~rlkit.evaluation.cli` -- the ``rlkit eval`` and ``rlkit render`` commands.
"""

from __future__ import annotations

from rlkit._lazy import lazy_exports
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

#: Plotting and recording pull in matplotlib and imageio: loaded on first use.
_LAZY = {
    "plot_comparison": "rlkit.evaluation.plots",
    "plot_learning_curves": "rlkit.evaluation.plots",
    "render_episodes": "rlkit.evaluation.render",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
