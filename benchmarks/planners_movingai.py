"""Grid planning on the MovingAI benchmark maps: correct against the published optima, and
how much faster than networkx.

For every map with a scenario file:

1. graph build: ``GridMap(occupancy).csgraph(8)`` (vectorised numpy) against the naive
   way, a networkx graph built cell by cell in a Python loop; the two graphs are checked
   to hold the same edges and weights;
2. correctness: EVERY scenario is planned with ``GridMap.plan`` and its cost compared
   with the published ``optimal_length`` (tolerance 1e-4);
3. speed: a sample of queries, spread evenly over the scenario file, is timed with
   ``GridMap.plan`` and with ``networkx.astar_path`` (octile heuristic) on
   ``grid.to_networkx()``, in the same run; each query keeps its fastest repeat.

Prints one markdown table (a row per map) and a machine line, writes everything,
per-query raw times included, to a JSON file, and exits with status 1 when any planned
cost misses its optimum.

    python benchmarks/planners_movingai.py              # all maps, a few minutes
    python benchmarks/planners_movingai.py --quick      # smoke test, seconds
    python benchmarks/planners_movingai.py --maps den312d lak303d --backend dijkstra
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
import numpy as np
from scripting import REPO, machine, markdown_table, parse_dataclass, progress, write_results

import planners.grid
from planners import GridMap
from planners.movingai import Scenario, read_map, read_scen

# The data is not in the repository: it lies beside the checkout (shared/data/movingai).
DEFAULT_DATA = os.environ.get("RLKIT_MOVINGAI_DIR", str(REPO.parent / "shared/data/movingai"))
# Maps small enough for a smoke test that still covers open, cluttered and game maps.
QUICK_MAPS = ("empty-32-32", "random-32-32-20", "den312d")
TOLERANCE = 1e-4  # the published optimal lengths carry 8 decimals
SQRT2 = math.sqrt(2.0)


@dataclass
class Args:
    data: str = DEFAULT_DATA
    """folder with the MovingAI .map and .scen files (default: shared/data/movingai beside
    the repository, or $RLKIT_MOVINGAI_DIR)"""
    maps: list[str] = field(default_factory=list)
    """map names (file stems) to run; default: every map that has a scenario file"""
    nx_sample: int = 40
    """queries per map timed with networkx too, spread evenly across the scenario file"""
    repeat: int = 3
    """timing repeats of each sampled query and of the graph build; the fastest counts"""
    out: str = str(REPO / "benchmarks/results/planners_movingai.json")
    """JSON file for the results (written atomically)"""
    backend: str = "auto"
    """GridMap.plan backend: auto, or one of planners.grid.BACKENDS (astar, dijkstra)"""
    quick: bool = False
    """smoke test: the smallest maps only, 5 networkx queries, one repeat"""


#: What --quick sets (a callable maps the given value).
QUICK = {"nx_sample": partial(min, 5), "repeat": 1}


def parse_args(argv: list[str] | None = None) -> Args:
    args, parser = parse_dataclass(Args, __doc__, argv, QUICK)
    if args.nx_sample < 1 or args.repeat < 1:
        parser.error("--nx-sample and --repeat must be at least 1")
    if args.backend not in ("auto", *planners.grid.BACKENDS):
        parser.error(
            f"--backend must be one of {('auto', *planners.grid.BACKENDS)}, got {args.backend!r}"
        )
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


T = TypeVar("T")


def fastest(run: Callable[[], T], repeat: int) -> tuple[float, list[float], T]:
    """Seconds of the fastest of ``repeat`` calls (the one least disturbed by other load),
    all the times, and what the last call returned."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), times, result


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


def octile(scale: float) -> Callable[[tuple[int, int], tuple[int, int]], float]:
    """The octile distance times the cheapest terrain: networkx's A* heuristic."""

    def heuristic(a: tuple[int, int], b: tuple[int, int]) -> float:
        dr, dc = abs(a[0] - b[0]), abs(a[1] - b[1])
        return scale * (max(dr, dc) + (SQRT2 - 1.0) * min(dr, dc))

    return heuristic


def spread(n: int, k: int) -> list[int]:
    """``k`` indices spread evenly over ``range(n)``, first and last included."""
    if k >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)}) if k > 1 else [0]


def describe_machine(args: Args) -> dict[str, Any]:
    return {
        **machine("scipy", "networkx", "rlkit"),
        "backend": args.backend,
        "backends_available": list(planners.grid.BACKENDS),
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


def time_sample(
    name: str,
    grid: GridMap,
    G: nx.Graph,
    scenarios: list[Scenario],
    keywords: dict[str, Any],
    args: Args,
) -> list[dict[str, Any]]:
    """The sampled queries timed with our planner and with networkx's A*, whose octile
    heuristic is scaled by the cheapest terrain to stay admissible."""
    cheapest = 1.0 if grid.terrain is None else float(grid.terrain[grid.free].min())
    heuristic = octile(cheapest)
    sample = []
    for i in progress(spread(len(scenarios), args.nx_sample), desc=f"{name} time", leave=False):
        s = scenarios[i]
        ours, ours_times, _ = fastest(partial(grid.plan, s.start, s.goal, **keywords), args.repeat)
        theirs, theirs_times, path = fastest(
            partial(nx.astar_path, G, s.start, s.goal, heuristic=heuristic, weight="weight"),
            args.repeat,
        )
        networkx_cost = nx.path_weight(G, path, "weight")
        sample.append(
            {
                "index": i,
                "start": s.start,
                "goal": s.goal,
                "optimal_length": s.optimal_length,
                "networkx_cost": networkx_cost,
                "ours_s": ours,
                "networkx_s": theirs,
                "speedup": theirs / ours,
                "ours_times_s": ours_times,
                "networkx_times_s": theirs_times,
            }
        )
    return sample


def benchmark_map(name: str, map_path: Path, scen_path: Path, args: Args) -> dict[str, Any]:
    """One map: 1. graph build against the naive loop, 2. every scenario against its
    optimum, 3. a sample of queries timed against networkx."""
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
    sample = time_sample(name, grid, G, scenarios, keywords, args)
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
        "sample": sample,
    }


def maps_table(results: list[dict[str, Any]]) -> str:
    cells = [
        (r["map"], f"{r['rows']}x{r['cols']}", r["free_cells"], r["queries_checked"],
         r["mismatches"], f"{r['ours_median_ms']:.3f}", f"{r['networkx_median_ms']:.2f}",
         f"{r['median_speedup']:.0f}x", f"{r['build_speedup']:.0f}x")
        for r in results
    ]  # fmt: skip
    header = ("map", "size (rows x cols)", "free cells", "queries checked", "mismatches",
              "ours ms/query (median)", "networkx ms/query (median)", "median speed-up",
              "graph-build speed-up")  # fmt: skip
    return markdown_table(header, "|---|---|--:|--:|--:|--:|--:|--:|--:|", cells)


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

    results = [benchmark_map(name, *available[name], args) for name in progress(names, desc="maps")]
    about = describe_machine(args)
    wall = time.perf_counter() - started
    mismatches = sum(r["mismatches"] for r in results)
    checked = sum(r["queries_checked"] for r in results)

    print(maps_table(results))
    print()
    print(
        f"machine: {about['platform']} | {about['cpu']} ({about['cpus']} CPUs) "
        f"| Python {about['python']} | numpy {about['numpy']}, scipy {about['scipy']}, "
        f"networkx {about['networkx']} | backend {args.backend} "
        f"(available: {', '.join(about['backends_available'])}) | {about['date']} "
        f"| git {about['git_commit']}"
    )
    print(
        f"{checked} queries checked, {mismatches} mismatches; networkx timed on "
        f"{sum(len(r['sample']) for r in results)} of them, best of {args.repeat}; "
        f"wall time {wall:.1f} s"
    )
    for r in results:
        if r["networkx_mismatches"]:
            print(f"warning: networkx missed the optimum on {r['networkx_mismatches']} "
                  f"sampled queries of {r['map']}")  # fmt: skip

    write_results(args.out, args, about, wall, queries_checked=checked, mismatches=mismatches,
                  tolerance=TOLERANCE, table=maps_table(results), maps=results)  # fmt: skip
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
