"""PPO training throughput: rlkit's backbone extractor against SB3's default CnnPolicy.

The same PPO (stable-baselines3) on the same pixel env, ``rlkit/GridNav-v0`` with
``obs="pixels"`` (64x64 RGB, a new 11x11 map every episode), with the same
hyperparameters and step budget; only the policy differs:

- ``NatureCNN``: SB3's ``"CnnPolicy"`` (Mnih et al. 2015's encoder, 512 features), the
  baseline;
- ``rlkit <mode>``: :class:`rlkit.deep.policies.BackbonePPOPolicy` on the default
  backbone (``rlkit-cnn-v2``), fine-tuned ``full``, ``frozen``, ``lora``, ``adapter``
  (bottleneck adapters at their default size) or ``scratch`` (and ``full`` with
  random-shift augmentation, ``augment=True``);
- ``rlkit-cnn-v1 full``: the first shipped backbone (1.4x NatureCNN's multiply-adds),
  for reference: the target applies to the default backbone's rows.

Each measurement runs in a fresh process (``spawn``), so its peak resident memory
(``ru_maxrss``) is its own; rows are interleaved over ``--repeat`` rounds so load on a
shared machine hits them alike, and the median counts. Steps/s times ``model.learn``
only, after one warm-up rollout and update (model construction and first-call costs
excluded). Target: every rlkit row >= 2x NatureCNN's training env-steps/s on CPU.
Prints a markdown table and a machine line, writes JSON; exits 0 either way.

    python benchmarks/train_throughput.py           # a few minutes
    python benchmarks/train_throughput.py --steps 2048 --repeat 3 \\
        --out benchmarks/results/train_throughput/train_throughput.json \\
        --report benchmarks/results/train_throughput/report.md   # a short budget
    python benchmarks/train_throughput.py --quick   # smoke test
"""

from __future__ import annotations

import os
import shlex
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from scripting import REPO, machine, markdown_table, parse_dataclass, write_results

from rlkit.atomic import atomic_write_text
from rlkit.backbones import DEFAULT_BACKBONE

TARGET_RATIO = 2.0
ENV_ID = "rlkit/GridNav-v0"
#: Rows: label -> None for SB3's CnnPolicy, else (backbone, finetune, augment).
ROWS: dict[str, tuple[str, str, bool] | None] = {
    "NatureCNN (SB3 CnnPolicy)": None,
    "rlkit full": (DEFAULT_BACKBONE, "full", False),
    "rlkit frozen": (DEFAULT_BACKBONE, "frozen", False),
    "rlkit lora": (DEFAULT_BACKBONE, "lora", False),
    "rlkit adapter": (DEFAULT_BACKBONE, "adapter", False),
    "rlkit scratch": (DEFAULT_BACKBONE, "scratch", False),
    "rlkit full + shift": (DEFAULT_BACKBONE, "full", True),
    "rlkit-cnn-v1 full": ("rlkit-cnn-v1", "full", False),
}
BASELINE = "NatureCNN (SB3 CnnPolicy)"
#: Rows shown for comparison, outside the target.
REFERENCE = frozenset({"rlkit-cnn-v1 full"})


@dataclass
class Args:
    steps: int = 6144
    """timed env steps per measurement (after the warm-up rollout)"""
    n_envs: int = 8
    """parallel envs (DummyVecEnv)"""
    n_steps: int = 128
    """PPO rollout length per env"""
    batch_size: int = 256
    """PPO minibatch size"""
    n_epochs: int = 4
    """PPO epochs per update"""
    threads: int = 1
    """torch threads in every measurement"""
    repeat: int = 5
    """interleaved rounds over the rows; the median counts"""
    seed: int = 0
    """seed of envs and models"""
    out: str = str(REPO / "benchmarks" / "results" / "train_throughput.json")
    """JSON results file (written atomically)"""
    report: str = ""
    """also write this markdown report: the table, the run and the machine lines"""
    quick: bool = False
    """smoke test: tiny rollouts and budget, one round"""


#: What --quick sets.
QUICK = {"steps": 256, "n_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 1, "repeat": 1}


def extractor_macs(model: Any, batch: int) -> int:
    """Multiply-accumulates per frame of the policy's features extractor on a training
    minibatch of ``batch`` frames, counted by ``torch.utils.flop_counter`` on the
    operations that actually run (half their FLOPs): convolutions and matrix products,
    whichever module issues them, so a stem with folded normalisation and LoRA's merged
    weights (computed once per minibatch) count what they cost."""
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    policy = model.policy
    frames = np.stack([model.observation_space.sample() for _ in range(batch)])
    obs, _ = policy.obs_to_tensor(frames)
    policy.set_training_mode(True)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        policy.extract_features(obs, policy.features_extractor)
    return int(counter.get_total_flops()) // (2 * batch)


def measure(label: str, args: Args) -> dict[str, Any]:
    """One measurement of one row, in this (fresh) process."""
    import resource

    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    import envs  # noqa: F401 - registers the rlkit/ ids
    from rlkit.deep.policies import BackbonePPOPolicy
    from rlkit.deep.runs import quiet_logger

    torch.set_num_threads(args.threads)
    vec_env = make_vec_env(
        lambda: gym.make(ENV_ID, obs="pixels"), n_envs=args.n_envs, seed=args.seed
    )
    common: dict[str, Any] = {
        "n_steps": args.n_steps,
        "batch_size": args.batch_size,
        "n_epochs": args.n_epochs,
        "seed": args.seed,
        "device": "cpu",
    }
    mode = ROWS[label]
    if mode is None:
        model = PPO("CnnPolicy", vec_env, **common)
    else:
        backbone, finetune, augment = mode
        extractor = {
            "backbone": backbone,
            "finetune": finetune,
            "augment": augment,
            "seed": args.seed,
        }
        model = PPO(
            BackbonePPOPolicy,
            vec_env,
            policy_kwargs={"features_extractor_kwargs": extractor},
            **common,
        )
    model.set_logger(quiet_logger(0))  # SB3's default makes a /tmp/SB3-<time> folder per run
    rollout = args.n_steps * args.n_envs
    model.learn(rollout)  # warm-up: first rollout and update
    start = time.perf_counter()
    model.learn(args.steps, reset_num_timesteps=False)
    seconds = time.perf_counter() - start
    timed = model.num_timesteps - rollout
    parameters = list(model.policy.parameters())
    return {
        "row": label,
        "steps": timed,
        "seconds": seconds,
        "steps_per_s": timed / seconds,
        "parameters": sum(p.numel() for p in parameters),
        "trainable": sum(p.numel() for p in parameters if p.requires_grad),
        "extractor_macs": extractor_macs(model, args.batch_size),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_rows(args: Args) -> list[dict[str, Any]]:
    """Every row ``repeat`` times, interleaved, each in a fresh spawned process."""
    samples: dict[str, list[dict[str, Any]]] = {label: [] for label in ROWS}
    context = get_context("spawn")
    for round_ in range(args.repeat):
        for label in ROWS:
            with ProcessPoolExecutor(1, mp_context=context) as pool:
                sample = pool.submit(measure, label, args).result()
            samples[label].append(sample)
            print(
                f"round {round_ + 1}/{args.repeat} {label}: {sample['steps_per_s']:.0f} steps/s",
                file=sys.stderr,
            )
    base = statistics.median(s["steps_per_s"] for s in samples[BASELINE])
    rows = []
    for label, runs in samples.items():
        median = statistics.median(s["steps_per_s"] for s in runs)
        rows.append(
            {
                "row": label,
                "steps_per_s": median,
                "samples_steps_per_s": [round(s["steps_per_s"], 1) for s in runs],
                "ratio": median / base,
                "parameters": runs[0]["parameters"],
                "trainable": runs[0]["trainable"],
                "extractor_macs": runs[0]["extractor_macs"],
                "peak_rss_mib": max(s["peak_rss_mib"] for s in runs),
                "passed": (
                    None
                    if label == BASELINE or label in REFERENCE
                    else median / base >= TARGET_RATIO
                ),
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    cells = []
    for row in rows:
        if row["passed"] is None:
            verdict = "baseline" if row["row"] == BASELINE else "reference"
        else:
            verdict = "PASS" if row["passed"] else "MISS"
        cells.append(
            (row["row"], f"{row['steps_per_s']:,.0f}", f"{row['ratio']:.2f}x", verdict,
             f"{row['parameters']:,} ({row['trainable']:,})",
             f"{row['extractor_macs'] / 1e6:.2f}", f"{row['peak_rss_mib']:.0f}")
        )  # fmt: skip
    header = ("policy", "train env-steps/s (median)", "vs NatureCNN", "target >= 2x",
              "parameters (trainable)", "extractor MMACs/frame", "peak RSS MiB")  # fmt: skip
    return markdown_table(header, "|---|--:|--:|:-:|--:|--:|--:|", cells)


def main(argv: list[str] | None = None) -> int:
    args, _ = parse_dataclass(Args, __doc__, argv, QUICK)
    load_start = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    rows = run_rows(args)
    wall = time.perf_counter() - started
    about = machine("torch", "stable-baselines3", "gymnasium", "rlkit")
    text = table(rows)
    run_line = (
        f"PPO on {ENV_ID} pixels 64x64: {args.n_envs} envs x {args.n_steps} steps, batch "
        f"{args.batch_size}, {args.n_epochs} epochs; {args.steps} timed steps per "
        f"measurement, median of {args.repeat} interleaved rounds, {args.threads} torch "
        f"thread(s), CPU; wall time {wall:.0f} s; 1-min load {load_start} at the start, "
        f"{about['load_1min']} at the end (other processes share the CPUs)"
    )
    machine_line = (
        f"machine: {about['platform']} | {about['cpu']} ({about['cpus']} CPUs, load "
        f"{about['load_1min']}) | Python {about['python']} | torch {about['torch']}, "
        f"stable-baselines3 {about['stable-baselines3']} | rlkit {about['rlkit']} | "
        f"{about['date']} | git {about['git_commit']}"
    )
    print(f"{text}\n\n{run_line}\n{machine_line}")
    if args.report:
        given = sys.argv[1:] if argv is None else list(argv)
        command = shlex.join(["python", "benchmarks/train_throughput.py", *given])
        atomic_write_text(
            Path(args.report),
            f"# PPO training throughput\n\n{text}\n\n{run_line}\n\n- Command: `{command}`\n"
            f"- {machine_line}\n",
        )
    write_results(args.out, args, about, wall, load_1min_start=load_start,
                  target_ratio=TARGET_RATIO, rows=rows, table=text)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
