"""The headline experiment: does rlkit's pretrained backbone help pixel policies?

After Hansen et al. 2022 ("On pre-training for visuo-motor control: revisiting a
learning-from-scratch baseline") and R3M (Nair et al. 2022): on GridNav pixels and
ArmReach pixels, five encoders -- scratch, scratch + random shift, pretrained frozen,
pretrained full fine-tune, pretrained LoRA -- each trained by behaviour cloning from 5,
10 and 25 planner demos and by PPO at a fixed step budget; planner (ceiling) and random
(floor) alongside. The cells are those of ``benchmarks/suites/headline.yaml``, run by
``rlkit.sweep``; this script adds the verdict to the suite report: for every (env,
training method), the IQM success and SPL of each encoder with 95% stratified-bootstrap
CIs, and each pretrained encoder's difference from the scratch + shift baseline (the
strong one) with a bootstrap CI and the probability of improvement. "Helped" means the
CI of the difference lies above zero; "hurt" below; otherwise no clear difference.

    python benchmarks/headline.py                 # runs missing cells, writes the report
    python benchmarks/headline.py --report-only   # rewrites the report from the cells
    python benchmarks/headline.py --quick         # smoke test: 2 tiny cells, temp folder
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

from rlkit.evaluation import iqm, probability_of_improvement, stratified_bootstrap_ci
from rlkit.evaluation.atomic import atomic_output
from rlkit.evaluation.result import EvalResult
from rlkit.sweep.cells import cell_path, cell_result, is_finished, read_cell
from rlkit.sweep.suite import AgentSpec, Suite


@dataclass
class Args(SuiteArgs):
    suite: str = str(REPO / "benchmarks" / "suites" / "headline.yaml")
    """the suite file"""


#: Encoders in table order: (label, finetune, augment).
ENCODERS = (
    ("scratch", "scratch", False),
    ("scratch+shift", "scratch", True),
    ("frozen", "frozen", False),
    ("full", "full", False),
    ("lora", "lora", False),
)
#: The baseline every pretrained encoder is measured against (Hansen et al.'s strong one).
BASELINE = "scratch+shift"
PRETRAINED = ("frozen", "full", "lora")
METRICS = ("success", "spl")


def encoder_of(agent: AgentSpec) -> str | None:
    """The encoder label of a deep agent of the suite (None for planner and random)."""
    finetune = agent.kwargs.get("finetune")
    if finetune is None:
        return None
    augment = bool(agent.kwargs.get("augment", False))
    for label, mode, shift in ENCODERS:
        if (mode, shift) == (finetune, augment):
            return label
    return f"{finetune}{'+shift' if augment else ''}"


def method_of(agent: AgentSpec) -> str:
    """``BC-5``, ``DAgger-10``, ``PPO``: how the agent was trained."""
    if agent.kind in ("bc", "dagger"):
        name = "BC" if agent.kind == "bc" else "DAgger"
        return f"{name}-{agent.kwargs.get('demos')}"
    return agent.kind.upper()


def difference_ci(x: np.ndarray, y: np.ndarray, resamples: int) -> tuple[float, float]:
    """95% stratified-bootstrap CI of ``IQM(x) - IQM(y)`` (each resampled on its own)."""

    def statistic(a: np.ndarray, b: np.ndarray) -> float:
        return float(iqm(a) - iqm(b))

    return stratified_bootstrap_ci((x, y), statistic, n_resamples=resamples)


def fmt(value: float, interval: tuple[float, float] | None = None, signed: bool = False) -> str:
    text = f"{value:+.2f}" if signed else f"{value:.2f}"
    if interval is not None:
        lo, hi = interval
        text += f" [{lo:+.2f}, {hi:+.2f}]" if signed else f" [{lo:.2f}, {hi:.2f}]"
    return text


def load_results(suite: Suite, folder: Path) -> dict[tuple[str, str], EvalResult]:
    """Finished (agent name, env label) results, seeds merged."""
    by_pair: dict[tuple[str, str], list[EvalResult]] = {}
    for cell in suite.cells():
        document = read_cell(cell_path(folder, cell.name))
        if is_finished(document, cell):
            assert document is not None
            by_pair.setdefault((cell.agent.name, cell.env.label), []).append(cell_result(document))
    return {pair: EvalResult.merge(results) for pair, results in by_pair.items()}


def analyse(suite: Suite, folder: Path, resamples: int) -> dict[str, Any]:
    """Every number of the verdict, as JSON-ready rows."""
    results = load_results(suite, folder)
    rows: list[dict[str, Any]] = []
    for env in suite.envs:
        methods: dict[str, dict[str, AgentSpec]] = {}
        for agent in suite.agents:
            encoder = encoder_of(agent)
            if encoder is not None and (agent.name, env.label) in results:
                methods.setdefault(method_of(agent), {})[encoder] = agent
        for method, encoders in methods.items():
            row: dict[str, Any] = {"env": env.label, "method": method, "encoders": {}}
            scores = {
                encoder: {m: results[(agent.name, env.label)].score_matrix(m) for m in METRICS}
                for encoder, agent in encoders.items()
            }
            for encoder, by_metric in scores.items():
                row["encoders"][encoder] = {
                    m: {
                        "iqm": float(iqm(s)),
                        "ci": stratified_bootstrap_ci(s, iqm, n_resamples=resamples),
                        "seeds": int(s.shape[0]),
                    }
                    for m, s in by_metric.items()
                }
            if BASELINE in scores:
                row["vs_baseline"] = {}
                for encoder in PRETRAINED:
                    if encoder not in scores:
                        continue
                    row["vs_baseline"][encoder] = {}
                    for m in METRICS:
                        x, y = scores[encoder][m], scores[BASELINE][m]
                        lo, hi = difference_ci(x, y, resamples)
                        row["vs_baseline"][encoder][m] = {
                            "difference": float(iqm(x) - iqm(y)),
                            "ci": (lo, hi),
                            "p_improvement": float(probability_of_improvement(x, y)),
                            "verdict": "helped" if lo > 0 else "hurt" if hi < 0 else "unclear",
                        }
            rows.append(row)
    floors = {
        env.label: {
            name: float(iqm(results[(name, env.label)].score_matrix("success")))
            for name in ("planner", "random")
            if (name, env.label) in results
        }
        for env in suite.envs
    }
    return {"rows": rows, "reference": floors}


def verdict_lines(analysis: dict[str, Any]) -> list[str]:
    """The report's verdict section (markdown), computed from ``analysis``."""
    rows = [r for r in analysis["rows"] if "vs_baseline" in r]
    lines = ["## Verdict: did pretraining help?", ""]
    if not rows:
        return [*lines, "No finished cells with both a pretrained and a scratch encoder yet.", ""]
    tally = {"helped": 0, "hurt": 0, "unclear": 0}
    best_differences = []
    for row in rows:
        verdicts = [v["success"]["verdict"] for v in row["vs_baseline"].values()]
        overall = (
            "helped"
            if "helped" in verdicts
            else "hurt"
            if all(v == "hurt" for v in verdicts)
            else "unclear"
        )
        tally[overall] += 1
        best = max(row["vs_baseline"].values(), key=lambda v: v["success"]["difference"])
        best_differences.append(best["success"]["difference"])
    lines.append(
        f"Against scratch + random shift, the strong baseline of Hansen et al. 2022, the "
        f"best pretrained encoder raised IQM success significantly (95% CI of the "
        f"difference above zero) in **{tally['helped']} of {len(rows)}** (env, training "
        f"method) pairs; every pretrained encoder was significantly worse in "
        f"{tally['hurt']}; the rest show no clear difference. The best pretrained "
        f"encoder's IQM success differs from the baseline by "
        f"{np.mean(best_differences):+.2f} on average "
        f"(from {min(best_differences):+.2f} to {max(best_differences):+.2f})."
    )
    for env, reference in analysis["reference"].items():
        best_value, best_name = max(
            (entry["success"]["iqm"], f"{row['method']} {encoder}")
            for row in analysis["rows"]
            if row["env"] == env
            for encoder, entry in row["encoders"].items()
        )
        floor = reference.get("random")
        standing = ""
        if floor is not None:
            standing = " above" if best_value > floor else " not above"
            standing += f" the random floor ({floor:.2f})"
        lines.append(
            f"On {env} the best pixel policy ({best_name}) reached IQM success "
            f"{best_value:.2f},{standing}; the planner reaches "
            f"{reference.get('planner', float('nan')):.2f}."
        )
    return [*lines, "", *encoder_tables(analysis)]


def encoder_tables(analysis: dict[str, Any]) -> list[str]:
    """Per metric, a table of every encoder's IQM and each pretrained one's difference
    from the baseline; then the ceiling and floor."""
    lines: list[str] = []
    header = ["env", "method", *[label for label, _, _ in ENCODERS]]
    header += [f"{e} - {BASELINE}" for e in PRETRAINED]
    for metric in METRICS:
        table = []
        for row in analysis["rows"]:
            cells = [row["env"], row["method"]]
            for label, _, _ in ENCODERS:
                entry = row["encoders"].get(label, {}).get(metric)
                cells.append(fmt(entry["iqm"], entry["ci"]) if entry else "")
            for encoder in PRETRAINED:
                entry = row.get("vs_baseline", {}).get(encoder, {}).get(metric)
                if entry is None:
                    cells.append("")
                    continue
                mark = {"helped": " **helped**", "hurt": " *hurt*", "unclear": ""}
                cells.append(
                    fmt(entry["difference"], entry["ci"], signed=True)
                    + f", P(>)={entry['p_improvement']:.2f}"
                    + mark[entry["verdict"]]
                )
            table.append(cells)
        lines += [f"### IQM {metric} [95% CI] by encoder, and difference from {BASELINE}", ""]
        lines += [*table_lines(header, "|" + "---|" * len(header), table), ""]
    references = ", ".join(
        f"{env}: " + ", ".join(f"{name} {value:.2f}" for name, value in v.items())
        for env, v in analysis["reference"].items()
    )
    lines += [f"Ceiling and floor (IQM success): {references}.", ""]
    return lines


def plot_sample_efficiency(analysis: dict[str, Any], folder: Path) -> list[str]:
    """Success vs number of demos per encoder (BC), one PNG per env; markdown links."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    links = []
    for env in dict.fromkeys(r["env"] for r in analysis["rows"]):
        bc = [r for r in analysis["rows"] if r["env"] == env and r["method"].startswith("BC-")]
        if not bc:
            continue
        bc.sort(key=lambda r: int(r["method"].split("-")[1]))
        figure, axis = plt.subplots(figsize=(5.5, 3.6))
        for label, _, _ in ENCODERS:
            points = [
                (int(r["method"].split("-")[1]), r["encoders"][label]["success"])
                for r in bc
                if label in r["encoders"]
            ]
            if not points:
                continue
            demos = [d for d, _ in points]
            axis.plot(demos, [e["iqm"] for _, e in points], marker="o", label=label)
            axis.fill_between(
                demos, [e["ci"][0] for _, e in points], [e["ci"][1] for _, e in points],
                alpha=0.15,
            )  # fmt: skip
        reference = analysis["reference"].get(env, {})
        for name, style in (("planner", "--"), ("random", ":")):
            if name in reference:
                axis.axhline(reference[name], color="0.3", linestyle=style, label=name)
        axis.set_xscale("log")
        axis.set_xticks([int(r["method"].split("-")[1]) for r in bc])
        axis.set_xticklabels([r["method"].split("-")[1] for r in bc])
        axis.set_xlabel("planner demos (behaviour cloning)")
        axis.set_ylabel("IQM success (95% CI)")
        axis.set_ylim(-0.02, 1.02)
        axis.set_title(f"{env}: sample efficiency")
        axis.legend(fontsize=7, loc="best")
        figure.tight_layout()
        name = f"{env}__sample_efficiency.png"
        with atomic_output(folder / "plots" / name) as tmp:
            figure.savefig(tmp, format="png", dpi=110)
        plt.close(figure)
        links.append(f"![Sample efficiency on {env}](plots/{name})")
    return [" ".join(links), ""] if links else []


def quick_suite(suite: Suite) -> Suite:
    """Two tiny cells: BC from 2 demos for 2 epochs, the baseline (scratch + shift) and
    frozen, one seed, 2 episodes."""
    agents = []
    for agent in suite.agents:
        if (
            agent.kind == "bc"
            and agent.kwargs.get("demos") == 5
            and encoder_of(agent) in (BASELINE, "frozen")
        ):
            kwargs = {**agent.kwargs, "demos": 2, "epochs": 2}
            agents.append(dataclasses.replace(agent, kwargs=kwargs, seeds=(0,), episodes=2))
    envs = suite.envs[:1]
    return dataclasses.replace(suite, name="headline-quick", envs=envs, agents=tuple(agents))


def main(argv: Sequence[str] | None = None) -> int:
    args, _ = parse_dataclass(Args, __doc__, argv)
    return suite_main(
        args, argv, script="benchmarks/headline.py", shrink=quick_suite, analyse=analyse,
        text=verdict_lines, plots=plot_sample_efficiency, json_name="verdict.json",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
