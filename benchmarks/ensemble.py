"""Deep ensembles against their own members, on held-out seeds (issue #16).

An ensemble cell (kind ``ensemble``, ``benchmarks/suites/ensemble.yaml``) trains K
behaviour-cloning students on one set of planner demos, by seed only or by seed and
bagging, and evaluates the ensemble (mean action probabilities, Lakshminarayanan et al.
2017) and then every member on the very same held-out episodes. Per seed this script
takes the ensemble's success and SPL, its best member's (the member best on these
episodes: an oracle choice, so the bar is high) and the mean over its members, and
reports:

- ensemble, best member and mean member: IQM over seeds with 95% stratified-bootstrap
  CIs (Agarwal et al. 2021), beside the planner (ceiling) and random (floor);
- the paired gains ensemble - best member and ensemble - mean member: mean over seeds
  of the per-seed differences, with 95% bootstrap CIs;
- issue #16's target (ensemble of 5 >= best single member on a pixel task);
- whether disagreement predicts failure: the ensemble's mean (and largest) per-step
  disagreement, the mutual information of action and member, on failed and on
  successful episodes, and its AUROC for telling them apart (the probability that a
  failed episode disagrees more than a successful one, ties half), CI by bootstrap.

    python benchmarks/ensemble.py --workers 1      # runs missing cells, writes the report
    python benchmarks/ensemble.py --report-only    # rewrites the report from the cells
    python benchmarks/ensemble.py --quick          # smoke test: tiny cells, temp folder
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scripting import REPO, SuiteArgs, parse_dataclass, suite_main, table_lines

from rlkit.evaluation import aggregate_mean, iqm, probability_of_improvement
from rlkit.evaluation import stratified_bootstrap_ci as bootstrap
from rlkit.sweep.cells import cell_path, cell_result, curve_point, read_cell
from rlkit.sweep.suite import Suite

METRICS = ("success", "spl")
TARGET = "ensemble of 5 >= best single member on at least one pixel task"


@dataclass
class Args(SuiteArgs):
    suite: str = str(REPO / "benchmarks" / "suites" / "ensemble.yaml")
    """the suite file"""


def quick_suite(suite: Suite) -> Suite:
    """Ensembles of 2 students from 2 demos (1 epoch), planner and random; one seed,
    2 episodes."""
    agents = []
    for agent in suite.agents:
        kwargs = dict(agent.kwargs)
        if agent.kind == "ensemble":
            kwargs.update(members=2, demos=2, epochs=1)
        agents.append(dataclasses.replace(agent, kwargs=kwargs, seeds=(0,), episodes=2))
    return dataclasses.replace(suite, name="ensemble-quick", agents=tuple(agents))


def interval(
    values: Sequence[float] | np.ndarray, statistic: Any, resamples: int
) -> dict[str, Any]:
    """``statistic`` of per-seed ``values`` with its 95% bootstrap CI."""
    scores = np.asarray(values, dtype=float)
    low, high = bootstrap(scores, statistic, n_resamples=resamples)
    return {"estimate": float(statistic(scores)), "ci": [low, high], "n": int(scores.size)}


def seed_points(suite: Suite, folder: Path) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """``(env label, agent) -> [per finished seed: ensemble point, member points, and the
    per-episode success and disagreement]``; planner and random have no members."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for cell in suite.cells():
        document = read_cell(cell_path(folder, cell.name))
        if document is None or document.get("status") != "ok":
            continue
        result = cell_result(document)
        info = (document.get("train") or {}).get("info") or {}
        out.setdefault((cell.env.label, cell.agent.name), []).append(
            {
                "seed": cell.seed,
                "ensemble": curve_point(result),
                "members": (document.get("train") or {}).get("eval_curve") or [],
                "success": [bool(r.success) for r in result.records],
                "disagreement": info.get("episode_disagreement"),
                "max_disagreement": info.get("episode_max_disagreement"),
            }
        )
    return out


def compare_members(seeds: list[dict[str, Any]], resamples: int) -> dict[str, Any]:
    """Ensemble, best and mean member (IQM over seeds) and the paired gains, per metric."""
    out: dict[str, Any] = {"seeds": [s["seed"] for s in seeds]}
    for metric in METRICS:
        ensemble = [s["ensemble"][metric] for s in seeds]
        best = [max(m[metric] for m in s["members"]) for s in seeds]
        mean = [float(np.mean([m[metric] for m in s["members"]])) for s in seeds]
        out[metric] = {
            "ensemble": interval(ensemble, iqm, resamples),
            "best_member": interval(best, iqm, resamples),
            "mean_member": interval(mean, iqm, resamples),
            "gain_vs_best": interval(np.subtract(ensemble, best), aggregate_mean, resamples),
            "gain_vs_mean": interval(np.subtract(ensemble, mean), aggregate_mean, resamples),
            "seeds_at_least_best": int(np.sum(np.asarray(ensemble) >= np.asarray(best))),
        }
    return out


def auroc(failed: np.ndarray, succeeded: np.ndarray) -> float:
    """P(a failed episode's score > a successful one's), ties half (Mann-Whitney)."""
    return float(probability_of_improvement(failed, succeeded))


def disagreement_vs_failure(seeds: list[dict[str, Any]], resamples: int) -> dict[str, Any]:
    """Mean disagreement on failed and successful episodes (pooled over seeds) and the
    AUROC of disagreement for failure, with bootstrap CIs over episodes."""
    success = np.concatenate([s["success"] for s in seeds]).astype(bool)
    out: dict[str, Any] = {"episodes": int(success.size), "failed": int((~success).sum())}
    for key in ("disagreement", "max_disagreement"):
        scores = np.concatenate([s[key] for s in seeds]).astype(float)
        failed, succeeded = scores[~success], scores[success]
        entry: dict[str, Any] = {
            "failed_mean": float(failed.mean()) if failed.size else None,
            "success_mean": float(succeeded.mean()) if succeeded.size else None,
            "auroc": None,
            "auroc_ci": None,
        }
        if failed.size and succeeded.size:
            entry["auroc"] = auroc(failed, succeeded)
            low, high = bootstrap((failed, succeeded), auroc, n_resamples=resamples)
            entry["auroc_ci"] = [low, high]
        out[key] = entry
    return out


def analyse(suite: Suite, folder: Path, resamples: int) -> dict[str, Any]:
    """Every number of the report, JSON-ready."""
    points = seed_points(suite, folder)
    rows: list[dict[str, Any]] = []
    for (env, agent), seeds in sorted(points.items()):
        row: dict[str, Any] = {"env": env, "agent": agent}
        if all(s["members"] for s in seeds):
            row["members"] = len(seeds[0]["members"])
            row.update(compare_members(seeds, resamples))
            if all(s["disagreement"] is not None for s in seeds):
                row["disagreement"] = disagreement_vs_failure(seeds, resamples)
        else:
            for metric in METRICS:
                values = [s["ensemble"][metric] for s in seeds]
                row[metric] = {"single": interval(values, iqm, resamples)}
        rows.append(row)
    gains = [r["success"]["gain_vs_best"] for r in rows if r.get("members") == 5]
    met = any(g["estimate"] >= 0 for g in gains) if gains else None
    return {"rows": rows, "target": {"text": TARGET, "met": met}}


def fmt(entry: dict[str, Any], signed: bool = False) -> str:
    value, (low, high) = entry["estimate"], entry["ci"]
    pattern = "{:+.2f}" if signed else "{:.2f}"
    return f"{pattern.format(value)} [{pattern.format(low)}, {pattern.format(high)}]"


def report_lines(analysis: dict[str, Any]) -> list[str]:
    """The report's own sections (markdown lines)."""
    lines = [
        "## Ensemble vs its members (issue #16)",
        "",
        "IQM over seeds, 95% stratified-bootstrap CIs. Best member: the member of each "
        "seed's ensemble best on that seed's held-out episodes (per metric); mean member: "
        "the mean over its members. All rows of a seed play the same episodes.",
        "",
    ]
    table: list[tuple[Any, ...]] = []
    for row in analysis["rows"]:
        if "members" not in row:
            table.append((row["env"], row["agent"], "-", fmt(row["success"]["single"]),
                          fmt(row["spl"]["single"]), row["success"]["single"]["n"]))  # fmt: skip
            continue
        for part, label in (("ensemble", "ensemble"), ("best_member", "best member"),
                            ("mean_member", "mean member")):  # fmt: skip
            table.append((row["env"], row["agent"], f"{label} (K={row['members']})",
                          fmt(row["success"][part]), fmt(row["spl"][part]),
                          row["success"][part]["n"]))  # fmt: skip
    lines += table_lines(["env", "agent", "row", "success", "SPL", "seeds"],
                         "|---|---|---|---|---|--:|", table)  # fmt: skip
    lines += ["", "## Paired gains", ""]
    lines += ["Mean over seeds of the per-seed difference, 95% bootstrap CI over seeds.", ""]
    gains: list[tuple[Any, ...]] = []
    for row in analysis["rows"]:
        if "members" in row:
            for metric in METRICS:
                m = row[metric]
                gains.append((row["env"], row["agent"], metric, fmt(m["gain_vs_best"], True),
                              fmt(m["gain_vs_mean"], True),
                              f"{m['seeds_at_least_best']} of {m['ensemble']['n']}"))  # fmt: skip
    lines += table_lines(["env", "agent", "metric", "ensemble - best member",
                          "ensemble - mean member", "seeds ensemble >= best"],
                         "|---|---|---|---|---|--:|", gains)  # fmt: skip
    target = analysis["target"]
    verdict = {True: "met", False: "**missed**", None: "not measured"}[target["met"]]
    lines += ["", f"Target ({target['text']}; met when the mean paired success gain of a "
              f"K = 5 ensemble over its best member is >= 0): {verdict}.", ""]  # fmt: skip
    lines += [f"- {line}" for line in gain_verdicts(analysis)]
    lines += ["- The best member is picked on the very episodes it is scored on: the maximum "
              "of K noisy success rates is biased upwards, so the bar is higher than a "
              "member chosen beforehand (the mean member is what a single student gives in "
              "expectation).", ""]  # fmt: skip
    lines += ["## Does disagreement predict failure?", "",
              "Per episode: the mean and the largest per-step disagreement (mutual information "
              "of action and member, nats). AUROC: the probability that a failed episode "
              "scores higher than a successful one (0.5: no signal), 95% bootstrap CI over "
              "episodes.", ""]  # fmt: skip
    table.clear()
    for row in analysis["rows"]:
        d = row.get("disagreement")
        if d is None:
            continue
        for key, label in (("disagreement", "mean"), ("max_disagreement", "max")):
            e = d[key]
            auc = "n/a" if e["auroc"] is None else (
                f"{e['auroc']:.2f} [{e['auroc_ci'][0]:.2f}, {e['auroc_ci'][1]:.2f}]")  # fmt: skip
            table.append((row["env"], row["agent"], label, f"{d['failed']} of {d['episodes']}",
                          _num(e["failed_mean"]), _num(e["success_mean"]), auc))  # fmt: skip
    lines += table_lines(["env", "agent", "per-episode", "failed episodes", "failed: mean",
                          "successful: mean", "AUROC for failure"],
                         "|---|---|---|--:|--:|--:|---|", table)  # fmt: skip
    return [*lines, ""]


def gain_verdicts(analysis: dict[str, Any]) -> list[str]:
    """One sentence per ensemble: where the CIs of its success gains lie."""
    out = []
    for row in analysis["rows"]:
        if "members" in row:
            success = row["success"]
            texts = []
            for key, whom in (("gain_vs_best", "best member"), ("gain_vs_mean", "mean member")):
                low, high = success[key]["ci"]
                side = "lies above 0" if low > 0 else "lies below 0" if high < 0 else "holds 0"
                texts.append(f"{fmt(success[key], True)} over its {whom} (the CI {side})")
            out.append(f"{row['agent']} (K={row['members']}), success: " + "; ".join(texts) + ".")
    return out


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    args, _ = parse_dataclass(Args, __doc__, argv)
    return suite_main(
        args, argv, script="benchmarks/ensemble.py", shrink=quick_suite, analyse=analyse,
        text=report_lines, json_name="ensemble.json",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
