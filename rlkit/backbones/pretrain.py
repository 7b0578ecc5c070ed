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

Where each part lives: the recipe in :mod:`rlkit.backbones.recipes`, the objective's
heads, targets and schedule in :mod:`rlkit.backbones.objective`, the run's state, step
and checkpoint in :mod:`rlkit.backbones.training`, the model card in
:mod:`rlkit.backbones.run_card`; this module collects the frames and runs the loop.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rlkit.atomic import atomic_output
from rlkit.backbones.data import (
    ARMREACH_SEED_OFFSET,
    FrameDataset,
    collect_armreach,
    collect_gridnav,
    pretraining_first_seed,
)
from rlkit.backbones.encoder import ConvEncoder, resolve_device
from rlkit.backbones.layers import random_shift
from rlkit.backbones.objective import ATCHeads
from rlkit.backbones.recipes import RECIPES, PretrainConfig
from rlkit.backbones.run_card import run_card
from rlkit.backbones.store import save_backbone
from rlkit.backbones.training import CHECKPOINT_FORMAT, PretrainRun

__all__ = [
    "CHECKPOINT_FORMAT",
    "RECIPES",
    "ATCHeads",
    "PretrainConfig",
    "PretrainResult",
    "collect_pretraining_data",
    "pretrain",
    "random_shift",
]


@dataclass
class PretrainResult:
    """What :func:`pretrain` returns."""

    encoder: ConvEncoder  #: the trained online encoder (eval mode, on CPU)
    weights_path: Path  #: ``OUT/<name>.pt``; its model card is ``OUT/<name>.json``
    card: dict[str, Any]  #: the model card written beside it
    history: list[dict[str, float]] = field(default_factory=list)  #: per-step losses


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
        parts.append(collect_armreach(
            config.armreach_frames, first_seed=first + ARMREACH_SEED_OFFSET,
            episode_len=config.episode_len, pixel_size=config.pixel_size,
        ))  # fmt: skip
    return FrameDataset.concatenate(parts)


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
        Continue from ``OUT/checkpoint.pt`` if it exists (same config required), bit for
        bit on CPU: a run killed at any moment and resumed ends with the weights of an
        uninterrupted one. Without it, an existing checkpoint is an error rather than
        silently overwritten. A damaged checkpoint is a ``ValueError`` naming it, never
        read in part.
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
    >>> folder = tempfile.TemporaryDirectory()
    >>> result = pretrain(tiny, folder.name, device="cpu", progress=False)
    >>> len(result.history), result.weights_path.name, result.card["training"]["steps"]
    (3, 'tiny.pt', 3)
    >>> folder.cleanup()
    """
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
    # Read before the (long) data collection: a damaged checkpoint fails at once.
    state = _read_checkpoint(checkpoint_path) if resume and checkpoint_path.exists() else None
    torch_device = resolve_device(device)
    data = collect_pretraining_data(config)
    collect_s = time.perf_counter() - started
    run = PretrainRun(config, data, torch_device)
    for partial in _partial_files(out, config.name):
        partial.unlink(missing_ok=True)  # a killed writer's; never read, only space
    if state is not None:
        try:
            run.restore(state, checkpoint_path)
        except (KeyError, TypeError, RuntimeError) as error:  # a checkpoint missing parts
            raise ValueError(
                f"{checkpoint_path} is damaged ({type(error).__name__}: {error}); delete it "
                "(or move it aside) to start afresh"
            ) from None
    _train_loop(run, checkpoint_path, progress=progress, callback=callback)
    encoder = run.encoder.cpu().eval()
    card = run_card(config, data, run, collect_s, torch_device)
    card["provenance"] = provenance()
    weights_path = out / f"{config.name}.pt"
    card = save_backbone(encoder, weights_path, card)
    with atomic_output(out / "history.json") as tmp:
        tmp.write_text(json.dumps(run.history) + "\n", encoding="utf-8")
    return PretrainResult(encoder=encoder, weights_path=weights_path, card=card,
                          history=run.history)  # fmt: skip


def _partial_files(out: Path, name: str) -> list[Path]:
    """The temporary files (``.FILE.*``, :func:`rlkit.atomic.atomic_output`) a killed
    run left beside the files it writes."""
    files = ("checkpoint.pt", f"{name}.pt", f"{name}.json", "history.json")
    return [p for file in files for p in out.glob(f".{file}.*") if p.is_file()]


def _read_checkpoint(path: Path) -> dict[str, Any]:
    """``torch.load`` the checkpoint ``path`` (weights only, no code runs), on the CPU
    (the generator state must stay a CPU tensor; ``load_state_dict`` moves the rest).

    Raises
    ------
    ValueError
        Naming ``path``, where it cannot be read (cut short, overwritten, empty).
    """
    from rlkit.backbones.store import load_tensors

    try:
        state = load_tensors(path)
    except ValueError as error:
        raise ValueError(
            f"{error}; it is never used as it is: delete it (or move it aside) to start afresh"
        ) from None
    if not isinstance(state, dict):
        raise ValueError(f"{path} is not an rlkit pretraining checkpoint")
    return state


def _train_loop(
    run: PretrainRun,
    checkpoint_path: Path,
    *,
    progress: bool,
    callback: Callable[[int, dict[str, float]], None] | None,
) -> None:
    """Step ``run`` to ``config.steps``, saving ``checkpoint_path`` every
    ``checkpoint_every`` steps and at the end; ``run.elapsed`` counts every session."""
    from tqdm import tqdm  # only the training loop needs it

    config = run.config
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
