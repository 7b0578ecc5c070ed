"""Benchmark sweeps: a grid of (agent, env, seed) cells, run locally or on Ray, reported.

A suite (YAML in ``benchmarks/suites/``) names envs and agents; each cell trains its
agent if the agent's kind trains, evaluates it with :func:`rlkit.evaluation.evaluate`
and keeps everything in ``<out>/<suite>/cells/<cell>.json``. :func:`run_suite` skips
finished cells, so an interrupted suite resumes where it stopped, then writes
``report.md`` and plots. ``rlkit bench`` is the command.

Where each piece lives:

- :mod:`~rlkit.sweep.suite` -- the parts of a suite: :class:`EnvSpec`,
  :class:`AgentSpec`, :class:`Cell` (its name, config and fingerprint), :class:`Suite`,
  :class:`SuiteError`.
- :mod:`~rlkit.sweep.schema` -- suite files: the YAML schema, :func:`load_suite`,
  :func:`parse_suite`, ``find_suite``.
- :mod:`~rlkit.sweep.kinds` -- agent kinds (``planner``, ``q_learning``, ``ppo``,
  ``bc``, ...): :data:`AGENT_KINDS`, :func:`register_agent_kind`,
  :class:`TrainedAgent`; the registry in :mod:`~rlkit.sweep.kinds.registry`, each
  family of kinds in a module of its own.
- :mod:`~rlkit.sweep.cells` -- one cell: :func:`run_cell` and its JSON file (write,
  read, check, reuse, back to an :class:`~rlkit.evaluation.EvalResult`).
- :mod:`~rlkit.sweep.runner` -- :func:`run_suite` and :class:`SweepRun`: the local
  process pool or Ray, resuming, and what happens on kills, damaged files, two runs at
  once, a full disk (its module docstring).
- :mod:`~rlkit.sweep.pool` -- the local backend: worker processes, retrying a cell whose
  worker died.
- :mod:`~rlkit.sweep.folder` -- the results folder: its lock, leftovers of killed runs,
  clear errors for a full or read-only disk.
- :mod:`~rlkit.sweep.report` -- :func:`write_report`: ``report.md`` and PNG plots.
- :mod:`~rlkit.sweep.cli` -- the ``rlkit bench`` command (``python -m rlkit.sweep``).

>>> from rlkit.sweep import parse_suite
>>> suite = parse_suite({
...     "suite": "demo",
...     "defaults": {"episodes": 3, "seeds": 2},
...     "envs": [{"label": "map", "id": "rlkit/GridNav-Map-v0",
...               "kwargs": {"obs": "index", "goal": [10, 10]}}],
...     "agents": [{"name": "planner", "kind": "planner"},
...                {"name": "q", "kind": "q_learning", "steps": 2000}],
... })
>>> [cell.name for cell in suite.cells()]
['planner__map__seed0', 'planner__map__seed1', 'q__map__seed0', 'q__map__seed1']
"""

from __future__ import annotations

from rlkit._lazy import lazy_exports
from rlkit.sweep.kinds import AGENT_KINDS, TrainedAgent, register_agent_kind
from rlkit.sweep.schema import load_suite, parse_suite
from rlkit.sweep.suite import AgentSpec, Cell, EnvSpec, Suite, SuiteError

__all__ = [
    "AGENT_KINDS",
    "AgentSpec",
    "Cell",
    "EnvSpec",
    "Suite",
    "SuiteError",
    "SweepRun",
    "TrainedAgent",
    "load_suite",
    "parse_suite",
    "register_agent_kind",
    "run_cell",
    "run_suite",
    "write_report",
]

#: The runner and report pull in the evaluation harness (scipy) and matplotlib:
#: loaded on first use, so reading a suite stays cheap.
_LAZY = {
    "SweepRun": "rlkit.sweep.runner",
    "run_suite": "rlkit.sweep.runner",
    "run_cell": "rlkit.sweep.cells",
    "write_report": "rlkit.sweep.report",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
