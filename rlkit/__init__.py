"""rlkit: agents, tabular and deep reinforcement learning, and the evaluation harness.

The subpackages are imported on demand (``rlkit.tabular``, ``rlkit.cli``, ...), so
``import rlkit`` stays cheap and never imports torch: the tabular learners and the
command line must work on an install without the deep-learning stack.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__: str = version("rlkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
