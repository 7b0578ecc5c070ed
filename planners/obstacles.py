"""The plane an arm moves in: points, the obstacles :class:`Circle` and :class:`Box`, and
the test of line segments (the arm's links) against them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from planners.joints import BoolArray, FloatArray

#: Largest link length or obstacle radius: collision checks square them, and a square
#: must stay a finite float (a radius of 1e200 raised OverflowError; found by the slow
#: fuzz campaign, tests/fuzz).
MAX_SIZE = 1e150

__all__ = ["Box", "Circle", "Obstacle", "as_point", "segments_hit"]


def as_point(value: Any, name: str) -> tuple[float, float]:
    """Return ``value`` as a pair of finite floats, or raise ValueError naming ``name``."""
    try:
        x, y = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair of numbers (x, y), got {value!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"{name} must be finite, got {(x, y)}")
    return x, y


@dataclass(frozen=True)
class Circle:
    """A disc obstacle; touching its boundary counts as a collision.

    Examples
    --------
    >>> Circle((1.0, 0.5), 0.25)
    Circle(center=(1.0, 0.5), radius=0.25)
    """

    center: tuple[float, float]
    radius: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", as_point(self.center, "center"))
        radius = float(self.radius)
        if not (math.isfinite(radius) and 0 < radius <= MAX_SIZE):
            raise ValueError(
                f"radius must be a finite number > 0 and <= {MAX_SIZE:g}, got {self.radius!r}"
            )
        object.__setattr__(self, "radius", radius)


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle ``lo <= (x, y) <= hi``; its boundary counts as a collision.

    Examples
    --------
    >>> Box((0.5, -0.2), (0.9, 0.2))
    Box(lo=(0.5, -0.2), hi=(0.9, 0.2))
    """

    lo: tuple[float, float]
    hi: tuple[float, float]

    def __post_init__(self) -> None:
        lo, hi = as_point(self.lo, "lo"), as_point(self.hi, "hi")
        if not (lo[0] < hi[0] and lo[1] < hi[1]):
            raise ValueError(f"lo must be < hi in both coordinates, got lo={lo}, hi={hi}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)


Obstacle = Circle | Box


def segments_hit(
    circles: Sequence[Circle],
    boxes: Sequence[Box],
    ax: FloatArray,
    ay: FloatArray,
    dx: FloatArray,
    dy: FloatArray,
    length2: Any,
) -> BoolArray:
    """Return whether each segment ``a + t d``, ``t`` in [0, 1], touches an obstacle.

    ``length2`` is the squared length of the segments (broadcast against ``dx``).

    Examples
    --------
    >>> one = lambda v: np.array([v])
    >>> segments_hit([Circle((1.0, 0.5), 0.4)], [], one(0.0), one(0.0), one(2.0), one(0.0), 4.0)
    array([False])
    """
    # In-place arithmetic: this runs over every cell of a planning grid.
    hit = np.zeros(dx.shape, dtype=bool)
    px, py, t, tmp = (np.empty(dx.shape) for _ in range(4))
    for c in circles:
        # squared distance from the centre to the closest point of each segment
        np.subtract(c.center[0], ax, out=px)
        np.subtract(c.center[1], ay, out=py)
        np.multiply(px, dx, out=t)
        t += np.multiply(py, dy, out=tmp)
        t /= length2
        np.clip(t, 0.0, 1.0, out=t)
        px -= np.multiply(t, dx, out=tmp)
        py -= np.multiply(t, dy, out=tmp)
        hit |= px * px + py * py <= c.radius**2
    for b in boxes:
        # Liang-Barsky: clip a + t d, t in [0, 1], to both slabs; a hit leaves t to spare
        enter, leave = np.zeros(dx.shape), np.ones(dx.shape)
        for a, d, lo, hi in ((ax, dx, b.lo[0], b.hi[0]), (ay, dy, b.lo[1], b.hi[1])):
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                t1, t2 = (lo - a) / d, (hi - a) / d
            near, far = np.minimum(t1, t2), np.maximum(t1, t2)
            parallel = d == 0
            if parallel.any():  # a link along an axis: inside the slab or never
                inside = (a >= lo) & (a <= hi)
                near[parallel] = np.where(inside, -np.inf, np.inf)[parallel]
                far[parallel] = np.where(inside, np.inf, -np.inf)[parallel]
            np.maximum(enter, near, out=enter)
            np.minimum(leave, far, out=leave)
        hit |= enter <= leave
    return hit
