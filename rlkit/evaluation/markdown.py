"""Markdown formatting of results: estimates, tables, and one result's report.

The formatting half of the reports, below both :mod:`~rlkit.evaluation.result` (whose
:meth:`~rlkit.evaluation.result.EvalResult.to_markdown` is :func:`result_markdown`) and
:mod:`~rlkit.evaluation.report` (which sets results side by side). It reads a result
only through :class:`Summarized`, so it imports neither.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from typing import Any, Protocol

from rlkit.evaluation.metrics import MetricSummary
from rlkit.evaluation.records import DEFAULT_METRICS

__all__ = [
    "TITLES",
    "Summarized",
    "format_estimate",
    "markdown_table",
    "result_markdown",
    "summary_table",
]

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


class Summarized(Protocol):
    """What :func:`result_markdown` reads of a result (an :class:`~rlkit.evaluation.EvalResult`)."""

    @property
    def records(self) -> Sized:
        """The episodes."""
        ...

    @property
    def metadata(self) -> dict[str, Any]:
        """How the result was made."""
        ...

    @property
    def agent(self) -> str:
        """Name of the agent."""
        ...

    @property
    def env_id(self) -> str:
        """The env id(s)."""
        ...

    @property
    def seeds(self) -> list[int]:
        """Evaluation seeds."""
        ...

    def summary(
        self,
        metrics: Sequence[str] = ...,
        *,
        confidence: float = ...,
        n_resamples: int = ...,
        seed: int = ...,
    ) -> dict[str, MetricSummary]:
        """Aggregates of each metric."""
        ...


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


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str) -> str:
    """A markdown table; ``align`` has one letter per column, ``l`` or ``r``.

    Examples
    --------
    >>> print(markdown_table(["Agent", "Return"], [["a|b", 1.5]], "lr"))
    | Agent | Return |
    |:---|---:|
    | a\\|b | 1.5 |
    """
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    lines.append("|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_table(summary: dict[str, MetricSummary]) -> str:
    """The markdown table of :meth:`~rlkit.evaluation.EvalResult.summary`: a row per metric."""
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
    return markdown_table(header, rows, "lrrrrrrl")


def result_markdown(
    result: Summarized, metrics: Sequence[str] = DEFAULT_METRICS, **summary_options: Any
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
