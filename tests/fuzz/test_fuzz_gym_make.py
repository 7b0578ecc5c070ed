"""Fuzz ``gymnasium.make`` of every registered rlkit id with hostile keyword arguments,
seeds and actions (wrong types, negative or huge sizes, NaN/inf, out-of-range actions).
Oracle: a working env (reset and a step succeed) or a ``ValueError``/``TypeError``
whose message names the argument (or ``action``/``seed``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import envs

FUZZ = settings.get_profile("fuzz")
IDS = [*envs.GRIDNAV_IDS, *envs.ARMREACH_IDS]
GRID_KWARGS = ["size", "start", "goal", "num_maps", "map_seed", "obs", "diagonal", "slip",
               "step_penalty", "shaping", "gamma", "max_steps", "view", "view_radius",
               "render_tile_size", "layout"]  # fmt: skip
ARM_KWARGS = ["n_links", "link_lengths", "n_obstacles", "start", "goal", "obs", "discrete",
              "max_step", "discrete_step", "reward_type", "success_radius", "max_steps",
              "pixel_size", "terminate_on_success", "plan_resolution_deg"]  # fmt: skip
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.sampled_from([-1, 0, 1, 2, 3, 10**9, math.nan, math.inf, -math.inf, -0.5, 1e-12]),
    st.floats(),
    st.text(max_size=6),
    st.lists(st.one_of(st.integers(-3, 20), st.floats()), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _actions(space: gym.Space[Any]) -> st.SearchStrategy[Any]:
    shape = getattr(space, "shape", ()) or ()
    return st.one_of(
        st.integers(-(2**40), 2**40),
        st.sampled_from([math.nan, math.inf, None, "up", -1]),
        st.lists(
            st.floats(width=32), min_size=len(shape) and shape[0], max_size=len(shape) and shape[0]
        ).map(lambda v: np.array(v, dtype=np.float32)),
        st.just(space.sample()),
    )


@pytest.mark.parametrize("env_id", IDS)
@FUZZ
@given(data=st.data())
def test_hostile_kwargs_seeds_and_actions(
    typed_or_ok: Callable[..., Any], env_id: str, data: Any
) -> None:
    names = GRID_KWARGS if "GridNav" in env_id else ARM_KWARGS
    kwargs = data.draw(st.dictionaries(st.sampled_from(names), HOSTILE, max_size=2), "kwargs")
    if kwargs.get("obs") in ("pixels", "rgb"):
        kwargs.pop("obs")  # pixel envs are fuzzed through their pixel sizes only
    env = typed_or_ok(
        lambda: gym.make(env_id, **kwargs), (ValueError, TypeError), [*kwargs, "size", "map"]
    )
    if not isinstance(env, gym.Env):
        return
    try:
        seed = data.draw(
            st.one_of(st.none(), st.integers(-5, 2**70), st.floats(), st.text(max_size=3)), "seed"
        )
        # gymnasium's own seed check raises its typed gym.error.Error ("Seed must be ...");
        # ArmReach raises RuntimeError when many obstacles leave no solvable episode
        accepted = (ValueError, TypeError, gym.error.Error, RuntimeError)
        names = ["seed", "Seed", "obstacles", *kwargs]
        reset = typed_or_ok(lambda: env.reset(seed=seed), accepted, names)
        if isinstance(reset, BaseException):
            return
        action = data.draw(_actions(env.action_space), "action")
        result = typed_or_ok(lambda: env.step(action), (ValueError, TypeError), ["action"])
        if not isinstance(result, BaseException):
            assert env.action_space.contains(action) or np.asarray(action).dtype.kind in "iuf"
            assert env.observation_space.contains(result[0])
    finally:
        env.close()


@pytest.mark.parametrize("size", [141470, (10398, 10398), (2, 2**40)])
def test_huge_gridnav_size_is_refused(size: Any) -> None:
    """Regression (fuzz): size=141470 tried to allocate 56 GiB (the process was killed)."""
    with pytest.raises(ValueError, match="size"):
        gym.make("rlkit/GridNav-v0", size=size)


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("pixel_size", [[math.inf], [math.inf, math.inf], (32, -math.inf)])
def test_infinite_pixel_size_is_named(env_id: str, pixel_size: Any) -> None:
    """Regression (slow fuzz profile): pixel_size=[inf] raised a bare OverflowError
    ("cannot convert float infinity to integer") from ArmReach's pixel check."""
    with pytest.raises(ValueError, match="pixel_size"):
        gym.make(env_id, pixel_size=pixel_size)


@pytest.mark.parametrize("resolution", [5.6e-175, 1e-3, 5e-324])
def test_vanishing_plan_resolution_is_named(resolution: float) -> None:
    """Regression (slow fuzz profile): plan_resolution_deg=5.6e-175 made numpy raise
    "Maximum allowed size exceeded" at reset, naming no argument."""
    with pytest.raises(ValueError, match="plan_resolution_deg"):
        gym.make("rlkit/ArmReachObstacles-v0", plan_resolution_deg=resolution)


@pytest.mark.parametrize("key", ["start", "goal", "link_lengths"])
def test_arm_non_numeric_arguments_are_named(key: str) -> None:
    """Regression (fuzz): start='' raised "could not convert string to float: ''" without
    naming the argument."""
    with pytest.raises(ValueError, match=key):
        gym.make("rlkit/ArmReach-v0", **{key: "x"})


def test_huge_n_obstacles_is_refused() -> None:
    """Regression (fuzz): n_obstacles=2**40 hung building the observation space."""
    with pytest.raises(ValueError, match="n_obstacles"):
        gym.make("rlkit/ArmReach-v0", n_obstacles=2**40)


@pytest.mark.parametrize("env_id", ["rlkit/ArmReach-v0", "rlkit/ArmReachObstacles-v0"])
@pytest.mark.parametrize("lengths", [[1e200, 1.0], [1.0, 2e150]])
def test_astronomical_link_lengths_are_named(env_id: str, lengths: list[float]) -> None:
    """Regression (slow fuzz profile, reliability scorecard): link_lengths=[1e200, ...]
    raised a bare OverflowError at reset, squaring a link length (and, on
    ArmReachObstacles, an obstacle radius scaled by it) in the collision checks."""
    with pytest.raises(ValueError, match="link_lengths"):
        gym.make(env_id, link_lengths=lengths).reset(seed=0)
