"""Grid planning on the MovingAI benchmark maps: correct against the published optima,
and how fast against networkx and the compiled path-finding libraries tcod and pyastar2d.

For every map with a scenario file:

1. graph build: ``GridMap(occupancy).csgraph(8)`` (vectorised numpy) against the naive
   way, a networkx graph built cell by cell in a Python loop; the two graphs are checked
   to hold the same edges and weights;
2. correctness: EVERY scenario is planned with ``GridMap.plan`` and its cost compared
   with the published ``optimal_length`` (tolerance 1e-4);
3. speed: a sample of queries, spread evenly over the scenario file, is timed with
   ``GridMap.plan``, ``networkx.astar_path`` (octile heuristic) on ``grid.to_networkx()``
   and every baseline of :mod:`movingai_baselines` (tcod's A*, Dijkstra and classic A*,
   pyastar2d, each on the movement rules it supports), interleaved query by query: each
   round runs every planner once, and each keeps its fastest round. Every baseline's path
   is checked: a walk by its rule, its length against the MovingAI optimum and against
   its own rule's optimum. Per-map setup (arrays, graphs) is timed apart;
4. ``GridMap.plan_many`` on the same queries in one call against a Python loop of
   ``GridMap.plan``, where this rlkit has ``plan_many``.

The target (issue #17): GridMap.plan per query >= 1.0x the fastest C library on every
map. Prints the tables (:mod:`movingai_report`), notes and a machine line, writes the
report (markdown) and everything, per-query raw times included, to a JSON file, and exits
with status 1 when any cost rlkit planned misses its optimum (the libraries' costs are
reported, not judged). tcod and pyastar2d are optional (``pip install -e '.[bench]'``):
without them their columns say so and the rest runs.

    python benchmarks/planners_movingai.py              # all maps, a few minutes
    python benchmarks/planners_movingai.py --quick      # smoke test, seconds
    python benchmarks/planners_movingai.py --maps den312d lak303d --backend dijkstra
"""

from __future__ import annotations

import math
import os
import shlex
import statistics
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from movingai_baselines import LIBRARIES, NOT_INSTALLED, TOLERANCE, library_status, make_baselines
from movingai_report import (
    OURS,
    TARGET_RATIO,
    many_table,
    maps_table,
    notes,
    rules_table,
    speed_table,
    summarise,
    target,
)
from movingai_timing import fastest, time_plan_many, time_sample, time_setup
from scripting import REPO, machine, parse_dataclass, progress, write_results

import planners.grid
from planners import GridMap
from planners.movingai import Scenario, read_map, read_scen
from rlkit.atomic import atomic_write_text

# The data is not in the repository: it lies beside the checkout (shared/data/movingai).
DEFAULT_DATA = os.environ.get("RLKIT_MOVINGAI_DIR", str(REPO.parent / "shared/data/movingai"))
# Maps small enough for a smoke test that still covers open, cluttered and game maps.
QUICK_MAPS = ("empty-32-32", "random-32-32-20", "den312d")
SQRT2 = math.sqrt(2.0)
RESULTS = REPO / "benchmarks/results/planners_movingai"
# every backend GridMap.plan takes here (ALL_BACKENDS adds those for uniform-cost maps)
PLAN_BACKENDS: tuple[str, ...] = getattr(planners.grid, "ALL_BACKENDS", planners.grid.BACKENDS)


@dataclass
class Args:
    data: str = DEFAULT_DATA
    """folder with the MovingAI .map and .scen files (default: shared/data/movingai beside
    the repository, or $RLKIT_MOVINGAI_DIR)"""
    maps: list[str] = field(default_factory=list)
    """map names (file stems) to run; default: every map that has a scenario file"""
    nx_sample: int = 40
    """queries per map timed with every planner (networkx and the C libraries too),
    spread evenly across the scenario file"""
    repeat: int = 3
    """interleaved timing rounds of each sampled query, and repeats of each build; the
    fastest counts"""
    libraries: list[str] = field(default_factory=lambda: list(LIBRARIES))
    """C path-finding libraries to time (tcod, pyastar2d); one not installed is reported
    as such, not timed"""
    out: str = str(RESULTS / "planners_movingai.json")
    """JSON file for the results (written atomically)"""
    report: str = ""
    """markdown report: tables, notes, machine (default: report.md beside --out)"""
    backend: str = "auto"
    """GridMap.plan backend: auto, or one built here (planners.grid.ALL_BACKENDS)"""
    quick: bool = False
    """smoke test: the smallest maps only, 5 timed queries, one round"""


#: What --quick sets (a callable maps the given value).
QUICK = {"nx_sample": partial(min, 5), "repeat": 1}


def parse_args(argv: list[str] | None = None) -> Args:
    args, parser = parse_dataclass(Args, __doc__, argv, QUICK)
    if args.nx_sample < 1 or args.repeat < 1:
        parser.error("--nx-sample and --repeat must be at least 1")
    unknown = sorted(set(args.libraries) - set(LIBRARIES))
    if unknown:
        parser.error(f"--libraries must be among {list(LIBRARIES)}, got {unknown}")
    if args.backend not in ("auto", *PLAN_BACKENDS):
        parser.error(f"--backend must be one of {('auto', *PLAN_BACKENDS)}, got {args.backend!r}")
    return args


# ---------------------------------------------------------------------- helpers


def find_maps(folder: Path) -> dict[str, tuple[Path, Path]]:
    """``{map name: (map file, scenario file)}`` for every scenario file in ``folder``."""
    found = {}
    for scen in sorted(folder.glob("*.scen")):
        scenarios = read_scen(scen)
        if scenarios and (folder / scenarios[0].map_name).exists():
            map_path = folder / scenarios[0].map_name
            found[map_path.stem] = (map_path, scen)
    return found


def naive_networkx_graph(grid: GridMap) -> nx.Graph:
    """The move graph built the obvious way: a Python loop over cells and their 8 moves.

    Plain lists, not numpy element access (slower still), so the baseline is fair.
    """
    occupied = grid.occupancy.tolist()
    terrain = grid.terrain.tolist() if grid.terrain is not None else None
    rows, cols = grid.shape
    G = nx.Graph()
    for r in range(rows):
        for c in range(cols):
            if occupied[r][c]:
                continue
            G.add_node((r, c))
            for dr, dc in planners.grid.MOVES_8:
                nr, nc = r + dr, c + dc
                if not (0 <= nr < rows and 0 <= nc < cols) or occupied[nr][nc]:
                    continue
                if dr and dc and (occupied[nr][c] or occupied[r][nc]):
                    continue  # no corner cutting
                step = SQRT2 if dr and dc else 1.0
                cost = step if terrain is None else step * (terrain[r][c] + terrain[nr][nc]) / 2
                G.add_edge((r, c), (nr, nc), weight=cost)
    return G


def same_graph(a: nx.Graph, b: nx.Graph) -> bool:
    if set(a.nodes) != set(b.nodes) or a.number_of_edges() != b.number_of_edges():
        return False
    return all(
        b.has_edge(u, v) and abs(w - b[u][v]["weight"]) <= 1e-12
        for u, v, w in a.edges(data="weight")
    )


def describe_machine(args: Args) -> dict[str, Any]:
    return {
        **machine("scipy", "networkx", "rlkit", "tcod", "pyastar2d"),
        "backend": args.backend,
        "backends_available": list(PLAN_BACKENDS),
    }


def median_ms(seconds: list[float]) -> float:
    return 1000.0 * statistics.median(seconds)


# ---------------------------------------------------------------------- one map


def check_every_scenario(
    name: str, grid: GridMap, scenarios: list[Scenario], keywords: dict[str, Any]
) -> tuple[list[float], list[dict[str, Any]]]:
    """Every scenario planned against its published optimum: the times, and the misses
    (this also warms the map's caches before the timed runs)."""
    check_times, wrong = [], []
    for i, s in enumerate(progress(scenarios, desc=f"{name} check", leave=False)):
        start = time.perf_counter()
        cost = grid.plan(s.start, s.goal, **keywords).cost
        check_times.append(time.perf_counter() - start)
        if not math.isclose(cost, s.optimal_length, rel_tol=0, abs_tol=TOLERANCE):
            wrong.append({"index": i, "planned": cost, "optimal_length": s.optimal_length})
    return check_times, wrong


def benchmark_map(name: str, map_path: Path, scen_path: Path, args: Args) -> dict[str, Any]:
    """One map: 1. graph build against the naive loop, 2. every scenario against its
    optimum, 3. a sample of queries timed against networkx and the C libraries,
    4. plan_many against a loop of plan."""
    grid = read_map(map_path)
    scenarios = read_scen(scen_path)
    keywords: dict[str, Any] = {"backend": args.backend}

    # 1. graph build, ours (from a fresh GridMap: nothing cached) against the naive loop
    ours_build, ours_build_times, _ = fastest(
        lambda: GridMap(grid.occupancy, grid.terrain).csgraph(8), args.repeat
    )
    start = time.perf_counter()
    naive = naive_networkx_graph(grid)  # once: it takes seconds on the large maps
    naive_build = time.perf_counter() - start
    start = time.perf_counter()
    G = grid.to_networkx(8)
    to_networkx = time.perf_counter() - start
    if not same_graph(naive, G):
        raise AssertionError(f"{name}: the naive graph differs from GridMap.to_networkx()")
    del naive

    check_times, wrong = check_every_scenario(name, grid, scenarios, keywords)
    probe = scenarios[0].start
    setup = {OURS: time_setup(grid, probe, keywords, args.repeat)}
    baselines = make_baselines(grid, args.libraries, probe)
    setup.update({b.name: b.setup_s for b in baselines})
    sample = time_sample(name, grid, G, scenarios, baselines, keywords, args.nx_sample, args.repeat)
    many = time_plan_many(grid, [scenarios[q["index"]] for q in sample], keywords, args.repeat)
    networkx_wrong = sum(
        not math.isclose(q["networkx_cost"], q["optimal_length"], abs_tol=TOLERANCE) for q in sample
    )
    rows, cols = grid.shape
    return {
        "map": name,
        "map_file": map_path.name,
        "scen_file": scen_path.name,
        "rows": rows,
        "cols": cols,
        "free_cells": int(np.count_nonzero(grid.free)),
        "edges": G.number_of_edges(),
        "queries_checked": len(scenarios),
        "mismatches": len(wrong),
        "mismatch_examples": wrong[:10],
        "networkx_mismatches": networkx_wrong,
        "ours_build_s": ours_build,
        "ours_build_times_s": ours_build_times,
        "naive_build_s": naive_build,
        "to_networkx_s": to_networkx,
        "build_speedup": naive_build / ours_build,
        "check_median_ms": median_ms(check_times),
        "check_times_s": check_times,
        "ours_median_ms": median_ms([q["ours_s"] for q in sample]),
        "networkx_median_ms": median_ms([q["networkx_s"] for q in sample]),
        "median_speedup": statistics.median(q["speedup"] for q in sample),
        "setup_s": setup,
        "baselines": {b.name: summarise(b, sample) for b in baselines},
        "plan_many": many,
        "sample": sample,
    }


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    folder = Path(args.data)
    if not folder.is_dir():
        print(
            f"MovingAI data not found at {folder}: pass --data or set RLKIT_MOVINGAI_DIR",
            file=sys.stderr,
        )
        return 2
    available = find_maps(folder)
    if args.maps:
        unknown = sorted(set(args.maps) - set(available))
        if unknown:
            print(
                f"no map with a scenario file named {unknown}; have {sorted(available)}",
                file=sys.stderr,
            )
            return 2
        names = args.maps
    elif args.quick:
        names = [m for m in QUICK_MAPS if m in available] or sorted(available)[:2]
    else:
        names = sorted(available)

    status = library_status(args.libraries)
    load_start = round(os.getloadavg()[0], 2)
    results = [benchmark_map(name, *available[name], args) for name in progress(names, desc="maps")]
    for r in results:
        r["target"] = target(r)
    about = describe_machine(args)
    wall = time.perf_counter() - started
    mismatches = sum(r["mismatches"] for r in results)
    many_mismatches = sum(r["plan_many"]["mismatches"] for r in results if r["plan_many"])
    checked = sum(r["queries_checked"] for r in results)
    timed = sum(len(r["sample"]) for r in results)

    tables = {
        "Correctness on every scenario, and against networkx": maps_table(results),
        "Against the C libraries: median ms per query": speed_table(results, status),
        "plan_many, and per-map setup": many_table(results, status),
        "Movement rules and path costs (sampled queries)": rules_table(results, status),
    }
    about.update({lib: None for lib, text in status.items() if text == NOT_INSTALLED})
    versions = ", ".join(f"{p} {about[p] or 'not installed'}"
                         for p in ("numpy", "scipy", "networkx", "tcod", "pyastar2d"))  # fmt: skip
    run_line = (
        f"{checked} queries checked against their optimum, {mismatches} mismatches "
        f"(plan_many: {many_mismatches}); {timed} sampled queries timed with every planner, "
        f"fastest of {args.repeat} interleaved rounds; target: {OURS} >= {TARGET_RATIO:.1f}x "
        f"the fastest C library on every map; wall time {wall:.1f} s; 1-min load "
        f"{load_start} at the start, {about['load_1min']} at the end (shared CPUs)"
    )
    machine_line = (
        f"machine: {about['platform']} | {about['cpu']} ({about['cpus']} CPUs) | Python "
        f"{about['python']} | {versions} | rlkit {about['rlkit']}, backend {args.backend} "
        f"(available: {', '.join(about['backends_available'])}) | {about['date']} "
        f"| git {about['git_commit']}"
    )
    warnings = [
        f"warning: networkx missed the optimum on {r['networkx_mismatches']} sampled queries "
        f"of {r['map']}"
        for r in results
        if r["networkx_mismatches"]
    ]
    body = "\n\n".join(f"## {title}\n\n{table}" for title, table in tables.items())
    text = f"{body}\n\n## Notes\n\n" + "\n".join(notes(results, status))
    print(f"{text}\n\n{run_line}\n{machine_line}")
    print("\n".join(warnings))

    report = Path(args.report) if args.report else Path(args.out).parent / "report.md"
    given = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["python", "benchmarks/planners_movingai.py", *given])
    atomic_write_text(report, f"# Grid planning on the MovingAI maps\n\n{text}\n\n{run_line}\n\n"
                      f"- Command: `{command}`\n- {machine_line}\n" + "".join(
                          f"- {w}\n" for w in warnings))  # fmt: skip
    print(f"report: {report}")
    write_results(args.out, args, about, wall, queries_checked=checked, mismatches=mismatches,
                  plan_many_mismatches=many_mismatches, tolerance=TOLERANCE,
                  target_ratio=TARGET_RATIO, libraries=status, tables=tables,
                  maps=results)  # fmt: skip
    return 1 if mismatches or many_mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
