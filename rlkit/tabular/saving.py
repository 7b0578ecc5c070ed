"""Saving and loading tabular agents as functions, and the file format's names.

The learners do the work themselves: :meth:`TabularLearner.save` writes an agent and
:meth:`TabularLearner.load` reads one back (``rlkit.tabular.load`` for any algorithm).
The file format they use (one ``.npz`` file, arrays plus a JSON header, never pickled)
lives one layer below the learners in :mod:`rlkit.tabular.agent_file`; this module
re-exports it, so ``rlkit.tabular.saving`` stays the one name for everything on disk.
It sits above :mod:`rlkit.tabular.base` and is never imported by it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import gymnasium as gym

from rlkit.tabular.agent_file import FORMAT, FORMAT_VERSION, read_agent_file, write_agent_file
from rlkit.tabular.base import TabularLearner

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "load_learner",
    "read_agent_file",
    "save_learner",
    "write_agent_file",
]

Learner = TypeVar("Learner", bound=TabularLearner)


def save_learner(learner: TabularLearner, path: str | os.PathLike[str]) -> Path:
    """Write ``learner`` (see :meth:`TabularLearner.save`); returns the path written."""
    return learner.save(path)


def load_learner(
    cls: type[Learner], path: str | os.PathLike[str], env: gym.Env[Any, Any] | None
) -> Learner:
    """Read a learner of class ``cls`` or a subclass (see :meth:`TabularLearner.load`)."""
    return cls.load(path, env)
