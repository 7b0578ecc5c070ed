"""Self-supervised pretraining of :class:`~rlkit.backbones.ConvEncoder` on simulator frames.

Objective: Augmented Temporal Contrast (ATC; Stooke, Lee, Abbeel & Laskin, "Decoupling
Representation Learning from Reinforcement Learning", ICML 2021) plus an auxiliary
state-prediction loss.

- ATC: an anchor frame ``o_t`` and its positive ``o_{t+k}`` from the same episode, each
  randomly shifted (pad 4, random crop; DrQ / RAD). The online encoder's anchor code
  goes through a residual predictor and a bilinear product ``W`` with the codes of the
  positives from a momentum (EMA) target encoder; InfoNCE makes each anchor pick its
  own positive among the batch.
- Auxiliary: a linear head on the *unshifted* anchor's features predicts the state the
  simulator knows (:data:`rlkit.backbones.data.STATE_NAMES`). Unshifted, because a
  shift moves everything in the frame and would make absolute positions ambiguous;
  linear, so the features themselves carry the state in a form a policy's first layer
  (and a linear probe) can read.

Runs are reproducible and resumable: all randomness comes from the seed (data
collection, initialisation, and one ``torch.Generator`` for batches and shifts); every
``checkpoint_every`` steps ``OUT/checkpoint.pt`` (models, optimizer, generator and RNG
states, loss history) is replaced atomically, and ``resume=True`` continues from it
with bit-identical results on CPU.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.metadata
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rlkit.atomic import atomic_output
from rlkit.backbones.data import (
    GRIDNAV_LAYOUTS,
    POLICIES,
    STATE_NAMES,
    STATE_SLICES,
    FrameDataset,
    collect_armreach,
    collect_gridnav,
    pretraining_first_seed,
)
from rlkit.backbones.model import (
    ConvEncoder,
    random_shift,
    resolve_device,
    save_backbone,
    seeded_encoder,
)

__all__ = [
    "CHECKPOINT_FORMAT",
    "RECIPES",
    "PretrainConfig",
    "PretrainResult",
    "collect_pretraining_data",
    "pretrain",
    "random_shift",
]

CHECKPOINT_FORMAT = "rlkit.backbone.checkpoint"
#: Config fields that may change between an interrupted run and its resumption.
_RESUMABLE_CHANGES = frozenset({"checkpoint_every"})


@dataclass
class PretrainConfig:
    """Everything that determines a pretraining run (recorded in the model card).

    The defaults are the shipped ``rlkit-cnn-v2`` recipe, sized to finish within 15
    minutes on 2 CPU cores; :data:`RECIPES` holds every shipped backbone's.
    """

    name: str = "rlkit-cnn-v2"
    steps: int = 6000
    batch_size: int = 128
    lr: float = 1e-3
    warmup_steps: int = 100
    min_lr_fraction: float = 0.1
    weight_decay: float = 0.0
    grad_clip: float = 10.0
    # encoder architecture
    features_dim: int = 128
    channels: tuple[int, ...] = (16, 32, 32)
    strides: tuple[int, ...] = (4, 2, 1)
    kernels: tuple[int, ...] | None = (4, 3, 3)
    layout_channels: int = 16
    layout_grid: int = 4
    # ATC
    temporal_offset: int = 3
    shift_pad: int = 4
    target_momentum: float = 0.01
    predictor_hidden: int = 256
    # auxiliary state prediction
    aux_weight: float = 5.0
    # data
    gridnav_frames: int = 36_000
    armreach_frames: int = 24_000
    gridnav_sizes: tuple[int, ...] = (7, 9, 11, 13, 15)
    episode_len: int = 40
    pixel_size: int = 64
    seed: int = 0
    checkpoint_every: int = 250

    def __post_init__(self) -> None:
        self.channels, self.strides = tuple(self.channels), tuple(self.strides)
        if self.kernels is not None:
            self.kernels = tuple(self.kernels)
        self.gridnav_sizes = tuple(self.gridnav_sizes)
        positive = ("steps", "batch_size", "temporal_offset", "checkpoint_every", "pixel_size")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 (InfoNCE needs negatives), got "
                             f"{self.batch_size}")  # fmt: skip
        if not 0.0 < self.target_momentum <= 1.0:
            raise ValueError(f"target_momentum must be in (0, 1], got {self.target_momentum}")
        if self.gridnav_frames + self.armreach_frames < 2 * self.temporal_offset:
            raise ValueError("gridnav_frames + armreach_frames is too small for any pair")
        pretraining_first_seed(self.seed)  # checks the seed range

    def architecture(self) -> dict[str, Any]:
        """Keyword arguments of :class:`ConvEncoder`."""
        architecture: dict[str, Any] = {
            "features_dim": self.features_dim,
            "channels": list(self.channels),
            "strides": list(self.strides),
            "layout_channels": self.layout_channels,
            "layout_grid": self.layout_grid,
        }
        if self.kernels is not None:
            architecture["kernels"] = list(self.kernels)
        return architecture

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (tuples as lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }


#: The recipe of each shipped backbone. ``rlkit-cnn-v1``: four 3x3 convolutions
#: (5.3 MMACs per 64x64 frame, 1.4x SB3's NatureCNN). ``rlkit-cnn-v2``: a 4x4 stride-4
#: patchify stem and two 3x3 convolutions (1.2 MMACs, a third of NatureCNN), built so
#: that PPO fine-tuning on the CPU trains faster than with NatureCNN; same data and
#: objective; twice the steps (v2's steps cost a third of v1's), which brought its probe
#: errors to v1's.
RECIPES: dict[str, PretrainConfig] = {
    "rlkit-cnn-v2": PretrainConfig(),
    "rlkit-cnn-v1": PretrainConfig(
        name="rlkit-cnn-v1",
        steps=3000,
        channels=(16, 32, 64, 64),
        strides=(2, 2, 2, 1),
        kernels=None,
    ),
}


@dataclass
class PretrainResult:
    """What :func:`pretrain` returns."""

    encoder: ConvEncoder  #: the trained online encoder (eval mode, on CPU)
    weights_path: Path  #: ``OUT/<name>.pt``; its model card is ``OUT/<name>.json``
    card: dict[str, Any]  #: the model card written beside it
    history: list[dict[str, float]] = field(default_factory=list)  #: per-step losses


class ATCHeads(nn.Module):
    """The parts of the objective that are not the encoder: ATC's residual predictor and
    bilinear product, and the linear state-prediction head."""

    def __init__(self, features_dim: int, hidden: int, state_dim: int) -> None:
        super().__init__()
        self.predictor = nn.Sequential(
            nn.Linear(features_dim, hidden), nn.ReLU(), nn.Linear(hidden, features_dim)
        )
        self.bilinear = nn.Linear(features_dim, features_dim, bias=False)
        self.state = nn.Linear(features_dim, state_dim)

    def contrastive_logits(self, anchors: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
        """``(B, B)`` logits; row ``i`` scores anchor ``i`` against every positive."""
        predicted = anchors + self.predictor(anchors)  # residual, as in ATC
        logits = self.bilinear(predicted) @ positives.T
        return logits - logits.max(dim=1, keepdim=True).values.detach()


def collect_pretraining_data(config: PretrainConfig) -> FrameDataset:
    """The frames of a run: GridNav (every layout family, ``gridnav_sizes``) then
    ArmReach (free space and obstacles), random / planner / mixed behaviour, reset seeds
    from :func:`~rlkit.backbones.data.pretraining_first_seed` (disjoint from the probes').

    Examples
    --------
    >>> data = collect_pretraining_data(PretrainConfig(gridnav_frames=50, armreach_frames=30))
    >>> data.summary()["gridnav_frames"], data.summary()["armreach_frames"]
    (50, 30)
    """
    first = pretraining_first_seed(config.seed)
    parts = []
    if config.gridnav_frames:
        parts.append(collect_gridnav(
            config.gridnav_frames, first_seed=first, sizes=config.gridnav_sizes,
            episode_len=config.episode_len, pixel_size=config.pixel_size,
        ))  # fmt: skip
    if config.armreach_frames:
        # ArmReach episodes take the upper half of the run's seed block.
        parts.append(collect_armreach(
            config.armreach_frames, first_seed=first + 500_000,
            episode_len=config.episode_len, pixel_size=config.pixel_size,
        ))  # fmt: skip
    return FrameDataset.concatenate(parts)


def _learning_rate(config: PretrainConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to ``min_lr_fraction * lr``."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return config.lr * (config.min_lr_fraction + (1.0 - config.min_lr_fraction) * cosine)


class _Run:
    """The state of a run: models, optimizer, generator, step and history."""

    def __init__(self, config: PretrainConfig, data: FrameDataset, device: torch.device) -> None:
        self.config, self.device = config, device
        mean, std = data.channel_stats()
        self.encoder = seeded_encoder(config.seed, **config.architecture(), mean=mean, std=std)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed + 1)
            self.heads = ATCHeads(config.features_dim, config.predictor_hidden, len(STATE_NAMES))
        self.target = copy.deepcopy(self.encoder).requires_grad_(False)
        for module in (self.encoder, self.heads, self.target):
            module.to(device)
        self.optimizer = torch.optim.AdamW(
            [*self.encoder.parameters(), *self.heads.parameters()],
            lr=config.lr,
            weight_decay=config.weight_decay,
        )
        self.generator = torch.Generator().manual_seed(config.seed + 2)
        self.step = 0
        self.history: list[dict[str, float]] = []
        self.elapsed = 0.0  # seconds of training before this process (resumed runs)
        self.frames = torch.from_numpy(data.frames).to(device)
        # Standardised targets: each state variable weighs the same in the loss, which
        # then starts near 1 (like 1 - R^2), on the contrastive loss's scale.
        states = torch.from_numpy(data.states).double()
        valid = ~torch.isnan(states)
        count = valid.sum(dim=0).clamp(min=2)
        state_mean = torch.nan_to_num(states).sum(dim=0) / count
        state_var = (torch.nan_to_num(states - state_mean) ** 2).sum(dim=0) / (count - 1)
        standard = torch.nan_to_num((states - state_mean) / state_var.sqrt().clamp(min=1e-6))
        self.state_mask = valid.float().to(device)
        self.states = standard.float().to(device)
        anchors, positives = data.positive_pairs(config.temporal_offset)
        self.anchors = torch.from_numpy(anchors).to(device)
        self.positives = torch.from_numpy(positives).to(device)
        self.fingerprint = data.fingerprint()

    def train_step(self) -> dict[str, float]:
        cfg = self.config
        lr = _learning_rate(cfg, self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        pick = torch.randint(len(self.anchors), (cfg.batch_size,), generator=self.generator)
        pick = pick.to(self.device)
        anchor_ix, positive_ix = self.anchors[pick], self.positives[pick]
        anchors, positives = self.frames[anchor_ix], self.frames[positive_ix]
        shifted_anchors = random_shift(anchors, cfg.shift_pad, self.generator)
        shifted_positives = random_shift(positives, cfg.shift_pad, self.generator)
        # One pass for the shifted anchors (ATC) and the unshifted ones (state head).
        codes = self.encoder(torch.cat([shifted_anchors, anchors]))
        anchor_codes, clean_codes = codes[: cfg.batch_size], codes[cfg.batch_size :]
        with torch.no_grad():
            target_codes = self.target(shifted_positives)
        logits = self.heads.contrastive_logits(anchor_codes, target_codes)
        labels = torch.arange(cfg.batch_size, device=self.device)
        contrastive = F.cross_entropy(logits, labels)
        mask = self.state_mask[anchor_ix]
        error = (self.heads.state(clean_codes) - self.states[anchor_ix]) ** 2 * mask
        aux = error.sum() / mask.sum().clamp(min=1)
        loss = contrastive + cfg.aux_weight * aux
        with torch.no_grad():  # the error of each task, for the record
            per_task = {
                name: float(error[:, part].sum() / mask[:, part].sum().clamp(min=1))
                for name, part in STATE_SLICES.items()
            }
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(
            [*self.encoder.parameters(), *self.heads.parameters()], cfg.grad_clip
        )
        self.optimizer.step()
        with torch.no_grad():  # momentum target: theta' <- (1 - tau) theta' + tau theta
            for online, target in zip(
                self.encoder.parameters(), self.target.parameters(), strict=True
            ):
                target.lerp_(online, cfg.target_momentum)
        self.step += 1
        record = {
            "step": float(self.step),
            "loss": float(loss.detach()),
            "contrastive": float(contrastive.detach()),
            "aux": float(aux.detach()),
            **{f"aux_{name}": value for name, value in per_task.items()},
            "accuracy": float((logits.argmax(dim=1) == labels).float().mean()),
            "lr": lr,
        }
        self.history.append(record)
        return record

    def checkpoint(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "step": self.step,
            "config": self.config.to_dict(),
            "data_fingerprint": self.fingerprint,
            "encoder": self.encoder.state_dict(),
            "target": self.target.state_dict(),
            "heads": self.heads.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "history": self.history,
            "elapsed": self.elapsed,
        }

    def restore(self, state: dict[str, Any], path: Path) -> None:
        if state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not an rlkit pretraining checkpoint")
        saved, current = state["config"], self.config.to_dict()
        changed = sorted(
            k for k in current.keys() | saved.keys()
            if saved.get(k) != current.get(k) and k not in _RESUMABLE_CHANGES
        )  # fmt: skip
        if changed:
            details = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed)
            raise ValueError(
                f"cannot resume from {path}: the config differs ({details}); resume with the "
                "same settings, or start afresh in another --out folder"
            )
        if state["data_fingerprint"] != self.fingerprint:
            raise ValueError(
                f"cannot resume from {path}: the collected frames differ from the run's "
                "(another version of the envs?); start afresh in another --out folder"
            )
        self.encoder.load_state_dict(state["encoder"], strict=True)
        self.target.load_state_dict(state["target"], strict=True)
        self.heads.load_state_dict(state["heads"], strict=True)
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.step = int(state["step"])
        self.history = list(state["history"])
        self.elapsed = float(state["elapsed"])


def pretrain(
    config: PretrainConfig,
    out_dir: str | os.PathLike[str],
    *,
    device: str | torch.device = "auto",
    resume: bool = False,
    progress: bool = True,
    callback: Callable[[int, dict[str, float]], None] | None = None,
) -> PretrainResult:
    """Pretrain an encoder; write ``OUT/<name>.pt``, its card ``OUT/<name>.json``,
    ``OUT/checkpoint.pt`` (for resuming) and ``OUT/history.json`` (per-step losses).

    Parameters
    ----------
    config : PretrainConfig
        The recipe (data, architecture, objective, steps, seed).
    out_dir : path
        Output folder (created).
    device : str or torch.device, default "auto"
        CUDA when available, else CPU. Only CPU runs are bit-for-bit reproducible.
    resume : bool, default False
        Continue from ``OUT/checkpoint.pt`` if it exists (same config required). Without
        it, an existing checkpoint is an error rather than silently overwritten.
    progress : bool, default True
        Show a tqdm progress bar (stderr).
    callback : callable, optional
        Called as ``callback(step, record)`` after every step (and its checkpoint).

    Returns
    -------
    PretrainResult

    Examples
    --------
    >>> import tempfile
    >>> tiny = PretrainConfig(name="tiny", steps=3, batch_size=4, features_dim=16,
    ...                       gridnav_frames=40, armreach_frames=20, warmup_steps=1)
    >>> result = pretrain(tiny, tempfile.mkdtemp(), device="cpu", progress=False)
    >>> len(result.history), result.weights_path.name, result.card["training"]["steps"]
    (3, 'tiny.pt', 3)
    """
    from tqdm import tqdm  # only the training loop needs it

    from rlkit.evaluation.provenance import provenance

    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out / "checkpoint.pt"
    if checkpoint_path.exists() and not resume:
        raise ValueError(
            f"{checkpoint_path} exists: pass resume=True (--resume) to continue that run, "
            "or choose another output folder"
        )
    torch_device = resolve_device(device)
    data = collect_pretraining_data(config)
    collect_s = time.perf_counter() - started
    run = _Run(config, data, torch_device)
    if resume and checkpoint_path.exists():
        # On CPU first: the generator state must stay a CPU tensor; load_state_dict moves
        # the rest to the device.
        state = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        run.restore(state, checkpoint_path)
    with tqdm(
        total=config.steps, initial=run.step, unit="step", dynamic_ncols=True,
        disable=not progress, desc=f"pretrain {config.name}",
    ) as bar:  # fmt: skip
        session_start = time.perf_counter()
        base_elapsed = run.elapsed
        while run.step < config.steps:
            record = run.train_step()
            run.elapsed = base_elapsed + time.perf_counter() - session_start
            bar.update(1)
            if run.step % 10 == 0:
                bar.set_postfix(loss=f"{record['loss']:.3f}", aux=f"{record['aux']:.4f}")
            if run.step % config.checkpoint_every == 0 or run.step == config.steps:
                with atomic_output(checkpoint_path) as tmp:
                    torch.save(run.checkpoint(), tmp)
            if callback is not None:
                callback(run.step, record)
    encoder = run.encoder.cpu().eval()
    card = _card(config, data, run, collect_s, torch_device)
    card["provenance"] = provenance()
    weights_path = out / f"{config.name}.pt"
    card = save_backbone(encoder, weights_path, card)
    with atomic_output(out / "history.json") as tmp:
        tmp.write_text(json.dumps(run.history) + "\n", encoding="utf-8")
    return PretrainResult(encoder=encoder, weights_path=weights_path, card=card,
                          history=run.history)  # fmt: skip


def _mean(records: list[dict[str, float]], key: str) -> float | None:
    return round(float(np.mean([r[key] for r in records])), 5) if records else None


def _card(
    config: PretrainConfig,
    data: FrameDataset,
    run: _Run,
    collect_s: float,
    device: torch.device,
) -> dict[str, Any]:
    """The model card's description of the run (``save_backbone`` adds the file facts)."""
    first = pretraining_first_seed(config.seed)
    head, tail = run.history[:50], run.history[-50:]
    return {
        "description": "Small CNN for 64x64 RGB frames of rlkit's GridNav and ArmReach "
        "tasks, pretrained without rewards (ATC + auxiliary state prediction).",
        "input": {
            "layout": "(B, 3, H, W) channels-first",
            "dtype": "uint8, or float in [0, 255]",
            "size": [config.pixel_size, config.pixel_size],
            "min_size": 16,
        },
        "data": {
            **data.summary(),
            "gridnav": {
                "env": "rlkit/GridNav-v0 (obs='pixels')",
                "layouts": list(GRIDNAV_LAYOUTS),
                "sizes": list(config.gridnav_sizes),
                "reset_seeds": [first, first + data.summary()["gridnav_episodes"] - 1],
            },
            "armreach": {
                "envs": ["rlkit/ArmReach-v0", "rlkit/ArmReachObstacles-v0"],
                "reset_seeds": [
                    first + 500_000,
                    first + 500_000 + data.summary()["armreach_episodes"] - 1,
                ],
            },
            "policies": list(POLICIES),
            "episode_len": config.episode_len,
            "held_out": "probes reset episodes from seed 10**12 on: maps, obstacles, "
            "starts and goals never seen in pretraining",
            "fingerprint": run.fingerprint,
        },
        "objective": {
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
        },
        "training": {
            "steps": run.step,
            "batch_size": config.batch_size,
            "optimizer": f"AdamW(lr={config.lr}, weight_decay={config.weight_decay})",
            "schedule": f"{config.warmup_steps} warm-up steps, cosine to "
            f"{config.min_lr_fraction} x lr",
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
        },
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


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
