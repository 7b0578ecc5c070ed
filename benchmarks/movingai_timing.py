"""How ``planners_movingai.py`` times its planners: interleaved rounds (:func:`race`)
over the sampled queries of a map (:func:`time_sample`), ``GridMap.plan_many`` against a
loop of ``GridMap.plan`` (:func:`time_plan_many`), and a map's setup (:func:`time_setup`).

Every round calls each planner once, the order turned by one each round, so a load
spike on the shared machine hits them alike; each keeps its fastest round.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import networkx as nx
import numpy as np
from movingai_baselines import TOLERANCE, Baseline, RuleOptimum, check_path
from movingai_report import OURS, OURS_4
from scripting import progress

from planners import GridMap
from planners.movingai import Scenario

SQRT2 = math.sqrt(2.0)


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


def race(
    runs: Mapping[str, Callable[[], Any]], repeat: int
) -> dict[str, tuple[float, list[float], Any]]:
    """Each of ``runs`` called ``repeat`` times, interleaved: every round calls each once
    (the order turned by one each round), so a load spike hits them alike. Returns
    ``{name: (fastest seconds, all the times, what the last call returned)}``."""
    names = list(runs)
    times: dict[str, list[float]] = {name: [] for name in names}
    results: dict[str, Any] = {}
    for k in range(repeat):
        for name in names[k % len(names) :] + names[: k % len(names)]:
            start = time.perf_counter()
            results[name] = runs[name]()
            times[name].append(time.perf_counter() - start)
    return {name: (min(times[name]), times[name], results[name]) for name in names}


def fastest(run: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    """Seconds of the fastest of ``repeat`` calls of ``run``, all the times, and what
    the last call returned."""
    return race({"run": run}, repeat)["run"]


def time_sample(
    name: str,
    grid: GridMap,
    G: nx.Graph,
    scenarios: list[Scenario],
    baselines: list[Baseline],
    keywords: dict[str, Any],
    size: int,
    repeat: int,
) -> list[dict[str, Any]]:
    """The sampled queries, each timed with our planner, networkx's A* (its octile
    heuristic scaled by the cheapest terrain to stay admissible) and every baseline,
    interleaved (:func:`race`); each baseline's path checked (:func:`check_path`)."""
    cheapest = 1.0 if grid.terrain is None else float(grid.terrain[grid.free].min())
    heuristic = octile(cheapest)
    optimum = RuleOptimum(grid)
    four = any(b.rule == "4" for b in baselines)  # GridMap.plan on the same rule then
    # jump point search is for 8-connected moves: the 4-connected plan takes auto's pick
    keywords_4 = {**keywords, "backend": "auto"} if keywords.get("backend") == "jps" else keywords
    sample = []
    for i in progress(spread(len(scenarios), size), desc=f"{name} time", leave=False):
        s = scenarios[i]
        runs = {
            OURS: partial(grid.plan, s.start, s.goal, **keywords),
            "networkx": partial(nx.astar_path, G, s.start, s.goal, heuristic=heuristic,
                                weight="weight"),
            **({OURS_4: partial(grid.plan, s.start, s.goal, connectivity=4, **keywords_4)}
               if four else {}),
            **{b.name: partial(b.query, s.start, s.goal) for b in baselines},
        }  # fmt: skip
        timed = race(runs, repeat)
        ours, ours_times, _ = timed[OURS]
        theirs, theirs_times, path = timed["networkx"]
        query = {
            "index": i,
            "start": s.start,
            "goal": s.goal,
            "optimal_length": s.optimal_length,
            "networkx_cost": nx.path_weight(G, path, "weight"),
            "ours_s": ours,
            "networkx_s": theirs,
            "speedup": theirs / ours,
            "ours_times_s": ours_times,
            "networkx_times_s": theirs_times,
            "baselines": {
                b.name: {
                    "s": timed[b.name][0],
                    "times_s": timed[b.name][1],
                    **check_path(
                        b, timed[b.name][2], s.start, s.goal, s.optimal_length, grid, optimum
                    ),
                }
                for b in baselines
            },
        }
        if four:
            query["ours_4_s"] = timed[OURS_4][0]
        sample.append(query)
    return sample


def time_plan_many(
    grid: GridMap, queries: list[Scenario], keywords: dict[str, Any], repeat: int
) -> dict[str, Any] | None:
    """``GridMap.plan_many`` on the sampled queries in one call against a Python loop of
    ``GridMap.plan`` on them, interleaved; None where this rlkit has no ``plan_many``."""
    if not hasattr(GridMap, "plan_many"):
        return None
    starts = np.array([q.start for q in queries], dtype=np.int64)
    goals = np.array([q.goal for q in queries], dtype=np.int64)

    def loop() -> list[float]:
        return [grid.plan(q.start, q.goal, **keywords).cost for q in queries]

    timed = race({"plan_many": partial(grid.plan_many, starts, goals, **keywords),
                  "loop": loop}, repeat)  # fmt: skip
    costs = np.asarray(timed["plan_many"][2], dtype=np.float64).reshape(-1)
    optimal = np.array([q.optimal_length for q in queries])
    n = len(queries)
    if costs.shape == optimal.shape:
        wrong = int(np.count_nonzero(~np.isclose(costs, optimal, rtol=0, atol=TOLERANCE)))
    else:  # a cost per query, or every query counts as missed
        wrong = n
    return {
        "queries": n,
        "plan_many_s": timed["plan_many"][0],
        "loop_s": timed["loop"][0],
        "per_query_ms": 1000.0 * timed["plan_many"][0] / n,
        "loop_per_query_ms": 1000.0 * timed["loop"][0] / n,
        "speedup": timed["loop"][0] / timed["plan_many"][0],
        "mismatches": wrong,
        "plan_many_times_s": timed["plan_many"][1],
        "loop_times_s": timed["loop"][1],
    }


def time_setup(
    grid: GridMap, probe: tuple[int, int], keywords: dict[str, Any], repeat: int
) -> float:
    """Seconds to build a fresh ``GridMap`` of the map and plan once from ``probe`` to
    itself (what the map builds lazily), as the baselines' setup is timed."""

    def build() -> None:
        GridMap(grid.occupancy, grid.terrain).plan(probe, probe, **keywords)

    return fastest(build, repeat)[0]
