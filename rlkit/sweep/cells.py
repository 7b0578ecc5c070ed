"""Running one cell, and the JSON file that keeps what it gave.

:func:`run_cell` is what a backend runs in a worker: it builds the agent with its kind
(training it if the kind trains), evaluates it with :func:`rlkit.evaluation.evaluate`
and returns the cell's document, a JSON-ready dict. It never raises for a failure inside
the cell: the document then has ``status: "error"`` and the traceback, and the suite
goes on. The driver writes documents with :func:`write_cell` (atomically, so a file
under its final name is always whole), and a rerun reuses a cell whose file
:func:`is_finished`.

A cell document::

    format       {"name": "rlkit.sweep.cell", "version": 1}
    cell, suite  names; fingerprint: hash of the config a rerun must match to reuse it
    config       agent (name, kind, kwargs, steps), env (label, id, kwargs, max_steps),
                 seed, episodes
    status       "ok" or "error"
    train        wall_time_s, steps, episodes, learning_curve, info, curve_x and
                 eval_curve (points {x, success, spl, return, episodes}: the
                 checkpoints of the kind evaluated like the final agent; null on error)
    eval_wall_time_s, wall_time_s
    result       the EvalResult, as EvalResult.to_json writes it (null on error)
    error        type, message, traceback (null when ok)
    warnings     messages of warnings raised in the cell
    backend, worker (host, pid), provenance (command, date, versions, git commit)
    sha256       checksum of the rest (see :func:`write_cell`)

A rerun trusts a file only if :func:`cell_state` finds it whole and consistent: it
parses, it is the file of this cell, its checksum and its fingerprint match what it
holds, its config is the suite's, and its result reads back. Anything else
(``"damaged"``) is run again, never read into a report.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rlkit.evaluation.atomic import atomic_write_text
from rlkit.evaluation.provenance import provenance
from rlkit.evaluation.records import EpisodeRecord
from rlkit.evaluation.result import FORMAT_NAME as RESULT_FORMAT_NAME
from rlkit.evaluation.result import FORMAT_VERSION as RESULT_FORMAT_VERSION
from rlkit.evaluation.result import EvalResult
from rlkit.sweep.suite import Cell

__all__ = [
    "CELL_STATES",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "cell_path",
    "cell_result",
    "cell_state",
    "error_document",
    "is_finished",
    "read_cell",
    "run_cell",
    "write_cell",
]

FORMAT_NAME = "rlkit.sweep.cell"
FORMAT_VERSION = 1
#: What :func:`cell_state` says of a cell's file.
CELL_STATES = ("not run", "damaged", "error", "stale", "ok")


def _base_document(cell: Cell, command: list[str] | None, backend: str) -> dict[str, Any]:
    return {
        "format": {"name": FORMAT_NAME, "version": FORMAT_VERSION},
        "cell": cell.name,
        "suite": cell.suite,
        "fingerprint": cell.fingerprint(),
        "config": cell.config(),
        "status": "error",
        "train": None,
        "eval_wall_time_s": None,
        "wall_time_s": None,
        "result": None,
        "error": None,
        "warnings": [],
        "backend": backend,
        "worker": {"host": platform.node(), "pid": os.getpid()},
        "provenance": provenance(command),
    }


def _error(error: BaseException, note: str | None = None) -> dict[str, Any]:
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    message = str(error) if note is None else f"{note}: {error}"
    return {"type": type(error).__name__, "message": message, "traceback": text}


def error_document(
    cell: Cell,
    error: BaseException,
    *,
    note: str | None = None,
    command: list[str] | None = None,
    backend: str = "local",
) -> dict[str, Any]:
    """The document of a cell whose worker failed outside :func:`run_cell` (it died, or
    the task could not be sent); ``note`` says what happened."""
    document = _base_document(cell, command, backend)
    document["worker"] = None
    document["error"] = _error(error, note)
    return document


def run_cell(
    cell: Cell, command: list[str] | None = None, backend: str = "local"
) -> dict[str, Any]:
    """Train (if the kind trains) and evaluate one cell; its document, never an exception.

    Parameters
    ----------
    cell : Cell
        What to run.
    command : list of str, optional
        The command line that started the suite, recorded as provenance (a worker's own
        ``sys.argv`` says nothing useful).
    backend : str
        Recorded in the document.

    Returns
    -------
    dict
        The cell document (see the module docstring); ``status`` says how it went.

    Examples
    --------
    >>> from rlkit.sweep.suite import AgentSpec, EnvSpec
    >>> cell = Cell("demo", AgentSpec("random", "random", episodes=2),
    ...             EnvSpec("lake", "FrozenLake-v1"), seed=0)
    >>> document = run_cell(cell)
    >>> document["status"], len(document["result"]["records"])
    ('ok', 2)
    """
    # Imported here, not at module level: importing this module (to unpickle a task)
    # stays cheap, and a kind's heavy imports happen in the worker that needs them.
    from rlkit.evaluation import evaluate
    from rlkit.sweep.kinds import resolve_agent_kind

    started = time.perf_counter()
    document = _base_document(cell, command, backend)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")  # once per location, as Python shows them
            kind = resolve_agent_kind(cell.agent.kind)
            train_start = time.perf_counter()
            trained = kind.build(cell)
            train_seconds = time.perf_counter() - train_start
            eval_start = time.perf_counter()

            def held_out(agent: Any) -> EvalResult:
                return evaluate(
                    agent,
                    cell.env.id,
                    episodes=cell.episodes,
                    seeds=[cell.seed],
                    env_kwargs=cell.env.kwargs,
                    max_steps=cell.env.max_steps,
                    progress_bar=False,
                    name=cell.agent.name,
                    deterministic=cell.agent.actions == "greedy",
                )

            result = held_out(trained.agent)
            eval_curve = [
                {"x": int(x), **curve_point(result if agent is trained.agent else held_out(agent))}
                for x, agent in trained.checkpoints
            ]
            eval_seconds = time.perf_counter() - eval_start
        # evaluate() stamps the worker's argv; the suite's command is what made the result.
        result.metadata.update(document["provenance"])
        document.update(
            status="ok",
            train={
                "wall_time_s": train_seconds if kind.trains else None,
                "steps": trained.steps,
                "episodes": trained.episodes,
                "learning_curve": trained.learning_curve,
                "info": trained.info,
                "curve_x": trained.curve_x,
                "eval_curve": eval_curve,
            },
            eval_wall_time_s=eval_seconds,
            result=_result_document(result),
        )
        document["warnings"] = list(dict.fromkeys(str(w.message) for w in caught))
    except Exception as error:
        document["error"] = _error(error)
    document["wall_time_s"] = time.perf_counter() - started
    return _jsonable(document)


def curve_point(result: EvalResult) -> dict[str, Any]:
    """Per-seed means of one evaluation, a point of a cell's ``eval_curve``: success,
    SPL and return over its episodes (None where the env reports no such fact).

    Examples
    --------
    >>> from rlkit.evaluation import evaluate
    >>> point = curve_point(evaluate("planner", "rlkit/GridNav-Empty-v0", episodes=2,
    ...                              seeds=[0], progress_bar=False))
    >>> point["success"], point["spl"], point["episodes"]
    (1.0, 1.0, 2)
    """
    point: dict[str, Any] = {"episodes": len(result.records)}
    for metric in ("success", "spl", "return"):
        values = [v for v in result.values(metric) if v is not None]
        point[metric] = float(np.mean(values)) if values else None
    return point


def _result_document(result: EvalResult) -> dict[str, Any]:
    """What :meth:`EvalResult.to_json` writes, as a dict."""
    return {
        "format": {"name": RESULT_FORMAT_NAME, "version": RESULT_FORMAT_VERSION},
        "metadata": result.metadata,
        "records": [r.as_row() for r in result.records],
    }


def _jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays, tuples and paths as plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


# -- files -------------------------------------------------------------------------------


def cell_path(folder: str | os.PathLike[str], name: str) -> Path:
    """``<folder>/cells/<name>.json``, the file of cell ``name`` in a suite's folder."""
    return Path(folder) / "cells" / f"{name}.json"


def write_cell(folder: str | os.PathLike[str], document: dict[str, Any]) -> Path:
    """Write a cell document atomically to :func:`cell_path`, with its ``sha256``
    checksum; returns the path."""
    document = _jsonable({k: v for k, v in document.items() if k != "sha256"})
    document["sha256"] = _checksum(document)
    text = json.dumps(document, indent=1, allow_nan=True) + "\n"
    return atomic_write_text(cell_path(folder, document["cell"]), text)


def _checksum(document: dict[str, Any]) -> str:
    """SHA-256 of the document without its ``sha256`` key, as canonical JSON."""
    rest = {k: v for k, v in document.items() if k != "sha256"}
    text = json.dumps(rest, sort_keys=True, allow_nan=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def read_cell(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The cell document in ``path``; None if it is missing or not a cell document."""
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    tag = document.get("format")
    if not isinstance(tag, dict) or tag.get("name") != FORMAT_NAME:
        return None
    return document


def cell_state(path: str | os.PathLike[str], cell: Cell) -> tuple[str, dict[str, Any] | None]:
    """What the file ``path`` holds of ``cell``: one of :data:`CELL_STATES`, and the
    document read (None if there is none to read).

    ``"not run"``: no file. ``"damaged"``: a file that cannot be trusted: not JSON (cut
    short, garbage), not a cell document, another cell's, a checksum or fingerprint that
    does not match its contents, or an ``"ok"`` result that does not read back.
    ``"error"``: the cell failed. ``"stale"``: made with other settings than the suite's
    now (or by a newer rlkit). ``"ok"``: finished; a rerun reuses it.
    """
    if not os.path.lexists(path):
        return "not run", None
    document = read_cell(path)
    return _state(document, cell), document


def is_finished(document: dict[str, Any] | None, cell: Cell) -> bool:
    """Whether ``document`` is a whole, successful run of ``cell`` as configured now.

    Errored cells, cells made with other settings (budget, kwargs, episodes) and damaged
    documents (see :func:`cell_state`) are run again.
    """
    return document is not None and _state(document, cell) == "ok"


def _state(document: dict[str, Any] | None, cell: Cell) -> str:
    if document is None or document.get("cell") != cell.name or document.get("suite") != cell.suite:
        return "damaged"
    tag = document.get("format")
    version = tag.get("version") if isinstance(tag, dict) else None
    if isinstance(version, bool) or not isinstance(version, int):
        return "damaged"
    checksum = document.get("sha256")  # None: written before cells had checksums
    if checksum is not None and checksum != _checksum(document):
        return "damaged"
    config = document.get("config")
    if not isinstance(config, dict) or document.get("fingerprint") != _fingerprint(config):
        return "damaged"
    status = document.get("status")
    if status == "error":
        return "error"
    if status != "ok":
        return "damaged"
    if document["fingerprint"] != cell.fingerprint() or version > FORMAT_VERSION:
        return "stale"
    return "ok" if _result_reads_back(document, cell) else "damaged"


def _fingerprint(config: dict[str, Any]) -> str:
    """:meth:`Cell.fingerprint` of a recorded config."""
    text = json.dumps(config, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _result_reads_back(document: dict[str, Any], cell: Cell) -> bool:
    """Whether an ``"ok"`` document has what the report reads: its episodes' records and
    the training facts."""
    try:
        records = cell_result(document).records
    except (ValueError, TypeError, KeyError, AttributeError):
        return False
    train = document.get("train")
    if len(records) != cell.episodes or not isinstance(train, dict):
        return False
    curve = train.get("learning_curve")
    numbers = [train.get("steps"), train.get("episodes"), train.get("wall_time_s")]
    numbers.append(document.get("eval_wall_time_s"))
    if curve is not None and not isinstance(curve, list):
        return False
    steps = [p.get("step") if isinstance(p, dict) else None for p in curve or []]
    return all(n is None or _is_number(n) for n in numbers) and all(map(_is_number, steps))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def cell_result(document: dict[str, Any]) -> EvalResult:
    """The :class:`EvalResult` of a successful cell document.

    Raises
    ------
    ValueError
        If the cell has no result (it failed).
    """
    result = document.get("result")
    if document.get("status") != "ok" or not isinstance(result, dict):
        raise ValueError(f"cell {document.get('cell')!r} has no result: it did not finish")
    tag = result.get("format")
    if not isinstance(tag, dict) or tag.get("name") != RESULT_FORMAT_NAME:
        raise ValueError(f"cell {document.get('cell')!r}: its result is not an EvalResult")
    records = [EpisodeRecord.from_row(row) for row in result["records"]]
    return EvalResult(records, dict(result.get("metadata", {})))
