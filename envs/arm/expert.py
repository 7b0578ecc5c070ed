"""The planner as teacher: follow an :class:`~planners.ArmPlan` one bounded joint step at a time.

A :class:`PathFollower` keeps the planned path and the index of the segment the arm
is on. Each call projects the arm's configuration onto the remaining path, walks
along the path to the furthest point within one step (every joint moves at most
``radius``) and returns the displacement to it: a chord of the path, so following
the expert never travels further than the path is long. When the arm has strayed from
the path (a learner acted in between) it asks the planner for a new path from where
the arm is.

Discrete actions put the arm on a lattice ``q_start + k * step``, which cannot always
hug an obstacle the way a shortest path does, nor pass every gap the planner's finer
grid passes. Among obstacles :meth:`PathFollower.lattice_action` therefore searches
the lattice itself (A*), guided by the cost-to-go along the planned path
(distance to the path plus the path left from there).
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from planners import ArmPlan, NoPath, PlanarArm

if TYPE_CHECKING:
    from envs.arm.config import ArmReachConfig
    from envs.arm.episode import Episode

__all__ = ["LATTICE_BUDGET", "Expert", "PathFollower"]

FloatArray = npt.NDArray[np.float64]

#: Moves a lattice route search may evaluate (expanded nodes times moves per node).
LATTICE_BUDGET = 60_000


class PathFollower:
    """Follow a joint-space path with steps of at most ``radius`` per joint.

    Parameters
    ----------
    arm : PlanarArm
        The arm with its obstacles (for re-planning).
    plan : ArmPlan
        The path to follow; it starts at the arm's configuration.
    goal : array_like, shape (2,)
        The end-effector goal (for re-planning).
    radius : float
        Largest joint change of one step, in radians.
    resolution_deg : float, optional
        Grid resolution for re-planning (the planner's default when ``None``).
    success_radius : float, default 0.0
        How close to ``goal`` the end effector must come (for lattice routes).
    check_motion : bool, default True
        Check moves with :meth:`~planners.PlanarArm.motion_collides` (needless in free
        space without joint limits).

    Examples
    --------
    >>> arm = PlanarArm([1.0, 1.0])
    >>> plan = arm.plan([0.0, 0.0], [0.0, 2.0], goal_kind="xy")
    >>> follower = PathFollower(arm, plan, [0.0, 2.0], radius=0.5)
    >>> follower.step([0.0, 0.0]).round(4)  # the first of four steps to (pi/2, 0)
    array([0.5, 0. ])
    """

    def __init__(
        self,
        arm: PlanarArm,
        plan: ArmPlan,
        goal: npt.ArrayLike,
        *,
        radius: float,
        resolution_deg: float | None = None,
        success_radius: float = 0.0,
        check_motion: bool = True,
    ) -> None:
        self.arm = arm
        self.goal = np.asarray(goal, dtype=np.float64)
        self.radius = float(radius)
        self.resolution_deg = resolution_deg
        self.success_radius = float(success_radius)
        self.check_motion = check_motion
        #: Strayed further than this from the path (joint space), the arm gets a new path.
        self.tolerance = 2.0 * self.radius * math.sqrt(arm.n_joints)
        # a lattice detour being followed: (configuration before the action, action)
        self._route: list[tuple[FloatArray, int]] = []
        self._use(plan)

    def _use(self, plan: ArmPlan) -> None:
        self.path: FloatArray = plan.path
        # segment i runs from path[i] to path[i + 1]; the short way round
        self._delta = self.arm.difference(self.path[:-1], self.path[1:])
        self._length2 = (self._delta**2).sum(axis=1)
        self.index = 0
        self._search = True  # a lattice search may run (until one fails on this path)
        # A grid path is long straight runs of short segments. The same polyline by its
        # corners only makes cost_to_go (the lattice search's heuristic) cheap.
        keep = np.ones(len(self.path), dtype=bool)
        if len(self._delta) > 1:
            with np.errstate(invalid="ignore", divide="ignore"):
                unit = self._delta / np.sqrt(self._length2)[:, None]
            keep[1:-1] = ~(np.abs(unit[1:] - unit[:-1]).max(axis=1) <= 1e-9)
        corners = self.path[keep]
        #: Corner segment holding each path segment.
        self._corner_of = np.cumsum(keep)[:-1] - 1
        self._corner_delta = self.arm.difference(corners[:-1], corners[1:])
        self._corner_start = corners[:-1]
        self._corner_length2 = (self._corner_delta**2).sum(axis=1)
        self._corner_length = np.sqrt(self._corner_length2)
        # path length from the end of corner segment k to the end of the path
        after = np.cumsum(self._corner_length[::-1])[::-1]
        self._corner_after = np.concatenate([after[1:], [0.0]])

    def step(self, q: npt.ArrayLike) -> FloatArray:
        """Return the displacement from ``q`` toward the path's end, at most ``radius`` per joint.

        The displacement leads to the furthest point of the remaining path that is
        within ``radius`` of ``q`` in every joint (the path's end once it is that
        close): the last of :meth:`candidates`. Zero when ``q`` is the path's end.
        """
        return self.candidates(q)[-1]

    def candidates(self, q: npt.ArrayLike) -> FloatArray:
        """Return displacements from ``q`` to points of the path within one step, in path order.

        The points are where the path's vertices lie within ``radius`` of ``q`` (every
        joint) and, last, the furthest point of the path that does; the first is the
        nearest path point. A caller that must avoid obstacles takes the last whose
        straight motion is free: the earlier ones cut fewer corners of the path, and
        the motion to the nearest point moves along the planned segment ``q`` is on.
        Re-plans first when ``q`` is more than ``tolerance`` from the path.
        """
        q = np.asarray(q, dtype=np.float64)
        if len(self.path) == 1:
            return np.zeros((1, q.size))
        seg, t, deviation = self._locate(q)
        if deviation > self.tolerance:
            try:
                self._use(
                    self.arm.plan(q, self.goal, goal_kind="xy", resolution_deg=self.resolution_deg)
                )
            except NoPath:
                pass  # keep the old path: head back to it
            else:
                if len(self.path) == 1:
                    return np.zeros((1, q.size))
                seg, t, deviation = self._locate(q)
        self.index = seg
        points = self._lookahead(q, seg, t)
        # drop a first point that is q itself (q on a vertex), unless it is all there is
        if len(points) > 1 and not np.abs(points[0]).max() > 1e-12 * self.radius:
            points = points[1:]
        return np.stack(points)

    def box_action(self, q: npt.ArrayLike, max_step: float) -> npt.NDArray[np.float32]:
        """Return the float32 action in ``[-1, 1]`` (scaling ``max_step``) toward the path's end.

        The action to the furthest :meth:`candidates` point whose straight motion is
        free, as the environment will make it (the float32 action times ``max_step``).
        """
        q = np.asarray(q, dtype=np.float64)
        wanted = self.candidates(q)
        actions = np.clip(wanted / max_step, -1.0, 1.0).astype(np.float32)
        if self.check_motion and len(actions) > 1:
            reach = actions.astype(np.float64) * max_step
            free = np.flatnonzero(~self.arm.motion_collides(q, self.arm.wrap(q + reach)))
            if free.size:
                return np.asarray(actions[free[-1]])
        return np.asarray(actions[-1])

    def lattice_action(self, q: npt.ArrayLike, changes: FloatArray, still: int) -> int:
        """Return the index of the row of ``changes`` (joint changes) to make next.

        In free space, the change nearest the displacement toward the path's end (see
        :meth:`box_action`). With motion checks, the first move of a lattice route to
        the goal: A* over the configurations ``q + sum of changes`` (free
        motions only) with :meth:`cost_to_go` as heuristic, so the route hugs the
        planned path where the lattice can and detours where it cannot; it is followed
        on the next calls while the arm is where the route expects. When no route is
        found within :data:`LATTICE_BUDGET` (then no search runs again before the next
        re-plan), the nearest free change that lowers the cost-to-go, or ``still`` (the
        row of zeros).
        """
        q = np.asarray(q, dtype=np.float64)
        if self._route:
            expected, action = self._route[0]
            if np.array_equal(q, expected):
                self._route.pop(0)
                return action
            self._route.clear()
        wanted = self.candidates(q)
        order = np.argsort(np.linalg.norm(changes - wanted[-1], axis=1), kind="stable")
        if not self.check_motion:
            return int(order[0])
        route = self._lattice_route(q, changes, still) if self._search else []
        if route:
            self._route = route[1:]
            return route[0][1]
        self._search = False  # a failed search is costly: not again before a new path
        targets = self.arm.wrap(q + changes)
        cost = self.cost_to_go(targets)
        ok = (cost < cost[still]) & ~self.arm.motion_collides(q, targets)
        ok_order = order[ok[order]]
        return int(ok_order[0]) if ok_order.size else still

    def _lattice_route(
        self, q: FloatArray, changes: FloatArray, still: int
    ) -> list[tuple[FloatArray, int]]:
        """A* from ``q`` to the success region; the route as (configuration, action)."""
        moves = np.array([a for a in range(len(changes)) if a != still])
        lengths = np.linalg.norm(changes[moves], axis=1)
        grain = 1e-6 * self.radius

        def key(c: FloatArray) -> tuple[int, ...]:
            return tuple(np.round(c / grain).astype(np.int64).tolist())

        configs = [q]
        parent: list[tuple[int, int]] = [(-1, still)]
        cost_so_far = [0.0]
        best = {key(q): 0.0}
        heap = [(float(self.cost_to_go(q[None])[0]), 0)]
        closed: set[int] = set()
        for _ in range(max(1, LATTICE_BUDGET // len(moves))):
            if not heap:
                break
            _, node = heapq.heappop(heap)
            if node in closed:
                continue
            closed.add(node)
            here = configs[node]
            targets = self.arm.wrap(here + changes[moves])
            free = ~self.arm.motion_collides(here, targets)
            if not free.any():
                continue
            targets, actions = targets[free], moves[free]
            costs = cost_so_far[node] + lengths[free]
            reached = self.arm.end_effector(targets) - self.goal
            done = np.flatnonzero(np.hypot(reached[:, 0], reached[:, 1]) <= self.success_radius)
            if done.size:
                configs.append(targets[done[0]])
                parent.append((node, int(actions[done[0]])))
                return self._unwind(configs, parent)
            estimates = self.cost_to_go(targets)
            for target, action, cost, estimate in zip(
                targets, actions.tolist(), costs.tolist(), estimates.tolist(), strict=True
            ):
                k = key(target)
                if best.get(k, np.inf) <= cost:
                    continue
                best[k] = cost
                configs.append(target)
                parent.append((node, action))
                cost_so_far.append(cost)
                heapq.heappush(heap, (cost + estimate, len(configs) - 1))
        return []

    @staticmethod
    def _unwind(
        configs: list[FloatArray], parent: list[tuple[int, int]]
    ) -> list[tuple[FloatArray, int]]:
        """The route to the last node: (configuration before each action, action)."""
        route = []
        child = len(configs) - 1
        while child:
            up, action = parent[child]
            route.append((configs[up], action))
            child = up
        return route[::-1]

    def cost_to_go(self, qs: npt.ArrayLike) -> FloatArray:
        """Return, per configuration, its distance to the remaining path plus the path's
        length from the nearest point on.

        A measure of progress that ranks moves which cannot follow the path exactly
        (discrete increments next to an obstacle).
        """
        qs = np.asarray(qs, dtype=np.float64)
        if len(self.path) == 1:
            return np.asarray(self.arm.distance(qs, self.path[0]))
        lo = int(self._corner_of[self.index])
        rel = self.arm.difference(self._corner_start[lo:], qs[:, None, :])  # (m, segments, n)
        delta = self._corner_delta[lo:]
        length2 = self._corner_length2[lo:]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(length2 > 0, (rel * delta).sum(axis=2) / length2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        off = np.linalg.norm(rel - t[..., None] * delta, axis=2)
        total = off + (1.0 - t) * self._corner_length[lo:] + self._corner_after[lo:]
        return np.asarray(total.min(axis=1))

    def _locate(self, q: FloatArray) -> tuple[int, float, float]:
        """Nearest point of the path from segment ``index`` on: (segment, fraction, distance)."""
        lo = self.index
        rel = self.arm.difference(self.path[lo:-1], q)  # from each segment's start to q
        delta = self._delta[lo:]
        length2 = self._length2[lo:]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(length2 > 0, (rel * delta).sum(axis=1) / length2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        off = np.linalg.norm(rel - t[:, None] * delta, axis=1)
        k = int(np.argmin(off))
        return lo + k, float(t[k]), float(off[k])

    def _lookahead(self, q: FloatArray, seg: int, t: float) -> list[FloatArray]:
        """Displacements from ``q`` to path points within the step box, in path order."""
        r = self.radius
        # the path relative to q: c + s * d for s in [t, 1] on segment seg, and so on
        c = self.arm.difference(q, self.path[seg])
        d = self._delta[seg]
        start = c + t * d
        if np.abs(start).max() > r:  # off the path by more than a step: head back to it
            return [start * (r / np.abs(start).max())]
        points = [start]
        s0 = t
        for k in range(seg, len(self._delta)):
            if k > seg:
                c = points[-1]  # the previous segment ended at this segment's start
                d = self._delta[k]
                s0 = 0.0
            # largest s with |c_j + s d_j| <= r for every joint j (the box is convex)
            with np.errstate(divide="ignore", invalid="ignore"):
                upper = np.where(d > 0, (r - c) / d, np.where(d < 0, (-r - c) / d, np.inf))
            s_max = float(upper.min())
            if s_max < 1.0:
                points.append(c + max(s_max, s0) * d)
                return points
            points.append(c + d)
        return points


class Expert:
    """The planner's actions in one ArmReach episode (see ``ArmReachEnv.expert_action``).

    Its :class:`PathFollower` is made on the first call, so episodes nobody asks the
    expert about cost nothing.

    Parameters
    ----------
    config : ArmReachConfig
        The environment's arguments (action space, step sizes, motion checks).
    episode : Episode
        The episode, with the plan made at reset.
    """

    def __init__(self, config: ArmReachConfig, episode: Episode) -> None:
        self.config = config
        self.episode = episode
        self._follower: PathFollower | None = None

    def action(self, q: FloatArray, success: bool) -> npt.NDArray[np.float32] | int:
        """The action from configuration ``q``; keeping still once ``success``."""
        cfg = self.config
        if success:
            return cfg.still_action if cfg.discrete else np.zeros(cfg.n_joints, np.float32)
        follower = self._follower
        if follower is None:
            episode = self.episode
            follower = self._follower = PathFollower(
                episode.arm,
                episode.plan,
                episode.goal,
                radius=cfg.step_size,
                resolution_deg=cfg.plan_resolution_deg,
                success_radius=cfg.success_radius,
                check_motion=cfg.checks_motion,
            )
        if cfg.discrete:
            changes = cfg.increments * cfg.discrete_step
            return follower.lattice_action(q, changes, cfg.still_action)
        return follower.box_action(q, cfg.max_step)
