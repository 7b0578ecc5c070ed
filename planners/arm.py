"""A planar N-link revolute arm: :class:`PlanarArm`, its obstacles and its planning.

Angles are in radians and relative: joint ``i`` turns link ``i`` against link ``i - 1``
(joint 0 against the x axis). A joint without limits is *continuous*: it wraps around,
:meth:`PlanarArm.wrap` maps its angles into ``(-pi, pi]`` and motions take the short
way round; a limited joint never wraps. All
configuration arguments accept a single configuration of shape ``(n,)`` or any batch of
shape ``(..., n)``; the work is vectorised over the batch.

The class is assembled from one base per idea: :class:`~planners.arm_base.ArmBase`
(description and joint space), :class:`~planners.arm_kinematics.ArmKinematics` (forward and
inverse kinematics) and :class:`~planners.arm_collision.ArmCollisions` (collision checks);
:meth:`PlanarArm.plan` hands over to :func:`planners.cspace.plan`. The obstacles live
in :mod:`planners.obstacles`, the angle arithmetic in :mod:`planners.joints`; both are
re-exported here.
"""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from planners.arm_base import MAX_JOINTS as MAX_JOINTS
from planners.arm_collision import ArmCollisions
from planners.arm_kinematics import ArmKinematics
from planners.arm_plan import ArmPlan
from planners.cspace import plan
from planners.joints import MOTION_RESOLUTION as MOTION_RESOLUTION
from planners.joints import BoolArray as BoolArray
from planners.joints import FloatArray as FloatArray
from planners.joints import interpolation_steps as interpolation_steps
from planners.obstacles import Box, Circle, Obstacle

__all__ = ["Box", "Circle", "Obstacle", "PlanarArm"]


class PlanarArm(ArmKinematics, ArmCollisions):
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

    def plan(self, q_start: ArrayLike, goal: ArrayLike, **kwargs: Any) -> ArmPlan:
        """Plan a collision-free motion; see :func:`planners.cspace.plan` for the options.

        Examples
        --------
        >>> import math
        >>> arm = PlanarArm([1.0, 1.0], obstacles=[Circle((0.0, 1.5), 0.3)])
        >>> result = arm.plan([0.0, 0.0], [math.pi, 0.0], goal_kind="q")
        >>> bool((arm.end_effector(result.path)[:, 1] < 1e-9).all())  # round the bottom
        True
        """
        return plan(self, q_start, goal, **kwargs)
