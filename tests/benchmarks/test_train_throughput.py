"""Smoke test: the PPO training-throughput benchmark runs end to end in --quick mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TARGET_ROWS = {"lite full", "lite lora", "lite full + shift"}


def test_quick_run_measures_every_row_against_naturecnn(tmp_path: Path, run_script: Any) -> None:
    out = tmp_path / "results" / "train_throughput.json"
    report = tmp_path / "report" / "report.md"
    result = run_script(
        "train_throughput.py", "--quick", "--out", str(out), "--report", str(report)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| policy | train env-steps/s (median) | vs NatureCNN | target >= 3x |" in result.stdout
    assert "machine:" in result.stdout
    assert "1 torch thread(s)" in result.stdout
    # the target covers full, LoRA and shift (issue #17); the other rows are references
    assert result.stdout.count("| PASS |") + result.stdout.count("| MISS |") == 3
    assert result.stdout.count("| reference |") == 8

    text = report.read_text()
    assert text.startswith("# PPO training throughput") and "| v2 adapter |" in text
    assert "Seconds per 1,000 env steps" in text and "Bounds: env stepping" in text
    assert "- Command: `python benchmarks/train_throughput.py --quick" in text
    data = json.loads(out.read_text())
    assert list(out.parent.iterdir()) == [out]  # written atomically: no temporary left
    keys = {"command", "args", "machine", "wall_time_s", "load_1min_start", "target_ratio"}
    assert keys | {"rows", "table", "bounds", "target_rows"} <= data.keys()
    assert data["target_ratio"] == 3.0 and set(data["target_rows"]) == TARGET_ROWS
    assert data["args"]["quick"] is True and data["args"]["threads"] == 1
    assert {"torch", "stable-baselines3", "cpu", "load_1min", "git_commit"} <= data[
        "machine"
    ].keys()
    rows = {row["row"]: row for row in data["rows"]}
    assert set(rows) == {
        "NatureCNN (SB3 CnnPolicy)",
        "NatureCNN + rlkit buffer",
        "lite full",
        "lite lora",
        "lite full + shift",
        "v2 full",
        "v2 frozen",
        "v2 lora",
        "v2 adapter",
        "v2 scratch",
        "v2 full + shift",
        "v1 full",
    }
    for row in rows.values():
        assert row["steps_per_s"] > 0 and row["peak_rss_mib"] > 0
        assert all(s > 0 for s in row["samples_steps_per_s"])
        assert 0 < row["trainable"] <= row["parameters"]
        assert row["extractor_macs"] > 0 and row["macs_per_env_step"] > row["extractor_macs"]
        assert row["model_frames_per_s"] > 0 and row["model_ratio"] > 0
        split = row["split_s_per_1000_steps"]
        assert set(split) == {"env_stepping", "rollout_rest", "updates"}
        assert all(seconds > 0 for seconds in split.values())
        assert sum(split.values()) <= 1000 / row["steps_per_s"] * 1.01  # parts of the total
        assert row["passed"] is (row["ratio"] >= 3 if row["row"] in TARGET_ROWS else None)
        # SB3's buffer for the baseline only; every other row on rlkit's, as train() runs
        sb3_buffer = row["row"] == "NatureCNN (SB3 CnnPolicy)"
        assert row["rollout_buffer"] == (
            "RolloutBuffer" if sb3_buffer else "ChannelsLastRolloutBuffer"
        )
    baseline = rows["NatureCNN (SB3 CnnPolicy)"]
    assert baseline["ratio"] == baseline["model_ratio"] == baseline["mac_ratio"] == 1.0
    # frozen trains the heads only; lora adds adapters to a frozen backbone, and the
    # bottleneck adapters (default size) fewer parameters than LoRA (default rank)
    assert rows["v2 frozen"]["trainable"] < rows["v2 adapter"]["trainable"]
    assert rows["v2 adapter"]["trainable"] < rows["v2 lora"]["trainable"]
    assert rows["v2 lora"]["trainable"] < rows["v2 full"]["trainable"]
    # the adapters' 1x1 convolutions cost multiply-adds; LoRA's merged weight does not
    assert rows["v2 adapter"]["extractor_macs"] > rows["v2 frozen"]["extractor_macs"]
    # a frozen backbone runs no backward pass: fewer multiply-adds per env step than full
    assert rows["v2 frozen"]["mac_ratio"] > rows["v2 full"]["mac_ratio"] > 1
    # the lite backbone costs half v2's multiply-adds per frame, the same in every mode
    assert rows["lite full"]["extractor_macs"] < 0.6 * rows["v2 full"]["extractor_macs"]
    assert rows["lite full"]["mac_ratio"] > rows["v2 full"]["mac_ratio"]
