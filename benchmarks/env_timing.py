"""How ``env_throughput.py`` times one row: random actions drawn up front, a timed loop
that reads the clock rarely, single envs reset on episode end, vector envs autoresetting.

:func:`run_case` makes a row's env, notes its wrappers and times it with
:func:`measure_single` or :func:`measure_vector`; an error becomes the row's ``error``.
"""

from __future__ import annotations

import gc
import itertools
import time
import traceback
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from env_cases import Case
from gymnasium import spaces


def random_actions(space: gym.Space[Any], lead: tuple[int, ...], rng: np.random.Generator) -> Any:
    """A ``lead``-shaped batch of uniform random actions of ``space``, one numpy array."""
    if isinstance(space, spaces.Discrete):
        return int(space.start) + rng.integers(int(space.n), size=lead)
    if isinstance(space, spaces.Box):
        size = (*lead, *space.shape)
        if space.is_bounded("both"):
            return rng.uniform(space.low, space.high, size=size).astype(space.dtype)
        return np.clip(rng.standard_normal(size), space.low, space.high).astype(space.dtype)
    raise TypeError(f"no batched sampler for action space {space}")


def timed(
    run: Callable[[int], object], seconds: float, warmup: float, cycle: int | None = None
) -> tuple[int, float]:
    """Steps that ``run(k)`` (``k`` steps a call) does in ``seconds`` or a bit more, and the time.

    The warm-up doubles ``k`` while a call takes under 1% of the budget: the clock is
    read rarely and the budget overshot by about 1% at most. With ``cycle``, timing
    stops on a whole number of cycles only, at least one.
    """
    k, start = 1, time.perf_counter()
    while True:
        t0 = time.perf_counter()
        run(k)
        now = time.perf_counter()
        if now - start >= warmup:
            break
        if now - t0 < seconds / 100:
            k *= 2
    if cycle is not None:  # the largest divisor of the cycle up to k: no call crosses its end
        k = max(d for d in range(1, min(k, cycle) + 1) if cycle % d == 0)
    steps, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        run(k)
        steps += k
        now = time.perf_counter()
        if now >= deadline and (cycle is None or steps % cycle == 0):
            return steps, now - start


def measure_single(env: Any, seed: int, seconds: float, warmup: float) -> dict[str, Any]:
    """Steps/s of a single env, reset on ``terminated or truncated``."""
    pool = random_actions(env.action_space, (4096,), np.random.default_rng(seed))
    actions = itertools.cycle(pool.tolist() if pool.ndim == 1 else list(pool))  # ints or rows
    step, reset = env.step, env.reset
    t0 = time.perf_counter()
    reset(seed=seed)
    first_reset = time.perf_counter() - t0
    episodes = 0

    def run(k: int) -> None:
        nonlocal episodes
        for action in itertools.islice(actions, k):
            _, _, terminated, truncated, _ = step(action)
            if terminated or truncated:
                reset()
                episodes += 1

    steps, elapsed = timed(run, seconds, warmup)
    return {"steps": steps, "elapsed_s": elapsed, "first_reset_s": first_reset,
            "episodes_with_warmup": episodes}  # fmt: skip


def measure_vector(env: Any, seed: int, seconds: float, warmup: float) -> dict[str, Any]:
    """Steps/s of a vector env (``num_envs`` env-steps per vector step), autoresetting."""
    n, space = env.num_envs, env.single_action_space
    depth = max(16, min(256, 2**20 // (n * int(np.prod(space.shape or (1,))))))  # <= ~8 MB
    pool = random_actions(space, (depth, n), np.random.default_rng(seed))
    actions = itertools.cycle(list(pool))
    step = env.step
    t0 = time.perf_counter()
    env.reset(seed=seed)
    first_reset = time.perf_counter() - t0

    def run(k: int) -> None:
        for action in itertools.islice(actions, k):
            step(action)

    # Sub-envs that start together truncate together (random actions seldom reach the
    # goal), so their resets come in bursts, one per max_steps + 1 vector steps (the +1:
    # NEXT_STEP's reset step). Timing whole cycles counts each burst exactly once.
    max_steps = getattr(getattr(env.unwrapped, "config", None), "max_steps", None)
    cycle = max_steps + 1 if isinstance(max_steps, int) else None
    vector_steps, elapsed = timed(run, seconds, warmup, cycle)
    return {"steps": vector_steps * n, "vector_steps": vector_steps, "elapsed_s": elapsed,
            "autoreset_cycle": cycle, "first_reset_s": first_reset}  # fmt: skip


def run_case(case: Case, seed: int, seconds: float, warmup: float) -> dict[str, Any]:
    """One row: its env made, its wrappers named, timed; an error is kept in the row."""
    row: dict[str, Any] = {"key": case.key, "env": case.env, "about": case.about, "obs": case.obs,
                           "kind": case.how, "baseline": case.baseline, "steps_per_s": None,
                           "error": None}  # fmt: skip
    env = None
    try:
        t0 = time.perf_counter()
        env = case.make()
        row["make_s"] = time.perf_counter() - t0
        if vector := isinstance(env, gym.vector.VectorEnv):
            copy = getattr(env.unwrapped, "copy", None)
            row["wrappers"] = "native vector env" + ("" if copy is None else f", copy={copy}")
        else:
            wrappers, inner = [], env
            while isinstance(inner, gym.Wrapper):
                wrappers.append(type(inner).__name__)
                inner = inner.env
            row["wrappers"] = ", ".join(wrappers) or "none"
        measure = measure_vector if vector else measure_single
        row.update(measure(env, seed, seconds, warmup))
        row["steps_per_s"] = row["steps"] / row["elapsed_s"]
    except Exception as error:  # one broken env must not hide the other rows
        row["error"] = f"{type(error).__name__}: {error}"
        row["traceback"] = traceback.format_exc()
    finally:
        if env is not None:
            env.close()
        del env
        gc.collect()  # the big buffers of one row must not slow the next
    return row
