"""Environment steps per second with random actions, against the baselines of our field.

Every row steps one environment for a fixed time (``--seconds``, after a warm-up) with
random actions drawn before timing in one numpy batch and cycled, so sampling costs
nothing in the timed loop. Resets are included: a single env is reset on ``terminated
or truncated``; a vector env autoresets (Gymnasium's NEXT_STEP) and counts ``num_envs``
env-steps per vector step.

1. GridNav single env through ``gym.make`` (the headline: what users get, Gymnasium's
   wrappers included) and through ``.unwrapped``: ``obs="index"`` on
   ``rlkit/GridNav-Map-v0`` (four rooms, start and goal fixed); ``coords``, ``symbolic``
   and ``pixels`` there and on ``rlkit/GridNav-v0`` (a new 11x11 map every reset); then
   the native vector env (``gym.make_vec(..., vectorization_mode="vector_entry_point")``)
   at N = 1, 64, 1024 in the same configurations;
2. Minigrid ``MiniGrid-Empty-8x8-v0`` (``pip install --no-deps minigrid``): its default
   symbolic ``image`` (7x7x3 partial view) and with ``RGBImgObsWrapper`` (full view,
   64x64 RGB);
3. ArmReach single (flat, dict, pixels) and vector (flat, N = 1 ... 4096), and
   ArmReachObstacles (single, and vector at N = 64);
4. Gymnasium MuJoCo ``Reacher-v5`` (``pip install mujoco``).

Each baseline row runs just before the first row compared with it (load drifts).

Targets: GridNav single symbolic >= 10x Minigrid symbolic and pixels >= 20x Minigrid
RGB (``gym.make`` against ``gym.make``); GridNav vector >= 1,000,000 steps/s in index
and symbolic mode (largest N); ArmReach single flat >= 3x Reacher-v5; ArmReach vector
>= 500,000 steps/s (largest N). Prints a markdown table with each row's ratio to its
baseline from the same run, the targets passed or missed, and a machine line; writes it
all to a JSON file. Exits 0 when targets are missed (a measurement, not a test), 1 when
a row failed to run. Missing baselines or envs are skipped with a note.

    python benchmarks/env_throughput.py            # every row, 1-2 minutes
    python benchmarks/env_throughput.py --quick    # smoke test, seconds
    python benchmarks/env_throughput.py --sections gridnav minigrid --seconds 3
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from scripting import REPO, dataclass_parser, machine, progress, write_json_atomic

import envs

SECTIONS = ("gridnav", "minigrid", "arm", "reacher")
MINIGRID, REACHER = "MiniGrid-Empty-8x8-v0", "Reacher-v5"
ARM, ARM_OBSTACLES = "rlkit/ArmReach-v0", "rlkit/ArmReachObstacles-v0"
# Baseline rows, by key: "<id>/<obs>/<how>".
MINIGRID_SYMBOLIC, MINIGRID_RGB = f"{MINIGRID}/symbolic/gym.make", f"{MINIGRID}/pixels/gym.make"
REACHER_KEY = f"{REACHER}/flat/gym.make"
# Opposite corners of the four-rooms map: the same episode every reset.
FIXED = {"map": envs.grid.FOUR_ROOMS, "start": (0, 0), "goal": (10, 10)}

T = TypeVar("T")


@dataclass
class Args:
    seconds: float = 1.0
    """timed seconds per row, after the warm-up"""
    warmup: float = 0.25
    """warm-up seconds per row (first resets, caches); it also sizes the blocks of steps
    between clock reads"""
    grid_num_envs: list[int] = field(default_factory=lambda: [1, 64, 1024])
    """GridNav vector env sizes"""
    arm_num_envs: list[int] = field(default_factory=lambda: [1, 64, 1024, 4096])
    """ArmReach vector env sizes (flat observations)"""
    obstacles_num_envs: int = 64
    """ArmReachObstacles vector env size (each of its resets plans: tens of milliseconds)"""
    vector_copy: bool = False
    """vector envs return copies of their observation buffers (Gymnasium's default
    copy=True); without it copy=False, which times the env rather than a memcpy"""
    sections: list[str] = field(default_factory=lambda: list(SECTIONS))
    """parts to run, of: gridnav, minigrid, arm, reacher"""
    seed: int = 0
    """seed of the first reset and of the random actions"""
    out: str = str(REPO / "benchmarks/results/env_throughput.json")
    """JSON file for the results (written atomically)"""
    quick: bool = False
    """smoke test: 0.1 s per row, vector envs of 1 and 16"""


def parse_args(argv: list[str] | None = None) -> Args:
    parser = dataclass_parser(Args, __doc__)
    args = Args(**vars(parser.parse_args(argv)))
    if args.quick:
        args.seconds, args.warmup = min(args.seconds, 0.1), min(args.warmup, 0.02)
        args.grid_num_envs, args.arm_num_envs = [1, 16], [1, 16]
        args.obstacles_num_envs = min(args.obstacles_num_envs, 16)
    if args.seconds <= 0 or args.warmup < 0:
        parser.error("--seconds must be > 0 and --warmup >= 0")
    if min(*args.grid_num_envs, *args.arm_num_envs, args.obstacles_num_envs) < 1:
        parser.error("vector env sizes must be at least 1")
    if unknown := sorted(set(args.sections) - set(SECTIONS)):
        parser.error(f"unknown --sections {unknown}: choose from {list(SECTIONS)}")
    return args


# ---------------------------------------------------------------------- timing


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


def measure_single(env: Any, args: Args) -> dict[str, Any]:
    pool = random_actions(env.action_space, (4096,), np.random.default_rng(args.seed))
    actions = itertools.cycle(pool.tolist() if pool.ndim == 1 else list(pool))  # ints or rows
    step, reset = env.step, env.reset
    t0 = time.perf_counter()
    reset(seed=args.seed)
    first_reset = time.perf_counter() - t0
    episodes = 0

    def run(k: int) -> None:
        nonlocal episodes
        for action in itertools.islice(actions, k):
            _, _, terminated, truncated, _ = step(action)
            if terminated or truncated:
                reset()
                episodes += 1

    steps, elapsed = timed(run, args.seconds, args.warmup)
    return {"steps": steps, "elapsed_s": elapsed, "first_reset_s": first_reset,
            "episodes_with_warmup": episodes}  # fmt: skip


def measure_vector(env: Any, args: Args) -> dict[str, Any]:
    n, space = env.num_envs, env.single_action_space
    depth = max(16, min(256, 2**20 // (n * int(np.prod(space.shape or (1,))))))  # <= ~8 MB
    pool = random_actions(space, (depth, n), np.random.default_rng(args.seed))
    actions = itertools.cycle(list(pool))
    step = env.step
    t0 = time.perf_counter()
    env.reset(seed=args.seed)
    first_reset = time.perf_counter() - t0

    def run(k: int) -> None:
        for action in itertools.islice(actions, k):
            step(action)

    # Sub-envs that start together truncate together (random actions seldom reach the
    # goal), so their resets come in bursts, one per max_steps + 1 vector steps (the +1:
    # NEXT_STEP's reset step). Timing whole cycles counts each burst exactly once.
    max_steps = getattr(getattr(env.unwrapped, "config", None), "max_steps", None)
    cycle = max_steps + 1 if isinstance(max_steps, int) else None
    vector_steps, elapsed = timed(run, args.seconds, args.warmup, cycle)
    return {"steps": vector_steps * n, "vector_steps": vector_steps, "elapsed_s": elapsed,
            "autoreset_cycle": cycle, "first_reset_s": first_reset}  # fmt: skip


# ---------------------------------------------------------------------- the rows


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


def gridnav_cases(args: Args) -> tuple[list[Case], list[str]]:
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
        for n in args.grid_num_envs:
            make = partial(vector_env, env_id, n, args.vector_copy, obs=obs, **kwargs)
            vectors.append(Case(env_id, obs, f"vector N={n}", make, about=about))
    return singles + vectors, []


def minigrid_cases(args: Args) -> tuple[list[Case], list[str]]:
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


def arm_cases(args: Args) -> tuple[list[Case], list[str]]:
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
    vectors = [(ARM, n) for n in args.arm_num_envs]
    vectors += [(ARM_OBSTACLES, args.obstacles_num_envs)] * has_obstacles
    for env_id, n in vectors:
        make = partial(vector_env, env_id, n, args.vector_copy, obs="flat")
        cases.append(Case(env_id, "flat", f"vector N={n}", make))
    return cases, notes


def reacher_cases(args: Args) -> tuple[list[Case], list[str]]:
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


def run_case(case: Case, args: Args) -> dict[str, Any]:
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
        row.update((measure_vector if vector else measure_single)(env, args))
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


# ---------------------------------------------------------------------- report


def targets(args: Args) -> list[tuple[str, float, str | None]]:
    """``(row, minimum, baseline row)``: a ratio to the baseline, or steps/s without one."""
    grid, arm = f"vector N={max(args.grid_num_envs)}", f"vector N={max(args.arm_num_envs)}"
    procedural, fixed = "rlkit/GridNav-v0", "rlkit/GridNav-Map-v0"
    return [
        (f"{procedural}/symbolic/gym.make", 10, MINIGRID_SYMBOLIC),
        (f"{fixed}/symbolic/gym.make", 10, MINIGRID_SYMBOLIC),
        (f"{procedural}/pixels/gym.make", 20, MINIGRID_RGB),
        (f"{fixed}/pixels/gym.make", 20, MINIGRID_RGB),
        (f"{fixed}/index/{grid}", 1e6, None),
        (f"{fixed}/symbolic/{grid}", 1e6, None),
        (f"{procedural}/symbolic/{grid}", 1e6, None),
        (f"{ARM}/flat/gym.make", 3, REACHER_KEY),
        (f"{ARM}/flat/{arm}", 5e5, None),
    ]


def judge(key: str, minimum: float, baseline: str | None, rows: dict[str, Any]) -> dict[str, Any]:
    name = f"{key} >= {minimum:g}x {baseline}" if baseline else f"{key} >= {minimum:,.0f} steps/s"
    rate = (rows.get(key) or {}).get("steps_per_s")
    base = (rows.get(baseline) or {}).get("steps_per_s") if baseline else 1.0
    if rate is None or base is None:
        return {"target": name, "status": "n/a", "value": None, "why": "not measured"}
    value = rate / base
    return {"target": name, "status": "PASS" if value >= minimum else "MISS", "value": value}


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| env | obs | kind | wrappers | steps/s | vs baseline (same run) |",
        "|---|---|---|---|--:|---|",
    ]
    for r in rows:
        rate = "error" if r["error"] else f"{r['steps_per_s']:,.0f}"
        ratio = f"{r['ratio']:.1f}x {r['baseline']}" if r.get("ratio") else ""
        env = f"{r['env']} ({r['about']})" if r["about"] else r["env"]
        kind = r["kind"] if r["kind"].startswith("vector") else f"single, {r['kind']}"
        cells = (env, r["obs"], kind, r.get("wrappers", ""), rate, ratio)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    collect = {"gridnav": gridnav_cases, "minigrid": minigrid_cases, "arm": arm_cases,
               "reacher": reacher_cases}  # fmt: skip
    cases: list[Case] = []
    notes: list[str] = []
    for section in SECTIONS:
        if section in args.sections:
            more, why = collect[section](args)
            cases, notes = cases + more, notes + why
    for note in notes:
        print(note)
    cases = baselines_first(cases)

    rows = [run_case(case, args) for case in progress(cases, desc="env throughput", unit="row")]
    by_key = {r["key"]: r for r in rows}
    for r in rows:
        base = by_key.get(r["baseline"] or "")
        if r["steps_per_s"] and base and base["steps_per_s"]:
            r["ratio"] = r["steps_per_s"] / base["steps_per_s"]
    verdicts = [judge(*target, by_key) for target in targets(args)]
    about = machine("gymnasium", "minigrid", "mujoco")
    wall = time.perf_counter() - started

    table = markdown_table(rows)
    print(table)
    print()
    print(
        f"machine: {about['platform']} | {about['cpu']} ({about['cpus']} CPUs, "
        f"load {about['load_1min']}) | Python {about['python']} | numpy {about['numpy']}, "
        f"gymnasium {about['gymnasium']}, minigrid {about['minigrid']}, "
        f"mujoco {about['mujoco']} | git {about['git_commit']} | {about['date']}"
    )
    print(
        f"{args.seconds:g} s per row after {args.warmup:g} s warm-up, random actions, resets "
        f"included, vector copy={args.vector_copy}; wall time {wall:.0f} s"
    )
    print("\ntargets:" + (" (--quick: small N, 0.1 s rows; not a verdict)" if args.quick else ""))
    for v in verdicts:
        value = v["value"]
        shown = (
            "" if value is None else f"{value:,.0f} steps/s" if value > 1000 else f"{value:.1f}x"
        )
        print(f"  {v['status']:4}  {v['target']}: {shown or v['why']}")
    if misses := sum(v["status"] == "MISS" for v in verdicts):
        print(
            f"MISSED {misses} of {len(verdicts)} targets (a measurement: the exit status stays 0)"
        )
    errors = [r for r in rows if r["error"]]
    for r in errors:
        print(f"\nERROR in {r['key']}:\n{r['traceback']}", file=sys.stderr)

    write_json_atomic(
        Path(args.out),
        {
            "command": [sys.executable, *sys.argv],
            "args": dataclasses.asdict(args),
            "machine": about,
            "wall_time_s": wall,
            "notes": notes,
            "rows": rows,
            "targets": verdicts,
            "table": table,
        },
    )
    print(f"results: {args.out}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
