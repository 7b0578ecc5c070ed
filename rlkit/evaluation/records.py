"""One record per evaluated episode, and the names of the metrics read off records."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["DEFAULT_METRICS", "METRICS", "EpisodeRecord", "missing_reason"]

#: Numeric metrics, by the column name used in CSV, JSON and ``score_matrix``.
METRICS = (
    "success",
    "spl",
    "return",
    "length",
    "optimal_length",
    "path_length",
    "collisions",
    "wall_time_s",
)
#: The metrics of :meth:`~rlkit.evaluation.EvalResult.summary` and of reports.
DEFAULT_METRICS = ("success", "spl", "return")

#: The ``info`` key each env-reported metric comes from.
_INFO_KEY = {
    "success": "is_success",
    "optimal_length": "optimal_length",
    "path_length": "path_length",
    "collisions": "collision",
}


@dataclass(frozen=True)
class EpisodeRecord:
    """What happened in one episode.

    Attributes
    ----------
    task : str
        The env id (the "task" axis of score matrices).
    seed : int
        The evaluation seed (the "run" axis).
    episode : int
        Index of the episode within its seed, from 0.
    reset_seed : int
        The seed passed to ``env.reset``; derived from ``(seed, episode)``, so
        ``env.reset(seed=record.reset_seed)`` replays the episode's start.
    episode_return : float
        Sum of the rewards ``env.step`` returned (column ``"return"``).
    length : int
        Steps taken.
    terminated, truncated : bool
        How the episode ended; ``truncated`` includes the harness's ``max_steps``.
    success : bool or None
        The last ``info["is_success"]`` the env reported; None if it never reported one.
    optimal_length, path_length : float or None
        The last ``info["optimal_length"]`` / ``info["path_length"]``; None if absent.
    spl : float or None
        ``success * optimal_length / max(path_length, optimal_length)``; None where
        undefined (an input is missing, or both lengths are 0).
    collisions : int or None
        Steps whose ``info["collision"]`` was truthy; None if the env never reported it.
    wall_time_s : float
        Seconds the episode took, agent and env together (the only field that differs
        between two runs with the same seeds).
    """

    task: str
    seed: int
    episode: int
    reset_seed: int
    episode_return: float
    length: int
    terminated: bool
    truncated: bool
    success: bool | None
    optimal_length: float | None
    path_length: float | None
    spl: float | None
    collisions: int | None
    wall_time_s: float

    def metric(self, name: str) -> float | None:
        """The value of metric ``name`` (see :data:`METRICS`) as a float, or None.

        Examples
        --------
        >>> record = EpisodeRecord("FrozenLake-v1", 0, 0, 7, 1.0, 6, True, False,
        ...                        None, None, None, None, None, 0.01)
        >>> record.metric("return"), record.metric("success")
        (1.0, None)
        """
        if name not in METRICS:
            raise ValueError(f"unknown metric {name!r}; choose from {', '.join(METRICS)}")
        value = getattr(self, "episode_return" if name == "return" else name)
        return None if value is None else float(value)

    def as_row(self) -> dict[str, Any]:
        """The record as a dict keyed by column names (``"return"`` for the return)."""
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["return"] = row.pop("episode_return")
        return {name: row[name] for name in COLUMNS}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> EpisodeRecord:
        """Inverse of :meth:`as_row`; also parses the strings of a CSV row.

        Raises
        ------
        ValueError
            If a column is missing or a value has the wrong type.
        """
        missing = [name for name in COLUMNS if name not in row]
        if missing:
            raise ValueError(f"episode record lacks the columns {missing}")
        values = {name: _parse(name, row[name]) for name in COLUMNS}
        values["episode_return"] = values.pop("return")
        return cls(**values)


#: Column order of CSV files and JSON records.
COLUMNS = (
    "task",
    "seed",
    "episode",
    "reset_seed",
    "return",
    "length",
    "terminated",
    "truncated",
    "success",
    "optimal_length",
    "path_length",
    "spl",
    "collisions",
    "wall_time_s",
)
_TYPES: dict[str, type] = {
    "task": str,
    "seed": int,
    "episode": int,
    "reset_seed": int,
    "return": float,
    "length": int,
    "terminated": bool,
    "truncated": bool,
    "success": bool,
    "optimal_length": float,
    "path_length": float,
    "spl": float,
    "collisions": int,
    "wall_time_s": float,
}
_OPTIONAL = {"success", "optimal_length", "path_length", "spl", "collisions"}


def _parse(name: str, value: Any) -> Any:
    kind = _TYPES[name]
    if value is None or value == "":
        if name in _OPTIONAL:
            return None
        raise ValueError(f"column {name!r} must have a value")
    if kind is bool and isinstance(value, str):
        if value not in ("True", "False", "true", "false", "1", "0"):
            raise ValueError(f"column {name!r}: {value!r} is not a boolean")
        return value in ("True", "true", "1")
    return kind(value)


def missing_reason(metric: str, records: list[EpisodeRecord]) -> str:
    """Why ``metric`` is None on every record: ``"n/a (env gives no is_success)"``.

    Examples
    --------
    >>> missing_reason("success", [])
    'n/a (env gives no is_success)'
    """
    needs = {"spl": ("success", "optimal_length", "path_length")}.get(metric, (metric,))
    for need in needs:
        if need in _INFO_KEY and all(r.metric(need) is None for r in records):
            return f"n/a (env gives no {_INFO_KEY[need]})"
    if metric == "spl":
        return "n/a (SPL undefined: optimal and path length are 0)"
    return f"n/a (no {metric} recorded)"
