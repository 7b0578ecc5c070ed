"""EvalResult: the episodes of an evaluation, their aggregates, and their files.

Its markdown comes from :mod:`~rlkit.evaluation.markdown`; results side by side from
:func:`~rlkit.evaluation.report.compare`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rlkit.evaluation.atomic import atomic_write_text
from rlkit.evaluation.markdown import result_markdown
from rlkit.evaluation.metrics import MetricSummary, summarize
from rlkit.evaluation.records import COLUMNS, DEFAULT_METRICS, EpisodeRecord, missing_reason

__all__ = ["DEFAULT_METRICS", "FORMAT_NAME", "FORMAT_VERSION", "EvalResult"]

#: Metrics whose best value is 1; their summaries include the optimality gap.
BOUNDED_BY_ONE = ("success", "spl")
#: Tag of the JSON files :meth:`EvalResult.to_json` writes.
FORMAT_NAME = "rlkit.evaluation.result"
#: Bumped when the JSON layout changes incompatibly.
FORMAT_VERSION = 1


@dataclass
class EvalResult:
    """The records of evaluated episodes, with how they were made.

    Scores follow rliable's ``runs x tasks`` layout: the runs are the evaluation seeds,
    the tasks the env ids, and each cell the mean over that seed's episodes
    (:meth:`score_matrix`), so matrices feed ``rliable`` directly.

    Attributes
    ----------
    records : list of EpisodeRecord
        One per episode, in the order they ran.
    metadata : dict
        ``agent``, ``env_id``, the evaluation's arguments, and provenance (command,
        versions, git commit, date); see :func:`~rlkit.evaluation.evaluate`.

    Examples
    --------
    >>> from rlkit.evaluation import evaluate
    >>> result = evaluate(lambda obs: 2, "FrozenLake-v1", episodes=2, seeds=3,
    ...                   progress_bar=False)
    >>> result.score_matrix("return").shape
    (3, 1)
    >>> result.summary()["success"].note
    'n/a (env gives no is_success)'
    """

    records: list[EpisodeRecord]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def agent(self) -> str:
        """Name of the agent."""
        return str(self.metadata.get("agent", "agent"))

    @property
    def env_id(self) -> str:
        """The env id, or the ids joined by ``", "`` for a merged result."""
        return str(self.metadata.get("env_id", ", ".join(self.tasks)))

    @property
    def label(self) -> str:
        """``"agent on env"``, the name of this result in reports and plots."""
        return f"{self.agent} on {self.env_id}"

    @property
    def tasks(self) -> list[str]:
        """Env ids, in order of first appearance."""
        return list(dict.fromkeys(r.task for r in self.records))

    @property
    def seeds(self) -> list[int]:
        """Evaluation seeds, in order of first appearance."""
        return list(dict.fromkeys(r.seed for r in self.records))

    def values(self, metric: str) -> list[float | None]:
        """The metric of every episode, in record order (None where undefined)."""
        return [r.metric(metric) for r in self.records]

    def score_matrix(self, metric: str) -> npt.NDArray[np.float64]:
        """``runs x tasks`` matrix of per-seed mean scores (rliable's layout).

        Episodes where the metric is None are left out of their cell's mean.

        Parameters
        ----------
        metric : str
            One of :data:`~rlkit.evaluation.records.METRICS`.

        Returns
        -------
        numpy.ndarray, shape (n_seeds, n_tasks)

        Raises
        ------
        ValueError
            If a (seed, task) cell has no episode with the metric defined (for example
            ``"success"`` on an env that reports no ``is_success``).
        """
        seeds, tasks = self.seeds, self.tasks
        sums = np.zeros((len(seeds), len(tasks)))
        counts = np.zeros((len(seeds), len(tasks)), dtype=np.int64)
        row = {s: i for i, s in enumerate(seeds)}
        col = {t: j for j, t in enumerate(tasks)}
        for record in self.records:
            value = record.metric(metric)
            if value is not None:
                sums[row[record.seed], col[record.task]] += value
                counts[row[record.seed], col[record.task]] += 1
        if not self.records or np.any(counts == 0):
            empty = [(s, t) for s in seeds for t in tasks if counts[row[s], col[t]] == 0]
            reason = missing_reason(metric, self.records)
            raise ValueError(
                f"metric {metric!r} is {reason} for (seed, task) {empty[:3]}"
                + (f" and {len(empty) - 3} more" if len(empty) > 3 else "")
            )
        return sums / counts

    def summary(
        self,
        metrics: Sequence[str] = DEFAULT_METRICS,
        *,
        confidence: float = 0.95,
        n_resamples: int = 2000,
        seed: int = 0,
    ) -> dict[str, MetricSummary]:
        """Mean, median, IQM and stratified-bootstrap intervals of each metric.

        A metric the env does not report comes back unavailable, with a note such as
        ``"n/a (env gives no is_success)"``, rather than raising.

        Parameters
        ----------
        metrics : sequence of str
            Which metrics; by default success rate, SPL and return.
        confidence, n_resamples, seed
            Of :func:`~rlkit.evaluation.metrics.stratified_bootstrap_ci`; the same seed
            gives the same intervals.

        Returns
        -------
        dict of str to MetricSummary
        """
        out: dict[str, MetricSummary] = {}
        for metric in metrics:
            values = self.values(metric)
            defined = sum(v is not None for v in values)
            try:
                matrix = self.score_matrix(metric)
            except ValueError:
                note = missing_reason(metric, self.records)
                out[metric] = MetricSummary.unavailable(metric, note, n_episodes=len(values))
                continue
            summary = summarize(
                matrix,
                metric,
                n_episodes=defined,
                gamma=1.0 if metric in BOUNDED_BY_ONE else None,
                confidence=confidence,
                n_resamples=n_resamples,
                seed=seed,
            )
            if defined < len(values):
                note = f"{len(values) - defined} of {len(values)} episodes undefined, left out"
                notes = "; ".join(n for n in (summary.note, note) if n)
                summary = dataclasses.replace(summary, note=notes)
            out[metric] = summary
        return out

    @classmethod
    def merge(cls, results: Iterable[EvalResult]) -> EvalResult:
        """One result holding the records of several (more seeds, or more tasks).

        The metadata is the first result's, with ``env_id`` listing every task and
        ``parts`` holding each part's metadata.

        Raises
        ------
        ValueError
            If there are no results, the agents differ, or a (task, seed, episode)
            appears twice.
        """
        parts = list(results)
        if not parts:
            raise ValueError("merge() needs at least one result")
        agents = {p.agent for p in parts}
        if len(agents) > 1:
            raise ValueError(f"cannot merge results of different agents {sorted(agents)}")
        records = [r for p in parts for r in p.records]
        keys = [(r.task, r.seed, r.episode) for r in records]
        if len(set(keys)) != len(keys):
            raise ValueError("merged results repeat a (task, seed, episode): evaluated twice?")
        merged = cls(records, dict(parts[0].metadata))
        merged.metadata["env_id"] = ", ".join(merged.tasks)
        merged.metadata["parts"] = [p.metadata for p in parts]
        return merged

    # -- files ---------------------------------------------------------------------------

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write metadata and records to ``path`` atomically (temp file + ``os.replace``).

        Returns
        -------
        pathlib.Path
            ``path``.
        """
        document = {
            "format": {"name": FORMAT_NAME, "version": FORMAT_VERSION},
            "metadata": self.metadata,
            "records": [r.as_row() for r in self.records],
        }
        return atomic_write_text(path, json.dumps(document, indent=1, default=_jsonable) + "\n")

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> EvalResult:
        """Read a file written by :meth:`to_json`.

        Raises
        ------
        ValueError
            If the file is not an rlkit evaluation result, or a newer version of one.
        """
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
        tag = document.get("format") if isinstance(document, dict) else None
        if not isinstance(tag, dict) or tag.get("name") != FORMAT_NAME:
            raise ValueError(f"{os.fspath(path)!r} is not an rlkit evaluation result (JSON)")
        if int(tag.get("version", 0)) > FORMAT_VERSION:
            raise ValueError(
                f"{os.fspath(path)!r} has result format version {tag['version']}, newer than "
                f"this rlkit reads ({FORMAT_VERSION}): upgrade rlkit"
            )
        records = [EpisodeRecord.from_row(row) for row in document["records"]]
        return cls(records, dict(document.get("metadata", {})))

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write one row per episode (columns of :data:`~rlkit.evaluation.records.COLUMNS`;
        None as an empty cell) to ``path`` atomically. Metadata stays in the JSON."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in self.records:
            writer.writerow({k: ("" if v is None else v) for k, v in record.as_row().items()})
        return atomic_write_text(path, buffer.getvalue())

    @classmethod
    def from_csv(
        cls, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None
    ) -> EvalResult:
        """Read the records of a file written by :meth:`to_csv`."""
        with open(path, encoding="utf-8", newline="") as file:
            records = [EpisodeRecord.from_row(row) for row in csv.DictReader(file)]
        return cls(records, dict(metadata or {}))

    def to_markdown(self, metrics: Sequence[str] = DEFAULT_METRICS, **summary_options: Any) -> str:
        """A markdown report: what was run, and the summary table of ``metrics``
        (:func:`~rlkit.evaluation.markdown.result_markdown`)."""
        return result_markdown(self, metrics, **summary_options)


def _jsonable(value: Any) -> Any:
    """numpy scalars, arrays and paths in metadata, as JSON types."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (os.PathLike, set, tuple)):
        return os.fspath(value) if isinstance(value, os.PathLike) else list(value)
    return repr(value)
