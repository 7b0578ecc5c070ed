"""The numbers and tables of ``planners_movingai.py``: each baseline's summary over a
map's sampled queries, the speed target (GridMap.plan >= 1.0x the fastest C library),
and the markdown tables and notes of the report.

A ratio is ``baseline time / GridMap.plan time``, per query (both best of the same
interleaved rounds), then the median over the map's queries: >= 1.0 means rlkit is at
least as fast.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from movingai_baselines import BASELINES, NOT_INSTALLED, RULES, TOLERANCE, Baseline
from scripting import markdown_table

#: The issue's target: GridMap.plan per query at least this fraction of the fastest C
#: library's speed (time ratio library / plan), on every map.
TARGET_RATIO = 1.0
OURS = "GridMap.plan"
OURS_4 = "GridMap.plan 4-connected"
#: Rows of the speed table: the baselines on 8-connected rules (the target's rivals).
SPEED = [name for name, (_, rule) in BASELINES.items() if RULES[rule].connectivity == 8]


def summarise(baseline: Baseline, sample: list[dict[str, Any]]) -> dict[str, Any]:
    """One baseline over a map's sampled queries: median time, ratio against
    GridMap.plan on the same connectivity, and how its paths compare with the optima."""
    rule = RULES[baseline.rule]
    ours = "ours_4_s" if rule.connectivity == 4 else "ours_s"
    pairs = [(q, q["baselines"][baseline.name]) for q in sample]
    valid = [(q, r) for q, r in pairs if r["valid"]]
    off = [(q, r) for q, r in valid
           if abs(r["octile_length"] - q["optimal_length"]) > TOLERANCE]  # fmt: skip
    # how far the paths off the optimum are from it, in % of the optimum
    deviations = [100.0 * (r["octile_length"] / q["optimal_length"] - 1.0) for q, r in off]
    return {
        "library": baseline.library,
        "rule": baseline.rule,
        "rule_text": rule.text,
        "movingai_rule": rule.movingai,
        "note": baseline.note,
        "setup_s": baseline.setup_s,
        "queries": len(pairs),
        "median_ms": 1000.0 * statistics.median(r["s"] for _, r in pairs),
        "versus": OURS_4 if rule.connectivity == 4 else OURS,
        "ratio": statistics.median(r["s"] / q[ours] for q, r in pairs),
        "invalid": len(pairs) - len(valid),
        "invalid_examples": [r["problem"] for _, r in pairs if not r["valid"]][:3],
        "off_optimum": len(off),
        "deviation_pct": [min(deviations, default=0.0), max(deviations, default=0.0)],
        "rule_misses": sum(abs(r["rule_cost"] - r["rule_optimum"]) > TOLERANCE for _, r in valid),
        "corner_cut_paths": sum(r["corner_cuts"] > 0 for _, r in valid),
    }


def target(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """The fastest C library against GridMap.plan on one map (any 8-connected rule, and
    the MovingAI rule alone), and whether the target is met; None with no baseline."""
    rivals = {name: s for name, s in result["baselines"].items() if name in SPEED}
    if not rivals:
        return None
    fastest = min(rivals, key=lambda name: rivals[name]["ratio"])
    same = {name: s for name, s in rivals.items() if s["movingai_rule"]}
    same_fastest = min(same, key=lambda name: same[name]["ratio"]) if same else None
    return {
        "fastest": fastest,
        "ratio": rivals[fastest]["ratio"],
        "met": rivals[fastest]["ratio"] >= TARGET_RATIO,
        "fastest_movingai_rule": same_fastest,
        "ratio_movingai_rule": same[same_fastest]["ratio"] if same_fastest else None,
    }


def _absent(name: str, status: Mapping[str, str]) -> str:
    """What a column says for a baseline that did not run."""
    library = BASELINES[name][0]
    return status.get(library, "not run (--libraries)")


def _mark(name: str) -> str:
    return name if RULES[BASELINES[name][1]].movingai else f"{name} †"


def maps_table(results: list[dict[str, Any]]) -> str:
    """Correctness on every scenario, and the speed-ups against networkx."""
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


def speed_table(results: list[dict[str, Any]], status: Mapping[str, str]) -> str:
    """Median ms per query of every planner, and the target per map."""
    cells = []
    for r in results:
        ms = [f"{r['baselines'][n]['median_ms']:.3f}" if n in r["baselines"] else _absent(n, status)
              for n in SPEED]  # fmt: skip
        t = r["target"]
        if t is None:
            versus, same, met = "no C library ran", "", "n/a"
        else:
            versus = f"{t['ratio']:.2f}x ({t['fastest']})"
            same = (f"{t['ratio_movingai_rule']:.2f}x ({t['fastest_movingai_rule']})"
                    if t["fastest_movingai_rule"] else "")  # fmt: skip
            met = "met" if t["met"] else "missed"
        cells.append((r["map"], len(r["sample"]), f"{r['ours_median_ms']:.3f}", *ms,
                      f"{r['networkx_median_ms']:.2f}", versus, same, met))  # fmt: skip
    header = ("map", "queries timed", f"{OURS} ms", *(f"{_mark(n)} ms" for n in SPEED),
              "networkx ms", "fastest C library: its time / plan's",
              "MovingAI rule only: fastest / plan's", f"target >= {TARGET_RATIO:.1f}x")  # fmt: skip
    align = "|---|--:|--:|" + "--:|" * len(SPEED) + "--:|--:|--:|:-:|"
    return markdown_table(header, align, cells)


def _fmt_ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{1000.0 * seconds:.2f}"


def many_table(results: list[dict[str, Any]], status: Mapping[str, str]) -> str:
    """plan_many against a loop of plan (blank where rlkit has no plan_many), and the
    per-map setup every planner needs before its first query."""
    cells = []
    for r in results:
        m = r["plan_many"]
        many = (("", "", "", "") if m is None else
                (f"{m['per_query_ms']:.3f}", f"{m['loop_per_query_ms']:.3f}",
                 f"{m['speedup']:.2f}x", "yes" if m["mismatches"] == 0 else
                 f"no ({m['mismatches']} of {m['queries']})"))  # fmt: skip
        setup = [_fmt_ms(r["setup_s"].get(n)) if n in r["setup_s"] else _absent(n, status)
                 for n in BASELINES]  # fmt: skip
        cells.append((r["map"], *many, _fmt_ms(r["setup_s"][OURS]), *setup))
    header = ("map", "plan_many ms/query", "loop of plan ms/query", "plan_many speed-up",
              "plan_many costs = optimum", f"setup ms: {OURS}",
              *(f"setup ms: {n}" for n in BASELINES))  # fmt: skip
    align = "|---|--:|--:|--:|:-:|--:|" + "--:|" * len(BASELINES)
    return markdown_table(header, align, cells)


def _rule_cell(s: Mapping[str, Any]) -> str:
    """How one baseline's paths compare with the optima of its own and the MovingAI rule."""
    n, bad = s["queries"], f"{s['invalid']} invalid path(s); " if s["invalid"] else ""
    if s["movingai_rule"]:
        off = s["off_optimum"]
        return bad + (f"all {n} = optimum" if not off else
                      f"{off}/{n} off optimum ({s['deviation_pct'][1]:+.3f}% at most)")  # fmt: skip
    if RULES[s["rule"]].connectivity == 4:
        return bad + f"{n - s['rule_misses']}/{n} = {OURS_4}; time / its: {s['ratio']:.2f}x"
    low, high = s["deviation_pct"]
    spread = f" ({low:+.1f}% to {high:+.1f}%)" if s["off_optimum"] else ""
    return bad + (
        f"{s['off_optimum']}/{n} off optimum{spread}, "
        f"{s['corner_cut_paths']}/{n} cut corners; own rule: {n - s['rule_misses']}/{n} optimal"
    )


def rules_table(results: list[dict[str, Any]], status: Mapping[str, str]) -> str:
    """Each baseline's costs against the MovingAI optimum and its own rule's optimum."""
    cells = []
    for r in results:
        rest = [_rule_cell(r["baselines"][n]) if n in r["baselines"] else _absent(n, status)
                for n in BASELINES]  # fmt: skip
        cells.append((r["map"], f"{r['queries_checked'] - r['mismatches']}/"
                      f"{r['queries_checked']} = optimum", *rest))  # fmt: skip
    header = ("map", f"{OURS} (every scenario)", *(_mark(n) for n in BASELINES))
    return markdown_table(header, "|---|" + "---|" * (len(BASELINES) + 1), cells)


def notes(results: Sequence[Mapping[str, Any]], status: Mapping[str, str]) -> list[str]:
    """What the tables' columns mean: movement rules, timing, setup."""
    entries = {s["note"] for r in results for s in r["baselines"].values() if s["note"]}
    missed = [r["map"] for r in results if r["target"] and not r["target"]["met"]]
    lines = [
        "- Movement rules: "
        + "; ".join(f"**{name}**: {RULES[rule].text}" for name, (_, rule) in BASELINES.items())
        + f". {OURS}: {RULES['movingai'].text}. † marks a rule other than MovingAI's: "
        "its costs differ from the published optimum by the % in the rules table "
        "(octile length of its path against the optimum; own rule: against the cheapest "
        "path by its rule, scipy's Dijkstra on a corner-cutting graph, or "
        f"{OURS_4} for 4-connected moves).",
        "- tcod A* / Dijkstra: `tcod.path.Pathfinder` on a `CustomGraph` whose diagonal "
        "edges need both orthogonal neighbours free (the MovingAI rule), integer edge "
        "costs 80782 / 114243 (sqrt(2) to 5e-11); a fresh Pathfinder per query, as tcod "
        "keeps its distances per root. tcod AStar (classic): libtcod's older A* "
        "(`tcod.path.AStar`, float costs, diagonal sqrt(2)), which cannot forbid corner "
        "cutting. pyastar2d: timed through its "
        + (" / ".join(sorted(entries & {"C entry", "astar_path"})) or "C entry")
        + " (the C function on the map's prepared float32 weights; `astar_path()` adds "
        "an O(cells) min() and copy per call).",
        f"- What a call returns: tcod and pyastar2d the path as a numpy array; {OURS} a "
        "Plan whose path is packed the same way (int64 pairs), unpacked into a list of "
        "(row, col) tuples on the first read of `Plan.path`, which no timing here does (as "
        "no library's array is turned into tuples).",
        f"- Ratios: the library's time / {OURS}'s for the same query (best of the same "
        "interleaved rounds), median over the map's queries; >= 1.0 means rlkit is at "
        f"least as fast. The target: {OURS} >= {TARGET_RATIO:.1f}x the fastest C library "
        "on every map, whatever rule the library runs; "
        + (f"missed on {', '.join(missed)}." if missed else "met on every map timed."),
        "- Setup: per map, not per query, and left out of every per-query time: "
        f"{OURS}: a fresh GridMap and its first query (move table, work buffer); tcod: the "
        "cost and condition arrays, the graph and its first query (tcod compiles the "
        "graph's rules then); pyastar2d: the float32 weight array.",
        "- plan_many: one call over the map's sampled queries against a Python loop of "
        f"{OURS} over the same queries, best of the same interleaved rounds; blank where "
        "this rlkit has no `GridMap.plan_many`.",
    ]
    absent = [f"{lib}: {text}" for lib, text in status.items() if text == NOT_INSTALLED]
    if absent:
        lines.append("- Not timed: " + "; ".join(absent) + ".")
    return lines
