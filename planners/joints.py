"""Joint-angle arithmetic shared by the arm and its planners; nothing here knows an arm.

The array types, wrapping angles into ``(-pi, pi]`` (vectorised and on one float, equal
to the last bit), and how many samples a check of a straight joint-space motion takes.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MOTION_RESOLUTION",
    "TWO_PI",
    "BoolArray",
    "FloatArray",
    "IntArray",
    "interpolation_steps",
    "wrap_angle",
    "wrap_float",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: Default largest joint step between the configurations a motion check samples.
MOTION_RESOLUTION = math.radians(0.5)
TWO_PI = 2.0 * math.pi


def wrap_angle(x: FloatArray) -> FloatArray:
    """Return the angles ``x`` wrapped into ``(-pi, pi]``."""
    # x + pi is exact near x = -pi, so angles a rounding error above -pi stay negative
    wrapped = np.remainder(x + math.pi, TWO_PI) - math.pi
    return np.where(wrapped == -math.pi, math.pi, wrapped)


def wrap_float(x: float) -> float:
    """:func:`wrap_angle` of one float: Python's ``%`` is ``np.remainder`` (floored)."""
    wrapped = (x + math.pi) % TWO_PI - math.pi
    return math.pi if wrapped == -math.pi else wrapped


def interpolation_steps(max_step: FloatArray | float, resolution: float) -> NDArray[np.int64]:
    """Return how many equal pieces a motion of largest joint change ``max_step`` needs.

    Shared by :meth:`PlanarArm.motion_collides` and the planners so that both sample the
    same configurations; the slack absorbs rounding in steps that are whole multiples.
    """
    return np.maximum(1, np.ceil(np.asarray(max_step) / resolution - 1e-9)).astype(np.int64)
