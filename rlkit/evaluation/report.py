"""Markdown reports: one result's summary, and several results side by side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rlkit.evaluation.metrics import (
    MetricSummary,
    probability_of_improvement,
    stratified_bootstrap_ci,
)
from rlkit.evaluation.result import DEFAULT_METRICS, EvalResult

__all__ = ["compare", "format_estimate", "result_markdown", "summary_table"]

#: Column titles of metrics.
TITLES = {
    "success": "Success rate",
    "spl": "SPL",
    "return": "Return",
    "length": "Length",
    "optimal_length": "Optimal length",
    "path_length": "Path length",
    "collisions": "Collisions",
    "wall_time_s": "Wall time (s)",
}
STATISTICS = ("mean", "median", "iqm")


def format_estimate(
    value: float | None, interval: tuple[float, float] | None = None, digits: int = 3
) -> str:
    """``"0.750 [0.250, 1.000]"``; ``"n/a"`` for None.

    Examples
    --------
    >>> format_estimate(0.75, (0.25, 1.0))
    '0.750 [0.250, 1.000]'
    >>> format_estimate(None)
    'n/a'
    """
    if value is None:
        return "n/a"
    text = f"{value:.{digits}f}"
    if interval is not None:
        text += f" [{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"
    return text


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str) -> str:
    """A markdown table; ``align`` has one letter per column, ``l`` or ``r``."""
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    lines.append("|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_table(summary: dict[str, MetricSummary]) -> str:
    """The markdown table of :meth:`EvalResult.summary`: one row per metric."""
    percent = next((f"{s.confidence:.0%}" for s in summary.values() if s.available), "95%")
    header = [
        "Metric",
        f"Mean [{percent} CI]",
        f"IQM [{percent} CI]",
        "Median",
        "Optimality gap",
        "Seeds × tasks",
        "Episodes",
        "Note",
    ]
    rows = [
        [
            TITLES.get(name, name),
            format_estimate(s.mean, s.mean_ci),
            format_estimate(s.iqm, s.iqm_ci),
            format_estimate(s.median),
            format_estimate(s.optimality_gap) if s.optimality_gap is not None else "",
            f"{s.n_runs} × {s.n_tasks}" if s.available else "n/a",
            s.n_episodes,
            s.note or "",
        ]
        for name, s in summary.items()
    ]
    return _table(header, rows, "lrrrrrrl")


def result_markdown(
    result: EvalResult, metrics: Sequence[str] = DEFAULT_METRICS, **summary_options: Any
) -> str:
    """A markdown report of one result: title, how it was made, summary table."""
    meta = result.metadata
    seeds = result.seeds
    lines = [f"## {result.agent} on {result.env_id}", ""]
    run = f"{len(result.records)} episodes over {len(seeds)} seeds"
    if meta.get("episodes_per_seed") is not None:
        run += f" ({meta['episodes_per_seed']} per seed)"
    if meta.get("deterministic") is not None:
        run += ", greedy actions" if meta["deterministic"] else ", sampled actions"
    if meta.get("max_steps") is not None:
        run += f", at most {meta['max_steps']} steps"
    lines.append(f"- Run: {run}")
    versions = meta.get("versions") or {}
    made = ", ".join(f"{k} {v}" for k, v in versions.items() if v is not None)
    if meta.get("git_commit"):
        made += f", commit {str(meta['git_commit'])[:10]}" + (
            " (uncommitted changes)" if meta.get("git_dirty") else ""
        )
    if made:
        lines.append(f"- Made with: {made}")
    if meta.get("command"):
        lines.append(f"- Command: `{meta['command']}`")
    if meta.get("date"):
        lines.append(f"- Date: {meta['date']}")
    lines += ["", summary_table(result.summary(metrics, **summary_options)), ""]
    return "\n".join(lines)


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
    return _table(header, rows, "ll" + "r" * (len(header) - 2)) + "\n"


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
