"""Smoke test: the backbone probe runs end to end in --quick mode and updates a card."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rlkit.backbones import WEIGHTS_DIR, load_backbone, load_card
from rlkit.backbones.model import sha256_of


def test_quick_probe_writes_results_and_updates_the_card(tmp_path: Path, run_script: Any) -> None:
    weights = tmp_path / "weights" / "copy.pt"  # a copy: the shipped card stays as it is
    weights.parent.mkdir()
    for suffix in (".pt", ".json"):
        shutil.copy(WEIGHTS_DIR / f"rlkit-cnn-v1{suffix}", weights.with_suffix(suffix))
    out = tmp_path / "results" / "backbone_probe.json"  # the folder does not exist yet
    argv = ("--quick", "--weights", str(weights), "--out", str(out), "--update-card")
    result = run_script("backbone_probe.py", *argv)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| probe | pretrained RMSE | random-init RMSE |" in result.stdout
    assert "machine:" in result.stdout and "target:" in result.stdout

    data = json.loads(out.read_text())
    assert list(out.parent.iterdir()) == [out]  # written atomically: no temporary left
    assert {"command", "args", "machine", "wall_time_s", "weights", "target_ratio", "passed",
            "held_out", "results", "table"} <= data.keys()  # fmt: skip
    assert data["args"]["quick"] is True
    assert data["weights"]["sha256"] == sha256_of(weights)
    rows = {row["probe"]: row for row in data["results"]}
    for name in ("GridNav agent (row, col)", "ArmReach end effector (x, y)"):
        row = rows[name]
        assert row["target"] and row["passed"] == (row["rmse_ratio"] <= 0.5)
        for model in ("pretrained", "random_init"):
            assert row[model]["rmse"] > 0 and row[model]["r2"] <= 1
            assert row[model]["lambda"] in data["args"]["lambdas"]

    card = load_card(weights)
    assert card["probe"]["quick"] is True and card["probe"]["passed"] == data["passed"]
    assert card["sha256"] == sha256_of(weights)  # the weights file was not touched
    load_backbone(weights)  # and still loads
