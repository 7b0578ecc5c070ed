"""PPO training throughput: rlkit's backbone extractor against SB3's default CnnPolicy.

The same PPO (stable-baselines3) on the same pixel env, ``rlkit/GridNav-v0`` with
``obs="pixels"`` (64x64 RGB, a new 11x11 map every episode), with the same
hyperparameters and step budget; the rlkit rows run PPO as :func:`rlkit.deep.train`
builds it (:class:`~rlkit.deep.policies.BackbonePPOPolicy` and, for image frames,
:class:`~rlkit.deep.buffers.ChannelsLastRolloutBuffer`), the baseline as SB3 builds it:

- ``NatureCNN``: SB3's ``"CnnPolicy"`` (Mnih et al. 2015's encoder) and SB3's rollout
  buffer, the baseline;
- ``NatureCNN + rlkit buffer``: the same policy on rlkit's channels-last rollout
  buffer, for reference: how much of a row's ratio the buffer alone would also give
  SB3's policy;
- ``lite <mode>``: :class:`rlkit.deep.policies.BackbonePPOPolicy` on the lighter
  ``rlkit-cnn-lite`` (0.59 MMACs per frame, a sixth of NatureCNN's), fine-tuned ``full``,
  ``lora`` and ``full`` with random shift (``augment=True``): the target rows;
- ``v2 <mode>``: the same on the default ``rlkit-cnn-v2`` (1.2 MMACs) in every mode
  (``adapter``: bottleneck adapters at their default size);
- ``v1 full``: the first shipped backbone (1.4x NatureCNN's multiply-adds).

Each measurement runs in a fresh process (``spawn``), so its peak resident memory
(``ru_maxrss``) is its own; rows are interleaved over ``--repeat`` rounds so load on a
shared machine hits them alike, and the median counts. Steps/s times ``model.learn``
only, after one warm-up rollout and update (model construction and first-call costs
excluded). Target (issue #17): ``lite full``, ``lite lora`` and ``lite full + shift``
>= 3x NatureCNN's training env-steps/s on CPU; the other rows are shown for reference.

Three more columns say where the ratio comes from, measured in the same processes:

- *model-only*: one PPO minibatch update (forward, backward, gradient clipping, Adam
  step) on stored frames of the last rollout, frames/s against NatureCNN's: the
  policies alone, without env stepping, rollout inference or SB3's loop;
- *MAC ratio*: NatureCNN's multiply-accumulates per env step (``n_epochs`` training
  passes, forward and backward, plus the rollout forward; counted by
  ``torch.utils.flop_counter``) over the row's: the speed-up the policy would get if
  both ran at the same speed per multiply-add and nothing else took time;
- a second table splits each row's time per 1,000 env steps into env stepping (pixel
  rendering included, the same work for every row), the rest of the rollout (policy
  inference at batch ``n_envs`` and SB3's per-step work) and the PPO updates.

Prints the tables and a machine line, writes JSON; exits 0 either way.

    python benchmarks/train_throughput.py           # several minutes
    python benchmarks/train_throughput.py --steps 4096 --repeat 3 \\
        --out benchmarks/results/train_throughput/train_throughput.json \\
        --report benchmarks/results/train_throughput/report.md
    python benchmarks/train_throughput.py --quick   # smoke test
"""

from __future__ import annotations

import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from scripting import REPO, machine, parse_dataclass, write_results
from train_throughput_report import (
    BASELINE,
    TARGET_RATIO,
    TARGET_ROWS,
    bounds_line,
    split_table,
    table,
)

from rlkit.atomic import atomic_write_text
from rlkit.backbones import DEFAULT_BACKBONE

ENV_ID = "rlkit/GridNav-v0"
#: The lighter shipped backbone the target rows run on (issue #17, item 3).
LITE = "rlkit-cnn-lite"
#: Rows: label -> None for SB3's CnnPolicy, else (backbone, finetune, augment).
ROWS: dict[str, tuple[str, str, bool] | None] = {
    BASELINE: None,
    "NatureCNN + rlkit buffer": None,
    "lite full": (LITE, "full", False),
    "lite lora": (LITE, "lora", False),
    "lite full + shift": (LITE, "full", True),
    "v2 full": (DEFAULT_BACKBONE, "full", False),
    "v2 frozen": (DEFAULT_BACKBONE, "frozen", False),
    "v2 lora": (DEFAULT_BACKBONE, "lora", False),
    "v2 adapter": (DEFAULT_BACKBONE, "adapter", False),
    "v2 scratch": (DEFAULT_BACKBONE, "scratch", False),
    "v2 full + shift": (DEFAULT_BACKBONE, "full", True),
    "v1 full": ("rlkit-cnn-v1", "full", False),
}
#: The rows on SB3's own rollout buffer; every other row uses rlkit's, as train() does.
SB3_BUFFER_ROWS = frozenset({BASELINE})


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
    model_repeat: int = 10
    """timed minibatch updates of the model-only column per measurement (median)"""
    seed: int = 0
    """seed of envs and models"""
    out: str = str(REPO / "benchmarks" / "results" / "train_throughput.json")
    """JSON results file (written atomically)"""
    report: str = ""
    """also write this markdown report: the tables, the run and the machine lines"""
    quick: bool = False
    """smoke test: tiny rollouts and budget, one round"""


#: What --quick sets.
QUICK = {"steps": 256, "n_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 1,
         "repeat": 1, "model_repeat": 2}  # fmt: skip


def count_macs(model: Any, batch: int, n_envs: int, n_epochs: int) -> tuple[int, int]:
    """Multiply-accumulates counted by ``torch.utils.flop_counter`` on the operations
    that actually run (half their FLOPs; convolutions and matrix products, whichever
    module issues them, so a stem with folded normalisation and LoRA's merged weights
    count what they cost): ``(extractor per frame of a training minibatch of batch
    frames, whole policy per env step of PPO)``, the latter ``n_epochs`` training passes
    (forward and backward of the loss's policy terms) plus one rollout forward."""
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    policy = model.policy
    frames = np.stack([model.observation_space.sample() for _ in range(batch)])
    obs, _ = policy.obs_to_tensor(frames)
    policy.set_training_mode(True)
    extractor, train, rollout = (FlopCounterMode(display=False) for _ in range(3))
    with torch.no_grad(), extractor:
        policy.extract_features(obs, policy.features_extractor)
    with train:
        actions = torch.zeros(batch, dtype=torch.long)
        values, log_prob, entropy = policy.evaluate_actions(obs.float(), actions)
        (values.sum() + log_prob.sum() + entropy.sum()).backward()
    policy.optimizer.zero_grad()
    policy.set_training_mode(False)
    with torch.no_grad(), rollout:
        policy(obs[:n_envs])
    per_step = n_epochs * train.get_total_flops() / batch + rollout.get_total_flops() / n_envs
    return int(extractor.get_total_flops()) // (2 * batch), int(per_step) // 2


def model_update_seconds(model: Any, repeat: int) -> float:
    """Median seconds of one PPO minibatch update (the clipped surrogate and value
    loss, backward, gradient clipping, optimizer step; what ``PPO.train`` does per
    minibatch) on stored frames of the last rollout, after one untimed update."""
    import torch
    from torch.nn import functional as F

    policy = model.policy
    policy.set_training_mode(True)
    batch = next(iter(model.rollout_buffer.get(model.batch_size)))
    actions = batch.actions.long().flatten()
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        values, log_prob, entropy = policy.evaluate_actions(batch.observations, actions)
        ratio = torch.exp(log_prob - batch.old_log_prob)
        advantages = batch.advantages
        clipped = torch.clamp(ratio, 0.8, 1.2) * advantages
        loss = -torch.min(advantages * ratio, clipped).mean()
        loss = loss + 0.5 * F.mse_loss(batch.returns, values.flatten()) - 0.0 * entropy.mean()
        policy.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), model.max_grad_norm)
        policy.optimizer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def _add_time(owner: Any, name: str, totals: dict[str, float], key: str) -> None:
    """Wrap the method ``owner.name`` so each call adds its seconds to ``totals[key]``."""
    method: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start

    setattr(owner, name, timed)


def measure(label: str, args: Args) -> dict[str, Any]:
    """One measurement of one row, in this (fresh) process."""
    import resource

    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    import envs  # noqa: F401 - registers the rlkit/ ids
    from rlkit.deep.buffers import rollout_buffer_for
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
    if label not in SB3_BUFFER_ROWS:
        common.update(rollout_buffer_for(vec_env.observation_space))
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
    split = {"env": 0.0, "rollout": 0.0, "update": 0.0}
    assert model.env is not None
    _add_time(model.env, "step_wait", split, "env")
    _add_time(model, "collect_rollouts", split, "rollout")
    _add_time(model, "train", split, "update")
    start = time.perf_counter()
    model.learn(args.steps, reset_num_timesteps=False)
    seconds = time.perf_counter() - start
    timed = model.num_timesteps - rollout
    update = model_update_seconds(model, args.model_repeat)
    macs = count_macs(model, args.batch_size, args.n_envs, args.n_epochs)
    parameters = list(model.policy.parameters())
    per_1000 = 1000 / timed
    return {
        "row": label,
        "steps": timed,
        "seconds": seconds,
        "steps_per_s": timed / seconds,
        "split_s_per_1000_steps": {
            "env_stepping": split["env"] * per_1000,
            "rollout_rest": (split["rollout"] - split["env"]) * per_1000,
            "updates": split["update"] * per_1000,
        },
        "model_frames_per_s": args.batch_size / update,
        "parameters": sum(p.numel() for p in parameters),
        "trainable": sum(p.numel() for p in parameters if p.requires_grad),
        "extractor_macs": macs[0],
        "macs_per_env_step": macs[1],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rollout_buffer": type(model.rollout_buffer).__name__,
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
    base_model = statistics.median(s["model_frames_per_s"] for s in samples[BASELINE])
    base_macs = samples[BASELINE][0]["macs_per_env_step"]
    rows = []
    for label, runs in samples.items():
        median = statistics.median(s["steps_per_s"] for s in runs)
        model_median = statistics.median(s["model_frames_per_s"] for s in runs)
        split = {
            key: statistics.median(s["split_s_per_1000_steps"][key] for s in runs)
            for key in runs[0]["split_s_per_1000_steps"]
        }
        rows.append(
            {
                "row": label,
                "steps_per_s": median,
                "samples_steps_per_s": [round(s["steps_per_s"], 1) for s in runs],
                "ratio": median / base,
                "model_frames_per_s": model_median,
                "model_ratio": model_median / base_model,
                "macs_per_env_step": runs[0]["macs_per_env_step"],
                "mac_ratio": base_macs / runs[0]["macs_per_env_step"],
                "split_s_per_1000_steps": split,
                "parameters": runs[0]["parameters"],
                "trainable": runs[0]["trainable"],
                "extractor_macs": runs[0]["extractor_macs"],
                "peak_rss_mib": max(s["peak_rss_mib"] for s in runs),
                "rollout_buffer": runs[0]["rollout_buffer"],
                "passed": median / base >= TARGET_RATIO if label in TARGET_ROWS else None,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    args, _ = parse_dataclass(Args, __doc__, argv, QUICK)
    load_start = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    rows = run_rows(args)
    wall = time.perf_counter() - started
    about = machine("torch", "stable-baselines3", "gymnasium", "rlkit")
    text = f"{table(rows)}\n\nSeconds per 1,000 env steps:\n\n{split_table(rows)}"
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
    bounds = bounds_line(rows)
    print(f"{text}\n\n{bounds}\n\n{run_line}\n{machine_line}")
    if args.report:
        given = sys.argv[1:] if argv is None else list(argv)
        command = shlex.join(["python", "benchmarks/train_throughput.py", *given])
        atomic_write_text(
            Path(args.report),
            f"# PPO training throughput\n\n{text}\n\n{bounds}\n\n{run_line}\n\n"
            f"- Command: `{command}`\n- {machine_line}\n",
        )
    write_results(args.out, args, about, wall, load_1min_start=load_start,
                  target_ratio=TARGET_RATIO, target_rows=sorted(TARGET_ROWS), rows=rows,
                  table=text, bounds=bounds)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
