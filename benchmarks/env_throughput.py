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
4. Gymnasium MuJoCo ``Reacher-v5`` (``pip install mujoco``);
5. anchors (:mod:`jax_anchors`): the native GridNav vector env against NAVIX and
   XLand-MiniGrid (JAX on the CPU, one thread, vmapped, a ``lax.scan`` of steps repeated
   in one jit-compiled call per measurement: their best case) at N = 1024 and 4096, on
   an 8x8 empty room and 19x19 four rooms, with symbolic and pixel observations:
   interleaved rounds, medians, the ratio rlkit / NAVIX, compile times apart. jax lives
   in its own venv (``.venv-anchors``, made by ``make bench-anchors`` or ``--anchors``);
   without it those cells read "not installed".

Each baseline row runs just before the first row compared with it (load drifts).

Targets: GridNav single symbolic >= 10x Minigrid symbolic and pixels >= 20x Minigrid
RGB (``gym.make`` against ``gym.make``); GridNav vector >= 1,000,000 steps/s in index
and symbolic mode (largest N); ArmReach single flat >= 3x Reacher-v5; ArmReach vector
>= 500,000 steps/s (largest N); GridNav vector >= 1.0x NAVIX at each anchors N, map
and observation. Prints a markdown table with each row's ratio to its
baseline from the same run, the targets passed or missed, and a machine line; writes it
all to a JSON file. Exits 0 when targets are missed (a measurement, not a test), 1 when
a row failed to run. Missing baselines or envs are skipped with a note.

    python benchmarks/env_throughput.py            # every row, 1-2 minutes
    python benchmarks/env_throughput.py --quick    # smoke test, seconds
    python benchmarks/env_throughput.py --sections gridnav minigrid --seconds 3
    python benchmarks/env_throughput.py --anchors --sections anchors   # make bench-anchors
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import jax_anchors
import jax_anchors_report
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

from rlkit.atomic import atomic_write_text

ALL_SECTIONS = (*SECTIONS, "anchors")


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
    sections: list[str] = field(default_factory=lambda: list(ALL_SECTIONS))
    """parts to run, of: gridnav, minigrid, arm, reacher, anchors"""
    anchors: bool = False
    """make the anchors venv (--anchors-venv: jax, navix, xminigrid) where it is missing,
    then time the anchors; without it they run only where the venv exists (never with
    --quick)"""
    anchors_venv: str = str(jax_anchors.VENV)
    """the separate virtual environment of the JAX envs (never the project's)"""
    anchor_num_envs: list[int] = field(default_factory=lambda: [1024, 4096])
    """N of the anchors section (GridNav vector env, NAVIX, XLand-MiniGrid)"""
    anchor_maps: list[str] = field(default_factory=lambda: list(jax_anchors.MAPS))
    """maps of the anchors section, of: empty (8x8), four_rooms (19x19)"""
    anchor_obs: list[str] = field(default_factory=lambda: ["symbolic", "pixels"])
    """observation kinds of the anchors section"""
    anchor_rounds: int = 3
    """interleaved rounds per anchors configuration (medians reported)"""
    anchor_scan: int = 100
    """batched steps in the JAX envs' lax.scan, which one jitted call repeats to fill a
    measurement (fori_loop)"""
    anchor_max_steps: int = 100
    """episode step limit of every anchors env (NAVIX's default)"""
    report: str = ""
    """markdown report to write as well (empty: none)"""
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
    "anchor_num_envs": [16],
    "anchor_maps": ["empty"],
    "anchor_rounds": 1,
    "anchor_scan": partial(min, 2),
}


def parse_args(argv: list[str] | None = None) -> Args:
    args, parser = parse_dataclass(Args, __doc__, argv, QUICK)
    if args.seconds <= 0 or args.warmup < 0:
        parser.error("--seconds must be > 0 and --warmup >= 0")
    sizes = (*args.grid_num_envs, *args.arm_num_envs, args.obstacles_num_envs)
    if min(*sizes, *args.anchor_num_envs) < 1:
        parser.error("vector env sizes must be at least 1")
    if min(args.anchor_rounds, args.anchor_scan, args.anchor_max_steps) < 1:
        parser.error("--anchor-rounds, --anchor-scan and --anchor-max-steps must be at least 1")
    if unknown := sorted(set(args.sections) - set(ALL_SECTIONS)):
        parser.error(f"unknown --sections {unknown}: choose from {list(ALL_SECTIONS)}")
    if unknown := sorted(set(args.anchor_maps) - set(jax_anchors.MAPS)):
        parser.error(f"unknown --anchor-maps {unknown}: choose from {list(jax_anchors.MAPS)}")
    if unknown := sorted(set(args.anchor_obs) - {"symbolic", "pixels"}):
        parser.error(f"unknown --anchor-obs {unknown}: choose from ['symbolic', 'pixels']")
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


def target_lines(verdicts: list[dict[str, Any]], quick: bool) -> list[str]:
    lines = ["targets:" + (" (--quick: small N, 0.1 s rows; not a verdict)" if quick else "")]
    for v in verdicts:
        value = v["value"]
        shown = (
            "" if value is None else f"{value:,.0f} steps/s" if value > 1000 else f"{value:.1f}x"
        )
        lines.append(f"  {v['status']:4}  {v['target']}: {shown or v['why']}")
    if misses := sum(v["status"] == "MISS" for v in verdicts):
        lines.append(
            f"MISSED {misses} of {len(verdicts)} targets (a measurement: the exit status stays 0)"
        )
    return lines


def machine_line(about: dict[str, Any]) -> str:
    return (
        f"machine: {about['platform']} | {about['cpu']} ({about['cpus']} CPUs, "
        f"load {about['load_1min']}) | Python {about['python']} | numpy {about['numpy']}, "
        f"gymnasium {about['gymnasium']}, minigrid {about['minigrid']}, "
        f"mujoco {about['mujoco']} | git {about['git_commit']} | {about['date']}"
    )


def run_anchors(args: Args) -> jax_anchors.Result | None:
    """The anchors section (None when not chosen); it makes its venv only with --anchors."""
    if "anchors" not in args.sections:
        return None
    plan = jax_anchors.Plan(
        num_envs=args.anchor_num_envs, maps=args.anchor_maps, obs=args.anchor_obs,
        rounds=args.anchor_rounds, seconds=args.seconds, warmup=args.warmup,
        scan=args.anchor_scan, max_steps=args.anchor_max_steps, seed=args.seed,
        copy=args.vector_copy, venv=Path(args.anchors_venv),
    )  # fmt: skip
    bar = partial(progress, desc="anchors", unit="config")
    return jax_anchors.run_anchors(plan, install=args.anchors and not args.quick, progress=bar)


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
    verdicts = [judge(*target, by_key) for target in targets(args)] if rows or notes else []
    anchors = run_anchors(args)
    if anchors is not None:
        notes += anchors.notes
        verdicts += jax_anchors_report.verdicts(anchors.rows)
    about = machine("gymnasium", "minigrid", "mujoco")
    wall = time.perf_counter() - started

    table = rows_table(rows)
    parts = [table] if rows else []
    if anchors is not None:
        parts.append(jax_anchors_report.text(anchors, args.vector_copy))
    parts.append(machine_line(about))
    parts.append(
        f"{args.seconds:g} s per row after {args.warmup:g} s warm-up, random actions, resets "
        f"included, vector copy={args.vector_copy}; wall time {wall:.0f} s"
    )
    goals = target_lines(verdicts, args.quick)
    print("\n\n".join([*parts, "\n".join(goals)]))
    errors = [r for r in rows if r["error"]]
    for r in errors:
        print(f"\nERROR in {r['key']}:\n{r['traceback']}", file=sys.stderr)
    if args.report:
        command = " ".join(["python benchmarks/env_throughput.py", *sys.argv[1:]])
        listed = "\n".join([goals[0], *(f"- {line.strip()}" for line in goals[1:])])
        text = [f"# Environment throughput\n\n`{command}`", *parts, listed, *notes]
        atomic_write_text(Path(args.report), "\n\n".join(text) + "\n")
    write_results(
        args.out, args, about, wall, notes=notes, rows=rows, targets=verdicts, table=table,
        anchors=None if anchors is None else {"rows": anchors.rows, "jax": anchors.hello,
                                              "thread_flags": jax_anchors.THREAD_FLAGS},
    )  # fmt: skip
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
