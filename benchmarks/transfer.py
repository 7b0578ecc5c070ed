"""Transfer across tasks: does a policy trained on a source task help on a target task?

For each (source -> target) pair of ``benchmarks/suites/transfer.yaml`` the target is
learned by behaviour cloning from a few planner demos, starting (a) from the source
policy (backbone, and heads where the action spaces match: ``rlkit.deep.transfer``),
(b) from the pretrained backbone (rlkit-cnn-v2, fresh heads), (c) from scratch; each is
evaluated on the target's held-out seeds, with the source policy as is (zero-shot),
the planner (ceiling) and random (floor) beside. The cells are those of the suite, run
by ``rlkit.sweep`` (kind ``transfer``); this script adds:

- the source x target matrix: IQM success per init with 95% stratified-bootstrap CIs
  (Agarwal et al. 2021), over >= 5 seeds;
- per pair, the paired difference source - pretrained (and source - scratch): seed s of
  every init trains on the same target demos, so the mean of the per-seed differences,
  with a bootstrap CI over seeds, and P(source > pretrained);
- a verdict per pair as the headline's: "helped" when the CI of the difference lies
  above zero, "hurt" below, otherwise no clear difference -- and "at the floor" when no
  init's CI clears the random agent's IQM, where no difference can be claimed;
- a PNG of the matrix and ``transfer.json``.

Sources train inside the cells and are shared by the cells of a seed through
``RLKIT_TRANSFER_CACHE``, set here to ``<results>/transfer/sources`` (not committed).
The MovingAI crop of the suite is checked against the map file (``--movingai``,
default ``$RLKIT_MOVINGAI_DIR`` or ``shared/data/movingai`` beside the repository).

    python benchmarks/transfer.py                  # runs missing cells, writes the report
    python benchmarks/transfer.py --report-only    # rewrites the report from the cells
    python benchmarks/transfer.py --quick          # smoke test: tiny cells, temp folder
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scripting import REPO, SuiteArgs, parse_dataclass, suite_main, table_lines

from rlkit.evaluation import aggregate_mean, iqm, probability_of_improvement
from rlkit.evaluation import stratified_bootstrap_ci as bootstrap_ci
from rlkit.sweep.cells import cell_path, cell_result, curve_point, is_finished, read_cell
from rlkit.sweep.kinds.transfer import CACHE_VARIABLE
from rlkit.sweep.suite import Suite

DEFAULT_MOVINGAI = os.environ.get("RLKIT_MOVINGAI_DIR", str(REPO.parent / "shared/data/movingai"))
#: Target env label -> (MovingAI map, top row, left column, side) of the crop it holds.
MOVINGAI_CROPS = {"movingai-pixels": ("den312d", 52, 7, 11)}
INITS = ("source", "pretrained", "scratch")
#: The paired differences reported, (x, y): x - y.
DIFFERENCES = (("source", "pretrained"), ("source", "scratch"))
#: Readable names of the source tasks.
TASKS = {"rlkit/GridNav-Map-v0": "four rooms", "rlkit/GridNav-v0": "random maps",
         "rlkit/ArmReach-v0": "ArmReach free, 2 links"}  # fmt: skip


@dataclass
class Args(SuiteArgs):
    suite: str = str(REPO / "benchmarks" / "suites" / "transfer.yaml")
    """the suite file"""
    movingai: str = DEFAULT_MOVINGAI
    """folder of the MovingAI .map files (the suite's crop is checked against it)"""


def movingai_crop(folder: Path, name: str, top: int, left: int, side: int) -> str:
    """The ``side x side`` crop at ``(top, left)`` of MovingAI map ``name``, as the
    ASCII of :meth:`planners.GridMap.from_ascii` ('#' blocked, '.' free)."""
    from planners import GridMap

    blocked = GridMap.from_movingai(folder / f"{name}.map").occupancy
    rows = blocked[top : top + side, left : left + side]
    return "\n".join("".join("#" if cell else "." for cell in row) for row in rows)


def check_movingai(suite: Suite, folder: Path) -> list[str]:
    """Check every MovingAI crop of the suite against its map file; notes for the report.

    Raises
    ------
    SystemExit
        If a crop differs from the file (the suite was edited by hand).
    """
    notes = []
    for env in suite.envs:
        if env.label not in MOVINGAI_CROPS:
            continue
        name, top, left, side = MOVINGAI_CROPS[env.label]
        where = f"{name}.map rows {top}-{top + side - 1}, cols {left}-{left + side - 1}"
        if not (folder / f"{name}.map").is_file():
            notes.append(f"- {env.label}: crop of {where} (not checked: no {folder}/{name}.map).")
            continue
        if movingai_crop(folder, name, top, left, side) != str(env.kwargs["map"]).strip():
            raise SystemExit(f"{env.label}: the suite's map is not the crop of {where}")
        notes.append(f"- {env.label}: crop of MovingAI {where} (checked against {folder}).")
    return notes


def quick_suite(suite: Suite) -> Suite:
    """Maze pair only, tiny budgets: 2-demo source and targets, 1 epoch, 1 seed, 2 episodes."""
    tiny = {"demos": 2, "epochs": 1}
    agents = []
    for agent in suite.agents:
        if agent.kind == "transfer" and "maze-pixels" not in agent.envs:
            continue
        kwargs = dict(agent.kwargs)
        if agent.kind == "transfer":
            kwargs.update(tiny)
            if "source" in kwargs:
                kwargs["source"] = {**kwargs["source"], "kwargs": tiny}
        agents.append(dataclasses.replace(agent, kwargs=kwargs, seeds=(0,), episodes=2))
    envs = tuple(e for e in suite.envs if e.label == "maze-pixels")
    return dataclasses.replace(suite, name="transfer-quick", envs=envs, agents=tuple(agents))


def source_name(spec: dict[str, Any]) -> str:
    """``four rooms``, ``random maps``, ...: the source task of a ``kwargs.source``."""
    return TASKS.get(spec["env"], spec["env"])


def per_seed(suite: Suite, folder: Path) -> dict[tuple[str, str], dict[int, dict[str, Any]]]:
    """(agent, env) -> seed -> that cell's success, zero-shot success and train info."""
    found: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for cell in suite.cells():
        document = read_cell(cell_path(folder, cell.name))
        if not is_finished(document, cell):
            continue
        assert document is not None
        train = document["train"] or {}
        start = [p["success"] for p in train.get("eval_curve") or [] if p["x"] == -1]
        found.setdefault((cell.agent.name, cell.env.label), {})[cell.seed] = {
            "success": curve_point(cell_result(document))["success"],
            "zero_shot": start[0] if start else None,
            "info": train.get("info") or {},
            "seconds": (train.get("wall_time_s") or 0.0) + (document["eval_wall_time_s"] or 0.0),
        }
    return found


def summary(values: Sequence[float], resamples: int) -> dict[str, Any]:
    scores = np.asarray(values, float)[:, None]
    return {"iqm": float(iqm(scores)), "ci": bootstrap_ci(scores, iqm, n_resamples=resamples),
            "seeds": len(values)}  # fmt: skip


def paired(x: dict[int, float], y: dict[int, float], resamples: int) -> dict[str, Any] | None:
    """Mean of the per-seed differences x - y over the seeds both have, its bootstrap
    CI over seeds, P(x > y) and the verdict."""
    seeds = sorted(set(x) & set(y))
    if len(seeds) < 2:
        return None
    differences = np.array([x[s] - y[s] for s in seeds])[:, None]
    low, high = bootstrap_ci(differences, aggregate_mean, n_resamples=resamples)
    xs, ys = (np.array([d[s] for s in seeds])[:, None] for d in (x, y))
    return {
        "difference": float(differences.mean()),
        "ci": (low, high),
        "p_improvement": float(probability_of_improvement(xs, ys)),
        "seeds": len(seeds),
        "verdict": "helped" if low > 0 else "hurt" if high < 0 else "unclear",
    }


def analyse(suite: Suite, folder: Path, resamples: int) -> dict[str, Any]:
    """Every number of the report, as JSON-ready rows (one per source -> target pair)."""
    cells = per_seed(suite, folder)
    pairs = []
    for env in suite.envs:
        agents = {a.kwargs["init"]: a for a in suite.agents
                  if a.kind == "transfer" and a.runs_on(env.label)}  # fmt: skip
        if "source" not in agents:
            continue
        spec = agents["source"].kwargs["source"]
        success = {
            init: {s: c["success"] for s, c in cells.get((agent.name, env.label), {}).items()}
            for init, agent in agents.items()
        }
        from_source = cells.get((agents["source"].name, env.label), {})
        zero_shot = [c["zero_shot"] for c in from_source.values() if c["zero_shot"] is not None]
        reference = {
            name: summary([c["success"] for c in cells[(name, env.label)].values()], resamples)
            for name in ("planner", "random")
            if (name, env.label) in cells
        }
        row: dict[str, Any] = {
            "source": source_name(spec),
            "source_training": f"{spec.get('method', 'bc')} {spec.get('kwargs', {})}",
            "target": env.label,
            "target_training": {
                k: v
                for k, v in agents["source"].kwargs.items()
                if k not in ("source", "init", "zero_shot")
            },
            "inits": {i: summary(list(v.values()), resamples) for i, v in success.items() if v},
            "zero_shot": summary(zero_shot, resamples) if zero_shot else None,
            "differences": {
                f"{x} - {y}": d
                for x, y in DIFFERENCES
                if (d := paired(success.get(x, {}), success.get(y, {}), resamples)) is not None
            },
            "reference": reference,
            "carried": next((c["info"].get("transfer") for c in from_source.values()), None),
            "cell_seconds": sum(
                c["seconds"]
                for a in agents.values()
                for c in cells.get((a.name, env.label), {}).values()
            ),
        }
        row["at_floor"] = at_floor(row)
        row["verdict"] = verdict(row)
        pairs.append(row)
    total = len(suite.cells())
    finished = sum(len(v) for v in cells.values())
    seconds = sum(c["seconds"] for v in cells.values() for c in v.values())
    return {
        "pairs": pairs,
        "cells": {"finished": finished, "total": total},
        "cell_seconds": seconds,
    }


def at_floor(row: dict[str, Any]) -> bool:
    """Whether no init's CI clears the random agent's IQM success."""
    floor = row["reference"].get("random", {}).get("iqm")
    if floor is None or not row["inits"]:
        return False
    return all(entry["ci"][0] <= floor for entry in row["inits"].values())


def verdict(row: dict[str, Any]) -> str:
    """One sentence: what starting from the source policy did on this target."""
    pair = f"{row['source']} -> {row['target']}"
    inits = ", ".join(f"{i} {e['iqm']:.2f}" for i, e in row["inits"].items())
    floor = row["reference"].get("random", {}).get("iqm")
    if row["at_floor"]:
        return (f"{pair}: every init sits at the random floor ({floor:.2f}; IQM success "
                f"{inits}): no difference can be claimed at this budget.")  # fmt: skip
    against = row["differences"].get("source - pretrained")
    if against is None:
        return f"{pair}: not enough finished seeds for a paired comparison ({inits})."
    words = {"helped": "**helped**", "hurt": "**hurt**", "unclear": "made no clear difference"}
    lo, hi = against["ci"]
    text = (f"{pair}: starting from the source policy {words[against['verdict']]} against "
            f"the pretrained backbone (IQM success {inits}; paired difference "
            f"{against['difference']:+.2f} [{lo:+.2f}, {hi:+.2f}])")  # fmt: skip
    scratch = row["differences"].get("source - scratch")
    if scratch is not None:
        lo, hi = scratch["ci"]
        text += f"; against scratch {scratch['difference']:+.2f} [{lo:+.2f}, {hi:+.2f}]"
    return text + "."


def fmt(entry: dict[str, Any] | None, signed: bool = False) -> str:
    """``IQM [lo, hi]`` of a summary, or ``+d [lo, hi]`` of a difference."""
    if entry is None:
        return "-"
    value = entry.get("iqm", entry.get("difference"))
    lo, hi = entry["ci"]
    return f"{value:+.2f} [{lo:+.2f}, {hi:+.2f}]" if signed else f"{value:.2f} [{lo:.2f}, {hi:.2f}]"


def report_lines(analysis: dict[str, Any]) -> list[str]:
    """The report's sections: verdicts, the pair table, the matrix, the budget."""
    pairs = analysis["pairs"]
    lines = ["## Verdict: did starting from the source policy help?", ""]
    lines += [f"- {row['verdict']}" for row in pairs] or ["No finished pair yet."]
    lines += [
        "",
        "Helped / hurt: the 95% bootstrap CI of the paired difference (over seeds) lies "
        "above / below zero; at the floor: no init's CI clears random's IQM.",
        "",
    ]
    header = ("source -> target", "zero-shot", "from source", "from pretrained", "from scratch",
              "source - pretrained", "P(source > pretrained)", "source - scratch", "planner",
              "random")  # fmt: skip
    rows = []
    for row in pairs:
        against = row["differences"].get("source - pretrained")
        rows.append((
            f"{row['source']} -> {row['target']}", fmt(row["zero_shot"]),
            *(fmt(row["inits"].get(i)) for i in INITS), fmt(against, signed=True),
            f"{against['p_improvement']:.2f}" if against else "-",
            fmt(row["differences"].get("source - scratch"), signed=True),
            *(fmt(row["reference"].get(n)) for n in ("planner", "random")),
        ))  # fmt: skip
    lines += ["## IQM success on the target's held-out seeds [95% CI]", ""]
    lines += [*table_lines(header, "|---" + "|--:" * (len(header) - 1) + "|", rows), ""]
    lines += matrix_lines(pairs)
    lines += ["## What carried over, and the budget", ""]
    for row in pairs:
        carried = row["carried"] or {}
        skipped = ", ".join(carried.get("skipped", {})) or "nothing"
        copied = carried.get("copied", 0)
        lines.append(
            f"- {row['source']} -> {row['target']}: source {row['source_training']}; target "
            f"{row['target_training']}; {copied} tensors copied, kept their own init: "
            f"{skipped}; cells {row['cell_seconds']:.0f} s."
        )
    cells, minutes = analysis["cells"], analysis["cell_seconds"] / 60
    lines += [
        "",
        f"Cells finished: {cells['finished']} of {cells['total']}; time in cells {minutes:.1f} "
        "min (each source trains inside the first cell of its seed that needs it).",
        "",
    ]
    return lines + analysis.get("notes", [])


def matrix_lines(pairs: list[dict[str, Any]]) -> list[str]:
    """Sources x targets: each cell the paired difference source - pretrained."""
    sources = list(dict.fromkeys(row["source"] for row in pairs))
    targets = list(dict.fromkeys(row["target"] for row in pairs))
    by = {(row["source"], row["target"]): row for row in pairs}
    rows = []
    for source in sources:
        cells = []
        for target in targets:
            row = by.get((source, target))
            entry = row["differences"].get("source - pretrained") if row else None
            if row is None:
                cells.append("")
                continue
            mark = " (floor)" if row["at_floor"] else ""
            if entry is not None and not row["at_floor"]:
                mark = {"helped": " helped", "hurt": " hurt", "unclear": ""}[entry["verdict"]]
            cells.append(fmt(entry, signed=True) + mark)
        rows.append((source, *cells))
    return ["## Matrix: source (rows) x target (columns), paired difference source - "
            "pretrained in IQM success", "",
            *table_lines(("source \\ target", *targets), "|---" * (len(targets) + 1) + "|", rows),
            ""]  # fmt: skip


def plot(analysis: dict[str, Any], folder: Path) -> list[str]:
    """``transfer.png``: per pair, bars of zero-shot and the three inits with CIs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = analysis["pairs"]
    if not pairs:
        return []
    figure, axes = plt.subplots(1, len(pairs), figsize=(3.6 * len(pairs), 3.6), squeeze=False)
    for ax, row in zip(axes[0], pairs, strict=True):
        bars = {"zero-shot": row["zero_shot"], **{i: row["inits"].get(i) for i in INITS}}
        names = [n for n, e in bars.items() if e is not None]
        values = [bars[n]["iqm"] for n in names]
        errors = np.array([[v - bars[n]["ci"][0], bars[n]["ci"][1] - v]
                           for n, v in zip(names, values, strict=True)]).T  # fmt: skip
        ax.bar(
            names, values, yerr=errors, capsize=3, color=["0.7", "C0", "C1", "C2"][-len(names) :]
        )
        for name, style in (("planner", "--"), ("random", ":")):
            if name in row["reference"]:
                ax.axhline(row["reference"][name]["iqm"], ls=style, color="k", label=name)
        ax.set_title(f"{row['source']}\n-> {row['target']}", fontsize=9)
        ax.set_ylim(0, 1.05)
        ax.tick_params(axis="x", labelrotation=30)
    axes[0][0].set_ylabel("IQM success, held-out seeds")
    if axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(folder / "transfer.png", dpi=100)
    plt.close(figure)
    return ["## Plot", "", "![transfer matrix](transfer.png)", ""]


def main(argv: Sequence[str] | None = None) -> int:
    args, _ = parse_dataclass(Args, __doc__, argv)
    from rlkit.sweep.schema import load_suite

    suite = load_suite(args.suite)
    notes = ["## MovingAI map", "", *check_movingai(suite, Path(args.movingai)), ""]
    quick_default = args.quick and args.out == Args.out
    name = quick_suite(suite).name if args.quick else suite.name
    folder = Path(tempfile.mkdtemp()) if quick_default else Path(args.out) / name
    os.environ[CACHE_VARIABLE] = str(folder / "sources")

    def with_notes(suite: Suite, folder: Path, resamples: int) -> dict[str, Any]:
        return {**analyse(suite, folder, resamples), "notes": notes}

    return suite_main(
        args, argv, script="benchmarks/transfer.py", shrink=quick_suite, analyse=with_notes,
        text=report_lines, plots=plot, json_name="transfer.json",
        shown=lambda analysis: 3 + len(analysis["pairs"]),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
