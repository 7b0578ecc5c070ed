"""The model card a pretraining run writes: what it trained on (data, layouts, reset
seeds), with which objective and schedule, how the losses went, how long it took and
with which versions. :func:`~rlkit.backbones.store.save_backbone` adds the file facts
(size, sha256, architecture) and the probe benchmark fills ``probe`` in later.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import numpy as np
import torch

from rlkit.backbones.data import (
    ARMREACH_SEED_OFFSET,
    GRIDNAV_LAYOUTS,
    POLICIES,
    STATE_NAMES,
    FrameDataset,
    pretraining_first_seed,
)
from rlkit.backbones.recipes import PretrainConfig
from rlkit.backbones.training import PretrainRun

__all__ = ["run_card"]


def _mean(records: list[dict[str, float]], key: str) -> float | None:
    return round(float(np.mean([r[key] for r in records])), 5) if records else None


def run_card(
    config: PretrainConfig,
    data: FrameDataset,
    run: PretrainRun,
    collect_s: float,
    device: torch.device,
) -> dict[str, Any]:
    """The model card's description of the run (``save_backbone`` adds the file facts)."""
    return {
        "description": "Small CNN for 64x64 RGB frames of rlkit's GridNav and ArmReach "
        "tasks, pretrained without rewards (ATC + auxiliary state prediction).",
        "input": {
            "layout": "(B, 3, H, W) channels-first",
            "dtype": "uint8, or float in [0, 255]",
            "size": [config.pixel_size, config.pixel_size],
            "min_size": 16,
        },
        "data": _data(config, data, run.fingerprint),
        "objective": _objective(config),
        "training": _training(config, run, device),
        "seed": config.seed,
        # Collection plus training over every session of a resumed run.
        "wall_time_s": round(collect_s + run.elapsed, 1),
        "collect_time_s": round(collect_s, 1),
        "train_time_s": round(run.elapsed, 1),
        "torch_threads": torch.get_num_threads(),
        "versions": {
            "torch": torch.__version__,
            "numpy": np.__version__,
            "gymnasium": _version("gymnasium"),
            "rlkit": _version("rlkit"),
        },
        "probe": None,
    }


def _data(config: PretrainConfig, data: FrameDataset, fingerprint: str) -> dict[str, Any]:
    """The card's ``data``: frame counts, envs, layouts and the reset seeds used."""
    first = pretraining_first_seed(config.seed)
    arm_first = first + ARMREACH_SEED_OFFSET
    return {
        **data.summary(),
        "gridnav": {
            "env": "rlkit/GridNav-v0 (obs='pixels')",
            "layouts": list(GRIDNAV_LAYOUTS),
            "sizes": list(config.gridnav_sizes),
            "reset_seeds": [first, first + data.summary()["gridnav_episodes"] - 1],
        },
        "armreach": {
            "envs": ["rlkit/ArmReach-v0", "rlkit/ArmReachObstacles-v0"],
            "reset_seeds": [arm_first, arm_first + data.summary()["armreach_episodes"] - 1],
        },
        "policies": list(POLICIES),
        "episode_len": config.episode_len,
        "held_out": "probes reset episodes from seed 10**12 on: maps, obstacles, "
        "starts and goals never seen in pretraining",
        "fingerprint": fingerprint,
    }


def _objective(config: PretrainConfig) -> dict[str, Any]:
    """The card's ``objective``: ATC and the auxiliary state prediction, as configured."""
    return {
        "name": "ATC (Stooke et al. 2021) + auxiliary state prediction",
        "contrastive": "InfoNCE, anchor o_t vs positive o_{t+k} from a momentum target "
        "encoder, residual predictor + bilinear product",
        "temporal_offset": config.temporal_offset,
        "augmentation": f"random shift (replicate pad {config.shift_pad}, random crop)",
        "target_momentum": config.target_momentum,
        "aux_targets": list(STATE_NAMES),
        "aux_weight": config.aux_weight,
        "aux_head": "linear on the unshifted anchor's features; MSE on targets "
        "standardised over the pretraining frames (masked to the frame's task)",
    }


def _training(config: PretrainConfig, run: PretrainRun, device: torch.device) -> dict[str, Any]:
    """The card's ``training``: optimisation settings and the mean losses of the first
    and last 50 steps."""
    head, tail = run.history[:50], run.history[-50:]
    return {
        "steps": run.step,
        "batch_size": config.batch_size,
        "optimizer": f"AdamW(lr={config.lr}, weight_decay={config.weight_decay})",
        "schedule": f"{config.warmup_steps} warm-up steps, cosine to {config.min_lr_fraction} x lr",
        "grad_clip": config.grad_clip,
        "device": str(device),
        "loss_first_50": _mean(head, "loss"),
        "loss_last_50": _mean(tail, "loss"),
        "aux_first_50": _mean(head, "aux"),
        "aux_last_50": _mean(tail, "aux"),
        "aux_gridnav_last_50": _mean(tail, "aux_gridnav"),
        "aux_armreach_last_50": _mean(tail, "aux_armreach"),
        "accuracy_last_50": _mean(tail, "accuracy"),
        "config": config.to_dict(),
    }


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
