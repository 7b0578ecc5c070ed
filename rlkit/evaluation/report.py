"""Markdown reports: several results side by side (:func:`compare`).

The formatting they share with one result's report (:func:`result_markdown`,
:func:`summary_table`, :func:`format_estimate`, :data:`TITLES`) lives in
:mod:`~rlkit.evaluation.markdown` and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rlkit.evaluation.markdown import (
    TITLES,
    format_estimate,
    markdown_table,
    result_markdown,
    summary_table,
)
from rlkit.evaluation.metrics import probability_of_improvement, stratified_bootstrap_ci
from rlkit.evaluation.records import DEFAULT_METRICS
from rlkit.evaluation.result import EvalResult

__all__ = ["compare", "format_estimate", "result_markdown", "summary_table"]

#: Point estimates :func:`compare` can show.
STATISTICS = ("mean", "median", "iqm")


def compare(
    results: Sequence[EvalResult],
    metrics: Sequence[str] = DEFAULT_METRICS,
    *,
    statistic: str = "iqm",
    baseline: int = 0,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> str:
    """Results side by side: a markdown table with one row per result.

    Each metric column shows ``statistic`` with its stratified-bootstrap interval. The
    last column is the probability of improvement ``P(row > baseline)`` on the first
    metric the baseline has (success rate, else SPL, else return by default), with its
    interval: the chance that a random seed of the row's agent scores
    higher than one of the baseline's (ties count half).

    Parameters
    ----------
    results : sequence of EvalResult
        The results, in row order.
    metrics : sequence of str
        Metric columns.
    statistic : {"iqm", "mean", "median"}
        Point estimate shown.
    baseline : int
        Index in ``results`` of the result the others are compared with.
    confidence, n_resamples, seed
        Of the bootstrap intervals.

    Returns
    -------
    str

    Examples
    --------
    >>> from rlkit.evaluation import evaluate
    >>> runs = [evaluate(a, "FrozenLake-v1", episodes=5, seeds=3, progress_bar=False)
    ...         for a in ("random", lambda obs: 1)]
    >>> print(compare(runs, ["return"]).splitlines()[0])
    | Agent | Env | Episodes | Return IQM [95% CI] | P(> random) on return [95% CI] |
    """
    if not results:
        raise ValueError("compare() needs at least one result")
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}, got {statistic!r}")
    if not 0 <= baseline < len(results):
        raise ValueError(f"baseline {baseline} is not an index of the {len(results)} results")
    if not metrics:
        raise ValueError("compare() needs at least one metric")
    options: dict[str, Any] = {"confidence": confidence, "n_resamples": n_resamples, "seed": seed}
    summaries = [r.summary(metrics, **options) for r in results]
    name = "IQM" if statistic == "iqm" else statistic.capitalize()
    percent = f"{confidence:.0%}"
    first = next((m for m in metrics if summaries[baseline][m].available), metrics[0])
    header = ["Agent", "Env", "Episodes"]
    header += [f"{TITLES.get(m, m)} {name} [{percent} CI]" for m in metrics]
    header.append(f"P(> {results[baseline].agent}) on {first} [{percent} CI]")
    rows = []
    for index, (result, summary) in enumerate(zip(results, summaries, strict=True)):
        row: list[object] = [result.agent, result.env_id, len(result.records)]
        for metric in metrics:
            s = summary[metric]
            value = getattr(s, statistic)
            interval = None if statistic == "median" else getattr(s, f"{statistic}_ci")
            row.append(format_estimate(value, interval) if s.available else s.note)
        row.append(_improvement(result, results[baseline], first, index == baseline, options))
        rows.append(row)
    return markdown_table(header, rows, "ll" + "r" * (len(header) - 2)) + "\n"


def _improvement(
    result: EvalResult, baseline: EvalResult, metric: str, is_baseline: bool, options: Any
) -> str:
    if is_baseline:
        return "(baseline)"
    if result.tasks != baseline.tasks:
        return "n/a (different tasks)"
    try:
        x, y = result.score_matrix(metric), baseline.score_matrix(metric)
    except ValueError:
        return "n/a"
    interval = stratified_bootstrap_ci((x, y), probability_of_improvement, **options)
    return format_estimate(probability_of_improvement(x, y), interval, digits=2)
