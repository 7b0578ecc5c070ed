"""Atomic file output (:mod:`rlkit.atomic`, re-exported where the harness has always had it)."""

from __future__ import annotations

from rlkit.atomic import atomic_output, atomic_write_text

__all__ = ["atomic_output", "atomic_write_text"]
