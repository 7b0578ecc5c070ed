"""Learning curves of rlkit's learned pixel policies, between the planner and random.

Every point is evaluated on held-out seeds (starts, goals and maps no training episode
had: see ``benchmarks/suites/learning.yaml``), >= 5 seeds, IQM success and SPL with 95%
stratified-bootstrap CIs (Agarwal et al. 2021). X axes: planner demos for behaviour
cloning (one cell per demos count), rounds for DAgger (every round's student is
evaluated), env steps for PPO and SAC (policy snapshots). The cells are those of the
suite, run by ``rlkit.sweep``; this script adds:

- the targets of issue #14 (target | measured | CI | met), each from its curve;
- per encoder of the BC curves (scratch, scratch + shift, frozen, full, LoRA): the
  area under the learning curve (mean IQM success over the demos axis, every demos
  count weighted alike) and the demos needed to reach 0.8 IQM success, both with
  bootstrap CIs over seeds -- the headline question "does pretraining help?" asked at
  budgets that span floor to ceiling;
- a check that no evaluation reset seed was a training one;
- PNG curves and ``learning.json``.

    python benchmarks/learning.py                  # runs missing cells, writes the report
    python benchmarks/learning.py --report-only    # rewrites the report from the cells
    python benchmarks/learning.py --quick          # smoke test: tiny cells, temp folder
    python benchmarks/learning.py --suite benchmarks/suites/learning-full.yaml  # GPU
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scripting import (
    REPO,
    SuiteArgs,
    dataclass_parser,
    machine,
    run_suite_cells,
    write_json_atomic,
)

from rlkit.evaluation import iqm, stratified_bootstrap_ci
from rlkit.sweep.cells import cell_path, cell_result, curve_point, read_cell
from rlkit.sweep.report import write_report
from rlkit.sweep.suite import Cell, Suite


@dataclass
class Args(SuiteArgs):
    suite: str = str(REPO / "benchmarks" / "suites" / "learning.yaml")
    """the suite file (learning-full.yaml: the full budget, for a GPU)"""
    cells: str = ""
    """run only the cells matching this glob (e.g. 'dagger*'); the report covers all"""


#: Issue #14's targets: (env label, agent name, metric, at least, what it asks).
TARGETS = (
    ("fourrooms-pixels", "dagger", "success", 0.97, "DAgger, four rooms, <= 5 min training"),
    ("fourrooms-pixels", "dagger", "spl", 0.95, "DAgger, four rooms, <= 5 min training"),
    ("gridnav-pixels", "dagger-maps", "success", 0.90, "DAgger, a new random map every episode"),
    ("armreach-pixels", "dagger-arm", "success", 0.90, "DAgger, ArmReach pixels"),
    ("armreach-obstacles-pixels", "dagger-arm", "success", 0.80, "DAgger, ArmReachObstacles"),
    ("fourrooms-pixels", "ppo", "success", 0.90, "PPO, four rooms, <= 1M env steps"),
    ("armreach-dict", "sac-her", "success", 0.90, "SAC + HER, ArmReach dict obs"),
)
#: BC agents are named bc-<encoder>-d<demos>.
BC_NAME = re.compile(r"^bc-(?P<encoder>[a-z]+)-d(?P<demos>\d+)$")
ENCODERS = ("scratch", "shift", "frozen", "full", "lora")
#: The encoder the pretrained ones are measured against: scratch + random shift, the
#: strong from-scratch baseline of Hansen et al. 2022 (as in the headline experiment).
BASELINE = "shift"
PRETRAINED = ("frozen", "full", "lora")
METRICS = ("success", "spl")
#: The success level of "demos needed to reach".
REACH = 0.8


def finished_cells(suite: Suite, folder: Path) -> list[tuple[Cell, dict[str, Any]]]:
    """(cell, document) of every cell that finished without error."""
    done = []
    for cell in suite.cells():
        document = read_cell(cell_path(folder, cell.name))
        if document is not None and document.get("status") == "ok":
            done.append((cell, document))
    return done


def final_point(document: dict[str, Any]) -> dict[str, Any]:
    """Per-seed means of a cell's final evaluation (as ``eval_curve`` points)."""
    return curve_point(cell_result(document))


def curves(suite: Suite, folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """``(env label, curve name) -> {"x_label", "points": {x: {metric: [per seed]}}}``.

    BC agents ``bc-<encoder>-d<N>`` make one curve per encoder over ``N``; a cell with
    an ``eval_curve`` (DAgger, PPO/SAC with ``curve_points``) makes its own over its
    checkpoints; other agents (planner, random) are one point at ``x = 0``.
    """
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for cell, document in finished_cells(suite, folder):
        train = document.get("train") or {}
        match = BC_NAME.match(cell.agent.name)
        if match:
            name, x_label = f"bc-{match['encoder']}", "planner demos"
            demos = cell.agent.kwargs.get("demos", match["demos"])
            points = [(int(demos), final_point(document))]
        elif train.get("eval_curve"):
            name, x_label = cell.agent.name, train.get("curve_x") or "x"
            points = [(int(p["x"]), p) for p in train["eval_curve"]]
        else:
            name, x_label = cell.agent.name, "final"
            points = [(0, final_point(document))]
        curve = out.setdefault((cell.env.label, name), {"x_label": x_label, "points": {}})
        for x, point in points:
            slot = curve["points"].setdefault(x, {m: [] for m in (*METRICS, "seeds")})
            slot["seeds"].append(cell.seed)
            for metric in METRICS:
                slot[metric].append(point.get(metric))
    return out


def summarise(values: Sequence[float | None], resamples: int) -> dict[str, Any]:
    """IQM and 95% stratified-bootstrap CI over seeds (one task)."""
    scores = np.array([v for v in values if v is not None], dtype=float)
    if scores.size == 0:
        return {"iqm": None, "ci": None, "n": 0}
    if scores.size == 1 or np.all(scores == scores[0]):
        ci = (float(scores[0]), float(scores[0])) if np.all(scores == scores[0]) else None
        return {"iqm": float(iqm(scores)), "ci": ci, "n": int(scores.size)}
    ci = stratified_bootstrap_ci(scores, iqm, n_resamples=resamples)
    return {"iqm": float(iqm(scores)), "ci": [float(ci[0]), float(ci[1])], "n": int(scores.size)}


def reach_x(xs: Sequence[int], curve: np.ndarray, level: float) -> float:
    """The first x whose value is >= ``level``; inf when the curve never gets there."""
    hits = np.nonzero(curve >= level)[0]
    return float(xs[hits[0]]) if hits.size else float("inf")


def seed_matrix(curve: dict[str, Any]) -> tuple[list[int], list[int], np.ndarray]:
    """``(xs, seeds, seeds x xs success matrix)`` of a curve, over the seeds that have
    every point."""
    xs = sorted(curve["points"])
    per_seed: dict[int, list[float]] = {}
    for x in xs:
        slot = curve["points"][x]
        for s, value in zip(slot["seeds"], slot["success"], strict=True):
            per_seed.setdefault(s, [np.nan] * len(xs))[xs.index(x)] = value
    seeds = sorted(s for s, row in per_seed.items() if not np.any(np.isnan(row)))
    return xs, seeds, np.array([per_seed[s] for s in seeds]).reshape(len(seeds), len(xs))


def area(matrix: np.ndarray) -> float:
    """Area under the learning curve: the mean over x of the IQM over seeds."""
    return float(np.mean([iqm(matrix[:, j]) for j in range(matrix.shape[1])]))


def area_difference(
    curve: dict[str, Any], baseline: dict[str, Any], resamples: int, seed: int = 0
) -> dict[str, Any] | None:
    """Area of ``curve`` minus the baseline's, with a paired bootstrap 95% CI.

    Paired by seed: a seed's BC cells train on the same demos (the same reset seeds)
    whatever the encoder, so seeds are resampled together for both curves.
    """
    xs, seeds, matrix = seed_matrix(curve)
    base_xs, base_seeds, base = seed_matrix(baseline)
    common = sorted(set(seeds) & set(base_seeds))
    if xs != base_xs or len(common) < 2:
        return None
    a = matrix[[seeds.index(s) for s in common]]
    b = base[[base_seeds.index(s) for s in common]]
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        rows = rng.integers(0, len(common), len(common))
        draws.append(area(a[rows]) - area(b[rows]))
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"difference": area(a) - area(b), "ci": [float(low), float(high)], "seeds": len(common)}


def encoder_verdict(curve: dict[str, Any], resamples: int, seed: int = 0) -> dict[str, Any] | None:
    """Area under a BC curve and demos to reach 0.8, with bootstrap CIs over seeds.

    Seeds are resampled with replacement (the same seeds at every demos count, as a
    seed's cells share their demos' reset seeds); each resample gives a curve of IQMs.
    """
    xs, seeds, matrix = seed_matrix(curve)  # seeds x demos counts
    if len(seeds) < 2 or len(xs) < 2:
        return None
    point_curve = np.array([iqm(matrix[:, j]) for j in range(len(xs))])
    rng = np.random.default_rng(seed)
    areas, reaches = [], []
    for _ in range(resamples):
        sample = matrix[rng.integers(0, len(seeds), len(seeds))]
        resampled = np.array([iqm(sample[:, j]) for j in range(len(xs))])
        areas.append(resampled.mean())
        reaches.append(reach_x(xs, resampled, REACH))
    return {
        "demos": xs,
        "seeds": len(seeds),
        "auc": float(point_curve.mean()),
        "auc_ci": [float(np.percentile(areas, 2.5)), float(np.percentile(areas, 97.5))],
        "reach": reach_x(xs, point_curve, REACH),
        # Percentiles that pick a resample's value (some are inf: never reached).
        "reach_ci": [float(np.percentile(reaches, q, method="inverted_cdf")) for q in (2.5, 97.5)],
    }


def analyse(suite: Suite, folder: Path, resamples: int) -> dict[str, Any]:
    """Every number of the report, JSON-ready."""
    raw = curves(suite, folder)
    summary: dict[str, Any] = {}
    for (env, name), curve in sorted(raw.items()):
        rows = []
        for x in sorted(curve["points"]):
            slot = curve["points"][x]
            rows.append({"x": x, **{m: summarise(slot[m], resamples) for m in METRICS}})
        summary.setdefault(env, {})[name] = {"x_label": curve["x_label"], "points": rows}
    train_seconds: dict[tuple[str, str], list[float]] = {}
    for cell, document in finished_cells(suite, folder):
        seconds = (document.get("train") or {}).get("wall_time_s")
        if seconds is not None:
            train_seconds.setdefault((cell.env.label, cell.agent.name), []).append(seconds)
    targets = []
    for env, name, metric, level, what in TARGETS:
        rows = summary.get(env, {}).get(name, {}).get("points", [])
        seconds = train_seconds.get((env, name))
        floor = summary.get(env, {}).get("random", {}).get("points", [])
        last = rows[-1] if rows else None
        measured = last[metric] if last else None
        targets.append(
            {
                "what": what,
                "env": env,
                "agent": name,
                "metric": metric,
                "target": level,
                "at": last["x"] if last else None,
                "train_seconds": None if not seconds else [min(seconds), max(seconds)],
                "random": floor[0][metric]["iqm"] if floor else None,
                "measured": None if measured is None else measured["iqm"],
                "ci": None if measured is None else measured["ci"],
                "met": None
                if measured is None or measured["iqm"] is None
                else bool(measured["iqm"] >= level),
            }
        )
    encoders = {}
    baseline = raw.get(("fourrooms-pixels", f"bc-{BASELINE}"))
    for encoder in ENCODERS:
        curve = raw.get(("fourrooms-pixels", f"bc-{encoder}"))
        verdict = None if curve is None else encoder_verdict(curve, resamples)
        if verdict is not None:
            if baseline is not None and encoder in PRETRAINED:
                verdict["vs_baseline"] = area_difference(curve, baseline, resamples)
            encoders[encoder] = verdict
    return {
        "curves": summary,
        "targets": targets,
        "encoders": encoders,
        "held_out": held_out_check(suite, folder),
    }


def held_out_check(suite: Suite, folder: Path) -> dict[str, Any]:
    """How held out the evaluation episodes of BC and DAgger cells were.

    Those cells train on episodes reset with seeds ``seed .. seed + episodes - 1``
    (rlkit.deep.distill) and evaluate on SeedSequence-derived reset seeds (recorded in
    each cell). Counted per env: evaluation episodes whose reset seed was a training one
    (goal: none), and those whose first frame equals a training episode's first frame --
    the same map, start and goal drawn again from another seed, which a fixed map with
    ~100 free cells allows now and then (PPO and SAC draw their training episodes from
    the env's own generator and are not checked).
    """
    import gymnasium as gym

    import envs  # noqa: F401 - registers the rlkit/ ids

    frames: dict[tuple[str, int], str] = {}
    made: dict[str, Any] = {}

    def first_frame(cell: Cell, reset_seed: int) -> str:
        key = (cell.env.label, reset_seed)
        if key not in frames:
            if cell.env.label not in made:
                made[cell.env.label] = gym.make(cell.env.id, **cell.env.kwargs)
            obs, _ = made[cell.env.label].reset(seed=reset_seed)
            frames[key] = hashlib.sha1(np.ascontiguousarray(obs).tobytes()).hexdigest()
        return frames[key]

    by_env: dict[str, dict[str, int]] = {}
    for cell, document in finished_cells(suite, folder):
        if cell.agent.kind not in ("bc", "dagger"):
            continue
        counts = by_env.setdefault(
            cell.env.label, {"episodes": 0, "same_reset_seed": 0, "same_first_frame": 0}
        )
        trained = range(cell.seed, cell.seed + int(document["train"]["info"]["episodes"]))
        seen = {first_frame(cell, s) for s in trained}
        for record in document["result"]["records"]:
            counts["episodes"] += 1
            counts["same_reset_seed"] += int(record["reset_seed"]) in trained
            counts["same_first_frame"] += first_frame(cell, int(record["reset_seed"])) in seen
    for env in made.values():
        env.close()
    return by_env


def fmt(summary: dict[str, Any] | None) -> str:
    if summary is None or summary.get("iqm") is None:
        return "-"
    ci = summary.get("ci")
    return f"{summary['iqm']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def report_lines(analysis: dict[str, Any]) -> list[str]:
    lines = ["## Targets (issue #14)", ""]
    lines += [
        "| target | env | agent | metric | at | measured IQM | 95% CI | met | random | train s |"
    ]
    lines += ["|---|---|---|---|--:|--:|---|:-:|--:|--:|"]
    for t in analysis["targets"]:
        ci = f"[{t['ci'][0]:.2f}, {t['ci'][1]:.2f}]" if t["ci"] else "-"
        measured = "-" if t["measured"] is None else f"{t['measured']:.2f}"
        met = {True: "yes", False: "**no**", None: "not run"}[t["met"]]
        spent = t["train_seconds"]
        seconds = "-" if spent is None else f"{spent[0]:.0f}-{spent[1]:.0f}"
        lines.append(
            f"| >= {t['target']:.2f} ({t['what']}) | {t['env']} | {t['agent']} | {t['metric']} "
            f"| {t['at'] if t['at'] is not None else '-'} | {measured} | {ci} | {met} "
            f"| {'-' if t['random'] is None else format(t['random'], '.2f')} | {seconds} |"
        )
    encoders = analysis["encoders"]
    if encoders:
        lines += ["", "## Pretrained or not: BC on four-rooms pixels, per encoder", ""]
        lines += [
            "Area under the learning curve: mean IQM success over the demos counts "
            f"{encoders[next(iter(encoders))]['demos']}; demos to reach {REACH}: the first "
            "count whose IQM success is at least that (inf: never). 95% CIs by bootstrap "
            "over seeds.",
            "",
            f"| encoder | seeds | area under curve | area - {BASELINE}'s (paired) "
            f"| demos to reach {REACH} |",
            "|---|--:|--:|--:|--:|",
        ]
        for encoder, v in encoders.items():
            diff = v.get("vs_baseline")
            diff_text = (
                f"{diff['difference']:+.3f} [{diff['ci'][0]:+.3f}, {diff['ci'][1]:+.3f}]"
                if diff
                else "-"
            )
            lines.append(
                f"| {encoder} | {v['seeds']} | {v['auc']:.3f} [{v['auc_ci'][0]:.3f}, "
                f"{v['auc_ci'][1]:.3f}] | {diff_text} | {v['reach']:g} [{v['reach_ci'][0]:g}, "
                f"{v['reach_ci'][1]:g}] |"
            )
        lines += ["", *encoder_sentence(encoders)]
    lines += [
        "",
        "## Held-out evaluation",
        "",
        "Evaluation episodes of the BC and DAgger cells against their cell's training "
        "episodes: same reset seed (goal: 0), and same first frame (the same map, start "
        "and goal drawn again by another seed).",
        "",
        "| env | evaluation episodes | same reset seed | same first frame |",
        "|---|--:|--:|--:|",
    ]
    for env, held in analysis["held_out"].items():
        lines.append(
            f"| {env} | {held['episodes']} | {held['same_reset_seed']} "
            f"| {held['same_first_frame']} ({held['same_first_frame'] / held['episodes']:.1%}) |"
        )
    lines += ["", "## Curves (IQM over seeds, 95% CI)", ""]
    for env, by_name in analysis["curves"].items():
        lines += [
            f"### {env}",
            "",
            "| agent | x | success | SPL | seeds |",
            "|---|--:|---|---|--:|",
        ]
        for name, curve in by_name.items():
            for row in curve["points"]:
                x = "-" if curve["x_label"] == "final" else f"{row['x']} ({curve['x_label']})"
                lines.append(
                    f"| {name} | {x} | {fmt(row['success'])} | {fmt(row['spl'])} "
                    f"| {row['success']['n']} |"
                )
        lines.append("")
    return lines


def encoder_sentence(encoders: dict[str, Any]) -> list[str]:
    """The verdict: is a pretrained encoder's area above the baseline's (paired CI of
    the difference above zero), below it, or not clearly different?"""
    words = []
    for encoder in PRETRAINED:
        diff = encoders.get(encoder, {}).get("vs_baseline")
        if diff is None:
            continue
        low, high = diff["ci"]
        verdict = "helped" if low > 0 else "hurt" if high < 0 else "no clear difference"
        words.append(f"{encoder} {diff['difference']:+.3f} ({verdict})")
    if not words:
        return []
    return [
        "Verdict: area under the BC learning curve against scratch + random shift: "
        + ", ".join(words)
        + ". Helped / hurt: the 95% CI of the difference lies above / below zero."
    ]


def plot(analysis: dict[str, Any], folder: Path) -> list[str]:
    """One PNG per env: IQM success against x with CI bands, planner and random lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = []
    for env, by_name in analysis["curves"].items():
        learned = {n: c for n, c in by_name.items() if c["x_label"] != "final"}
        if not learned:
            continue
        axes_by_label: dict[str, Any] = {}
        labels = sorted({c["x_label"] for c in learned.values()})
        figure, axes = plt.subplots(1, len(labels), figsize=(5 * len(labels), 3.6), squeeze=False)
        for ax, label in zip(axes[0], labels, strict=True):
            axes_by_label[label] = ax
            ax.set_xlabel(label)
            ax.set_ylabel("IQM success (held-out seeds)")
            ax.set_ylim(-0.02, 1.02)
            if label == "planner demos":
                ax.set_xscale("log")
            elif label == "env steps":
                ax.ticklabel_format(axis="x", style="sci", scilimits=(3, 3))
            for fixed, style in (("planner", "k--"), ("random", "k:")):
                if fixed in by_name:
                    ax.axhline(
                        by_name[fixed]["points"][0]["success"]["iqm"], ls=style[1:], color="k"
                    )
        for name, curve in learned.items():
            ax = axes_by_label[curve["x_label"]]
            xs = [r["x"] for r in curve["points"]]
            ys = [r["success"]["iqm"] for r in curve["points"]]
            lo = [
                r["success"]["ci"][0] if r["success"]["ci"] else y
                for r, y in zip(curve["points"], ys, strict=True)
            ]
            hi = [
                r["success"]["ci"][1] if r["success"]["ci"] else y
                for r, y in zip(curve["points"], ys, strict=True)
            ]
            ax.plot(xs, ys, marker="o", label=name)
            ax.fill_between(xs, lo, hi, alpha=0.2)
        for ax in axes_by_label.values():
            ax.legend(fontsize=7)
        figure.suptitle(f"{env}\nplanner (dashed) = ceiling, random (dotted) = floor", fontsize=9)
        figure.tight_layout()
        path = folder / f"learning_{env}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        lines.append(f"![{env}]({path.name})")
    return lines


def quick_suite(suite: Suite) -> Suite:
    """A few tiny cells: BC from 2 demos (frozen), DAgger for 1 round, PPO for 256 steps
    with 2 snapshots, planner and random; one seed, 2 episodes, four rooms only."""
    tiny = {
        "bc": {"demos": 2, "epochs": 1},
        "dagger": {"demos": 2, "epochs": 1, "iterations": 1, "rollouts_per_iteration": 1},
    }
    agents = []
    for agent in suite.agents:
        keep = agent.kind in ("planner", "random") or agent.name in ("bc-frozen-d10", "dagger")
        if agent.kind == "ppo":
            keep = True
            agent = dataclasses.replace(
                agent,
                steps=256,
                kwargs={
                    **agent.kwargs,
                    "curve_points": 2,
                    "hyperparams": {"n_envs": 2, "n_steps": 64, "batch_size": 64},
                },
            )
        if keep:
            kwargs = {**agent.kwargs, **tiny.get(agent.kind, {})}
            agents.append(
                dataclasses.replace(
                    agent, kwargs=kwargs, seeds=(0,), episodes=2, envs=("fourrooms-pixels",)
                )
            )
    envs = tuple(e for e in suite.envs if e.label == "fourrooms-pixels")
    return dataclasses.replace(suite, name="learning-quick", envs=envs, agents=tuple(agents))


def main(argv: Sequence[str] | None = None) -> int:
    args = Args(**vars(dataclass_parser(Args, __doc__).parse_args(argv)))
    started = time.perf_counter()
    suite, folder, command = run_suite_cells(
        args,
        default_out=Args.out,
        shrink=quick_suite,
        script="benchmarks/learning.py",
        argv=argv,
        cells=[args.cells] if args.cells else None,
    )
    analysis = analyse(suite, folder, args.resamples)
    lines = report_lines(analysis)
    sections = lines + plot(analysis, folder)
    report = write_report(suite, folder, command=command, sections=sections)
    write_json_atomic(
        folder / "learning.json",
        {"command": " ".join(command), "machine": machine("torch", "stable-baselines3"),
         "wall_time_s": round(time.perf_counter() - started, 1), **analysis},
    )  # fmt: skip
    print("\n".join(lines[: 4 + len(analysis["targets"])]))
    print(f"report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
