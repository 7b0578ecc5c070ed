"""How a result was made: command line, library versions, git commit, date."""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["git_commit", "provenance"]

#: Distributions whose versions every result records.
VERSIONED = ("rlkit", "gymnasium", "numpy", "scipy", "stable-baselines3", "torch")


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def git_commit(folder: str | Path | None = None) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the git checkout holding ``folder`` (default: rlkit's source).

    ``(None, None)`` when git or the checkout is missing (an installed wheel). ``dirty``
    says whether tracked files differ from the commit, so the commit alone would not
    reproduce the run.
    """
    where = Path(folder) if folder is not None else Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                # --no-optional-locks: `git status` otherwise refreshes the index under
                # .git/index.lock, which a run killed at that moment (kill -9, found by
                # the fault tests) leaves behind, blocking every later git command.
                ["git", "--no-optional-locks", "-C", str(where), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, (bool(status) if status is not None else None)


def provenance(command: list[str] | None = None) -> dict[str, Any]:
    """Metadata every result file carries.

    Parameters
    ----------
    command : list of str, optional
        The command line; defaults to ``sys.argv`` (the program and its arguments).

    Returns
    -------
    dict
        ``command``, ``date`` (UTC, ISO 8601), ``python``, ``platform``, ``versions``
        (distribution -> version or None), ``git_commit`` and ``git_dirty``.

    Examples
    --------
    >>> sorted(provenance(["rlkit", "eval"]))
    ['command', 'date', 'git_commit', 'git_dirty', 'platform', 'python', 'versions']
    """
    argv = list(sys.argv if command is None else command)
    if command is None and argv:  # "/long/path/.venv/bin/rlkit eval ..." -> "rlkit eval ..."
        argv[0] = Path(argv[0]).name
    commit, dirty = git_commit()
    return {
        "command": shlex.join(argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {name: _version(name) for name in VERSIONED},
        "git_commit": commit,
        "git_dirty": dirty,
    }
