"""Figures of results: bars with intervals and per-seed dots, and learning curves.

Figures are built with :class:`matplotlib.figure.Figure`, never ``pyplot``: no global
state, no window, no backend to choose (saving uses Agg), so plotting works on machines
without a display and from threads. Every function returns the figure and, given a
``path``, also saves it atomically (the format follows the suffix; PNG by default).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rlkit.evaluation.atomic import atomic_output
from rlkit.evaluation.markdown import TITLES
from rlkit.evaluation.result import EvalResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_comparison", "plot_learning_curves", "save_figure"]

#: A learning curve: (step, value) pairs, or a CSV file of them.
CurveSource = Sequence[tuple[float, float]] | str | os.PathLike[str]


def save_figure(figure: Figure, path: str | os.PathLike[str], *, dpi: int = 120) -> Path:
    """Save ``figure`` to ``path`` atomically; the format follows the suffix (default PNG)."""
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower() or "png"
    with atomic_output(target) as tmp:
        figure.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
    return target


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def plot_comparison(
    results: Sequence[EvalResult],
    metric: str = "success",
    *,
    statistic: str = "iqm",
    show_seeds: bool = True,
    path: str | os.PathLike[str] | None = None,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    title: str | None = None,
) -> Figure:
    """Bar chart of one metric: a bar per result, its bootstrap interval, a dot per seed.

    Parameters
    ----------
    results : sequence of EvalResult
        One bar each, labelled with the agent (and env, when the envs differ).
    metric : str
        The metric plotted.
    statistic : {"iqm", "mean"}
        Bar height; the error bar is its stratified-bootstrap interval.
    show_seeds : bool
        Draw every ``(seed, task)`` score of the score matrix as a dot.
    path : path-like, optional
        Also save the figure there.
    confidence, n_resamples, seed
        Of the bootstrap intervals.
    title : str, optional
        Axes title (default: the metric's name).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If no result is given, or a result lacks the metric.

    Examples
    --------
    >>> from rlkit.evaluation import evaluate
    >>> result = evaluate("random", "FrozenLake-v1", episodes=4, seeds=3, progress_bar=False)
    >>> figure = plot_comparison([result], "return")
    >>> figure.axes[0].get_ylabel()
    'Return (IQM)'
    """
    if not results:
        raise ValueError("plot_comparison() needs at least one result")
    if statistic not in ("iqm", "mean"):
        raise ValueError(f"statistic must be 'iqm' or 'mean', got {statistic!r}")
    options: dict[str, Any] = {"confidence": confidence, "n_resamples": n_resamples, "seed": seed}
    summaries = [r.summary([metric], **options)[metric] for r in results]
    missing = [r.label for r, s in zip(results, summaries, strict=True) if not s.available]
    if missing:
        raise ValueError(f"cannot plot {metric!r}: {summaries[0].note} for {missing}")
    same_env = len({r.env_id for r in results}) == 1
    labels = [r.agent if same_env else r.label for r in results]
    heights = np.array([getattr(s, statistic) for s in summaries], dtype=float)
    intervals = np.array([getattr(s, f"{statistic}_ci") for s in summaries], dtype=float)
    errors = np.abs(intervals.T - heights)

    figure = _new_figure(1.2 + 1.1 * len(results), 3.6)
    axes = figure.add_subplot()
    positions = np.arange(len(results))
    axes.bar(positions, heights, width=0.6, color="#9ecae1", edgecolor="#3182bd", zorder=1)
    axes.errorbar(positions, heights, yerr=errors, fmt="none", ecolor="black", capsize=5, zorder=3)
    if show_seeds:
        for x, result in zip(positions, results, strict=True):
            scores = result.score_matrix(metric).ravel()
            jitter = np.linspace(-0.18, 0.18, scores.size) if scores.size > 1 else np.zeros(1)
            axes.scatter(x + jitter, scores, s=14, color="#08306b", alpha=0.7, zorder=4)
    axes.set_xticks(positions, labels, rotation=20 if len(results) > 4 else 0)
    axes.set_ylabel(
        f"{TITLES.get(metric, metric)} ({statistic.upper() if statistic == 'iqm' else 'mean'})"
    )
    axes.set_title(
        title
        or f"{TITLES.get(metric, metric)}: {statistic.upper()} with {confidence:.0%} CI"
        + (f" on {results[0].env_id}" if same_env else "")
    )
    axes.grid(axis="y", alpha=0.3)
    if path is not None:
        save_figure(figure, path)
    return figure


def _read_curve(source: CurveSource, x: str, y: str | None) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(source, (str, os.PathLike)):
        with open(source, encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file))
        if not rows:
            raise ValueError(f"learning-curve CSV {os.fspath(source)!r} has no rows")
        columns = list(rows[0])
        x_col = x if x in columns else columns[0]
        y_col = y or next((c for c in columns if c != x_col), None)
        if y_col is None or y_col not in columns:
            raise ValueError(
                f"learning-curve CSV {os.fspath(source)!r} has no column {y!r}; columns: {columns}"
            )
        pairs = [(float(r[x_col]), float(r[y_col])) for r in rows if r[y_col] not in ("", None)]
    else:
        pairs = [(float(a), float(b)) for a, b in source]
    if not pairs:
        raise ValueError("a learning curve needs at least one (step, value) pair")
    array = np.array(pairs, dtype=float)
    return array[:, 0], array[:, 1]


def plot_learning_curves(
    curves: CurveSource | Mapping[str, CurveSource],
    *,
    x: str = "step",
    y: str | None = None,
    path: str | os.PathLike[str] | None = None,
    xlabel: str = "environment steps",
    ylabel: str | None = None,
    title: str | None = None,
) -> Figure:
    """Learning curves from training logs: a line per curve, the min-max band of repeats.

    Parameters
    ----------
    curves : (step, value) pairs, CSV path, or mapping of label to either
        One curve, or several by label. A CSV needs a header; ``x`` names the step
        column (else the first column) and ``y`` the value column (else the first
        other one). Several values at one step (seeds) are drawn as their mean with a
        band from min to max.
    x, y : str
        CSV columns.
    path : path-like, optional
        Also save the figure there.
    xlabel, ylabel, title : str
        Axis labels and title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> figure = plot_learning_curves({"q-learning": [(0, 0.0), (100, 0.4), (200, 0.9)]})
    >>> len(figure.axes[0].lines)
    1
    """
    named = dict(curves) if isinstance(curves, Mapping) else {"": curves}
    if not named:
        raise ValueError("plot_learning_curves() needs at least one curve")
    figure = _new_figure(5.5, 3.6)
    axes = figure.add_subplot()
    for label, source in named.items():
        steps, values = _read_curve(source, x, y)
        unique, inverse = np.unique(steps, return_inverse=True)
        means = np.bincount(inverse, weights=values) / np.bincount(inverse)
        (line,) = axes.plot(unique, means, label=label or None)
        if len(unique) < len(steps):
            low = np.full(len(unique), np.inf)
            high = np.full(len(unique), -np.inf)
            np.minimum.at(low, inverse, values)
            np.maximum.at(high, inverse, values)
            axes.fill_between(unique, low, high, color=line.get_color(), alpha=0.2)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel or (y or "value"))
    if title:
        axes.set_title(title)
    if any(named):
        axes.legend()
    axes.grid(alpha=0.3)
    if path is not None:
        save_figure(figure, path)
    return figure
