"""A planar N-link revolute arm: kinematics, inverse kinematics and collision geometry.

Angles are in radians and relative: joint ``i`` turns link ``i`` against link ``i - 1``
(joint 0 against the x axis). A joint without limits is *continuous*: it wraps around,
:meth:`PlanarArm.wrap` maps its angles into ``(-pi, pi]`` and motions take the short
way round; a limited joint never wraps. All
configuration arguments accept a single configuration of shape ``(n,)`` or any batch of
shape ``(..., n)``; the work is vectorised over the batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from planners.cspace import ArmPlan

__all__ = ["Box", "Circle", "Obstacle", "PlanarArm"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

MAX_JOINTS = 7
#: Default largest joint step between the configurations a motion check samples.
MOTION_RESOLUTION = math.radians(0.5)
# Configurations per vectorised collision batch: small enough that the temporaries stay
# in cache (measured fastest), large enough to amortise numpy's per-call overhead.
_CHUNK = 1 << 13
_TWO_PI = 2.0 * math.pi


def _point(value: Any, name: str) -> tuple[float, float]:
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
        object.__setattr__(self, "center", _point(self.center, "center"))
        radius = float(self.radius)
        if not (math.isfinite(radius) and radius > 0):
            raise ValueError(f"radius must be a finite number > 0, got {self.radius!r}")
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
        lo, hi = _point(self.lo, "lo"), _point(self.hi, "hi")
        if not (lo[0] < hi[0] and lo[1] < hi[1]):
            raise ValueError(f"lo must be < hi in both coordinates, got lo={lo}, hi={hi}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)


Obstacle = Circle | Box


def _wrap_angle(x: FloatArray) -> FloatArray:
    # x + pi is exact near x = -pi, so angles a rounding error above -pi stay negative
    wrapped = np.remainder(x + math.pi, _TWO_PI) - math.pi
    return np.where(wrapped == -math.pi, math.pi, wrapped)


def _wrap_float(x: float) -> float:
    """:func:`_wrap_angle` of one float: Python's ``%`` is ``np.remainder`` (floored)."""
    wrapped = (x + math.pi) % _TWO_PI - math.pi
    return math.pi if wrapped == -math.pi else wrapped


def interpolation_steps(max_step: FloatArray | float, resolution: float) -> NDArray[np.int64]:
    """Return how many equal pieces a motion of largest joint change ``max_step`` needs.

    Shared by :meth:`PlanarArm.motion_collides` and the planners so that both sample the
    same configurations; the slack absorbs rounding in steps that are whole multiples.
    """
    return np.maximum(1, np.ceil(np.asarray(max_step) / resolution - 1e-9)).astype(np.int64)


class PlanarArm:
    """A planar arm of 1 to 7 revolute joints with links as line segments.

    Parameters
    ----------
    link_lengths : sequence of float
        Length of each link, all finite and > 0; the number of links is the number of
        joints.
    joint_limits : sequence, optional
        ``None`` (the default) makes every joint continuous. Otherwise one entry per
        joint: ``(lo, hi)`` with ``lo < hi`` in radians, or ``None`` for a continuous
        joint.
    obstacles : iterable of Circle or Box, optional
        Obstacles in the plane.
    base : (float, float), default (0.0, 0.0)
        Position of joint 0.

    Raises
    ------
    ValueError
        If an argument is malformed; the message names it.

    Notes
    -----
    Collisions are between links and obstacles only: links may cross each other (no
    self-collision) and are segments without thickness.

    Examples
    --------
    >>> arm = PlanarArm([1.0, 0.8], obstacles=[Circle((1.2, 0.9), 0.3)])
    >>> arm
    PlanarArm(link_lengths=[1.0, 0.8], joint_limits=None, obstacles=[Circle(center=(1.2, 0.9), radius=0.3)], base=(0.0, 0.0))
    >>> arm.n_joints, arm.min_reach, arm.max_reach
    (2, 0.2, 1.8)
    """  # noqa: E501

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
        bad = np.flatnonzero(~(np.isfinite(lengths) & (lengths > 0)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"link_lengths[{i}] = {lengths[i]} is invalid: lengths must be finite and > 0"
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
                lo, hi = _point(lim, f"joint_limits[{i}]")
                if not lo < hi:
                    raise ValueError(f"joint_limits[{i}] must have lo < hi, got {(lo, hi)}")
                lower[i], upper[i], continuous[i] = lo, hi, False
        self.obstacles: tuple[Obstacle, ...] = tuple(obstacles)
        for i, obs in enumerate(self.obstacles):
            if not isinstance(obs, Circle | Box):
                raise TypeError(f"obstacles[{i}] is {obs!r}; expected a Circle or a Box")
        self.base = _point(base, "base")
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
        >>> PlanarArm([1.0, 1.0], joint_limits=[None, (0.0, 4.0)]).wrap([3.5, 3.5])
        array([-2.78318531,  3.5       ])
        """
        q = self._config(q)
        return np.where(self.continuous, _wrap_angle(q), q)

    def difference(self, q_from: ArrayLike, q_to: ArrayLike) -> FloatArray:
        """Return ``q_to - q_from``, the short way round for continuous joints.

        Examples
        --------
        >>> PlanarArm([1.0]).difference([3.0], [-3.0])
        array([0.28318531])
        """
        d = self._config(q_to, "q_to") - self._config(q_from, "q_from")
        return np.where(self.continuous, _wrap_angle(d), d)

    def distance(self, q_a: ArrayLike, q_b: ArrayLike) -> FloatArray:
        """Return the joint-space (Euclidean) length of the motion from ``q_a`` to ``q_b``.

        Examples
        --------
        >>> float(PlanarArm([1.0, 1.0]).distance([0.0, 3.0], [0.0, -3.0]))
        0.28318530717958623
        """
        return np.asarray(np.linalg.norm(self.difference(q_a, q_b), axis=-1))

    def within_limits(self, q: ArrayLike) -> BoolArray:
        """Return, per configuration, whether every limited joint is within its limits.

        Examples
        --------
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
        >>> PlanarArm([1.0, 1.0, 1.0]).sample(4, rng=0).shape
        (4, 3)
        """
        gen = np.random.default_rng(rng)
        return gen.uniform(self.lower, self.upper, size=(size, self.n_joints))

    # ------------------------------------------------------------------ kinematics
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
        >>> PlanarArm([1.0, 1.0]).move_floats([3.0, 0.0], [0.5, -0.5])
        ([-2.7831853071795862, -0.5], 0.7071067811865476)
        """
        target = []
        total = 0.0
        for a, c, wraps in zip(q, change, self._wraps, strict=True):
            if wraps:
                b = _wrap_float(a + c)
                d = _wrap_float(b - a)
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
        >>> arm = PlanarArm([1.0, 1.0])
        >>> [np.round(q, 4) for q in arm.inverse([1.0, 1.0])]
        [array([0.    , 1.5708]), array([ 1.5708, -1.5708])]
        >>> arm.inverse([3.0, 0.0])
        Traceback (most recent call last):
        ...
        ValueError: xy = (3.0, 0.0) is at distance 3 from the base, outside the reachable annulus [0, 2]
        """  # noqa: E501
        target = np.asarray(_point(xy, "xy"))
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

    def _into_limits(self, q: FloatArray) -> tuple[FloatArray, BoolArray]:
        """Shift each angle by whole turns into its limits; also whether that worked."""
        q = self.wrap(q)
        if self._all_continuous:
            return q, np.ones(q.shape[:-1], dtype=bool)
        turns = np.ceil((self.lower - q) / _TWO_PI - 1e-12)
        shifted = np.where(self.continuous, q, q + _TWO_PI * turns)
        return shifted, self.within_limits(shifted)

    # ------------------------------------------------------------------ collisions
    def in_collision(self, q: ArrayLike) -> BoolArray:
        """Return, per configuration, whether it is invalid.

        A configuration is invalid if a limited joint is outside its limits or a link
        (a segment) touches an obstacle. Links crossing each other are *not* checked.

        Parameters
        ----------
        q : array_like, shape (..., n)
            Joint angles.

        Returns
        -------
        ndarray of bool, shape (...)

        Examples
        --------
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
                link_hit = self._segments_hit(ax, ay, dx, dy, length**2)
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
        return np.asarray(self._segments_hit(ax, ay, dx, dy, lengths**2).any(axis=0))

    def _segments_hit(
        self, ax: FloatArray, ay: FloatArray, dx: FloatArray, dy: FloatArray, length2: Any
    ) -> BoolArray:
        """Return whether each segment ``a + t d``, ``t`` in [0, 1], touches an obstacle."""
        # In-place arithmetic: this runs over every cell of a planning grid.
        hit = np.zeros(dx.shape, dtype=bool)
        px, py, t, tmp = (np.empty(dx.shape) for _ in range(4))
        for c in self._circles:
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
        for b in self._boxes:
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

    def plan(self, q_start: ArrayLike, goal: ArrayLike, **kwargs: Any) -> ArmPlan:
        """Plan a collision-free motion; see :func:`planners.cspace.plan` for the options.

        Examples
        --------
        >>> arm = PlanarArm([1.0, 1.0], obstacles=[Circle((0.0, 1.5), 0.3)])
        >>> result = arm.plan([0.0, 0.0], [np.pi, 0.0], goal_kind="q")
        >>> bool((arm.end_effector(result.path)[:, 1] < 1e-9).all())  # round the bottom
        True
        """
        from planners.cspace import plan  # cspace imports this module

        return plan(self, q_start, goal, **kwargs)
