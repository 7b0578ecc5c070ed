"""Linear probes of a perception backbone: what do its frozen features know?

For each task, a ridge regression (closed form) from the frozen features of a frame to
what the simulator knows about it:

- GridNav: the agent's cell, normalised ``((row + 0.5) / rows, (col + 0.5) / cols)``;
- ArmReach: the end effector ``(x, y)`` divided by the arm's reach;
- extras (no target): GridNav's goal cell, ArmReach's joint angles as cos/sin.

All frames are held out from pretraining: episodes are reset with seeds from 10**12
on (pretraining stays below), so every map, obstacle set, start and goal is new. The
probe trains on one block of held-out episodes, picks the ridge ``lambda`` on a second
and reports RMSE and R^2 on a third. The same architecture randomly initialised
(``load_backbone(..., pretrained=False, seed=init_seed)``, the ``scratch`` starting
point) is the baseline. Target: the pretrained probe's RMSE at most half the
random-init one's on GridNav agent and ArmReach end effector.

Prints a markdown table and a machine line; writes JSON atomically. ``--update-card``
stores the results in the backbone's model card (beside its weights; the weights file,
and so its checksum, is untouched). Exits 0 whether the target is met or not.

    python benchmarks/backbone_probe.py                   # about a minute
    python benchmarks/backbone_probe.py --update-card     # and record it in the card
    python benchmarks/backbone_probe.py --quick           # smoke test, seconds
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from scripting import REPO, machine, markdown_table, parse_dataclass, write_json_atomic

from rlkit.backbones import ConvEncoder, load_backbone, load_card
from rlkit.backbones.data import (
    HELD_OUT_FIRST_SEED,
    STATE_NAMES,
    FrameDataset,
    collect_armreach,
    collect_gridnav,
)
from rlkit.backbones.model import resolve_weights, sha256_of, write_card

TARGET_RATIO = 0.5
FloatArray = npt.NDArray[np.float64]


@dataclass
class Args:
    weights: str = "rlkit-cnn-v1"
    """backbone to probe: a shipped name or the path of a .pt file (its card beside it)"""
    init_seed: int = 0
    """seed of the random-init baseline (the same seed-controlled init as training from scratch)"""
    train_frames: int = 4000
    """probe-training frames per task (held-out episodes)"""
    val_frames: int = 1500
    """frames per task for choosing lambda (other held-out episodes)"""
    test_frames: int = 2500
    """frames per task the results are reported on (yet other held-out episodes)"""
    lambdas: list[float] = field(default_factory=lambda: [10.0**e for e in range(-6, 3)])
    """ridge penalties tried (times the number of training frames, on standardised features)"""
    out: str = str(REPO / "benchmarks/results/backbone_probe.json")
    """JSON file for the results (written atomically)"""
    update_card: bool = False
    """write the results into the backbone's model card (the JSON beside the weights)"""
    quick: bool = False
    """smoke test: a few hundred frames per split"""


#: What --quick sets.
QUICK = {"train_frames": 300, "val_frames": 100, "test_frames": 200}


def parse_args(argv: list[str] | None = None) -> Args:
    return parse_dataclass(Args, __doc__, argv, QUICK)[0]


# ---------------------------------------------------------------------- probe tasks


@dataclass(frozen=True)
class Probe:
    name: str
    task: str  # which frames: "gridnav" or "armreach"
    columns: tuple[int, ...]  # of the state vector
    target: bool  # counts towards the half-error target


PROBES = [
    Probe("GridNav agent (row, col)", "gridnav", (0, 1), True),
    Probe("ArmReach end effector (x, y)", "armreach", (8, 9), True),
    Probe("GridNav goal (row, col)", "gridnav", (2, 3), False),
    Probe("ArmReach joints (cos, sin)", "armreach", (4, 5, 6, 7), False),
]
#: Held-out episode seed blocks of the three splits (pretraining stays below 10**12).
SPLIT_SEEDS = {"train": HELD_OUT_FIRST_SEED, "val": HELD_OUT_FIRST_SEED + 10**6,
               "test": HELD_OUT_FIRST_SEED + 2 * 10**6}  # fmt: skip


def collect(split: str, n_frames: int) -> dict[str, FrameDataset]:
    """Held-out frames of both tasks for one split."""
    first = SPLIT_SEEDS[split]
    return {
        "gridnav": collect_gridnav(n_frames, first_seed=first),
        "armreach": collect_armreach(n_frames, first_seed=first + 500_000),
    }


@torch.no_grad()
def features(encoder: ConvEncoder, frames: npt.NDArray[np.uint8]) -> FloatArray:
    encoder.eval()
    out = [encoder(torch.from_numpy(frames[i : i + 512])) for i in range(0, len(frames), 512)]
    return torch.cat(out).double().numpy()


# ---------------------------------------------------------------------- ridge regression


def ridge_fit(x: FloatArray, y: FloatArray, lam: float) -> dict[str, FloatArray]:
    """Closed-form ridge on standardised features; the intercept is not penalised."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-8
    z = (x - mean) / std
    y_mean = y.mean(axis=0)
    gram = z.T @ z + lam * len(z) * np.eye(z.shape[1])
    weights = np.linalg.solve(gram, z.T @ (y - y_mean))
    return {"mean": mean, "std": std, "weights": weights, "y_mean": y_mean}


def ridge_predict(model: dict[str, FloatArray], x: FloatArray) -> FloatArray:
    return ((x - model["mean"]) / model["std"]) @ model["weights"] + model["y_mean"]


def scores(y: FloatArray, predicted: FloatArray) -> dict[str, float]:
    """RMSE over all outputs; R^2 per output (against the test mean), averaged."""
    rmse = float(np.sqrt(np.mean((predicted - y) ** 2)))
    ss_res = ((predicted - y) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    return {"rmse": rmse, "r2": float(np.mean(1.0 - ss_res / ss_tot))}


def probe(
    feats: dict[str, dict[str, FloatArray]],
    states: dict[str, dict[str, FloatArray]],
    spec: Probe,
    lambdas: list[float],
) -> dict[str, Any]:
    """Fit on train, choose lambda on val, score on test."""
    x = {split: feats[split][spec.task] for split in feats}
    y = {split: states[split][spec.task][:, list(spec.columns)] for split in states}
    val_rmse = [
        scores(y["val"], ridge_predict(ridge_fit(x["train"], y["train"], lam), x["val"]))["rmse"]
        for lam in lambdas
    ]
    best = lambdas[int(np.argmin(val_rmse))]
    model = ridge_fit(x["train"], y["train"], best)
    return {**scores(y["test"], ridge_predict(model, x["test"])), "lambda": best}


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    torch.manual_seed(0)  # nothing below draws from it; a guard against future changes
    pretrained = load_backbone(args.weights)
    scratch = load_backbone(args.weights, pretrained=False, seed=args.init_seed)
    weights_path = resolve_weights(args.weights)

    sizes = {"train": args.train_frames, "val": args.val_frames, "test": args.test_frames}
    data = {split: collect(split, n) for split, n in sizes.items()}
    states = {s: {t: d.states.astype(np.float64) for t, d in data[s].items()} for s in data}
    results = []
    for label, encoder in (("pretrained", pretrained), ("random_init", scratch)):
        feats = {s: {t: features(encoder, d.frames) for t, d in data[s].items()} for s in data}
        for spec in PROBES:
            results.append({"probe": spec.name, "model": label,
                            **probe(feats, states, spec, args.lambdas)})  # fmt: skip
    rows = compare(results, states)
    passed = all(r["passed"] for r in rows if r["target"])

    table = _markdown(rows)
    info = machine("torch", "gymnasium", "rlkit")
    print(table)
    print(f"\ntarget: pretrained RMSE <= {TARGET_RATIO} x random-init RMSE on the target rows: "
          f"{'met' if passed else 'MISSED'}")  # fmt: skip
    print(f"weights: {_shown(weights_path)} (sha256 {sha256_of(weights_path)[:16]}...)")
    print(f"machine: {info['cpu']} x{info['cpus']}, torch {info['torch']}, "
          f"load {info['load_1min']}, commit {info['git_commit']}")  # fmt: skip
    wall = time.perf_counter() - started
    held_out = {
        "frames_per_task": sizes,
        "reset_seeds": {
            split: f"{first}+ (GridNav), {first + 500_000}+ (ArmReach)"
            for split, first in SPLIT_SEEDS.items()
        },
        "note": "pretraining resets episodes with seeds below 10**12: every map, obstacle "
        "set, start and goal here is new",
    }
    report = {
        "command": " ".join(["python", "benchmarks/backbone_probe.py", *sys.argv[1:]]),
        "args": asdict(args),
        "machine": info,
        "wall_time_s": round(wall, 1),
        "weights": {"path": _shown(weights_path), "sha256": sha256_of(weights_path)},
        "target_ratio": TARGET_RATIO,
        "passed": passed,
        "held_out": held_out,
        "results": rows,
        "table": table,
    }
    write_json_atomic(Path(args.out), report)
    print(f"wrote {args.out}")
    if args.update_card:
        update_card(weights_path, report, info, args)
    return 0


def compare(
    results: list[dict[str, Any]], states: dict[str, dict[str, FloatArray]]
) -> list[dict[str, Any]]:
    """A row per probe: pretrained against random init, and the baseline of baselines
    (always predicting the training mean)."""
    rows = []
    for spec in PROBES:
        pre = next(r for r in results if r["probe"] == spec.name and r["model"] == "pretrained")
        rnd = next(r for r in results if r["probe"] == spec.name and r["model"] == "random_init")
        y_train = states["train"][spec.task][:, list(spec.columns)]
        y_test = states["test"][spec.task][:, list(spec.columns)]
        mean_rmse = scores(y_test, np.broadcast_to(y_train.mean(axis=0), y_test.shape))["rmse"]
        ratio = pre["rmse"] / rnd["rmse"]
        rows.append({
            "probe": spec.name, "task": spec.task, "state": [STATE_NAMES[c] for c in spec.columns],
            "target": spec.target, "pretrained": pre, "random_init": rnd,
            "mean_predictor_rmse": mean_rmse, "rmse_ratio": ratio,
            "passed": (ratio <= TARGET_RATIO) if spec.target else None,
        })  # fmt: skip
    return rows


def update_card(
    weights_path: Path, report: dict[str, Any], info: dict[str, Any], args: Args
) -> None:
    """Record the probe results (``report``, rounded) in the model card beside the weights."""
    card = load_card(weights_path)
    card["probe"] = {
        "command": report["command"],
        "date": info["date"],
        "git_commit": info["git_commit"],
        "quick": args.quick,
        "method": "ridge regression on frozen features (lambda chosen on a validation "
        "split), pretrained vs the same architecture randomly initialised (seed "
        f"{args.init_seed}); RMSE and R^2 on held-out test episodes",
        "held_out": report["held_out"],
        "target": f"pretrained RMSE <= {TARGET_RATIO} x random-init RMSE "
        "(GridNav agent, ArmReach end effector)",
        "passed": report["passed"],
        "results": [
            {
                "probe": r["probe"],
                "target": r["target"],
                "passed": r["passed"],
                "pretrained": {k: round(r["pretrained"][k], 5) for k in ("rmse", "r2")},
                "random_init": {k: round(r["random_init"][k], 5) for k in ("rmse", "r2")},
                "rmse_ratio": round(r["rmse_ratio"], 4),
                "mean_predictor_rmse": round(r["mean_predictor_rmse"], 5),
            }
            for r in report["results"]
        ],
    }
    write_card(weights_path.with_suffix(".json"), card)
    load_backbone(weights_path)  # the checksum still matches: the card was all we touched
    print(f"updated {weights_path.with_suffix('.json')}")


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it (result files travel)."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def _markdown(rows: list[dict[str, Any]]) -> str:
    cells = [
        (r["probe"], f"{r['pretrained']['rmse']:.4f}", f"{r['random_init']['rmse']:.4f}",
         f"{r['rmse_ratio']:.2f}", f"{r['pretrained']['r2']:.3f}", f"{r['random_init']['r2']:.3f}",
         f"{r['mean_predictor_rmse']:.4f}",
         ("pass" if r["passed"] else "FAIL") if r["target"] else "(extra)")
        for r in rows
    ]  # fmt: skip
    header = ("probe", "pretrained RMSE", "random-init RMSE", "ratio", "pretrained R²",
              "random-init R²", "mean-predictor RMSE", "target (ratio <= 0.5)")  # fmt: skip
    return markdown_table(header, "|---|---|---|---|---|---|---|---|", cells)


if __name__ == "__main__":
    sys.exit(main())
