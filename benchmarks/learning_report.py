"""The report of ``learning.py``: its markdown sections (targets, the per-encoder
verdict, adapters against LoRA, the held-out check, the curves) and its PNG curves,
from the numbers of :func:`learning_analysis.analyse`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from learning_analysis import BASELINE, PRETRAINED, REACH
from scripting import table_lines


def fmt(summary: dict[str, Any] | None) -> str:
    if summary is None or summary.get("iqm") is None:
        return "-"
    ci = summary.get("ci")
    return f"{summary['iqm']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def report_lines(analysis: dict[str, Any]) -> list[str]:
    """The report's sections (markdown lines); the targets table comes first."""
    return [
        *targets_section(analysis["targets"]),
        *encoders_section(analysis["encoders"]),
        *adapter_section(analysis.get("adapter_vs_lora")),
        *held_out_section(analysis["held_out"]),
        *curves_section(analysis["curves"]),
    ]


def targets_section(targets: list[dict[str, Any]]) -> list[str]:
    rows = []
    for t in targets:
        ci = f"[{t['ci'][0]:.2f}, {t['ci'][1]:.2f}]" if t["ci"] else "-"
        measured = "-" if t["measured"] is None else f"{t['measured']:.2f}"
        met = {True: "yes", False: "**no**", None: "not run"}[t["met"]]
        spent = t["train_seconds"]
        seconds = "-" if spent is None else f"{spent[0]:.0f}-{spent[1]:.0f}"
        floor = "-" if t["random"] is None else format(t["random"], ".2f")
        at = t["at"] if t["at"] is not None else "-"
        rows.append(
            (f">= {t['target']:.2f} ({t['what']})", t["env"], t["agent"], t["metric"], at,
             measured, ci, met, floor, seconds)
        )  # fmt: skip
    header = ("target", "env", "agent", "metric", "at", "measured IQM", "95% CI", "met",
              "random", "train s")  # fmt: skip
    return [
        "## Targets (issue #14)",
        "",
        *table_lines(header, "|---|---|---|---|--:|--:|---|:-:|--:|--:|", rows),
    ]


def encoders_section(encoders: dict[str, Any]) -> list[str]:
    """Area under each encoder's BC curve and demos to reach 0.8, and the verdict."""
    if not encoders:
        return []
    rows = []
    for encoder, v in encoders.items():
        diff = v.get("vs_baseline")
        diff_text = (
            f"{diff['difference']:+.3f} [{diff['ci'][0]:+.3f}, {diff['ci'][1]:+.3f}]"
            if diff
            else "-"
        )
        rows.append(
            (encoder, v["seeds"], f"{v['auc']:.3f} [{v['auc_ci'][0]:.3f}, {v['auc_ci'][1]:.3f}]",
             diff_text, f"{v['reach']:g} [{v['reach_ci'][0]:g}, {v['reach_ci'][1]:g}]")
        )  # fmt: skip
    header = ("encoder", "seeds", "area under curve", f"area - {BASELINE}'s (paired)",
              f"demos to reach {REACH}")  # fmt: skip
    return [
        "",
        "## Pretrained or not: BC on four-rooms pixels, per encoder",
        "",
        "Area under the learning curve: mean IQM success over the demos counts "
        f"{encoders[next(iter(encoders))]['demos']}; demos to reach {REACH}: the first "
        "count whose IQM success is at least that (inf: never). 95% CIs by bootstrap "
        "over seeds.",
        "",
        *table_lines(header, "|---|--:|--:|--:|--:|", rows),
        "",
        *encoder_sentence(encoders),
    ]


def adapter_section(comparison: dict[str, Any] | None) -> list[str]:
    """Issue #16: bottleneck adapters against LoRA on the BC curve, and its target."""
    if comparison is None:
        return []
    counts, areas, final = comparison["trainable"], comparison["area"], comparison["final"]
    rows = [
        (encoder, f"{counts[encoder]['backbone']:,}", f"{counts[encoder]['policy']:,}",
         f"{counts[encoder]['total']:,}", f"{areas[encoder]:.3f}", f"{final[encoder]:.2f}")
        for encoder in ("lora", "adapter")
    ]  # fmt: skip
    diff = comparison["difference"]
    low, high = diff["ci"]
    ratio = (
        f"{counts['adapter']['backbone'] / counts['lora']['backbone']:.2f}x"
        if counts["lora"]["backbone"]
        else "-"
    )
    rows.append(
        ("adapter - lora (paired)", ratio, "", "",
         f"{diff['difference']:+.3f} [{low:+.3f}, {high:+.3f}]",
         f"{final['adapter'] - final['lora']:+.2f}")
    )  # fmt: skip
    header = ("encoder", "trainable in backbone", "trainable in policy", "policy total",
              "area under curve", f"success at {comparison['demos']} demos")  # fmt: skip
    fewer = counts["adapter"]["policy"] <= counts["lora"]["policy"]
    met = "met" if comparison["met"] else "**missed**"
    return [
        "",
        "## Bottleneck adapters against LoRA (issue #16)",
        "",
        "Houlsby et al. (2019) adapters after each conv block of the frozen backbone "
        "(default size) against LoRA (default rank 4) on the BC curve of four-rooms "
        "pixels: trainable parameters (in the backbone: the adapters or the low-rank "
        "factors; in the whole policy: with the heads), area under the curve (IQM over "
        "seeds, mean over the demos counts; the difference with a seed-paired bootstrap "
        "95% CI) and IQM success at the largest demos count.",
        "",
        *table_lines(header, "|---|--:|--:|--:|--:|--:|", rows),
        "",
        f"Target: adapter within {1 - comparison['target']:.0%} of LoRA's success at <= "
        f"LoRA's trainable parameters: area ratio adapter / lora "
        f"{comparison['ratio']:.2f} (>= {comparison['target']:.2f} needed), trainable "
        f"{counts['adapter']['policy']:,} {'<=' if fewer else '>'} "
        f"{counts['lora']['policy']:,}: {met}.",
    ]


def held_out_section(held_out: dict[str, Any]) -> list[str]:
    rows = [
        (env, held["episodes"], held["same_reset_seed"],
         f"{held['same_first_frame']} ({held['same_first_frame'] / held['episodes']:.1%})")
        for env, held in held_out.items()
    ]  # fmt: skip
    header = ("env", "evaluation episodes", "same reset seed", "same first frame")
    return [
        "",
        "## Held-out evaluation",
        "",
        "Evaluation episodes of the BC and DAgger cells against their cell's training "
        "episodes: same reset seed (goal: 0), and same first frame (the same map, start "
        "and goal drawn again by another seed).",
        "",
        *table_lines(header, "|---|--:|--:|--:|", rows),
    ]


def curves_section(curves: dict[str, Any]) -> list[str]:
    lines = ["", "## Curves (IQM over seeds, 95% CI)", ""]
    for env, by_name in curves.items():
        rows = []
        for name, curve in by_name.items():
            for row in curve["points"]:
                x = "-" if curve["x_label"] == "final" else f"{row['x']} ({curve['x_label']})"
                rows.append((name, x, fmt(row["success"]), fmt(row["spl"]), row["success"]["n"]))
        header = ("agent", "x", "success", "SPL", "seeds")
        lines += [f"### {env}", "", *table_lines(header, "|---|--:|---|---|--:|", rows), ""]
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
