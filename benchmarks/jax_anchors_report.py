"""The report of ``env_throughput.py``'s anchors section (:mod:`jax_anchors`): the table
of rlkit against NAVIX and XLand-MiniGrid, the targets, the JAX side's versions and thread
setting, and what differs between the envs compared."""

from __future__ import annotations

import statistics
from typing import Any

from jax_anchors import NAMES, NOT_INSTALLED, THREAD_FLAGS, Result
from scripting import markdown_table

DIFFERENCES = [
    "maps: NAVIX's sizes, walls included: an 8x8 empty room, start (1, 1) and goal (6, 6) "
    "everywhere; 19x19 four rooms, a random start and goal each episode, doors drawn anew "
    "by NAVIX and XLand-MiniGrid, fixed mid-wall in rlkit's map; 100 steps an episode at most",
    "symbolic: rlkit (3, H, W) uint8 planes (wall, agent, goal), full view; NAVIX (H, W, 3) "
    "uint8 (tag, colour, state), full view; XLand-MiniGrid its only observation, a 7x7x2 "
    "egocentric partial view (no full-view or pixel mode outside its experimental wrapper)",
    "pixels: rlkit and NAVIX full-view RGB, 8 px a cell (64x64 and 152x152); not XLand-MiniGrid",
    "actions: rlkit 4 moves; NAVIX 4 moves (forward/right/backward/left, no turning); "
    "XLand-MiniGrid its 6 (forward, turn left/right, pick up, put down, toggle)",
    "resets: every env autoresets on the step after an episode ends; NAVIX and "
    "XLand-MiniGrid compute the reset branch in every step (vmap of lax.cond), rlkit resets "
    "only the ended envs (timed over whole cycles of max_steps + 1 steps)",
    "calls: rlkit steps from Python, one vector step a call; each JAX measurement is one "
    "jitted call (a lax.scan of steps repeated by a fori_loop), the way a jitted training "
    "loop runs them",
    "observations: rlkit returns its buffer (copy=False unless --vector-copy), the JAX envs "
    "keep theirs on the device (no host copy); random actions are drawn before timing on "
    "both sides",
]


def verdicts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue #17's target per (map, observation, N): rlkit >= 1.0x NAVIX in the same run."""
    out = []
    for row in rows:
        if row["lib"] != "navix":
            continue
        name = f"anchors: rlkit {row['map']} {row['obs']} N={row['num_envs']} >= 1x NAVIX"
        if row["ratio"] is None:
            why = row["status"] if row["status"] != "ok" else "not measured"
            out.append({"target": name, "status": "n/a", "value": None, "why": why})
        else:
            status = "PASS" if row["ratio"] >= 1.0 else "MISS"
            out.append({"target": name, "status": status, "value": row["ratio"]})
    return out


def _rate(row: dict[str, Any] | None) -> tuple[str, str]:
    if row is None:
        return "no such mode", ""
    if row["steps_per_s"] is None:
        return (row["status"] if row["status"] != "ok" else "not measured"), ""
    ratio = "" if row["ratio"] is None else f"**{row['ratio']:.1f}x**"
    return f"{row['steps_per_s']:,.0f}", ratio


def table(rows: list[dict[str, Any]]) -> str:
    """A markdown line per (map, observation, N): each side's median steps/s, rlkit's
    ratio to each JAX library, the JAX compile times and the observation shapes."""
    groups: dict[tuple[str, str, int], dict[str, dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["map"], row["obs"], row["num_envs"]), {})[row["lib"]] = row
    cells = []
    for (map_name, obs, n), libs in groups.items():
        rl, navix, xmg = libs["rlkit"], libs.get("navix"), libs.get("xminigrid")
        compile_s = " / ".join(f"{r['compile_s']:.1f}" if r and "compile_s" in r else "-"
                               for r in (navix, xmg))  # fmt: skip
        shapes = " / ".join("x".join(map(str, r["obs_shape"])) if r and "obs_shape" in r else "-"
                            for r in (rl, navix, xmg))  # fmt: skip
        rl_rate = _rate(rl)[0] if rl["steps_per_s"] is not None else rl["status"]
        cells.append((map_name, obs, n, rl_rate, *_rate(navix), *_rate(xmg), compile_s, shapes))
    header = ("map", "obs", "N", "rlkit steps/s", "NAVIX steps/s", "rlkit / NAVIX",
              "XLand-MiniGrid steps/s", "rlkit / XLand", "JAX compile s (NAVIX / XLand)",
              "obs shape (rlkit / NAVIX / XLand)")  # fmt: skip
    return markdown_table(header, "|---|---|--:|--:|--:|--:|--:|--:|--:|---|", cells)


def versions_line(hello: dict[str, Any]) -> str:
    """The JAX side's versions, backend and thread setting, from the worker's hello."""
    if not hello:
        return f"JAX side: {NOT_INSTALLED}"
    versions = ", ".join(f"{k} {v}" for k, v in hello["versions"].items() if v)
    return (f"JAX side (anchors venv, Python {hello['python']}): {versions} | backend "
            f"{hello['backend']} ({', '.join(hello['devices'])}) | XLA_FLAGS="
            f"{hello['xla_flags']!r}, JAX_PLATFORMS={hello['jax_platforms']}")  # fmt: skip


def text(result: Result, copy: bool) -> str:
    """The anchors table with its versions, thread setting and what differs."""
    cpu: dict[str, list[float]] = {}
    for row in result.rows:
        if row["steps_per_s"] is not None:
            cpu.setdefault(NAMES[row["lib"]], []).append(row["cpu_per_wall"])
    shares = ", ".join(f"{lib} {statistics.median(v):.2f}" for lib, v in cpu.items())
    differs = "\n".join(f"- {line}" for line in DIFFERENCES)
    return (
        "anchors: GridNavVectorEnv (rlkit/GridNav-Map-v0, copy="
        f"{copy}) against JAX envs, median steps/s of interleaved rounds, ratio in the same "
        f"run\n\n{table(result.rows)}\n\n{versions_line(result.hello)}"
        f"\n\nthreads: JAX_PLATFORMS=cpu, XLA_FLAGS={THREAD_FLAGS!r}, "
        "OMP_NUM_THREADS=1 for the JAX worker; rlkit is numpy in one thread. Median CPU "
        f"seconds per wall second (1.0 = one busy core): {shares or 'none measured'}\n\n"
        f"what differs:\n{differs}"
    )
