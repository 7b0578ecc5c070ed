"""Every ArmReach id, observation mode and action kind follows the Gymnasium and SB3 contracts."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence

import envs.arm
from envs.arm import ARMREACH_IDS, ArmReachEnv, ArmReachVectorEnv, register_arm_envs
from planners import Box, Circle

register_arm_envs()

OBS = ("flat", "dict", "pixels")
CASES = [
    (env_id, obs, discrete) for env_id in ARMREACH_IDS for obs in OBS for discrete in (False, True)
]
CASE_IDS = [f"{i.split('/')[1]}-{o}-{'discrete' if d else 'box'}" for i, o, d in CASES]


@pytest.mark.parametrize(("env_id", "obs", "discrete"), CASES, ids=CASE_IDS)
def test_gymnasium_check_env(
    make_env: Callable[..., gym.Env[Any, Any]], env_id: str, obs: str, discrete: bool
) -> None:
    env = make_env(env_id, obs=obs, discrete=discrete)
    check_env(env.unwrapped)
    value, _ = env.reset(seed=0)
    assert env.observation_space.contains(value)


@pytest.mark.parametrize(("env_id", "obs", "discrete"), CASES, ids=CASE_IDS)
def test_sb3_check_env(
    sb3_warnings: Callable[[gym.Env[Any, Any]], list[str]],
    make_env: Callable[..., gym.Env[Any, Any]],
    env_id: str,
    obs: str,
    discrete: bool,
) -> None:
    env = make_env(env_id, obs=obs, discrete=discrete)
    assert sb3_warnings(env.unwrapped) == []


def test_registration_is_idempotent_and_has_both_entry_points() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # re-registering would warn
        register_arm_envs()
    for env_id, kwargs in ARMREACH_IDS.items():
        spec = gym.spec(env_id)
        assert spec.entry_point == "envs.arm.env:ArmReachEnv"
        assert spec.vector_entry_point == "envs.arm.vector:ArmReachVectorEnv"
        assert spec.kwargs == kwargs
    vec = gym.make_vec("rlkit/ArmReach-v0", num_envs=2, vectorization_mode="vector_entry_point")
    assert isinstance(vec.unwrapped, ArmReachVectorEnv)


def test_obstacles_id_has_random_obstacles_each_reset() -> None:
    env = gym.make("rlkit/ArmReachObstacles-v0")
    env.reset(seed=0)
    first = env.unwrapped.arm.obstacles  # type: ignore[attr-defined]
    env.reset()
    assert len(first) == 3 and env.unwrapped.arm.obstacles != first  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kwargs", "n_actions", "obs_shape"),
    [
        ({}, 9, (10,)),
        ({"n_links": 1}, 3, (7,)),
        ({"n_links": 4}, 81, (16,)),
        ({"link_lengths": [0.6, 0.3, 0.1]}, 27, (13,)),
        ({"n_obstacles": 2}, 9, (20,)),
    ],
)
def test_spaces_follow_the_number_of_links(
    kwargs: dict[str, Any], n_actions: int, obs_shape: tuple[int, ...]
) -> None:
    env = ArmReachEnv(discrete=True, **kwargs)
    assert env.action_space == gym.spaces.Discrete(n_actions)
    assert env.observation_space.shape == obs_shape
    box = ArmReachEnv(**kwargs).action_space
    assert isinstance(box, gym.spaces.Box) and box.shape == (round(math.log(n_actions, 3)),)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_links": 0}, "n_links must be an int from 1 to 7"),
        ({"n_links": 8}, "n_links must be an int from 1 to 7"),
        ({"link_lengths": [1.0] * 8}, "link_lengths must hold 1 to 7"),
        ({"link_lengths": []}, "link_lengths must hold 1 to 7"),
        ({"link_lengths": [1.0, -0.5]}, r"link_lengths\[1\] = -0.5 is invalid"),
        ({"link_lengths": [1.0, 0.0]}, r"link_lengths\[1\] = 0.0 is invalid"),
        ({"n_links": 3, "link_lengths": [0.5, 0.5]}, "n_links = 3 but link_lengths has 2"),
        ({"goal": (2.0, 0.0)}, r"outside the reachable annulus \[0, 1\]"),
        ({"link_lengths": [0.7, 0.2], "goal": (0.1, 0.0)}, "outside the reachable annulus"),
        ({"goal": (math.nan, 0.0)}, "goal must be a finite"),
        ({"goal": (0.5, 0.0), "obstacles": [Circle((0.5, 0.0), 0.1)]}, "hits an obstacle"),
        ({"start": [0.0]}, "start must be 2 finite joint angles"),
        ({"start": [0.0, 0.0], "obstacles": [Box((0.4, -0.1), (0.6, 0.1))]}, "hits an obstacle"),
        ({"start": [0.0, 0.0], "goal": (0.99, 0.0)}, "within success_radius"),
        ({"obs": "rgb"}, r"obs must be one of \['dict', 'flat', 'pixels'\], got 'rgb'"),
        ({"reward_type": "shaped"}, "reward_type must be one of"),
        ({"max_step": 0.0}, "max_step must be a finite number > 0"),
        ({"discrete_step": math.inf}, "discrete_step must be a finite number > 0"),
        ({"success_radius": -1.0}, "success_radius must be a finite number > 0"),
        ({"max_steps": 0}, "max_steps must be an int >= 1"),
        ({"pixel_size": 8}, "pixel_size must be at least 16"),
        ({"render_size": (32, "x")}, "render_size must be an int or a"),
        ({"n_obstacles": -1}, "n_obstacles must be an int >= 0"),
        ({"n_obstacles": 2, "obstacles": []}, "either obstacles= .* or n_obstacles="),
        ({"obstacles": ["wall"]}, r"obstacles\[0\] is 'wall'"),
        ({"plan_resolution_deg": 90}, "plan_resolution_deg must be a finite number > 0"),
        ({"render_mode": "ansi"}, "render_mode must be one of"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ArmReachEnv(**kwargs)


def test_vector_env_rejects_what_the_single_env_rejects() -> None:
    with pytest.raises(ValueError, match="n_links must be"):
        ArmReachVectorEnv(2, n_links=9)
    with pytest.raises(ValueError, match="num_envs must be an int >= 1"):
        ArmReachVectorEnv(0)
    with pytest.raises(ValueError, match="render_mode must be None or 'rgb_array'"):
        ArmReachVectorEnv(2, render_mode="human")


@pytest.mark.parametrize(
    ("action", "match"),
    [
        (np.array([math.nan, 0.0], dtype=np.float32), r"action array\(\[nan,  0\.\].* NaN"),
        (np.array([1.5, 0.0]), r"action array\(\[1\.5, 0\. \]\) is outside the action space"),
        ([0.1, 0.2, 0.3], r"action \[0\.1, 0\.2, 0\.3\] must be numbers in \[-1, 1\] of shape"),
        ("left", "action 'left' must be numbers"),
    ],
)
def test_bad_box_actions_raise_naming_the_action(action: Any, match: str) -> None:
    env = ArmReachEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)


@pytest.mark.parametrize("action", [9, -1, 1.0, True, np.array([1, 2])])
def test_bad_discrete_actions_raise_naming_the_action(action: Any) -> None:
    env = ArmReachEnv(discrete=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action .* is outside the action space Discrete\(9\)"):
        env.step(action)


@pytest.mark.parametrize(
    ("discrete", "actions"),
    [
        (False, [np.array([0.5, -1.0], np.float32), np.array([1.0, 0.25]), [0.3, -0.2], (1, 0)]),
        (False, [np.array([1, -1]), np.array([0.5, 0.5], np.float16)]),
        (True, [0, 4, 8, np.int64(3), np.array(5)]),
    ],
)
def test_quick_action_reading_equals_the_checked_one(discrete: bool, actions: list[Any]) -> None:
    config = ArmReachEnv(discrete=discrete).config
    for action in actions:
        assert list(config.change_floats(action)) == config.check_action(action).tolist()


def test_step_and_expert_before_reset_raise() -> None:
    env = ArmReachEnv()
    with pytest.raises(gym.error.ResetNeeded):
        env.step(np.zeros(2, dtype=np.float32))
    with pytest.raises(gym.error.ResetNeeded):
        env.expert_action()


def test_goal_functions_exist_only_for_dict_observations() -> None:
    assert hasattr(ArmReachEnv(obs="dict"), "compute_reward")
    flat = ArmReachEnv(obs="flat")
    for name in ("compute_reward", "compute_terminated", "compute_truncated"):
        assert not hasattr(flat, name)
    with pytest.raises(AttributeError, match='create the env with obs="dict"'):
        flat.compute_reward  # noqa: B018


def test_envs_pickle_and_copy_mid_episode() -> None:
    import copy
    import pickle

    env = ArmReachEnv(n_obstacles=2, obs="dict")
    env.reset(seed=0)
    env.step(env.expert_action())
    clones = [pickle.loads(pickle.dumps(env)), copy.deepcopy(env)]
    action = np.array([0.3, -0.2], dtype=np.float32)
    expected = env.step(action)
    for clone in clones:
        assert data_equivalence(clone.step(action), expected, exact=True)


def test_import_does_not_pull_torch() -> None:
    assert envs.arm.__name__ == "envs.arm"
    import subprocess
    import sys

    code = "import sys, envs.arm; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
