"""The state of a pretraining run and what changes it: :class:`PretrainRun` holds the
online and momentum-target encoders, the objective's heads, the optimizer, the one
``torch.Generator`` of batches and shifts, the step and the loss history;
:meth:`PretrainRun.train_step` takes one ATC + state-prediction step, and
:meth:`PretrainRun.checkpoint` / :meth:`PretrainRun.restore` save and resume it
(format :data:`CHECKPOINT_FORMAT`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rlkit.backbones.data import STATE_NAMES, STATE_SLICES, FrameDataset
from rlkit.backbones.encoder import seeded_encoder
from rlkit.backbones.layers import random_shift
from rlkit.backbones.objective import ATCHeads, learning_rate, standardised_states
from rlkit.backbones.recipes import PretrainConfig

__all__ = ["CHECKPOINT_FORMAT", "RESUMABLE_CHANGES", "PretrainRun"]

CHECKPOINT_FORMAT = "rlkit.backbone.checkpoint"
#: Config fields that may change between an interrupted run and its resumption.
RESUMABLE_CHANGES = frozenset({"checkpoint_every"})


class PretrainRun:
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
        standard, valid = standardised_states(data.states)
        self.state_mask = valid.to(device)
        self.states = standard.to(device)
        anchors, positives = data.positive_pairs(config.temporal_offset)
        self.anchors = torch.from_numpy(anchors).to(device)
        self.positives = torch.from_numpy(positives).to(device)
        self.fingerprint = data.fingerprint()

    def train_step(self) -> dict[str, float]:
        """One optimizer step on a batch of pairs; returns (and records) its losses."""
        cfg = self.config
        lr = learning_rate(cfg, self.step)
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
        """Everything :meth:`restore` needs to continue bit-for-bit (``torch.save``-able)."""
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
        """Continue from ``state`` (a :meth:`checkpoint` read from ``path``); refuses a
        checkpoint of another config or of other frames."""
        if state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not an rlkit pretraining checkpoint")
        saved, current = state["config"], self.config.to_dict()
        changed = sorted(
            k for k in current.keys() | saved.keys()
            if saved.get(k) != current.get(k) and k not in RESUMABLE_CHANGES
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
