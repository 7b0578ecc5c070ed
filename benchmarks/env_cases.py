"""The rows of ``env_throughput.py``: which environments it times, built how, and which
baseline row each is compared with.

A :class:`Case` is one row (an env id, its observation mode, how it is made); the
``*_cases`` functions list a section's rows, or why they are skipped, and
:func:`baselines_first` orders them so each baseline runs next to its rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import gymnasium as gym

import envs

SECTIONS = ("gridnav", "minigrid", "arm", "reacher")
MINIGRID, REACHER = "MiniGrid-Empty-8x8-v0", "Reacher-v5"
ARM, ARM_OBSTACLES = "rlkit/ArmReach-v0", "rlkit/ArmReachObstacles-v0"
# Baseline rows, by key: "<id>/<obs>/<how>".
MINIGRID_SYMBOLIC, MINIGRID_RGB = f"{MINIGRID}/symbolic/gym.make", f"{MINIGRID}/pixels/gym.make"
REACHER_KEY = f"{REACHER}/flat/gym.make"
# Opposite corners of the four-rooms map: the same episode every reset.
FIXED = {"map": envs.grid.FOUR_ROOMS, "start": (0, 0), "goal": (10, 10)}


@dataclass
class Case:
    env: str
    """registered id"""
    obs: str
    how: str
    """"gym.make", ".unwrapped" or "vector N=..." """
    make: Callable[[], Any]
    baseline: str | None = None
    """key of the row this one is compared with"""
    about: str = ""
    """shown after the id"""

    @property
    def key(self) -> str:
        return f"{self.env}/{self.obs}/{self.how}"


def unwrapped(env_id: str, **kwargs: Any) -> Any:
    return gym.make(env_id, **kwargs).unwrapped


def vector_env(env_id: str, num_envs: int, copy: bool, **kwargs: Any) -> Any:
    """The native vector env; without ``copy=`` when its constructor does not take it."""
    mode = "vector_entry_point"
    try:
        return gym.make_vec(env_id, num_envs, vectorization_mode=mode, copy=copy, **kwargs)
    except TypeError as error:
        if "copy" not in str(error):
            raise
        return gym.make_vec(env_id, num_envs, vectorization_mode=mode, **kwargs)


def gridnav_cases(num_envs: list[int], copy: bool) -> tuple[list[Case], list[str]]:
    """GridNav single (``gym.make`` and ``.unwrapped``) and vector env (``num_envs``) rows
    per observation mode, on four rooms (fixed corners) and on a new map every reset."""
    procedural: tuple[str, dict[str, Any], str] = (
        "rlkit/GridNav-v0",
        {},
        "new 11x11 map each reset",
    )
    fixed = ("rlkit/GridNav-Map-v0", FIXED, "four rooms, fixed start and goal")
    configs = [(*fixed, "index")] + [
        (*config, obs) for obs in ("coords", "symbolic", "pixels") for config in (procedural, fixed)
    ]
    singles, vectors = [], []
    for env_id, kwargs, about, obs in configs:
        base = {"symbolic": MINIGRID_SYMBOLIC, "pixels": MINIGRID_RGB}.get(obs)
        make = partial(gym.make, env_id, obs=obs, **kwargs)
        singles.append(Case(env_id, obs, "gym.make", make, base, about))
        make = partial(unwrapped, env_id, obs=obs, **kwargs)
        singles.append(Case(env_id, obs, ".unwrapped", make, base, about))
        for n in num_envs:
            make = partial(vector_env, env_id, n, copy, obs=obs, **kwargs)
            vectors.append(Case(env_id, obs, f"vector N={n}", make, about=about))
    return singles + vectors, []


def minigrid_cases() -> tuple[list[Case], list[str]]:
    try:
        import minigrid  # registers the MiniGrid ids
        from minigrid.wrappers import RGBImgObsWrapper
    except ModuleNotFoundError as error:
        if error.name == "minigrid":
            return [], ["minigrid not installed: pip install --no-deps minigrid"]
        return [], [f"minigrid not importable, it needs {error.name!r}: {error}"]
    del minigrid
    return [
        Case(MINIGRID, "symbolic", "gym.make", partial(gym.make, MINIGRID),
             about="default obs: image, 7x7x3 partial view"),
        Case(MINIGRID, "pixels", "gym.make", lambda: RGBImgObsWrapper(gym.make(MINIGRID)),
             about="RGBImgObsWrapper: 64x64 RGB full view"),
    ], []  # fmt: skip


def arm_cases(
    num_envs: list[int], obstacles_num_envs: int, copy: bool
) -> tuple[list[Case], list[str]]:
    try:  # being written: it may be absent, registered by `import envs`, or need this call
        import envs.arm

        if callable(register := getattr(envs.arm, "register_arm_envs", None)):
            register()
    except Exception as error:
        if ARM not in gym.registry:
            return [], [f"ArmReach not available ({type(error).__name__}: {error})"]
    if ARM not in gym.registry:
        return [], ["ArmReach not available"]
    cases = [
        Case(ARM, obs, "gym.make", partial(gym.make, ARM, obs=obs), REACHER_KEY)
        for obs in ("flat", "dict", "pixels")
    ]
    notes = []
    has_obstacles = ARM_OBSTACLES in gym.registry
    if has_obstacles:
        make = partial(gym.make, ARM_OBSTACLES, obs="flat")
        cases.append(Case(ARM_OBSTACLES, "flat", "gym.make", make, REACHER_KEY))
    else:
        notes.append(f"{ARM_OBSTACLES} not registered: skipped")
    if gym.spec(ARM).vector_entry_point is None:
        return cases, [*notes, f"{ARM} has no vector_entry_point: vector rows skipped"]
    vectors = [(ARM, n) for n in num_envs]
    vectors += [(ARM_OBSTACLES, obstacles_num_envs)] * has_obstacles
    for env_id, n in vectors:
        make = partial(vector_env, env_id, n, copy, obs="flat")
        cases.append(Case(env_id, "flat", f"vector N={n}", make))
    return cases, notes


def reacher_cases() -> tuple[list[Case], list[str]]:
    try:
        import mujoco

        del mujoco
    except ImportError as error:
        return [], [f"mujoco not importable ({error}): pip install mujoco for {REACHER}"]
    return [Case(REACHER, "flat", "gym.make", partial(gym.make, REACHER), about="MuJoCo")], []


def baselines_first(cases: list[Case]) -> list[Case]:
    """Each baseline moved to just before the first row compared with it: the load of a
    shared machine drifts, and a ratio is fair only between rows timed close together."""
    by_key = {case.key: case for case in cases}
    ordered: dict[str, Case] = {}
    for case in cases:
        if case.baseline in by_key:
            ordered.setdefault(case.baseline, by_key[case.baseline])
        ordered.setdefault(case.key, case)
    return list(ordered.values())
