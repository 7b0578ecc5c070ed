"""Collision checks of a planar arm: :class:`ArmCollisions`, a base of
:class:`~planners.arm.PlanarArm`.

Configurations (batched, or every one of a product grid at once) and straight
joint-space motions against the joint limits and the obstacles; the segment tests
themselves are :func:`planners.obstacles.segments_hit`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from planners.arm_base import ArmBase
from planners.joints import MOTION_RESOLUTION, BoolArray, FloatArray, interpolation_steps
from planners.obstacles import segments_hit

__all__ = ["ArmCollisions"]

# Configurations per vectorised collision batch: small enough that the temporaries stay
# in cache (measured fastest), large enough to amortise numpy's per-call overhead.
_CHUNK = 1 << 13


class ArmCollisions(ArmBase):
    """Whether configurations and motions of an arm hit its obstacles or its limits."""

    def in_collision(self, q: ArrayLike) -> BoolArray:
        """Return, per configuration of ``q`` (shape ``(..., n)``), whether it is invalid.

        A configuration is invalid if a limited joint is outside its limits or a link
        (a segment) touches an obstacle. Links crossing each other are *not* checked.
        The result has shape ``(...)``.

        Examples
        --------
        >>> from planners import Box, PlanarArm
        >>> arm = PlanarArm([1.0, 1.0], obstacles=[Box((1.5, -0.1), (1.7, 0.1))])
        >>> arm.in_collision([[0.0, 0.0], [0.0, np.pi / 2]])
        array([ True, False])
        """
        q = self._config(q)
        flat = q.reshape(-1, self.n_joints)
        hit = ~self.within_limits(flat)
        for lo in range(0, len(flat) if self.obstacles else 0, _CHUNK):
            chunk = slice(lo, lo + _CHUNK)
            hit[chunk] |= self._links_hit(flat[chunk])
        return hit.reshape(q.shape[:-1])

    def in_collision_grid(self, axes: Sequence[ArrayLike]) -> BoolArray:
        """Return :meth:`in_collision` of every configuration of a product grid.

        Equal to ``in_collision(np.stack(np.meshgrid(*axes, indexing="ij"), -1))`` but
        faster: link ``j`` depends on the first ``j + 1`` angles only, so it is placed
        and tested once per combination of those.

        Parameters
        ----------
        axes : sequence of n array_like
            The values of each joint.

        Returns
        -------
        ndarray of bool, shape (len(axes[0]), ..., len(axes[n - 1]))

        Examples
        --------
        >>> from planners import Circle, PlanarArm
        >>> arm = PlanarArm([1.0, 1.0], obstacles=[Circle((0.0, 1.5), 0.3)])
        >>> arm.in_collision_grid([[0.0, np.pi / 2], [0.0, -1.0]])
        array([[False, False],
               [ True, False]])
        """
        if len(axes) != self.n_joints:
            raise ValueError(f"axes must hold {self.n_joints} arrays, got {len(axes)}")
        values = [np.asarray(a, dtype=np.float64).reshape(-1) for a in axes]
        for j, v in enumerate(values):
            if not np.isfinite(v).all():
                raise ValueError(f"axes[{j}] must be finite")
        shape = tuple(v.size for v in values)
        hit = np.zeros(shape, dtype=bool)
        for j, v in enumerate(values):
            if not self.continuous[j]:
                outside = (v < self.lower[j]) | (v > self.upper[j])
                hit |= outside.reshape((-1,) + (1,) * (len(shape) - j - 1))
        # blocks of the first joint keep the last link's arrays near _CHUNK elements
        block = max(1, _CHUNK // max(1, math.prod(shape[1:])))
        for lo in range(0, shape[0], block):
            heading = values[0][lo : lo + block]
            x = np.full(heading.shape, self.base[0])
            y = np.full(heading.shape, self.base[1])
            part = hit[lo : lo + block]
            for j, length in enumerate(self.link_lengths.tolist()):
                if j:
                    heading = heading[..., None] + values[j]
                    x, y = x[..., None], y[..., None]
                dx, dy = length * np.cos(heading), length * np.sin(heading)
                ax, ay = np.broadcast_to(x, dx.shape), np.broadcast_to(y, dy.shape)
                link_hit = segments_hit(self._circles, self._boxes, ax, ay, dx, dy, length**2)
                part |= link_hit.reshape(link_hit.shape + (1,) * (len(shape) - j - 1))
                x, y = ax + dx, ay + dy
        return hit

    def _links_hit(self, q: FloatArray) -> BoolArray:
        # Joint-major (n, B) arrays keep a chunk in cache (measured: twice as fast).
        lengths = self.link_lengths[:, None]
        angles = np.cumsum(np.ascontiguousarray(q.T), axis=0)
        dx, dy = np.cos(angles) * lengths, np.sin(angles) * lengths
        ax, ay = np.empty_like(dx), np.empty_like(dy)
        ax[0], ay[0] = self.base
        np.cumsum(dx[:-1], axis=0, out=ax[1:])
        np.cumsum(dy[:-1], axis=0, out=ay[1:])
        ax[1:] += self.base[0]
        ay[1:] += self.base[1]
        return np.asarray(
            segments_hit(self._circles, self._boxes, ax, ay, dx, dy, lengths**2).any(axis=0)
        )

    def motion_collides(
        self, q_a: ArrayLike, q_b: ArrayLike, *, resolution: float = MOTION_RESOLUTION
    ) -> BoolArray:
        """Return whether the straight joint-space motion from ``q_a`` to ``q_b`` is invalid.

        Continuous joints take the short way round. The motion is cut into equal steps
        in which no joint moves more than ``resolution`` radians, and every configuration
        at a step boundary (both ends included) is checked with :meth:`in_collision`, all
        in one batch. Like any sampled check it can miss an obstacle grazed between two
        samples: no point of the arm moves more than ``resolution * sum(distance from each
        joint to the tip)`` between samples, so the graze is at most half of that deep.

        Parameters
        ----------
        q_a, q_b : array_like, shape (..., n)
            Start and end configurations (broadcast against each other).
        resolution : float, default ``radians(0.5)``
            Largest joint step between samples, in radians.

        Returns
        -------
        ndarray of bool, shape (...)
            A 0-d array for single configurations (usable as a bool).

        Examples
        --------
        >>> from planners import Circle, PlanarArm
        >>> arm = PlanarArm([1.0, 1.0], obstacles=[Circle((0.0, 1.5), 0.2)])
        >>> bool(arm.motion_collides([0.0, 0.0], [np.pi, 0.0]))
        True
        >>> bool(arm.motion_collides([0.0, 0.0], [-np.pi / 2, 0.0]))
        False
        """
        if not resolution > 0:
            raise ValueError(f"resolution must be > 0 radians, got {resolution}")
        qa, qb = np.broadcast_arrays(self._config(q_a, "q_a"), self._config(q_b, "q_b"))
        shape = qa.shape[:-1]
        qa = qa.reshape(-1, self.n_joints)
        delta = self.difference(qa, qb.reshape(-1, self.n_joints))
        steps = interpolation_steps(np.abs(delta).max(axis=1), resolution)
        # one row per sample: motion index and fraction t = k / steps of that motion
        motion = np.repeat(np.arange(len(qa)), steps + 1)
        first = np.cumsum(steps + 1) - (steps + 1)
        t = (np.arange(motion.size) - first[motion]) / steps[motion]
        hit = self.in_collision(qa[motion] + t[:, None] * delta[motion])
        return np.asarray(np.bincount(motion, weights=hit, minlength=len(qa)) > 0).reshape(shape)
