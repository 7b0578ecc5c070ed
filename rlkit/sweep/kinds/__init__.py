"""Agent kinds: how a cell turns an agent spec into something ``evaluate()`` can run.

Importing this package registers every built-in kind in :data:`AGENT_KINDS` (suites
look kinds up by name). Where each piece lives (every name below is importable from
``rlkit.sweep.kinds``):

- :mod:`~rlkit.sweep.kinds.registry` -- what a kind is and how it is found:
  :class:`TrainedAgent` (what a kind returns), :class:`AgentKind`,
  :data:`AGENT_KINDS`, :func:`register_agent_kind`, :func:`resolve_agent_kind`
  (names and ``"package.module:function"`` plugins), :func:`check_agent_kind`.
- :mod:`~rlkit.sweep.kinds.curve` -- :class:`LearningCurve`, training episodes
  averaged over windows of the step budget.
- :mod:`~rlkit.sweep.kinds.fixed` -- ``planner`` and ``random`` (no training).
- :mod:`~rlkit.sweep.kinds.tabular` -- ``q_learning``, ``sarsa``, ...
  (:data:`TABULAR_KINDS`, :mod:`rlkit.tabular`).
- :mod:`~rlkit.sweep.kinds.deep` -- ``ppo``, ``dqn``, ``sac`` (:func:`rlkit.deep.train`,
  with :data:`CURVE_POINTS` snapshots).
- :mod:`~rlkit.sweep.kinds.distill` -- ``bc`` and ``dagger`` (:mod:`rlkit.deep.distill`).
- :mod:`~rlkit.sweep.kinds.ensemble` -- ``ensemble``: K BC or DAgger students acting as
  one (:func:`rlkit.deep.train_ensemble`), each member scored on the same episodes.
- :mod:`~rlkit.sweep.kinds.transfer` -- ``transfer``: fine-tuning from a source-task
  policy, the pretrained backbone or scratch (:func:`rlkit.deep.fine_tune`).
- :mod:`~rlkit.sweep.kinds.teacher` -- ``teacher``: a trained network distilled into a
  pixel student (:func:`rlkit.deep.distil_teacher`).
"""

from __future__ import annotations

# The family modules register their kinds when imported, in this order.
# isort: off
from rlkit.sweep.kinds import fixed, tabular, deep, distill, ensemble, transfer, teacher  # noqa: F401

# isort: on
from rlkit.sweep.kinds.curve import LearningCurve
from rlkit.sweep.kinds.deep import CURVE_POINTS
from rlkit.sweep.kinds.registry import (
    AGENT_KINDS,
    AgentKind,
    BuildAgent,
    TrainedAgent,
    check_agent_kind,
    register_agent_kind,
    resolve_agent_kind,
)
from rlkit.sweep.kinds.tabular import TABULAR_KINDS

__all__ = [
    "AGENT_KINDS",
    "CURVE_POINTS",
    "TABULAR_KINDS",
    "AgentKind",
    "BuildAgent",
    "LearningCurve",
    "TrainedAgent",
    "check_agent_kind",
    "register_agent_kind",
    "resolve_agent_kind",
]
