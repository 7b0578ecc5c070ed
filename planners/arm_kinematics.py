"""Kinematics of a planar arm: :class:`ArmKinematics`, a base of
:class:`~planners.arm.PlanarArm`.

Forward kinematics (batched, and on Python floats for stepping one environment) and
inverse kinematics (closed form for one or two links, damped least squares beyond).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from planners.arm_base import ArmBase
from planners.joints import BoolArray, FloatArray, wrap_float
from planners.obstacles import as_point

__all__ = ["ArmKinematics"]


class ArmKinematics(ArmBase):
    """Where the links of an arm are, and which angles put its end effector somewhere."""

    def forward(self, q: ArrayLike) -> FloatArray:
        """Return the positions of the base, every joint and the end effector.

        Parameters
        ----------
        q : array_like, shape (..., n)
            Joint angles.

        Returns
        -------
        ndarray, shape (..., n + 1, 2)
            Point 0 is the base, point ``n`` the end effector.

        Examples
        --------
        >>> from planners import PlanarArm
        >>> PlanarArm([1.0, 0.8]).forward([0.0, np.pi / 2])
        array([[0. , 0. ],
               [1. , 0. ],
               [1. , 0.8]])
        """
        q = self._config(q)
        angles = np.cumsum(q, axis=-1)
        points = np.empty((*q.shape[:-1], self.n_joints + 1, 2))
        points[..., 0, :] = self.base
        np.cumsum(self.link_lengths * np.cos(angles), axis=-1, out=points[..., 1:, 0])
        np.cumsum(self.link_lengths * np.sin(angles), axis=-1, out=points[..., 1:, 1])
        points[..., 1:, :] += self.base
        return points

    def end_effector(self, q: ArrayLike) -> FloatArray:
        """Return the end-effector position, shape ``(..., 2)``.

        Examples
        --------
        >>> from planners import PlanarArm
        >>> PlanarArm([1.0, 1.0], base=(0.5, 0.0)).end_effector([[0.0, 0.0], [0.0, np.pi / 2]])
        array([[2.5, 0. ],
               [1.5, 1. ]])
        """
        return self.forward(q)[..., -1, :]

    # ------------------------------------------------------------------ Python floats
    # One configuration as floats, for stepping one environment: a numpy call costs about
    # a microsecond, these whole methods about that. They do the batched methods'
    # arithmetic in the same order, so the results are equal to the last bit: numpy's
    # float64 cos and sin call the C library as the math module does, and its sums of
    # fewer than 8 terms (at most 7 joints) add in order. Tests check it.
    def move_floats(self, q: Sequence[float], change: Sequence[float]) -> tuple[list[float], float]:
        """Return where a joint change leads and how long that motion is, on floats.

        For one configuration ``q`` and change given as floats: ``wrap(q + change)`` and
        the :meth:`distance` from ``q`` to it, as floats.

        Examples
        --------
        >>> from planners import PlanarArm
        >>> PlanarArm([1.0, 1.0]).move_floats([3.0, 0.0], [0.5, -0.5])
        ([-2.7831853071795862, -0.5], 0.7071067811865476)
        """
        target = []
        total = 0.0
        for a, c, wraps in zip(q, change, self._wraps, strict=True):
            if wraps:
                b = wrap_float(a + c)
                d = wrap_float(b - a)
            else:
                b = a + c
                d = b - a
            target.append(b)
            total += d * d
        return target, math.sqrt(total)

    def forward_floats(self, q: Sequence[float]) -> list[tuple[float, float]]:
        """Return :meth:`forward` of one configuration given as floats: ``n + 1`` points.

        Examples
        --------
        >>> from planners import PlanarArm
        >>> PlanarArm([1.0, 0.8]).forward_floats([0.0, math.pi / 2])
        [(0.0, 0.0), (1.0, 0.0), (1.0, 0.8)]
        """
        bx, by = self.base
        points = [(bx, by)]
        # running sums as cumsum's: from -0.0, since -0.0 + v is v for every v
        angle = x = y = -0.0
        for qj, length in zip(q, self._lengths_floats, strict=True):
            angle += qj
            x += length * math.cos(angle)
            y += length * math.sin(angle)
            points.append((x + bx, y + by))
        return points

    def inverse(
        self,
        xy: ArrayLike,
        *,
        q0: ArrayLike | None = None,
        restarts: int = 8,
        damping: float = 0.05,
        max_iter: int = 200,
        tol: float = 1e-10,
        seed: int = 0,
    ) -> list[FloatArray]:
        """Return joint configurations that put the end effector at ``xy``.

        One- and two-link arms are solved in closed form (two links: both elbow
        solutions, one on the boundary of the reachable annulus). Longer arms use damped
        least squares, ``dq = J^T (J J^T + (damping * max_reach)^2 I)^-1 e``, iterated
        from ``q0`` and from ``restarts`` random seeds (limited joints are clipped to
        their limits after every step); distinct converged solutions are returned.

        Parameters
        ----------
        xy : array_like, shape (2,)
            Target position of the end effector.
        q0 : array_like, shape (n,), optional
            Initial guess; its solution comes first. For two links, solutions are
            ordered by distance to ``q0``.
        restarts : int, default 8
            Random initial guesses (seeded by ``seed``) besides ``q0`` (n >= 3 only).
        damping : float, default 0.05
            Damping as a fraction of the reach; larger is slower but steadier near
            singular (stretched or folded) configurations.
        max_iter : int, default 200
            Iterations per initial guess.
        tol : float, default 1e-10
            Converged when the position error is below ``tol * max_reach``.
        seed : int, default 0
            Seed of the random initial guesses.

        Returns
        -------
        list of ndarray
            Solutions within the joint limits (continuous joints wrapped); empty when the
            limits exclude every solution or the iteration converged from no guess.

        Raises
        ------
        ValueError
            If ``xy`` lies outside the annulus ``min_reach <= |xy - base| <= max_reach``.

        Examples
        --------
        >>> from planners import PlanarArm
        >>> arm = PlanarArm([1.0, 1.0])
        >>> [np.round(q, 4) for q in arm.inverse([1.0, 1.0])]
        [array([0.    , 1.5708]), array([ 1.5708, -1.5708])]
        >>> arm.inverse([3.0, 0.0])
        Traceback (most recent call last):
        ...
        ValueError: xy = (3.0, 0.0) is at distance 3 from the base, outside the reachable annulus [0, 2]
        """  # noqa: E501
        target = np.asarray(as_point(xy, "xy"))
        rel = target - np.asarray(self.base)
        dist = float(np.hypot(*rel))
        if not self._in_annulus(np.asarray(dist)):
            raise ValueError(
                f"xy = {tuple(target.tolist())} is at distance {dist:.6g} from the base, outside "
                f"the reachable annulus [{self.min_reach:.6g}, {self.max_reach:.6g}]"
            )
        guess = None if q0 is None else self._config(q0, "q0").reshape(self.n_joints)
        if self.n_joints <= 2:
            q, valid = self.inverse_many(target[None, :])
            closed_form = list(q[0, valid[0]])
            if guess is not None:
                closed_form.sort(key=lambda s: float(self.distance(guess, s)))
            return closed_form
        seeds = self.sample(restarts, seed)
        if guess is not None:
            seeds = np.vstack([guess, seeds])
        candidates = self._inverse_dls(target, seeds, damping, max_iter, tol)
        fitted, within = self._into_limits(candidates)
        solutions: list[FloatArray] = []
        for q, ok in zip(fitted, within.tolist(), strict=True):
            if ok and all(self.distance(q, s) > 1e-6 for s in solutions):
                solutions.append(q)
        return solutions

    def inverse_many(self, xy: ArrayLike) -> tuple[FloatArray, BoolArray]:
        """Return the closed-form inverse kinematics of many points (one or two links only).

        :meth:`inverse` of every row of ``xy`` at once (it calls this for one point):
        for two links both elbow solutions, elbow angle ``q[1] >= 0`` first.

        Parameters
        ----------
        xy : array_like, shape (m, 2)
            Target positions of the end effector.

        Returns
        -------
        q : ndarray, shape (m, k, n)
            Candidate solutions of each point (``k`` = 2 for two links, 1 for one), shifted
            into the joint limits as :meth:`inverse` returns them.
        valid : ndarray of bool, shape (m, k)
            Which candidates are solutions: the point is in the reachable annulus (up to
            the rounding :meth:`inverse` allows), the candidate is within the limits and
            it is not the same (within 1e-6) as a valid one before it (the two elbows
            coincide on the boundary of the annulus).

        Raises
        ------
        ValueError
            For an arm of more than two links, or ``xy`` not of shape ``(m, 2)``.

        Examples
        --------
        >>> from planners import PlanarArm
        >>> arm = PlanarArm([1.0, 1.0], joint_limits=[None, (0.0, 3.0)])
        >>> q, valid = arm.inverse_many([[1.0, 1.0], [2.0, 0.0], [3.0, 0.0]])
        >>> valid
        array([[ True, False],
               [ True, False],
               [False, False]])
        >>> q[0, 0].round(4)
        array([0.    , 1.5708])
        """
        if self.n_joints > 2:
            raise ValueError(
                f"inverse_many is closed-form, for one or two links; this arm has "
                f"{self.n_joints}: use inverse"
            )
        target = np.asarray(xy, dtype=np.float64)
        if target.ndim != 2 or target.shape[1] != 2:
            raise ValueError(f"xy must have shape (m, 2), got {target.shape}")
        rel = target - np.asarray(self.base)
        dist = np.hypot(rel[:, 0], rel[:, 1])
        reachable = self._in_annulus(dist)
        heading = np.arctan2(rel[:, 1], rel[:, 0])
        if self.n_joints == 1:
            q, distinct = heading[:, None, None], np.ones((len(rel), 1), dtype=bool)
        else:
            l1, l2 = self.link_lengths.tolist()
            c2 = np.clip((dist**2 - l1**2 - l2**2) / (2 * l1 * l2), -1.0, 1.0)
            # on the boundary of the annulus (up to rounding) the two elbows coincide
            c2 = np.where(np.abs(c2) > 1.0 - 1e-12, np.copysign(1.0, c2), c2)
            s2 = np.sqrt(1.0 - c2 * c2)
            q2 = np.arctan2(np.stack([s2, -s2], axis=1), c2[:, None])
            q1 = heading[:, None] - np.arctan2(l2 * np.sin(q2), l1 + l2 * np.cos(q2))
            q = np.stack([q1, q2], axis=-1)
            distinct = np.stack([np.ones(len(rel), dtype=bool), s2 > 0], axis=1)
        q, within = self._into_limits(q)
        valid = within & distinct & reachable[:, None]
        if self.n_joints == 2:
            valid[:, 1] &= ~valid[:, 0] | (self.distance(q[:, 0], q[:, 1]) > 1e-6)
        return q, valid

    def _inverse_dls(
        self, target: FloatArray, seeds: FloatArray, damping: float, max_iter: int, tol: float
    ) -> FloatArray:
        """Return the configurations, shape (c, n), that converged from the seeds."""
        q = seeds.copy()
        lam2 = (damping * self.max_reach) ** 2
        limited = ~self.continuous
        for _ in range(max_iter):
            points = self.forward(q)
            err = target - points[:, -1]
            active = np.linalg.norm(err, axis=1) >= tol * self.max_reach
            if not active.any():
                break
            # column i of the Jacobian is the lever from joint i to the tip, turned 90 degrees
            lever = points[:, -1:, :] - points[:, :-1, :]
            jac = np.stack([-lever[..., 1], lever[..., 0]], axis=1)  # (S, 2, n)
            jjt = jac @ jac.transpose(0, 2, 1) + lam2 * np.eye(2)
            step = np.einsum("sij,si->sj", jac, np.linalg.solve(jjt, err[..., None])[..., 0])
            q[active] += step[active]
            q[:, limited] = np.clip(q[:, limited], self.lower[limited], self.upper[limited])
        err = np.linalg.norm(target - self.end_effector(q), axis=1)
        return q[err < tol * self.max_reach]

    def _in_annulus(self, dist: FloatArray) -> BoolArray:
        """Whether distances from the base are reachable, with a rounding slack."""
        slack = 1e-9 * self.max_reach
        return np.asarray((self.min_reach - slack <= dist) & (dist <= self.max_reach + slack))
