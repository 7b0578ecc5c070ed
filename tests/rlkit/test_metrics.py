"""Aggregate metrics and bootstrap intervals against hand-computed values (and rliable's)."""

# ruff: noqa: F405 - the names come from the star import of rlkit.evaluation.metrics

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.stats

# The module under test, whole: its public names (metrics.__all__) are what is tested.
from rlkit.evaluation.metrics import *  # noqa: F403


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([1.0, 2.0, 3.0, 4.0, 100.0], 3.0),  # int(0.25 * 5) = 1 cut each end
        ([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]], 3.5),  # 2 of 8 cut each end
        (np.arange(10.0), 4.5),  # 2 of 10 cut each end: mean of 2..7
        ([5.0, 5.0, 5.0], 5.0),  # fewer than 4 scores: nothing cut
        ([0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 1.0),  # the middle 4 are all 1
    ],
)
def test_iqm_hand_computed(scores: Any, expected: float) -> None:
    assert iqm(scores) == pytest.approx(expected, abs=1e-12)


def test_aggregates_hand_computed() -> None:
    scores = np.array([[0.0, 1.0, 0.2], [1.0, 1.0, 0.4]])  # task means 0.5, 1.0, 0.3
    assert aggregate_mean(scores) == pytest.approx(0.6)
    assert aggregate_median(scores) == pytest.approx(0.5)
    # min(scores, 1) is scores itself; gap = 1 - 3.6 / 6
    assert optimality_gap(scores) == pytest.approx(0.4)
    assert optimality_gap(scores * 2, gamma=1.0) == pytest.approx(
        1 - (0 + 1 + 0.4 + 1 + 1 + 0.8) / 6
    )


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        # wins (1,0) (2,0) (3,0) (3,2), tie (2,2): 4.5 of 9 pairs
        ([1.0, 2.0, 3.0], [0.0, 2.0, 5.0], 4.5 / 9),
        ([1.0, 1.0], [1.0, 1.0], 0.5),  # identical: rliable's special case
        ([2.0, 3.0], [0.0, 1.0], 1.0),
        ([0.0, 1.0], [2.0, 3.0], 0.0),
        # two tasks: task 0 always better (1.0), task 1 always tied (0.5)
        ([[1.0, 0.0], [2.0, 0.0]], [[0.0, 0.0], [0.5, 0.0]], 0.75),
    ],
)
def test_probability_of_improvement_hand_computed(x: Any, y: Any, expected: float) -> None:
    assert probability_of_improvement(x, y) == pytest.approx(expected)


def test_probability_of_improvement_is_complementary() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 4, size=(6, 2)), rng.integers(0, 4, size=(9, 2))
    assert probability_of_improvement(x, y) + probability_of_improvement(y, x) == pytest.approx(1)


def test_probability_of_improvement_needs_same_tasks() -> None:
    with pytest.raises(ValueError, match="X has 2 tasks but Y has 3"):
        probability_of_improvement(np.zeros((3, 2)), np.zeros((3, 3)))


@pytest.mark.parametrize(
    ("success", "optimal", "path", "expected"),
    [
        (True, 10.0, 10.0, 1.0),
        (True, 10.0, 12.5, 0.8),
        (True, 10.0, 8.0, 1.0),  # shorter than "optimal" (e.g. a coarser optimum): capped
        (False, 10.0, 10.0, 0.0),
        (True, 0.0, 0.0, None),  # start on the goal: undefined
        (None, 10.0, 10.0, None),
        (True, None, 10.0, None),
        (True, 10.0, None, None),
    ],
)
def test_spl(
    success: bool | None, optimal: float | None, path: float | None, expected: Any
) -> None:
    assert spl(success, optimal, path) == (
        pytest.approx(expected) if expected is not None else None
    )


def _exact_bootstrap_percentiles(x: list[float], percentiles: list[float]) -> np.ndarray:
    """The percentiles of the bootstrap distribution of the mean, by enumeration."""
    means = [np.mean(sample) for sample in itertools.product(x, repeat=len(x))]
    return np.percentile(means, percentiles)


@pytest.mark.parametrize("x", [[0.0, 1.0, 2.0, 4.0], [0.0, 0.0, 1.0, 1.0, 1.0]])
def test_bootstrap_ci_matches_exact_bootstrap_distribution(x: list[float]) -> None:
    # Monte Carlo percentiles of 20000 resamples sit within one grid step (1/len(x) of
    # the spacing of the data) of the exact ones; we allow 0.15 on this data.
    exact = _exact_bootstrap_percentiles(x, [2.5, 97.5])
    low, high = stratified_bootstrap_ci(x, aggregate_mean, n_resamples=20_000, seed=1)
    assert low == pytest.approx(exact[0], abs=0.15)
    assert high == pytest.approx(exact[1], abs=0.15)


def test_bootstrap_ci_matches_scipy_percentile_bootstrap() -> None:
    x = np.random.default_rng(0).normal(size=25)
    ours = stratified_bootstrap_ci(x, aggregate_mean, n_resamples=10_000, seed=2)
    theirs = scipy.stats.bootstrap(
        (x,), np.mean, n_resamples=10_000, method="percentile", rng=np.random.default_rng(5)
    ).confidence_interval
    # Two independent Monte Carlo estimates of the same percentiles (sd of the mean ~0.2).
    assert ours[0] == pytest.approx(theirs.low, abs=0.03)
    assert ours[1] == pytest.approx(theirs.high, abs=0.03)


def test_bootstrap_is_stratified_by_task() -> None:
    # Task 0 is constant: if resampling mixed tasks, its mean would vary.
    scores = np.array([[0.5, 0.0], [0.5, 1.0], [0.5, 3.0]])
    low, high = stratified_bootstrap_ci(scores, lambda m: float(m[:, 0].mean()))
    assert low == high == 0.5
    low, high = stratified_bootstrap_ci(scores, lambda m: float(m[:, 1].mean()))
    assert low < high


@pytest.mark.parametrize("name", sorted(AGGREGATES))
def test_batched_and_per_resample_statistics_agree(name: str) -> None:
    # Aggregates run on batches of resamples; the same function hidden in a lambda runs
    # once per resample. Same seed, same draws: same interval.
    scores = np.random.default_rng(4).uniform(size=(7, 3))
    batched = stratified_bootstrap_ci(scores, AGGREGATES[name], n_resamples=300, seed=9)
    looped = stratified_bootstrap_ci(scores, lambda m: AGGREGATES[name](m), n_resamples=300, seed=9)
    assert batched == pytest.approx(looped)


def test_bootstrap_two_samples_for_probability_of_improvement() -> None:
    x, y = np.array([[1.0], [2.0], [3.0]]), np.array([[0.0], [2.0], [5.0]])
    low, high = stratified_bootstrap_ci((x, y), probability_of_improvement, seed=0)
    assert 0.0 <= low < probability_of_improvement(x, y) < high <= 1.0


def test_bootstrap_is_reproducible_and_degenerate_without_spread() -> None:
    x = np.random.default_rng(1).uniform(size=12)
    assert stratified_bootstrap_ci(x, seed=3) == stratified_bootstrap_ci(x, seed=3)
    assert stratified_bootstrap_ci(x, seed=3) != stratified_bootstrap_ci(x, seed=4)
    assert stratified_bootstrap_ci([0.7] * 5) == (0.7, 0.7)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scores": [], "statistic": iqm}, "non-empty"),
        ({"scores": [1.0, np.nan], "statistic": iqm}, "NaN"),
        ({"scores": [1.0, 2.0], "statistic": iqm, "confidence": 1.0}, "confidence"),
        ({"scores": [1.0, 2.0], "statistic": iqm, "n_resamples": 0}, "n_resamples"),
    ],
)
def test_bootstrap_bad_input(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        stratified_bootstrap_ci(**kwargs)


def test_summarize_hand_computed() -> None:
    summary = summarize([[1.0], [0.0], [1.0], [1.0]], "success", n_resamples=4000)
    assert (summary.mean, summary.median, summary.iqm) == (0.75, 0.75, 1.0)
    # resampled means of {1, 0, 1, 1}: k zeros of 4 with k ~ Binomial(4, 1/4)
    assert summary.mean_ci == (0.25, 1.0)
    assert (summary.n_runs, summary.n_tasks, summary.n_episodes) == (4, 1, 4)
    assert summary.available and summary.note is None and summary.optimality_gap is None
    assert summarize([[1.0], [0.0]], "success", gamma=1.0).optimality_gap == 0.5
    assert summary.as_dict()["mean_ci"] == [0.25, 1.0]


def test_summarize_one_run_notes_degenerate_interval() -> None:
    summary = summarize([[0.3, 0.5]], "spl")
    assert summary.mean_ci == (0.4, 0.4)
    assert summary.note is not None and "1 run" in summary.note


# -- rliable, when installed ---------------------------------------------------------------


@pytest.fixture(scope="module")
def rliable_metrics() -> Any:
    return pytest.importorskip(
        "rliable.metrics", reason="rliable is not installed; the hand-computed tests stand"
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (aggregate_mean, "aggregate_mean"),
        (aggregate_median, "aggregate_median"),
        (iqm, "aggregate_iqm"),
        (optimality_gap, "aggregate_optimality_gap"),
    ],
)
def test_aggregates_match_rliable(
    rliable_metrics: Any, ours: Callable[[Any], float], theirs: str, seed: int
) -> None:
    scores = np.random.default_rng(seed).uniform(0.0, 1.3, size=(10, 4))
    assert ours(scores) == pytest.approx(getattr(rliable_metrics, theirs)(scores), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_probability_of_improvement_matches_rliable(rliable_metrics: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, 5, size=(8, 3)).astype(float), rng.integers(0, 5, size=(6, 3)) * 1.0
    expected = rliable_metrics.probability_of_improvement(x, y)
    assert probability_of_improvement(x, y) == pytest.approx(expected, abs=1e-12)
