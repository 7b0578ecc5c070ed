"""What a planar arm is and its joint space: :class:`ArmBase`, the base of
:class:`~planners.arm.PlanarArm`.

It checks and holds the links, joint limits, obstacles and base, and measures in joint
space (wrapping, differences, distances, limits, uniform samples). The kinematics
(:mod:`planners.arm_kinematics`) and the collision checks
(:mod:`planners.arm_collision`) build on it; :class:`~planners.arm.PlanarArm` joins
the two.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from planners.joints import TWO_PI, BoolArray, FloatArray, wrap_angle
from planners.obstacles import MAX_SIZE, Box, Circle, Obstacle, as_point

__all__ = ["MAX_JOINTS", "ArmBase"]

MAX_JOINTS = 7


class ArmBase:
    """The links, joint limits, obstacles and base of an arm, and its joint space.

    Parameters and checks as for :class:`~planners.arm.PlanarArm`, the class to use.
    """

    def __init__(
        self,
        link_lengths: Sequence[float] | ArrayLike,
        joint_limits: Sequence[tuple[float, float] | None] | ArrayLike | None = None,
        obstacles: Iterable[Obstacle] = (),
        base: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        lengths = np.asarray(link_lengths, dtype=np.float64).reshape(-1)
        if not 1 <= lengths.size <= MAX_JOINTS:
            raise ValueError(
                f"link_lengths must hold 1 to {MAX_JOINTS} lengths, got {lengths.size}"
            )
        bad = np.flatnonzero(~(np.isfinite(lengths) & (lengths > 0) & (lengths <= MAX_SIZE)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"link_lengths[{i}] = {lengths[i]} is invalid: lengths must be finite, > 0 "
                f"and <= {MAX_SIZE:g}"
            )
        n = lengths.size
        lower, upper = np.full(n, -math.pi), np.full(n, math.pi)
        continuous = np.ones(n, dtype=bool)
        if joint_limits is not None:
            limits = list(joint_limits)  # type: ignore[arg-type]
            if len(limits) != n:
                raise ValueError(f"joint_limits needs {n} entries (one per joint), got {limits}")
            for i, lim in enumerate(limits):
                if lim is None:
                    continue
                lo, hi = as_point(lim, f"joint_limits[{i}]")
                if not lo < hi:
                    raise ValueError(f"joint_limits[{i}] must have lo < hi, got {(lo, hi)}")
                lower[i], upper[i], continuous[i] = lo, hi, False
        self.obstacles: tuple[Obstacle, ...] = tuple(obstacles)
        for i, obs in enumerate(self.obstacles):
            if not isinstance(obs, Circle | Box):
                raise TypeError(f"obstacles[{i}] is {obs!r}; expected a Circle or a Box")
        self.base = as_point(base, "base")
        for arr in (lengths, lower, upper, continuous):
            arr.flags.writeable = False
        self.link_lengths: FloatArray = lengths
        #: True for each joint without limits (it wraps around).
        self.continuous: BoolArray = continuous
        #: Lower and upper joint bounds; ``-pi`` and ``pi`` for continuous joints.
        self.lower: FloatArray = lower
        self.upper: FloatArray = upper
        self._circles = [o for o in self.obstacles if isinstance(o, Circle)]
        self._boxes = [o for o in self.obstacles if isinstance(o, Box)]
        # for the methods on Python floats
        self._lengths_floats: list[float] = lengths.tolist()
        self._wraps: list[bool] = continuous.tolist()
        self._all_continuous = all(self._wraps)

    # ------------------------------------------------------------------ properties
    @property
    def n_joints(self) -> int:
        """Number of joints (and links)."""
        return int(self.link_lengths.size)

    @property
    def max_reach(self) -> float:
        """Largest distance from the base the end effector reaches (arm stretched)."""
        return float(self.link_lengths.sum())

    @property
    def min_reach(self) -> float:
        """Smallest distance from the base the end effector reaches, ignoring limits."""
        return max(0.0, float(2 * self.link_lengths.max() - self.link_lengths.sum()))

    @property
    def joint_limits(self) -> tuple[tuple[float, float] | None, ...]:
        """Per joint ``(lo, hi)``, or ``None`` for a continuous joint."""
        return tuple(
            None if c else (float(lo), float(hi))
            for c, lo, hi in zip(self.continuous, self.lower, self.upper, strict=True)
        )

    def __repr__(self) -> str:
        limits = None if self.continuous.all() else list(self.joint_limits)
        return (
            f"PlanarArm(link_lengths={self.link_lengths.tolist()}, joint_limits={limits}, "
            f"obstacles={list(self.obstacles)}, base={self.base})"
        )

    # ------------------------------------------------------------------ joint space
    def _config(self, q: ArrayLike, name: str = "q") -> FloatArray:
        arr = np.asarray(q, dtype=np.float64)
        if arr.ndim == 0 or arr.shape[-1] != self.n_joints:
            raise ValueError(
                f"{name} must have shape (..., {self.n_joints}) for this "
                f"{self.n_joints}-joint arm, got shape {arr.shape}"
            )
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite, got {arr}")
        return arr

    def wrap(self, q: ArrayLike) -> FloatArray:
        """Return ``q`` with continuous joints wrapped into ``(-pi, pi]``.

        Examples
        --------
        >>> from planners import PlanarArm
        >>> PlanarArm([1.0, 1.0], joint_limits=[None, (0.0, 4.0)]).wrap([3.5, 3.5])
        array([-2.78318531,  3.5       ])
        """
        q = self._config(q)
        return np.where(self.continuous, wrap_angle(q), q)

    def difference(self, q_from: ArrayLike, q_to: ArrayLike) -> FloatArray:
        """Return ``q_to - q_from``, the short way round for continuous joints.

        Examples
        --------
        >>> from planners import PlanarArm
        >>> PlanarArm([1.0]).difference([3.0], [-3.0])
        array([0.28318531])
        """
        d = self._config(q_to, "q_to") - self._config(q_from, "q_from")
        return np.where(self.continuous, wrap_angle(d), d)

    def distance(self, q_a: ArrayLike, q_b: ArrayLike) -> FloatArray:
        """Return the joint-space (Euclidean) length of the motion from ``q_a`` to ``q_b``.

        Examples
        --------
        >>> from planners import PlanarArm
        >>> float(PlanarArm([1.0, 1.0]).distance([0.0, 3.0], [0.0, -3.0]))
        0.28318530717958623
        """
        return np.asarray(np.linalg.norm(self.difference(q_a, q_b), axis=-1))

    def within_limits(self, q: ArrayLike) -> BoolArray:
        """Return, per configuration, whether every limited joint is within its limits.

        Examples
        --------
        >>> from planners import PlanarArm
        >>> arm = PlanarArm([1.0, 1.0], joint_limits=[None, (-1.0, 1.0)])
        >>> arm.within_limits([[5.0, 0.5], [0.0, 2.0]])
        array([ True, False])
        """
        q = self._config(q)
        if self._all_continuous:
            return np.ones(q.shape[:-1], dtype=bool)
        limited = ~self.continuous
        ok = (q[..., limited] >= self.lower[limited]) & (q[..., limited] <= self.upper[limited])
        return np.asarray(ok.all(axis=-1))

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> FloatArray:
        """Return ``size`` configurations drawn uniformly within the joint limits.

        Examples
        --------
        >>> from planners import PlanarArm
        >>> PlanarArm([1.0, 1.0, 1.0]).sample(4, rng=0).shape
        (4, 3)
        """
        gen = np.random.default_rng(rng)
        return gen.uniform(self.lower, self.upper, size=(size, self.n_joints))

    def _into_limits(self, q: FloatArray) -> tuple[FloatArray, BoolArray]:
        """Shift each angle by whole turns into its limits; also whether that worked."""
        q = self.wrap(q)
        if self._all_continuous:
            return q, np.ones(q.shape[:-1], dtype=bool)
        turns = np.ceil((self.lower - q) / TWO_PI - 1e-12)
        shifted = np.where(self.continuous, q, q + TWO_PI * turns)
        return shifted, self.within_limits(shifted)
