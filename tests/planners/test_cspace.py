"""Tests of planners.cspace: joint-space planning for a PlanarArm.

Every returned path is checked twice: with the arm's own ``motion_collides`` (the
planner's contract) and with an independent geometric test written here, which
interpolates the path at 0.1 degree and samples points along every link.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from planners.arm import Box, Circle, PlanarArm
from planners.cspace import ArmPlan, plan, plan_reach
from planners.graph import NoPath

Shape = tuple[str, tuple[float, ...]]  # ("circle", (cx, cy, r)) or ("box", (x0, y0, x1, y1))


@dataclass(frozen=True)
class Scene:
    """Plain data, so the independent checker never goes through PlanarArm."""

    lengths: tuple[float, ...]
    shapes: tuple[Shape, ...]
    limits: tuple[tuple[float, float] | None, ...] | None = None

    def arm(self) -> PlanarArm:
        obstacles = [
            Circle((s[0], s[1]), s[2]) if kind == "circle" else Box((s[0], s[1]), (s[2], s[3]))
            for kind, s in self.shapes
        ]
        return PlanarArm(self.lengths, joint_limits=self.limits, obstacles=obstacles)


THREE_OBSTACLES = (
    ("circle", (1.0, 0.9, 0.3)),
    ("circle", (-1.0, 0.6, 0.35)),
    ("box", (0.3, -1.3, 0.9, -0.7)),
)
TWO_LINK = Scene((1.0, 0.8), THREE_OBSTACLES)
THREE_LINK = Scene((1.0, 0.6, 0.4), THREE_OBSTACLES)
FIVE_LINK = Scene(
    (0.8, 0.7, 0.6, 0.5, 0.4),
    (
        ("circle", (1.2, 1.0, 0.35)),
        ("circle", (-1.2, 0.8, 0.4)),
        ("box", (0.4, -1.6, 1.0, -0.9)),
        ("circle", (-0.5, -1.5, 0.3)),
    ),
)
# circles beside the base stop link 0 at +-90 degrees: it cannot swing from 0 to pi
FENCED = (("circle", (0.0, 0.5, 0.2)), ("circle", (0.0, -0.5, 0.2)))


def _penetrations(scene: Scene, q: np.ndarray, per_link: int = 200) -> np.ndarray:
    """Return, per configuration, how deep any point of any link is inside an obstacle."""
    t = np.linspace(0.0, 1.0, per_link)[:, None]
    joint = np.zeros((len(q), 2))
    heading = np.zeros(len(q))
    depth = np.zeros(len(q))
    for i, length in enumerate(scene.lengths):
        heading = heading + q[:, i]
        tip = joint + length * np.stack([np.cos(heading), np.sin(heading)], axis=1)
        points = joint[:, None, :] + t * (tip - joint)[:, None, :]  # (k, per_link, 2)
        for kind, s in scene.shapes:
            if kind == "circle":
                inside = s[2] - np.hypot(points[..., 0] - s[0], points[..., 1] - s[1])
            else:
                x, y = points[..., 0], points[..., 1]
                inside = np.minimum.reduce([x - s[0], s[2] - x, y - s[1], s[3] - y])
            depth = np.maximum(depth, inside.max(axis=1))
        joint = tip
    return depth


def _steps(scene: Scene, path: np.ndarray) -> np.ndarray:
    """Return each segment's joint change, the short way round for unlimited joints."""
    n = len(scene.lengths)
    wraps = np.array([True] * n if scene.limits is None else [lim is None for lim in scene.limits])
    d = np.diff(path, axis=0)
    short = (d + math.pi) % (2 * math.pi) - math.pi
    short[short == -math.pi] = math.pi  # half a turn goes forwards, as PlanarArm documents
    return np.where(wraps, short, d)


def _densify(scene: Scene, path: np.ndarray, step_deg: float = 0.1) -> np.ndarray:
    pieces = [path[:1]]
    for a, d in zip(path[:-1], _steps(scene, path), strict=True):
        k = max(1, math.ceil(np.abs(d).max() / math.radians(step_deg)))
        pieces.append(a + np.linspace(0.0, 1.0, k + 1)[:, None] * d)
    return np.vstack(pieces)


def check_plan(scene: Scene, result: ArmPlan, start: object, goal: object | None) -> None:
    """Assert everything a returned plan promises, independently where possible."""
    arm = scene.arm()
    path = result.path
    assert path.ndim == 2 and path.shape[1] == len(scene.lengths)
    np.testing.assert_array_equal(path[0], start)
    if goal is not None:
        np.testing.assert_array_equal(path[-1], goal)
    assert not arm.motion_collides(path[:-1], path[1:]).any()
    # A sampled motion check can graze an obstacle between two samples, by at most
    # (0.5 degree) * (sum over joints of the distance to the tip) / 2.
    lever = np.cumsum(scene.lengths[::-1]).sum()
    allowed = math.radians(0.5) * lever / 2
    assert _penetrations(scene, _densify(scene, path)).max() <= allowed
    if scene.limits is not None:
        for j, lim in enumerate(scene.limits):
            if lim is not None:
                assert (path[:, j] >= lim[0]).all() and (path[:, j] <= lim[1]).all()
    assert result.cost == pytest.approx(np.linalg.norm(_steps(scene, path), axis=1).sum())


# ---------------------------------------------------------------- grid planner
def test_two_link_detour() -> None:
    start, goal = [0.0, 0.0], [2.0, -1.0]
    arm = TWO_LINK.arm()
    assert arm.motion_collides(start, goal)  # so the straight motion is out
    result = plan(arm, start, goal, goal_kind="q")
    assert result.method == "grid" and result.nodes > 1000
    assert result.cost > float(arm.distance(start, goal))
    check_plan(TWO_LINK, result, start, goal)


def test_the_long_way_round() -> None:
    arm = PlanarArm([1.0, 1.0], obstacles=[Box((0.8, -0.3), (1.2, 0.3))])
    result = arm.plan([0.5, 0.0], [-0.5, 0.0], goal_kind="q")
    assert result.cost == pytest.approx(2 * math.pi - 1.0)  # exactly: q2 never moves


@settings(max_examples=8, deadline=None)
@given(q=st.lists(st.floats(-math.pi, math.pi), min_size=4, max_size=4))
@example(q=[2.0, math.pi, 2.0, 0.0])  # half a turn: the documented direction
@example(q=[1.0, 0.0, 1.0, -3.1415926535897927])  # a rounding error short of half a turn
def test_two_link_random_queries(q: list[float]) -> None:
    arm = TWO_LINK.arm()
    start, goal = np.array(q[:2]), np.array(q[2:])
    assume(not arm.in_collision(start) and not arm.in_collision(goal))
    try:
        result = plan(arm, start, goal, goal_kind="q")
    except NoPath:
        # common here: the box and the second circle fence link 0 in near -70 and 150
        # degrees; the tests below check NoPath where it is known to be right
        return
    check_plan(TWO_LINK, result, start, goal)


def test_joint_limits_are_kept() -> None:
    scene = Scene((1.0, 0.8), THREE_OBSTACLES, limits=((-math.pi / 2, math.pi), (-2.5, 2.5)))
    start, goal = [-0.3, 0.5], [2.0, -1.0]
    result = plan(scene.arm(), start, goal, goal_kind="q", resolution_deg=2.0)
    check_plan(scene, result, start, goal)


def test_end_effector_goal() -> None:
    arm = TWO_LINK.arm()
    xy = (0.2, 1.5)
    result = plan(arm, [0.0, 0.0], xy, goal_kind="xy")
    np.testing.assert_allclose(arm.end_effector(result.path[-1]), xy, atol=1e-9)
    check_plan(TWO_LINK, result, [0.0, 0.0], None)


def test_three_link_grid() -> None:
    start, goal = [0.0, 0.0, 0.0], [2.0, -1.0, 0.5]
    result = plan(THREE_LINK.arm(), start, goal, resolution_deg=10.0)
    assert result.method == "grid"
    check_plan(THREE_LINK, result, start, goal)


def test_direct_motion_when_nothing_is_in_the_way() -> None:
    arm = PlanarArm([1.0, 1.0, 1.0])
    result = plan(arm, [0.0, 0.0, 3.0], [0.5, 0.5, -3.0])
    assert result.method == "direct" and result.nodes == 0
    np.testing.assert_allclose(result.path, [[0.0, 0.0, 3.0], [0.5, 0.5, -3.0]])
    assert result.cost == pytest.approx(math.sqrt(0.5 + (2 * math.pi - 6) ** 2))
    same = plan(arm, [0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    assert same.path.shape == (1, 3) and same.cost == 0.0


# ---------------------------------------------------------------- roadmap planner
def test_five_link_roadmap() -> None:
    start, goal = np.zeros(5), [2.2, -0.6, -0.5, -0.4, -0.3]
    arm = FIVE_LINK.arm()
    assert arm.motion_collides(start, goal)
    result = plan(arm, start, goal)
    assert result.method == "prm"
    check_plan(FIVE_LINK, result, start, goal)
    again = plan(arm, start, goal)  # seeded: the same roadmap and path
    np.testing.assert_array_equal(again.path, result.path)


@pytest.mark.parametrize("xy", [(-1.5, -0.6), (0.3, 2.0)])
def test_roadmap_end_effector_goal(xy: tuple[float, float]) -> None:
    arm = FIVE_LINK.arm()
    result = plan(arm, np.zeros(5), xy, samples=800)
    np.testing.assert_allclose(arm.end_effector(result.path[-1]), xy, atol=1e-6)
    check_plan(FIVE_LINK, result, np.zeros(5), None)


def test_roadmap_for_few_joints_too() -> None:
    start, goal = [0.0, 0.0], [2.0, -1.0]
    result = plan(TWO_LINK.arm(), start, goal, goal_kind="q", method="prm", samples=500)
    assert result.method == "prm"
    check_plan(TWO_LINK, result, start, goal)


# ---------------------------------------------------------------- many queries at once
def _plan_or_none(arm: PlanarArm, start: np.ndarray, goal: np.ndarray) -> ArmPlan | None:
    try:
        return plan(arm, start, goal, goal_kind="xy")
    except NoPath:
        return None


@pytest.mark.parametrize(
    ("scene", "m"),
    [
        (Scene((0.5, 0.5), ()), 300),
        (Scene((0.7, 0.4), (), limits=((-1.0, 2.5), None)), 300),
        (Scene((0.6, 0.5), (), limits=((-3.0, 3.0), (-2.0, 2.0))), 300),
        (Scene((1.0,), (), limits=((0.0, 4.0),)), 100),
        (TWO_LINK, 12),
        (Scene((0.5, 0.3, 0.2), ()), 4),
    ],
    ids=["free", "one-limit", "limits", "one-link", "obstacles", "three-links"],
)
def test_plan_reach_equals_plan_pair_by_pair(scene: Scene, m: int) -> None:
    arm = scene.arm()
    rng = np.random.default_rng(m)
    starts = arm.sample(4 * m, rng)
    starts = starts[~arm.in_collision(starts)][:m]
    goals = arm.end_effector(arm.sample(m, rng))
    goals[:3] = rng.uniform(-1.5, 1.5, (3, 2))  # out of reach, or maybe blocked
    goals[3] = arm.end_effector(starts[3])  # reached already: no motion, or a tiny one
    got = plan_reach(arm, starts, goals)
    assert len(got) == m
    for start, goal, result in zip(starts, goals, got, strict=True):
        expected = _plan_or_none(arm, start, goal)
        if expected is None or result is None:
            assert expected is result
            continue
        assert result.cost == expected.cost and result.method == expected.method
        assert result.nodes == expected.nodes
        np.testing.assert_array_equal(result.path, expected.path)
    methods = {r.method for r in got if r is not None}
    assert "direct" in methods and (not arm.obstacles or "grid" in methods)


def test_free_space_optimal_length_is_the_nearest_inverse_kinematics_solution() -> None:
    """Independently of the planner: both elbows by hand, each joint the short way round
    (continuous) or the one way within its limits (limited)."""
    limits = ((-2.0, 2.5), None)
    arm = PlanarArm([0.6, 0.4], joint_limits=limits)
    rng = np.random.default_rng(7)
    starts, goal_qs = arm.sample(500, rng), arm.sample(500, rng)
    goals = arm.end_effector(goal_qs)
    l1, l2 = 0.6, 0.4
    for start, (x, y), result in zip(starts, goals, plan_reach(arm, starts, goals), strict=True):
        assert result is not None and result.method == "direct"
        c2 = min(1.0, max(-1.0, (x * x + y * y - l1 * l1 - l2 * l2) / (2 * l1 * l2)))
        lengths = []
        for q2 in (math.acos(c2), -math.acos(c2)):
            q1 = math.atan2(y, x) - math.atan2(l2 * math.sin(q2), l1 + l2 * math.cos(q2))
            # the limited joint 0: the one turn of q1 within its limits, if any
            q1s = [q1 + 2 * math.pi * k for k in range(-2, 3)]
            q1s = [a for a in q1s if limits[0][0] <= a <= limits[0][1]]
            d2 = math.remainder(q2 - start[1], 2 * math.pi)  # the short way round
            lengths += [math.hypot(a - start[0], d2) for a in q1s]
        assert result.cost == pytest.approx(min(lengths), abs=1e-9)


def test_plan_reach_rejects_what_plan_rejects() -> None:
    arm = TWO_LINK.arm()
    with pytest.raises(ValueError, match=r"q_start = \[0\.8, 0\.0\] is in collision"):
        plan_reach(arm, [[0.0, 0.0], [0.8, 0.0]], [[0.0, 1.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="resolution_deg"):
        plan_reach(arm, [[0.0, 0.0]], [[0.0, 1.0]], resolution_deg=60)
    with pytest.raises(ValueError, match=r"q_starts must have shape \(m, 2\)"):
        plan_reach(arm, [[0.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]])


# ---------------------------------------------------------------- failures
@pytest.mark.parametrize(
    ("lengths", "kwargs"),
    [((1.0, 0.8), {"goal_kind": "q"}), ((1.0, 0.5, 0.5, 0.5), {"samples": 300})],
    ids=["grid", "prm"],
)
def test_no_path_when_the_goal_is_fenced_off(lengths: tuple[float, ...], kwargs: dict) -> None:
    arm = Scene(lengths, FENCED).arm()
    start, goal = np.zeros(len(lengths)), np.r_[math.pi, np.zeros(len(lengths) - 1)]
    with pytest.raises(NoPath, match=r"to goal \[3\.14159"):
        plan(arm, start, goal, **kwargs)


@pytest.mark.parametrize(
    ("xy", "match"),
    [((5.0, 0.0), "out of reach.*annulus"), ((1.0, 0.9), "no inverse kinematics solution is free")],
)
def test_no_path_to_unreachable_points(xy: tuple[float, float], match: str) -> None:
    with pytest.raises(NoPath, match=match):
        plan(TWO_LINK.arm(), [0.0, 0.0], xy, goal_kind="xy")


@pytest.mark.parametrize(
    ("start", "goal", "kwargs", "match"),
    [
        ([0.8, 0.0], [0.0, 0.0], {"goal_kind": "q"}, r"q_start = \[0\.8, 0\.0\] is in collision"),
        ([0.0, 0.0], [0.8, 0.0], {"goal_kind": "q"}, r"goal = \[0\.8, 0\.0\] is in collision"),
        ([0.0, 0.0, 0.0], [0.0, 0.0], {}, r"q_start must be finite with shape \(2,\)"),
        ([0.0, np.nan], [0.0, 0.0], {}, r"q_start must be finite"),
        ([0.0, 0.0], [1.0, 1.0], {}, "ambiguous.*goal_kind='q'"),
        ([0.0, 0.0], [1.0, 1.0], {"goal_kind": "pose"}, "goal_kind must be"),
        ([0.0, 0.0], [1.0, 1.0, 1.0], {"goal_kind": "q"}, r"goal must be finite with shape \(2,\)"),
        ([0.0, 0.0], [0.1, 0.0], {"goal_kind": "q", "method": "rrt"}, "method must be"),
        ([0.0, 0.0], [3.0, 0.0], {"goal_kind": "q", "resolution_deg": 0}, "resolution_deg"),
        ([0.0, 0.0], [3.0, 0.0], {"goal_kind": "q", "resolution_deg": 60}, "resolution_deg"),
    ],
)
def test_bad_arguments(start: list[float], goal: list[float], kwargs: dict, match: str) -> None:
    arm = PlanarArm([1.0, 1.0], obstacles=[Circle((0.5, 0.5), 0.3)])
    with pytest.raises(ValueError, match=match):
        plan(arm, start, goal, **kwargs)


def test_grid_limits() -> None:
    blocked = Scene((1.0, 1.0, 1.0, 1.0), FENCED).arm()
    with pytest.raises(ValueError, match="method='grid' needs at most 3 joints"):
        plan(blocked, np.zeros(4), np.r_[math.pi, 0, 0, 0], method="grid")
    with pytest.raises(ValueError, match="grid cells"):
        plan(Scene((1.0, 1.0, 1.0), FENCED).arm(), np.zeros(3), [math.pi, 0, 0], resolution_deg=1)


def test_grid_cost_equals_a_graph_built_edge_by_edge() -> None:
    """The fast grid (CSR, midpoint grids, lazy checks) against networkx, at 10 degrees."""
    scene = Scene(
        (1.0, 0.8),
        (
            ("circle", (1.4, 0.6, 0.25)),
            ("circle", (-0.6, 1.3, 0.3)),
            ("box", (0.5, -1.5, 0.7, -1.1)),
        ),
    )
    arm = scene.arm()
    m = 36
    values = -math.pi + 2 * math.pi / m * np.arange(m)
    cell = {(i, j): np.array([values[i], values[j]]) for i in range(m) for j in range(m)}
    pairs = [
        ((i, j), ((i + di) % m, (j + dj) % m))
        for (i, j) in cell
        for di, dj in ((1, 0), (0, 1), (1, 1), (1, -1))
    ]
    blocked = arm.motion_collides(
        np.array([cell[a] for a, _ in pairs]), np.array([cell[b] for _, b in pairs])
    )
    graph = nx.Graph()
    for (a, b), hit in zip(pairs, blocked, strict=True):
        if not hit:
            graph.add_edge(a, b, weight=float(arm.distance(cell[a], cell[b])))
    rng = np.random.default_rng(3)
    for _ in range(3):
        start, goal = arm.sample(2, rng)
        while (
            arm.in_collision(start)
            or arm.in_collision(goal)
            or not arm.motion_collides(start, goal)
        ):
            start, goal = arm.sample(2, rng)
        # start and goal join the corners of their grid boxes, as the planner documents
        for name, q in (("start", start), ("goal", goal)):
            i, j = ((q + math.pi) // (2 * math.pi / m)).astype(int) % m
            for corner in ((i, j), ((i + 1) % m, j), (i, (j + 1) % m), ((i + 1) % m, (j + 1) % m)):
                if corner in graph and not arm.motion_collides(q, cell[corner]):
                    graph.add_edge(name, corner, weight=float(arm.distance(q, cell[corner])))
        expected = nx.dijkstra_path_length(graph, "start", "goal")
        result = plan(arm, start, goal, goal_kind="q", resolution_deg=10.0)
        assert result.cost == pytest.approx(expected)
        check_plan(scene, result, start, goal)
        graph.remove_nodes_from(["start", "goal"])
