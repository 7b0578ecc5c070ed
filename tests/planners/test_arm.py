"""Tests of planners.arm: kinematics, inverse kinematics, collision geometry."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from planners.arm import Box, Circle, PlanarArm

angles = st.floats(-10.0, 10.0, allow_nan=False)
R2 = math.sqrt(2)


@pytest.fixture
def two_link() -> PlanarArm:
    return PlanarArm([1.0, 0.8])


# ---------------------------------------------------------------- construction
@pytest.mark.parametrize(
    ("lengths", "match"),
    [
        ([0.0, 1.0], r"link_lengths\[0\] = 0\.0"),
        ([1.0, -0.5], r"link_lengths\[1\] = -0\.5"),
        ([1.0, 1.0, float("nan")], r"link_lengths\[2\] = nan"),
        ([1.0, float("inf")], r"link_lengths\[1\] = inf"),
        ([], r"link_lengths must hold 1 to 7 lengths, got 0"),
        ([1.0] * 8, r"link_lengths must hold 1 to 7 lengths, got 8"),
    ],
)
def test_bad_link_lengths(lengths: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PlanarArm(lengths)


@pytest.mark.parametrize(
    ("limits", "match"),
    [
        ([(0.0, 1.0)], r"joint_limits needs 2 entries"),
        ([(1.0, 0.0), None], r"joint_limits\[0\] must have lo < hi"),
        ([None, (0.0, float("nan"))], r"joint_limits\[1\] must be finite"),
        ([None, (0.0, 1.0, 2.0)], r"joint_limits\[1\] must be a pair"),
    ],
)
def test_bad_joint_limits(limits: list[Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PlanarArm([1.0, 1.0], joint_limits=limits)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Circle((0.0, 0.0), 0.0), "radius"),
        (lambda: Circle((0.0, 0.0), -1.0), "radius"),
        (lambda: Circle((0.0, 0.0), float("nan")), "radius"),
        (lambda: Circle((0.0, float("inf")), 1.0), "center"),
        (lambda: Circle((0.0,), 1.0), "center"),  # type: ignore[arg-type]
        (lambda: Box((0.0, 0.0), (0.0, 1.0)), "lo must be < hi"),
        (lambda: Box((0.0, 2.0), (1.0, 1.0)), "lo must be < hi"),
        (lambda: Box((0.0, float("nan")), (1.0, 1.0)), "lo"),
    ],
)
def test_bad_obstacles(make: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()  # type: ignore[operator]


def test_obstacles_must_be_circles_or_boxes() -> None:
    with pytest.raises(TypeError, match=r"obstacles\[1\]"):
        PlanarArm([1.0], obstacles=[Circle((2.0, 0.0), 0.1), (1.0, 1.0)])  # type: ignore[list-item]


def test_properties_and_repr(two_link: PlanarArm) -> None:
    assert two_link.n_joints == 2
    assert two_link.max_reach == pytest.approx(1.8)
    assert two_link.min_reach == pytest.approx(0.2)
    assert PlanarArm([1.0, 1.0]).min_reach == 0.0
    assert PlanarArm([0.5, 2.0, 0.5]).min_reach == pytest.approx(1.0)
    limited = PlanarArm([1.0, 1.0], joint_limits=[None, (-1.0, 1.0)], base=(1, 2))
    assert limited.joint_limits == (None, (-1.0, 1.0))
    assert "joint_limits=[None, (-1.0, 1.0)]" in repr(limited)
    assert "base=(1.0, 2.0)" in repr(limited)
    with pytest.raises(ValueError):
        limited.link_lengths[0] = 3.0  # read-only: the arm is immutable


# ---------------------------------------------------------------- kinematics
@pytest.mark.parametrize(
    ("lengths", "base", "q", "expected"),
    [
        ([1.0, 0.8], (0, 0), [0.0, 0.0], [[0, 0], [1, 0], [1.8, 0]]),
        ([1.0, 0.8], (0, 0), [math.pi / 2, -math.pi / 2], [[0, 0], [0, 1], [0.8, 1]]),
        ([1.0, 0.8], (1, -1), [math.pi, 0.0], [[1, -1], [0, -1], [-0.8, -1]]),
        (
            [2.0, 1.0, 1.0],
            (0, 0),
            [math.pi / 4, math.pi / 4, math.pi / 2],
            [[0, 0], [R2, R2], [R2, R2 + 1], [R2 - 1, R2 + 1]],
        ),
        ([1.5], (0, 0), [-math.pi / 6], [[0, 0], [1.5 * math.sqrt(3) / 2, -0.75]]),
    ],
)
def test_forward_by_hand(
    lengths: list[float], base: tuple[float, float], q: list[float], expected: list[list[float]]
) -> None:
    arm = PlanarArm(lengths, base=base)
    np.testing.assert_allclose(arm.forward(q), expected, atol=1e-12)
    np.testing.assert_allclose(arm.end_effector(q), expected[-1], atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), n=st.integers(1, 7), batch=st.integers(1, 5))
def test_forward_batched_equals_looped(data: st.DataObject, n: int, batch: int) -> None:
    arm = PlanarArm(np.linspace(1.0, 0.4, n), base=(0.3, -0.2))
    q = data.draw(arrays(np.float64, (batch, 3, n), elements=angles))
    batched = arm.forward(q)
    assert batched.shape == (batch, 3, n + 1, 2)
    for idx in np.ndindex(batch, 3):
        np.testing.assert_allclose(batched[idx], arm.forward(q[idx]), atol=1e-12)
    # links keep their lengths
    links = np.linalg.norm(np.diff(batched, axis=-2), axis=-1)
    np.testing.assert_allclose(links, np.broadcast_to(arm.link_lengths, links.shape))


def test_forward_rejects_bad_shapes(two_link: PlanarArm) -> None:
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\).*got shape \(3,\)"):
        two_link.forward([0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        two_link.in_collision([0.0, float("nan")])


@settings(max_examples=50, deadline=None)
@given(a=angles, b=angles)
def test_wrap_and_difference(a: float, b: float) -> None:
    arm = PlanarArm([1.0, 1.0], joint_limits=[None, (-20.0, 20.0)])
    w = arm.wrap([a, b])
    assert -math.pi < w[0] <= math.pi
    assert math.cos(w[0]) == pytest.approx(math.cos(a), abs=1e-9)
    assert w[1] == b  # limited joints never wrap
    d = arm.difference([a, a], [b, b])
    assert -math.pi < d[0] <= math.pi
    assert math.sin(a + d[0]) == pytest.approx(math.sin(b), abs=1e-9)
    assert d[1] == pytest.approx(b - a)
    assert float(arm.distance([a, a], [b, b])) == pytest.approx(math.hypot(*d))


# ---------------------------------------------------------------- on Python floats
@pytest.mark.parametrize("n", range(1, 8))
@pytest.mark.parametrize("limited", [False, True])
def test_float_methods_equal_batched_ones_bit_for_bit(n: int, limited: bool) -> None:
    # the single env steps with these, the vector env with the batched methods: they
    # must agree to the last bit, on rows of a big batch as on a single row
    rng = np.random.default_rng(n)
    limits = [(-2.0, 2.5) if limited and j % 2 == 0 else None for j in range(n)]
    arm = PlanarArm(rng.uniform(0.1, 1.0, n), joint_limits=limits, base=(0.25, -0.5))
    q = rng.uniform(-4.0, 4.0, (3000, n))
    q[:50] = rng.choice([-math.pi, math.pi, 0.0, -0.0], (50, n))  # wrap edges, signed zeros
    change = rng.uniform(-0.2, 0.2, (3000, n))
    change[50:100] = 0.0
    points, target = arm.forward(q), arm.wrap(q + change)
    length = arm.distance(q, target)
    for i in range(len(q)):
        row, dq = q[i].tolist(), change[i].tolist()
        assert np.array_equal(arm.forward_floats(row), points[i])
        assert np.array_equal(arm.forward_floats(row), arm.forward(q[i]))
        moved, moved_length = arm.move_floats(row, dq)
        assert moved == target[i].tolist() and moved_length == length[i]
        assert moved_length == float(arm.distance(q[i], target[i]))


# ---------------------------------------------------------------- inverse kinematics
@settings(max_examples=50, deadline=None)
@given(q1=angles, q2=st.floats(0.05, math.pi - 0.05), flip=st.booleans())
def test_inverse_two_links_both_elbows(q1: float, q2: float, flip: bool) -> None:
    arm = PlanarArm([1.0, 0.7], base=(0.5, 0.5))
    q = np.array([q1, -q2 if flip else q2])
    xy = arm.end_effector(q)
    solutions = arm.inverse(xy)
    assert len(solutions) == 2
    assert solutions[0][1] > 0 > solutions[1][1]  # elbow one way, then the other
    for s in solutions:
        np.testing.assert_allclose(arm.end_effector(s), xy, atol=1e-9)
    assert min(float(arm.distance(s, q)) for s in solutions) < 1e-6
    # q0 orders the solutions by closeness
    assert float(arm.distance(arm.inverse(xy, q0=q)[0], q)) < 1e-6


def test_inverse_on_the_annulus_boundary_has_one_solution(two_link: PlanarArm) -> None:
    (outer,) = two_link.inverse([0.0, 1.8])
    np.testing.assert_allclose(outer, [math.pi / 2, 0.0], atol=1e-7)
    (inner,) = two_link.inverse([0.0, -0.2])
    np.testing.assert_allclose(two_link.end_effector(inner), [0.0, -0.2], atol=1e-9)


@pytest.mark.parametrize("n", [3, 4, 5, 7])
def test_inverse_damped_least_squares(n: int) -> None:
    arm = PlanarArm(np.linspace(1.0, 0.5, n))
    for q in arm.sample(10, rng=n):
        xy = arm.end_effector(q)
        solutions = arm.inverse(xy)
        assert solutions, f"no solution for reachable {xy}"
        for s in solutions:
            np.testing.assert_allclose(arm.end_effector(s), xy, atol=1e-7)
        near = arm.inverse(xy, q0=q + 0.05)[0]  # the guess's own solution comes first
        assert float(arm.distance(near, q)) < 0.5


def test_inverse_respects_joint_limits() -> None:
    arm = PlanarArm([1.0, 1.0], joint_limits=[(-1.0, 2.0), (0.0, math.pi)])
    (only,) = arm.inverse([1.0, 1.0])  # the other elbow needs q2 < 0
    np.testing.assert_allclose(only, [0.0, math.pi / 2], atol=1e-12)
    three = PlanarArm([1.0, 1.0, 1.0], joint_limits=[(0.0, 1.0), (0.0, 1.0), (0.0, 1.0)])
    solutions = three.inverse(three.end_effector([0.5, 0.5, 0.5]))
    assert solutions
    assert all(three.within_limits(s) for s in solutions)
    limited = PlanarArm([1.0], joint_limits=[(3.0, 4.0)])
    (shifted,) = limited.inverse([-1.0, 0.0])  # pi is in the limits; -pi is not
    assert shifted[0] == pytest.approx(math.pi)


@pytest.mark.parametrize(
    "limits",
    [None, [(-1.0, 2.5), None], [None, (0.0, math.pi)], [(-3.0, 3.0), (-2.0, 2.0)]],
)
def test_inverse_many_is_inverse_of_each_point(limits: list[Any] | None) -> None:
    arm = PlanarArm([0.7, 0.4], joint_limits=limits, base=(0.1, -0.2))
    rng = np.random.default_rng(0)
    xy = np.concatenate(
        [
            arm.end_effector(rng.uniform(-math.pi, math.pi, (300, 2))),
            rng.uniform(-1.5, 1.5, (100, 2)),  # some out of reach
            arm.end_effector([[0.3, 0.0], [0.3, math.pi]]),  # the annulus boundaries
        ]
    )
    q, valid = arm.inverse_many(xy)
    assert q.shape == (len(xy), 2, 2) and valid.shape == (len(xy), 2)
    for i, point in enumerate(xy):
        try:
            expected = arm.inverse(point)
        except ValueError:
            expected = []
        got = list(q[i, valid[i]])
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_array_equal(a, b)
    one_link = PlanarArm([1.0], joint_limits=[(3.0, 4.0)])
    q, valid = one_link.inverse_many([[-1.0, 0.0], [0.0, 1.0], [0.5, 0.0]])
    assert valid.tolist() == [[True], [False], [False]] and q[0, 0, 0] == pytest.approx(math.pi)
    with pytest.raises(ValueError, match="one or two links"):
        PlanarArm([1.0, 1.0, 1.0]).inverse_many([[1.0, 1.0]])


@pytest.mark.parametrize(
    ("lengths", "xy", "match"),
    [
        ([1.0, 0.8], (3.0, 0.0), r"xy = \(3\.0, 0\.0\) is at distance 3 .* annulus \[0\.2, 1\.8\]"),
        ([1.0, 0.8], (0.1, 0.0), r"distance 0\.1 .* annulus \[0\.2, 1\.8\]"),
        ([1.0, 0.5, 0.2], (0.0, 0.2), r"annulus \[0\.3, 1\.7\]"),
        ([1.0], (0.5, 0.0), r"annulus \[1, 1\]"),
    ],
)
def test_inverse_outside_the_annulus(
    lengths: list[float], xy: tuple[float, float], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        PlanarArm(lengths).inverse(xy)


# ---------------------------------------------------------------- collisions
@pytest.fixture
def one_link() -> PlanarArm:
    """A unit link along the x axis at q = 0: from (0, 0) to (1, 0)."""
    return PlanarArm([1.0])


@pytest.mark.parametrize(
    ("obstacle", "hit", "exact"),
    [
        (Circle((0.5, 0.1), 0.2), True, False),  # the link crosses it
        (Circle((0.5, 0.3), 0.3), True, True),  # tangent: touching counts
        (Circle((0.5, 0.3 + 1e-9), 0.3), False, True),  # just clear
        (Circle((1.2, 0.0), 0.2), True, True),  # touches the tip
        (Circle((1.25, 0.0), 0.2), False, False),  # beyond the tip
        (Circle((-0.25, 0.1), 0.2), False, False),  # behind the base
        (Circle((0.5, 0.0), 5.0), True, False),  # the whole link inside
        (Box((0.4, -0.1), (0.6, 0.1)), True, False),  # crossing
        (Box((-0.5, -0.5), (2.0, 0.5)), True, False),  # the link fully inside
        (Box((0.9, -0.1), (1.5, 0.1)), True, False),  # only the tip inside
        (Box((0.2, 0.0), (0.8, 0.3)), True, True),  # the link lies on its edge
        (Box((0.2, 1e-9), (0.8, 0.3)), False, True),  # just above
        (Box((0.2, -0.3), (0.8, -0.1)), False, False),  # below
        (Box((1.0, -1.0), (1.5, 1.0)), True, True),  # the tip on its edge
        (Box((1.0 + 1e-9, -1.0), (1.5, 1.0)), False, True),
    ],
)
def test_one_link_collisions(obstacle: Circle | Box, hit: bool, exact: bool) -> None:
    """``exact``: a contact to the last bit, only reproducible at q = 0 where sin(q) == 0."""
    arm = PlanarArm([1.0], obstacles=[obstacle])
    assert bool(arm.in_collision([0.0])) is hit
    if exact:
        return
    # the same geometry turned a quarter turn exercises the other axis
    turned = (
        Circle((-obstacle.center[1], obstacle.center[0]), obstacle.radius)
        if isinstance(obstacle, Circle)
        else Box((-obstacle.hi[1], obstacle.lo[0]), (-obstacle.lo[1], obstacle.hi[0]))
    )
    assert bool(PlanarArm([1.0], obstacles=[turned]).in_collision([math.pi / 2])) is hit


def test_diagonal_segment_against_box_corner() -> None:
    box = Box((0.6, -1.0), (2.0, 0.3))
    arm = PlanarArm([1.0], obstacles=[box])
    # the link at 45 degrees passes the corner (0.6, 0.3) above it...
    assert not arm.in_collision([math.pi / 4])
    # ...and at 20 degrees cuts through the box without either end point inside
    assert PlanarArm([0.5, 1.0], obstacles=[Box((0.7, 0.05), (0.8, 0.15))]).in_collision(
        [0.0, math.radians(20)]
    )


def test_second_link_and_batches() -> None:
    arm = PlanarArm([1.0, 1.0], obstacles=[Circle((1.0, 1.0), 0.2)])
    q = np.array([[0.0, 0.0], [0.0, math.pi / 2], [math.pi / 2, -math.pi / 2], [math.pi, 0.0]])
    np.testing.assert_array_equal(arm.in_collision(q), [False, True, True, False])
    grid = np.broadcast_to(q, (3, 4, 2))
    assert arm.in_collision(grid).shape == (3, 4)
    np.testing.assert_array_equal(arm.in_collision(grid)[2], arm.in_collision(q))


def test_joint_limits_count_as_collision() -> None:
    arm = PlanarArm([1.0, 1.0], joint_limits=[None, (-1.0, 1.0)])
    np.testing.assert_array_equal(arm.within_limits([[9.0, 1.0], [0.0, 1.01]]), [True, False])
    np.testing.assert_array_equal(arm.in_collision([[9.0, 1.0], [0.0, 1.01]]), [False, True])


def test_motion_takes_the_short_way_round() -> None:
    behind = PlanarArm([1.0], obstacles=[Circle((-1.0, 0.0), 0.1)])
    ahead = PlanarArm([1.0], obstacles=[Circle((1.0, 0.0), 0.1)])
    assert behind.motion_collides([3.0], [-3.0])  # through pi
    assert not ahead.motion_collides([3.0], [-3.0])
    assert ahead.motion_collides([0.5], [-0.5])
    # a limited joint cannot wrap: it sweeps through 0
    limited = PlanarArm([1.0], joint_limits=[(-4.0, 4.0)], obstacles=[Circle((1.0, 0.0), 0.1)])
    assert limited.motion_collides([3.0], [-3.0])


def test_motion_collides_batched_and_resolution() -> None:
    arm = PlanarArm([1.0], obstacles=[Circle((0.0, 1.0), 0.01)])
    starts = np.array([[0.0], [0.0], [2.0]])
    ends = np.array([[math.pi], [-math.pi / 2], [3.0]])
    np.testing.assert_array_equal(arm.motion_collides(starts, ends), [True, False, False])
    assert arm.motion_collides(starts, ends).shape == (3,)
    # a coarse check steps over the thin obstacle; the default one does not
    assert not arm.motion_collides([1.4], [1.8], resolution=0.3)
    assert arm.motion_collides([1.4], [1.8])
    with pytest.raises(ValueError, match="resolution"):
        arm.motion_collides([0.0], [1.0], resolution=0.0)


def test_sample_within_limits() -> None:
    arm = PlanarArm([1.0, 1.0], joint_limits=[(0.0, 0.5), None])
    q = arm.sample(500, rng=1)
    assert q.shape == (500, 2)
    assert arm.within_limits(q).all()
    assert (q[:, 1] >= -math.pi).all() and (q[:, 1] < math.pi).all()


@settings(max_examples=25, deadline=None)
@given(data=st.data(), n=st.integers(1, 4), limited=st.booleans())
def test_grid_collisions_equal_pointwise_ones(data: st.DataObject, n: int, limited: bool) -> None:
    arm = PlanarArm(
        np.linspace(1.0, 0.5, n),
        joint_limits=[(-2.0, 2.5)] * n if limited else None,
        obstacles=[Circle((1.0, 0.5), 0.3), Box((-1.5, -0.8), (-0.6, -0.3)), Circle((0, 1.4), 0.2)],
        base=(0.1, 0.0),
    )
    axes = [
        data.draw(arrays(np.float64, data.draw(st.integers(1, 12)), elements=angles))
        for _ in range(n)
    ]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    np.testing.assert_array_equal(arm.in_collision_grid(axes), arm.in_collision(grid))
