"""Size limits of planners' obstacles and arms: collision checks square them."""

from __future__ import annotations

import pytest

from planners import Circle, PlanarArm
from planners.obstacles import MAX_SIZE


@pytest.mark.parametrize("radius", [MAX_SIZE * 10, 1e200])
def test_circle_radius_beyond_max_size_is_refused(radius: float) -> None:
    """Regression (slow fuzz profile): radius 1e200 overflowed in radius ** 2."""
    with pytest.raises(ValueError, match="radius must be a finite number > 0 and <= 1e"):
        Circle((0.0, 0.0), radius)


def test_largest_sizes_still_check_collisions() -> None:
    arm = PlanarArm([MAX_SIZE, 1.0], obstacles=[Circle((0.0, 0.0), MAX_SIZE)])
    assert bool(arm.in_collision([0.0, 0.0]))


@pytest.mark.parametrize("lengths", [[1e200], [1.0, MAX_SIZE * 2]])
def test_link_lengths_beyond_max_size_are_refused(lengths: list[float]) -> None:
    with pytest.raises(ValueError, match=r"link_lengths\[\d\] = .* <= 1e\+150"):
        PlanarArm(lengths)
