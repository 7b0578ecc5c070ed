"""Aggregate metrics and interval estimates, following rliable (Agarwal et al., 2021).

Scores are matrices in rliable's layout: ``scores[run, task]`` is the score of one run
(for us: one evaluation seed, averaged over its episodes) on one task (an env id). A 1-D
array is one task. Every aggregate reduces the last two axes, so a leading batch axis of
bootstrap resamples is computed in one call.

References
----------
Agarwal, Schwarzer, Castro, Courville, Bellemare. "Deep Reinforcement Learning at the
Edge of the Statistical Precipice". NeurIPS 2021. https://github.com/google-research/rliable

Anderson et al. "On Evaluation of Embodied Navigation Agents". arXiv:1807.06757, 2018.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.stats

__all__ = [
    "AGGREGATES",
    "MetricSummary",
    "aggregate_mean",
    "aggregate_median",
    "iqm",
    "optimality_gap",
    "probability_of_improvement",
    "spl",
    "stratified_bootstrap_ci",
    "summarize",
]

FloatArray = npt.NDArray[np.float64]
Statistic = Callable[..., Any]


def _as_scores(scores: npt.ArrayLike) -> FloatArray:
    """``runs x tasks`` float matrix (a 1-D array is one task), checked finite and non-empty."""
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim < 2 or array.shape[-2] == 0 or array.shape[-1] == 0:
        raise ValueError(f"scores must be a non-empty runs x tasks array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("scores contain NaN or infinity: drop or fill the missing runs first")
    return array


def aggregate_mean(scores: npt.ArrayLike) -> Any:
    """Mean over tasks of the per-task mean score (rliable's ``aggregate_mean``).

    Examples
    --------
    >>> aggregate_mean([[0.0, 1.0], [1.0, 1.0]])
    0.75
    """
    array = _as_scores(scores)
    return _scalar(array.mean(axis=-2).mean(axis=-1))


def aggregate_median(scores: npt.ArrayLike) -> Any:
    """Median over tasks of the per-task mean score (rliable's ``aggregate_median``).

    Examples
    --------
    >>> aggregate_median([[0.0, 1.0, 0.5]])
    0.5
    """
    array = _as_scores(scores)
    return _scalar(np.median(array.mean(axis=-2), axis=-1))


def iqm(scores: npt.ArrayLike) -> Any:
    """Interquartile mean: the mean of the middle 50 % of all runs x tasks scores.

    Exactly ``scipy.stats.trim_mean(scores, 0.25, axis=None)``, rliable's
    ``aggregate_iqm``: ``int(0.25 * n)`` scores are cut from each end.

    Examples
    --------
    >>> iqm([1.0, 2.0, 3.0, 4.0, 100.0])  # cuts 1 and 100
    3.0
    >>> iqm([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])  # cuts 0, 1 and 6, 7
    3.5
    """
    array = _as_scores(scores)
    flat = array.reshape(*array.shape[:-2], -1)
    return _scalar(scipy.stats.trim_mean(flat, 0.25, axis=-1))


def optimality_gap(scores: npt.ArrayLike, gamma: float = 1.0) -> Any:
    """How far scores fall short of ``gamma``: ``gamma - mean(min(scores, gamma))``.

    rliable's ``aggregate_optimality_gap``; lower is better. With success rates or SPL
    and ``gamma=1`` it is the average shortfall from a perfect agent.

    Examples
    --------
    >>> optimality_gap([[1.0, 0.5], [1.2, 0.1]])  # 1.2 counts as 1.0
    0.35
    """
    array = _as_scores(scores)
    return _scalar(gamma - np.minimum(array, gamma).mean(axis=(-2, -1)))


def probability_of_improvement(scores_x: npt.ArrayLike, scores_y: npt.ArrayLike) -> Any:
    """P(X > Y): the chance a random run of X beats a random run of Y, averaged over tasks.

    Ties count one half, as in the Mann-Whitney U statistic that rliable's
    ``probability_of_improvement`` divides by ``n_x * n_y``. The two matrices may have
    different numbers of runs but must have the same tasks (columns).

    Examples
    --------
    >>> probability_of_improvement([3.0, 1.0], [2.0, 2.0])  # 3 > 2 twice, 1 < 2 twice
    0.5
    >>> probability_of_improvement([1.0, 2.0], [1.0, 0.0])  # pairs: tie, >, >, >
    0.875
    """
    x, y = _as_scores(scores_x), _as_scores(scores_y)
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(f"X has {x.shape[-1]} tasks but Y has {y.shape[-1]}: they must match")
    diff = x[..., :, None, :] - y[..., None, :, :]  # (..., runs_x, runs_y, tasks)
    wins = (diff > 0) + 0.5 * (diff == 0)
    return _scalar(wins.mean(axis=(-3, -2)).mean(axis=-1))


#: Aggregates by name; all reduce the last two axes, so they take a batch of resamples.
AGGREGATES: dict[str, Statistic] = {
    "mean": aggregate_mean,
    "median": aggregate_median,
    "iqm": iqm,
    "optimality_gap": optimality_gap,
}
_BATCHED = (*AGGREGATES.values(), probability_of_improvement)


def _scalar(value: Any) -> Any:
    """A 0-d result as a Python float; a batch stays an array."""
    return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=np.float64)


def stratified_bootstrap_ci(
    scores: npt.ArrayLike | tuple[npt.ArrayLike, ...],
    statistic: Statistic = iqm,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile confidence interval by stratified bootstrap (rliable's default),
    computed with :func:`scipy.stats.bootstrap`.

    Each resample draws, for every task separately, as many runs as there are with
    replacement (the tasks are strata), then applies ``statistic``; the interval is
    the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` percentiles of the
    resampled statistics. For two-sample statistics such as
    :func:`probability_of_improvement` pass a tuple of matrices: each is resampled on
    its own.

    Parameters
    ----------
    scores : array_like or tuple of array_like
        ``runs x tasks`` matrices (1-D = one task).
    statistic : callable
        Maps the resampled matrices to a float. The aggregates of this module are
        evaluated on batches of resamples at once; any other callable once per resample.
    confidence : float
        Coverage of the interval, in (0, 1).
    n_resamples : int
        Bootstrap resamples; the Monte Carlo error of the bounds shrinks like
        ``1 / sqrt(n_resamples)``.
    seed : int
        Seed of the resampling; the same seed gives the same interval.

    Returns
    -------
    (float, float)
        Lower and upper bound. With one run per task every resample is the data, and
        the interval collapses to the point estimate.

    Examples
    --------
    >>> lo, hi = stratified_bootstrap_ci([0.0, 1.0], aggregate_mean, n_resamples=1000)
    >>> float(lo), float(hi)
    (0.0, 1.0)
    >>> stratified_bootstrap_ci([[0.5, 0.7]] * 3, iqm)  # no spread, no uncertainty
    (0.6, 0.6)
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be positive, got {n_resamples}")
    samples = scores if isinstance(scores, tuple) else (scores,)
    matrices = [_as_scores(s) for s in samples]
    for matrix in matrices:
        if matrix.ndim != 2:
            raise ValueError(f"scores must be runs x tasks (2-D), got shape {matrix.shape}")
    if min(m.shape[0] for m in matrices) < 2:
        # one run per task: every resample is the data itself
        point = float(statistic(*matrices))
        return _round_off(point), _round_off(point)
    # Each task column is its own sample and scipy resamples the samples independently
    # (paired=False): exactly the stratified bootstrap, with the tasks as strata.
    columns = tuple(m[:, j] for m in matrices for j in range(m.shape[1]))
    widths = [m.shape[1] for m in matrices]

    def on_columns(*resampled: FloatArray, axis: int = -1) -> Any:
        rebuilt, first = [], 0
        for width in widths:  # back to (..., runs, tasks) matrices
            rebuilt.append(np.stack(resampled[first : first + width], axis=-1))
            first += width
        return statistic(*rebuilt)

    batched = statistic in _BATCHED
    cells = sum(m.size for m in matrices)
    result = scipy.stats.bootstrap(
        columns,
        on_columns,
        n_resamples=n_resamples,
        batch=max(1, min(n_resamples, 1_000_000 // cells)),
        vectorized=batched,
        paired=False,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    return _round_off(float(low)), _round_off(float(high))


def _round_off(value: float) -> float:
    """Drop float noise in the last bits, so degenerate intervals print as equal."""
    return float(np.round(value, 12))


def spl(
    success: bool | None, optimal_length: float | None, path_length: float | None
) -> float | None:
    """Success weighted by (normalized inverse) Path Length of one episode.

    ``SPL_i = S_i * l_i / max(p_i, l_i)`` (Anderson et al., 2018), where ``S_i`` is
    success, ``l_i`` the shortest-path length from start to goal and ``p_i`` the length
    of the path the agent took. ``None`` when any input is missing or ``l_i = p_i = 0``.

    Examples
    --------
    >>> spl(True, 10.0, 12.5)
    0.8
    >>> spl(False, 10.0, 3.0), spl(True, 10.0, None)
    (0.0, None)
    """
    if success is None or optimal_length is None or path_length is None:
        return None
    longest = max(float(path_length), float(optimal_length))
    if longest <= 0.0:
        return None
    return float(success) * float(optimal_length) / longest


@dataclass(frozen=True)
class MetricSummary:
    """Point estimates and 95 % intervals of one metric over a ``runs x tasks`` matrix.

    Attributes
    ----------
    metric : str
        The metric's name (``"success"``, ``"spl"``, ``"return"``, ...).
    mean, median, iqm : float or None
        :func:`aggregate_mean`, :func:`aggregate_median` and :func:`iqm` of the scores.
    mean_ci, iqm_ci : (float, float) or None
        Stratified bootstrap intervals of the mean and the IQM.
    confidence : float
        Coverage of the intervals.
    n_runs, n_tasks, n_episodes : int
        Shape of the matrix, and the episodes behind it.
    optimality_gap : float or None
        :func:`optimality_gap` with ``gamma=1``, for metrics bounded by 1 (success
        rate, SPL); None for the others.
    note : str or None
        Why the metric is unavailable (``"n/a (env gives no is_success)"``), or a caveat;
        an unavailable metric has every estimate ``None``.
    """

    metric: str
    mean: float | None
    median: float | None
    iqm: float | None
    mean_ci: tuple[float, float] | None
    iqm_ci: tuple[float, float] | None
    confidence: float
    n_runs: int
    n_tasks: int
    n_episodes: int
    optimality_gap: float | None = None
    note: str | None = None

    @property
    def available(self) -> bool:
        """Whether the env reported what the metric needs."""
        return self.mean is not None

    def as_dict(self) -> dict[str, Any]:
        """Plain types, ready for JSON."""
        out = asdict(self)
        for key in ("mean_ci", "iqm_ci"):
            out[key] = list(out[key]) if out[key] is not None else None
        return out

    @classmethod
    def unavailable(cls, metric: str, note: str, *, n_episodes: int = 0) -> MetricSummary:
        """A summary that says why ``metric`` cannot be computed."""
        return cls(metric, None, None, None, None, None, 0.95, 0, 0, n_episodes, None, note)


def summarize(
    scores: npt.ArrayLike,
    metric: str,
    *,
    n_episodes: int | None = None,
    gamma: float | None = None,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> MetricSummary:
    """Mean, median, IQM and bootstrap intervals of a ``runs x tasks`` matrix.

    ``gamma`` (the best possible score, 1 for success rates) adds the optimality gap.

    Examples
    --------
    >>> s = summarize([[1.0], [0.0], [1.0], [1.0]], "success")
    >>> s.mean, s.iqm, s.mean_ci
    (0.75, 1.0, (0.25, 1.0))
    """
    matrix = _as_scores(scores)
    note = None
    if matrix.shape[0] == 1:
        note = "1 run per task: intervals collapse to the point estimate"
    ci: dict[str, tuple[float, float]] = {
        name: stratified_bootstrap_ci(
            matrix, AGGREGATES[name], confidence=confidence, n_resamples=n_resamples, seed=seed
        )
        for name in ("mean", "iqm")
    }
    return MetricSummary(
        metric=metric,
        mean=aggregate_mean(matrix),
        median=aggregate_median(matrix),
        iqm=iqm(matrix),
        mean_ci=ci["mean"],
        iqm_ci=ci["iqm"],
        confidence=confidence,
        n_runs=int(matrix.shape[0]),
        n_tasks=int(matrix.shape[1]),
        n_episodes=int(matrix.size if n_episodes is None else n_episodes),
        optimality_gap=None if gamma is None else optimality_gap(matrix, gamma),
        note=note,
    )
