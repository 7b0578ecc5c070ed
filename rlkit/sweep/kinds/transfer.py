"""The ``transfer`` kind: fine-tune on the cell's env (the target) from a source policy,
the pretrained backbone, or scratch (:func:`rlkit.deep.transfer_training.fine_tune`).

A suite agent::

    - name: bc-from-rooms
      kind: transfer
      kwargs:
        init: source                      # source | pretrained | scratch
        source:                           # init: source only
          env: rlkit/GridNav-Map-v0       # the source task (obs="pixels" added)
          env_kwargs: {max_steps: 60}
          method: bc                      # bc | dagger (rlkit.deep.distill)
          kwargs: {demos: 100, epochs: 20}
        method: bc                        # the target's training: bc | dagger
        demos: 25                         # ... and any other argument of fine_tune
        zero_shot: true                   # also evaluate the start (round -1)
      envs: [maze-pixels]                 # the target env(s)

Each cell trains the source policy with the cell's seed, then fine-tunes it on the
target with the same seed; the cell evaluates the student on the target's held-out
seeds. Sources are reused between cells (the three inits of a pair, several targets)
through a cache folder named by the environment variable ``RLKIT_TRANSFER_CACHE``
(unset: each cell trains its own): ``<folder>/<hash of the source spec>__seed<N>.zip``,
written atomically. On the CPU the same spec and seed train the same weights, so the
cache changes no number, only the time (and is not part of a cell's fingerprint).
Set the variable before the suite starts its workers (local worker processes and Ray
inherit the driver's environment then); Ray workers on other machines need the folder
on a shared file system, or no cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlkit.sweep.kinds.deep import check_deep_kwargs
from rlkit.sweep.kinds.distill import register_student_kind, student_agent
from rlkit.sweep.kinds.registry import TrainedAgent

if TYPE_CHECKING:
    from stable_baselines3 import PPO

    from rlkit.sweep.suite import Cell

__all__ = ["CACHE_VARIABLE", "INITS", "check_transfer_kwargs", "source_path"]

#: The environment variable naming the source-policy cache folder.
CACHE_VARIABLE = "RLKIT_TRANSFER_CACHE"
#: The inits of the kind (those of rlkit.deep.transfer, without importing torch here).
INITS = ("source", "pretrained", "scratch")
_SOURCE_KEYS = ("env", "env_kwargs", "method", "kwargs")
_METHODS = {"bc": "behaviour_cloning", "dagger": "dagger"}
#: fine_tune arguments the cell sets itself.
_FIXED = ("env_id", "env_kwargs", "seed", "progress_bar", "source")
#: Keywords of the kind, not of fine_tune.
_EXTRA = ("zero_shot",)
_SUMMARY = (
    "fine-tune on the env from a source-task policy, the pretrained backbone or scratch "
    "(rlkit.deep.transfer); budget: kwargs demos, epochs"
)


def check_transfer_kwargs(kwargs: dict[str, Any]) -> None:
    """Check a ``transfer`` agent's kwargs when its suite loads.

    Raises
    ------
    ValueError
        Naming the key: ``init`` missing or unknown, ``source`` missing (``init:
        source``), given (other inits) or malformed, or an argument ``fine_tune`` (or
        the source's training function) does not take.

    Examples
    --------
    >>> check_transfer_kwargs({"init": "scratch", "demos": 10})
    >>> check_transfer_kwargs({"init": "sauce"})
    Traceback (most recent call last):
    ...
    ValueError: kwargs.init must be one of ['source', 'pretrained', 'scratch'], got 'sauce'
    """
    init = kwargs.get("init")
    if init not in INITS:
        raise ValueError(f"kwargs.init must be one of {list(INITS)}, got {init!r}")
    source = kwargs.get("source")
    if init == "source":
        _check_source(source)
    elif source is not None:
        raise ValueError(f"kwargs.source: init {init!r} starts from no source policy; remove it")
    zero_shot = kwargs.get("zero_shot", False)
    if not isinstance(zero_shot, bool):
        raise ValueError(f"kwargs.zero_shot must be true or false, got {zero_shot!r}")
    rest = {k: v for k, v in kwargs.items() if k != "source"}
    check_deep_kwargs("rlkit.deep.transfer_training:fine_tune", _FIXED, rest, extra=_EXTRA)


def _check_source(source: Any) -> None:
    if not isinstance(source, dict):
        raise ValueError(
            "kwargs.source: init 'source' needs the source task, a mapping {env: ID, "
            f"env_kwargs: {{...}}, method: bc|dagger, kwargs: {{demos: N, ...}}}}, got {source!r}"
        )
    for key in source:
        if key not in _SOURCE_KEYS:
            raise ValueError(f"kwargs.source.{key}: unknown key (keys: {', '.join(_SOURCE_KEYS)})")
    if not isinstance(source.get("env"), str):
        raise ValueError(f"kwargs.source.env must be a Gymnasium id, got {source.get('env')!r}")
    for key in ("env_kwargs", "kwargs"):
        if not isinstance(source.get(key, {}), dict):
            raise ValueError(f"kwargs.source.{key} must be a mapping, got {source[key]!r}")
    method = source.get("method", "bc")
    if method not in _METHODS:
        raise ValueError(f"kwargs.source.method must be 'bc' or 'dagger', got {method!r}")
    check_deep_kwargs(
        f"rlkit.deep.distill:{_METHODS[method]}",
        ("env_id", "env_kwargs", "seed", "progress_bar"),
        dict(source.get("kwargs", {})),
    )


def source_path(folder: str | os.PathLike[str], source: dict[str, Any], seed: int) -> Path:
    """Where the source policy of ``source`` (a ``kwargs.source`` mapping) trained with
    ``seed`` is cached in ``folder``.

    >>> source_path("cache", {"env": "rlkit/GridNav-Map-v0", "method": "bc"}, 3).name
    'GridNav-Map-v0__bc__562fc635093c__seed3.zip'
    """
    text = json.dumps(_source_spec(source), sort_keys=True, default=repr)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    env = str(source["env"]).rsplit("/", 1)[-1]
    return Path(folder) / f"{env}__{source.get('method', 'bc')}__{digest}__seed{seed}.zip"


def _source_spec(source: dict[str, Any]) -> dict[str, Any]:
    return {
        "env": source["env"],
        "env_kwargs": dict(source.get("env_kwargs", {})),
        "method": source.get("method", "bc"),
        "kwargs": dict(source.get("kwargs", {})),
    }


def _source_policy(source: dict[str, Any], seed: int) -> tuple[PPO, dict[str, Any]]:
    """The source policy of the cell: from the cache, or trained (and cached)."""
    from stable_baselines3 import PPO

    from rlkit.deep import distill

    folder = os.environ.get(CACHE_VARIABLE)
    path = source_path(folder, source, seed) if folder else None
    if path is not None and path.is_file():
        # Our own cache, written by this kind: loading unpickles, as any SB3 .zip.
        return PPO.load(path, device="cpu"), {"reused": True, "path": os.fspath(path)}
    spec = _source_spec(source)
    function = getattr(distill, _METHODS[spec["method"]])
    result = function(spec["env"], env_kwargs=spec["env_kwargs"], seed=seed, **spec["kwargs"])
    if path is not None:
        result.save(path)
    about = {"reused": False, "path": os.fspath(path) if path else None, **result.summary()}
    return result.model, about


@register_student_kind("transfer", check_transfer_kwargs, _SUMMARY)
def _transfer(cell: Cell) -> TrainedAgent:
    from rlkit.deep.policies import policy_snapshot
    from rlkit.deep.transfer_training import fine_tune

    kwargs = dict(cell.agent.kwargs)
    spec = kwargs.pop("source", None)
    zero_shot = bool(kwargs.pop("zero_shot", False))
    source, about = (None, None) if spec is None else _source_policy(spec, cell.seed)
    # The start (round -1: zero-shot) and every round's student, evaluated by the cell.
    rounds: list[tuple[int, Any]] = []
    dagger = kwargs.get("method") == "dagger"

    def snapshot(round_: int, model: Any) -> None:
        if (round_ == -1 and zero_shot) or (round_ >= 0 and (dagger or zero_shot)):
            rounds.append((round_, policy_snapshot(model.policy)))

    result = fine_tune(
        cell.env.id,
        env_kwargs=dict(cell.env.kwargs),
        seed=cell.seed,
        source=source,
        callback=snapshot,
        **kwargs,
    )
    info = {**result.summary(), "transfer": result.config["transfer"], "source": about}
    return student_agent(result, rounds, info, "fine-tuning round (-1: the start, zero-shot)")
