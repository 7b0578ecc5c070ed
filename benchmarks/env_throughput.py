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

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from env_cases import (
    ARM,
    MINIGRID_RGB,
    MINIGRID_SYMBOLIC,
    REACHER_KEY,
    SECTIONS,
    Case,
    arm_cases,
    baselines_first,
    gridnav_cases,
    minigrid_cases,
    reacher_cases,
)
from env_timing import run_case
from scripting import REPO, machine, markdown_table, parse_dataclass, progress, write_results


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


#: What --quick sets (a callable maps the given value).
QUICK = {
    "seconds": partial(min, 0.1),
    "warmup": partial(min, 0.02),
    "grid_num_envs": [1, 16],
    "arm_num_envs": [1, 16],
    "obstacles_num_envs": partial(min, 16),
}


def parse_args(argv: list[str] | None = None) -> Args:
    args, parser = parse_dataclass(Args, __doc__, argv, QUICK)
    if args.seconds <= 0 or args.warmup < 0:
        parser.error("--seconds must be > 0 and --warmup >= 0")
    if min(*args.grid_num_envs, *args.arm_num_envs, args.obstacles_num_envs) < 1:
        parser.error("vector env sizes must be at least 1")
    if unknown := sorted(set(args.sections) - set(SECTIONS)):
        parser.error(f"unknown --sections {unknown}: choose from {list(SECTIONS)}")
    return args


def collect(args: Args) -> tuple[list[Case], list[str]]:
    """The rows of the chosen sections, each baseline just before its first row, and
    the notes of what was skipped."""
    sections: dict[str, Callable[[], tuple[list[Case], list[str]]]] = {
        "gridnav": partial(gridnav_cases, args.grid_num_envs, args.vector_copy),
        "minigrid": minigrid_cases,
        "arm": partial(arm_cases, args.arm_num_envs, args.obstacles_num_envs, args.vector_copy),
        "reacher": reacher_cases,
    }
    cases: list[Case] = []
    notes: list[str] = []
    for section in SECTIONS:
        if section in args.sections:
            more, why = sections[section]()
            cases, notes = cases + more, notes + why
    return baselines_first(cases), notes


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


def rows_table(rows: list[dict[str, Any]]) -> str:
    cells = []
    for r in rows:
        rate = "error" if r["error"] else f"{r['steps_per_s']:,.0f}"
        ratio = f"{r['ratio']:.1f}x {r['baseline']}" if r.get("ratio") else ""
        env = f"{r['env']} ({r['about']})" if r["about"] else r["env"]
        kind = r["kind"] if r["kind"].startswith("vector") else f"single, {r['kind']}"
        cells.append((env, r["obs"], kind, r.get("wrappers", ""), rate, ratio))
    header = ("env", "obs", "kind", "wrappers", "steps/s", "vs baseline (same run)")
    return markdown_table(header, "|---|---|---|---|--:|---|", cells)


def print_targets(verdicts: list[dict[str, Any]], quick: bool) -> None:
    print("\ntargets:" + (" (--quick: small N, 0.1 s rows; not a verdict)" if quick else ""))
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


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    cases, notes = collect(args)
    for note in notes:
        print(note)

    progress_rows = progress(cases, desc="env throughput", unit="row")
    rows = [run_case(case, args.seed, args.seconds, args.warmup) for case in progress_rows]
    by_key = {r["key"]: r for r in rows}
    for r in rows:
        base = by_key.get(r["baseline"] or "")
        if r["steps_per_s"] and base and base["steps_per_s"]:
            r["ratio"] = r["steps_per_s"] / base["steps_per_s"]
    verdicts = [judge(*target, by_key) for target in targets(args)]
    about = machine("gymnasium", "minigrid", "mujoco")
    wall = time.perf_counter() - started

    table = rows_table(rows)
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
    print_targets(verdicts, args.quick)
    errors = [r for r in rows if r["error"]]
    for r in errors:
        print(f"\nERROR in {r['key']}:\n{r['traceback']}", file=sys.stderr)
    write_results(
        args.out, args, about, wall, notes=notes, rows=rows, targets=verdicts, table=table
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
