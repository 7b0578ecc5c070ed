"""What joint-space planning takes and gives: :class:`ArmLike`, the part of an arm the
planners use (:class:`~planners.arm.PlanarArm` is one), and :class:`ArmPlan`, a result.

The planners (:mod:`planners.cspace` and its grid and roadmap searches) know an arm only
through :class:`ArmLike`, so they sit below :mod:`planners.arm`, whose
:meth:`~planners.arm.PlanarArm.plan` calls them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike

from planners.joints import BoolArray, FloatArray

__all__ = ["ArmLike", "ArmPlan", "path_plan"]


class ArmLike(Protocol):
    """What the joint-space planners use of an arm; see :class:`~planners.arm.PlanarArm`."""

    @property
    def n_joints(self) -> int: ...
    @property
    def obstacles(self) -> Sequence[object]: ...
    @property
    def continuous(self) -> BoolArray: ...
    @property
    def lower(self) -> FloatArray: ...
    @property
    def upper(self) -> FloatArray: ...
    def wrap(self, q: ArrayLike) -> FloatArray: ...
    def distance(self, q_a: ArrayLike, q_b: ArrayLike) -> FloatArray: ...
    def sample(self, size: int, rng: np.random.Generator | int | None = ...) -> FloatArray: ...
    def inverse(
        self, xy: ArrayLike, *, restarts: int = ..., seed: int = ...
    ) -> list[FloatArray]: ...
    def inverse_many(self, xy: ArrayLike) -> tuple[FloatArray, BoolArray]: ...
    def in_collision(self, q: ArrayLike) -> BoolArray: ...
    def in_collision_grid(self, axes: Sequence[ArrayLike]) -> BoolArray: ...
    def motion_collides(self, q_a: ArrayLike, q_b: ArrayLike) -> BoolArray: ...


@dataclass(frozen=True)
class ArmPlan:
    """A collision-free joint-space path.

    Attributes
    ----------
    path : ndarray, shape (k, n)
        Configurations from ``q_start`` (as given) to the goal configuration; in between,
        continuous joints lie in ``[-pi, pi]``. Consecutive configurations are joined by
        straight joint-space motions (the short way round continuous joints).
    cost : float
        Joint-space length of the path: the sum of :meth:`PlanarArm.distance` over its
        segments, in radians.
    method : {"direct", "grid", "prm"}
        What found the path; ``"direct"`` is a single straight motion.
    nodes : int
        Vertices the search reached (grid cells or roadmap nodes); 0 for ``"direct"``.
    """

    path: FloatArray
    cost: float
    method: str
    nodes: int


def path_plan(arm: ArmLike, path: FloatArray, method: str, nodes: int) -> ArmPlan:
    """Return the plan of a searched ``path``, each configuration once, with its cost."""
    # a start or goal exactly on a grid cell would repeat it; compare values, not
    # distances, which underflow to 0 for tiny differences and would drop the exact goal
    moved = np.any(path[1:] != path[:-1], axis=1)
    path = path[np.concatenate([[True], moved])]
    cost = float(arm.distance(path[:-1], path[1:]).sum())
    return ArmPlan(path=path, cost=cost, method=method, nodes=nodes)
