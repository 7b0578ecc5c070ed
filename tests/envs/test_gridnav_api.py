"""Every GridNav id and observation mode follows the Gymnasium and SB3 API contracts."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from envs.grid import GridNavEnv, GridNavVectorEnv
from planners import GridMap

REPO_ROOT = Path(__file__).resolve().parents[2]
FREE_OBS = ("coords", "symbolic", "pixels")
#: Ids that become fixed-map, fixed-goal tasks with these arguments ("index", P).
FIXED_GOAL: dict[str, dict[str, Any]] = {
    "rlkit/GridNav-Map-v0": {"goal": (0, 0)},
    "rlkit/GridNav-Empty-v0": {"goal": (5, 5)},
}
#: SB3 reads a (3, rows, cols) uint8 box as a would-be image; symbolic is 0/1 on purpose.
SB3_SYMBOLIC_WARNINGS = ("upper and lower bounds", "minimal resolution")


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    cases: list[tuple[str, str, dict[str, Any]]] = [
        (env_id, obs, {}) for env_id in envs.GRIDNAV_IDS for obs in FREE_OBS
    ]
    cases += [(env_id, "index", kwargs) for env_id, kwargs in FIXED_GOAL.items()]
    cases += [
        ("rlkit/GridNav-Maze-v0", "pixels", {"view": "agent", "view_radius": 2}),
        ("rlkit/GridNav-v0", "symbolic", {"diagonal": True, "slip": 0.1, "shaping": True}),
    ]
    return cases


CASES = _cases()
CASE_IDS = [f"{i.split('/')[1]}-{o}" + ("-" + "-".join(k) if k else "") for i, o, k in CASES]


@pytest.mark.parametrize(("env_id", "obs", "kwargs"), CASES, ids=CASE_IDS)
def test_gymnasium_check_env(
    make_env: Callable[..., gym.Env[Any, Any]], env_id: str, obs: str, kwargs: dict[str, Any]
) -> None:
    env = make_env(env_id, obs=obs, **kwargs)
    check_env(env.unwrapped)
    obs_value, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs_value)


@pytest.mark.parametrize(("env_id", "obs", "kwargs"), CASES, ids=CASE_IDS)
def test_sb3_check_env(
    sb3_warnings: Callable[[gym.Env[Any, Any]], list[str]],
    make_env: Callable[..., gym.Env[Any, Any]],
    env_id: str,
    obs: str,
    kwargs: dict[str, Any],
) -> None:
    env = make_env(env_id, obs=obs, **kwargs)
    unexpected = [
        message
        for message in sb3_warnings(env.unwrapped)
        if not (obs == "symbolic" and any(s in message for s in SB3_SYMBOLIC_WARNINGS))
    ]
    assert unexpected == []


def test_every_id_is_registered_with_both_entry_points() -> None:
    for env_id in envs.GRIDNAV_IDS:
        spec = gym.spec(env_id)
        assert spec.entry_point == "envs.grid.env:GridNavEnv"
        assert spec.vector_entry_point == "envs.grid.vector:GridNavVectorEnv"
    assert set(envs.GRIDNAV_IDS) >= {
        "rlkit/GridNav-v0",
        "rlkit/GridNav-Empty-v0",
        "rlkit/GridNav-Random-v0",
        "rlkit/GridNav-Rooms-v0",
        "rlkit/GridNav-Maze-v0",
        "rlkit/GridNav-Map-v0",
    }


def test_make_vec_uses_the_vector_entry_point(env_id: str) -> None:
    vec = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    assert isinstance(vec.unwrapped, GridNavVectorEnv)
    assert vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    obs, infos = vec.reset(seed=0)
    assert obs.shape == (3, 3, 11, 11)
    assert vec.observation_space.contains(obs)
    assert set(infos) >= {"is_success", "optimal_length", "path_length", "distance_to_goal"}
    vec.close()


def test_unwrapped_is_gridnav(make_env: Callable[..., gym.Env[Any, Any]], env_id: str) -> None:
    env = make_env(env_id)
    assert isinstance(env.unwrapped, GridNavEnv)
    assert env.unwrapped.metadata["render_modes"] == ["human", "rgb_array"]


@pytest.mark.parametrize(
    "statement",
    [
        "import envs",
        "import gymnasium as gym, envs; gym.make('rlkit/GridNav-v0').reset(seed=0)",
        "import gymnasium as gym, envs; "
        "gym.make('rlkit/GridNav-v0', render_mode='rgb_array').reset(seed=0)[0]",
    ],
)
def test_import_envs_does_not_import_torch_or_pygame(statement: str) -> None:
    heavy = "sorted(m for m in ('torch', 'pygame') if m in sys.modules)"
    code = f"{statement}\nimport sys\nprint({heavy})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"{statement!r} imported {result.stdout.strip()}"


def test_spaces_per_obs_mode(make_env: Callable[..., gym.Env[Any, Any]]) -> None:
    kwargs: dict[str, Any] = {"map": "....\n.#..\n....", "goal": (0, 3)}
    spaces = {
        obs: make_env("rlkit/GridNav-Map-v0", obs=obs, **kwargs).observation_space
        for obs in ("index", "coords", "symbolic", "pixels")
    }
    assert spaces["index"] == gym.spaces.Discrete(12)
    assert spaces["coords"] == gym.spaces.Box(0, np.array([2, 3, 2, 3]), (4,), np.int64)
    assert spaces["symbolic"] == gym.spaces.Box(0, 1, (3, 3, 4), np.uint8)
    assert spaces["pixels"] == gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)
    assert make_env("rlkit/GridNav-v0", diagonal=True).action_space == gym.spaces.Discrete(8)
    assert make_env("rlkit/GridNav-v0").action_space == gym.spaces.Discrete(4)


def test_envs_made_from_a_gridmap_copy_and_pickle(make_env: Callable[..., Any]) -> None:
    env = make_env("rlkit/GridNav-Map-v0", map=GridMap.from_ascii(envs.grid.FOUR_ROOMS))
    env.reset(seed=0)
    check_env(env.unwrapped)  # re-makes the env from its spec
    clone = pickle.loads(pickle.dumps(env.unwrapped))
    assert np.array_equal(clone.reset(seed=1)[0], env.reset(seed=1)[0])


def test_procedural_envs_copy_and_pickle_before_reset(make_env: Callable[..., Any]) -> None:
    env = make_env("rlkit/GridNav-v0", obs="pixels")
    clone = pickle.loads(pickle.dumps(copy.deepcopy(env.unwrapped)))
    assert np.array_equal(clone.reset(seed=1)[0], env.reset(seed=1)[0])
