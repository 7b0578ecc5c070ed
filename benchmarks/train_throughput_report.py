"""The target and the tables of ``train_throughput.py``: which rows the 3x target
(issue #17) judges, the throughput table with PASS/MISS, the split of each row's time
per 1,000 env steps, and the line on what bounds the ratio."""

from __future__ import annotations

from typing import Any

from scripting import markdown_table

#: The target: training env-steps/s at least this many times NatureCNN's.
TARGET_RATIO = 3.0
BASELINE = "NatureCNN (SB3 CnnPolicy)"
#: The rows the target applies to (issue #17 item 3); the others are for reference.
TARGET_ROWS = frozenset({"lite full", "lite lora", "lite full + shift"})


def table(rows: list[dict[str, Any]]) -> str:
    cells = []
    for row in rows:
        if row["passed"] is None:
            verdict = "baseline" if row["row"] == BASELINE else "reference"
        else:
            verdict = "PASS" if row["passed"] else "MISS"
        cells.append(
            (row["row"], f"{row['steps_per_s']:,.0f}", f"{row['ratio']:.2f}x", verdict,
             f"{row['model_ratio']:.2f}x", f"{row['mac_ratio']:.2f}x",
             f"{row['parameters']:,} ({row['trainable']:,})",
             f"{row['extractor_macs'] / 1e6:.2f}", f"{row['peak_rss_mib']:.0f}")
        )  # fmt: skip
    header = ("policy", "train env-steps/s (median)", "vs NatureCNN",
              f"target >= {TARGET_RATIO:g}x", "model-only update vs NatureCNN",
              "MAC ratio (NatureCNN / row)", "parameters (trainable)",
              "extractor MMACs/frame", "peak RSS MiB")  # fmt: skip
    return markdown_table(header, "|---|--:|--:|:-:|--:|--:|--:|--:|--:|", cells)


def split_table(rows: list[dict[str, Any]]) -> str:
    """Seconds per 1,000 env steps by phase (medians over the rounds)."""
    cells = []
    for row in rows:
        split = row["split_s_per_1000_steps"]
        total = 1000 / row["steps_per_s"]
        cells.append(
            (row["row"], f"{split['env_stepping']:.3f}", f"{split['rollout_rest']:.3f}",
             f"{split['updates']:.3f}", f"{total:.3f}",
             f"{100 * split['env_stepping'] / total:.0f}%")
        )  # fmt: skip
    header = ("policy", "env stepping s", "rollout inference + SB3 s", "PPO updates s",
              "total s", "env share")  # fmt: skip
    return markdown_table(header, "|---|--:|--:|--:|--:|--:|", cells)


def bounds_line(rows: list[dict[str, Any]]) -> str:
    """What caps the ratio: env stepping (Amdahl) and multiply-adds."""
    base = next(r for r in rows if r["row"] == BASELINE)
    env = base["split_s_per_1000_steps"]["env_stepping"]
    total = 1000 / base["steps_per_s"]
    macs = ", ".join(f"{r['row']} {r['mac_ratio']:.2f}x" for r in rows if r["row"] in TARGET_ROWS)
    return (
        f"Bounds: env stepping (shared by every row) takes {env:.3f} s of NatureCNN's "
        f"{total:.3f} s per 1,000 steps, so it alone caps the ratio at (E+M)/E = "
        f"{total / max(env, 1e-9):.0f}x; the multiply-adds cap it at the MAC ratio "
        f"({macs}) unless a row runs its multiply-adds faster than NatureCNN runs its own."
    )
