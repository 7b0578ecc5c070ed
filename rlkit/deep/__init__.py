"""Deep pixel policies: stable-baselines3 agents on the :mod:`rlkit.backbones` CNN.

Where each piece lives (needs the ``rl`` extra: torch, stable-baselines3; names load on
first use, so ``import rlkit.deep`` stays light):

The network
    - :mod:`rlkit.deep.extractor`: :class:`BackboneExtractor`, SB3 features from a
      shipped or user backbone, fine-tuned ``scratch``, ``frozen``, ``full`` or
      ``lora`` (:data:`FINETUNE_MODES`), with optional :func:`random_shift` augmentation.
    - :mod:`rlkit.deep.lora`: low-rank adapters for conv and linear layers
      (:func:`add_lora`, :func:`merge_lora`).
    - :mod:`rlkit.deep.policies`: SB3's PPO, DQN and SAC policies around it
      (:class:`BackbonePPOPolicy`, ... by algorithm in :data:`POLICIES`), keeping
      pretrained weights through SB3's init and training the backbone at its own
      learning-rate scale; :func:`policy_snapshot`.

Reinforcement learning (``rlkit train --algo ppo|dqn|sac``)
    - :mod:`rlkit.deep.trainer`: :func:`train` and :class:`TrainResult`: the training
      call, step by step.
    - :mod:`rlkit.deep.hyperparameters`: the algorithms and their per-algorithm YAML
      hyperparameters (:func:`load_hyperparams`, files in ``rlkit/deep/hyperparams/``).
    - :mod:`rlkit.deep.training_envs`: the envs it learns on (pixels, Monitor files,
      the step stamp of the learning curve).
    - :mod:`rlkit.deep.runs`: the run folder: ``config.json``, atomic checkpoints and
      resume, Monitor-file rewinding, the learning-curve and progress callbacks, logs.
    - :mod:`rlkit.deep.wrappers`: :class:`GoalPixels`, HER goal-conditioned frames.
    - :mod:`rlkit.deep.cli`: the ``rlkit train`` options of the deep algorithms.

Distilling the planner (``rlkit distill``)
    - :mod:`rlkit.deep.distill`: :func:`behaviour_cloning` and :func:`dagger`.
    - :mod:`rlkit.deep.demos`: :func:`collect_demos` (:class:`Demos`) and the labelled
      rollouts of DAgger.
    - :mod:`rlkit.deep.student`: the pixel PPO student, its options and its supervised
      fitting.
    - :mod:`rlkit.deep.rounds`: the rounds both methods run, and
      :class:`DistillResult`.
    - :mod:`rlkit.deep.distill_cli`: the ``rlkit distill`` command (no torch import).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlkit._lazy import lazy_exports

if TYPE_CHECKING:
    from rlkit.deep.demos import Demos, collect_demos
    from rlkit.deep.distill import behaviour_cloning, dagger
    from rlkit.deep.extractor import FINETUNE_MODES, BackboneExtractor, random_shift
    from rlkit.deep.hyperparameters import load_hyperparams
    from rlkit.deep.lora import add_lora, merge_lora
    from rlkit.deep.policies import (
        POLICIES,
        BackboneDQNPolicy,
        BackbonePPOPolicy,
        BackboneSACPolicy,
        policy_snapshot,
    )
    from rlkit.deep.rounds import DistillResult
    from rlkit.deep.trainer import TrainResult, train
    from rlkit.deep.wrappers import GoalPixels

#: Where each public name lives (PEP 562 lazy attributes: torch loads on first use).
_MODULES: dict[str, str] = {
    "FINETUNE_MODES": ".extractor",
    "BackboneExtractor": ".extractor",
    "random_shift": ".extractor",
    "add_lora": ".lora",
    "merge_lora": ".lora",
    "POLICIES": ".policies",
    "BackboneDQNPolicy": ".policies",
    "BackbonePPOPolicy": ".policies",
    "BackboneSACPolicy": ".policies",
    "policy_snapshot": ".policies",
    "Demos": ".demos",
    "collect_demos": ".demos",
    "DistillResult": ".rounds",
    "behaviour_cloning": ".distill",
    "dagger": ".distill",
    "TrainResult": ".trainer",
    "load_hyperparams": ".hyperparameters",
    "train": ".trainer",
    "GoalPixels": ".wrappers",
}

__all__ = [
    "FINETUNE_MODES",
    "POLICIES",
    "BackboneDQNPolicy",
    "BackboneExtractor",
    "BackbonePPOPolicy",
    "BackboneSACPolicy",
    "Demos",
    "DistillResult",
    "GoalPixels",
    "TrainResult",
    "add_lora",
    "behaviour_cloning",
    "collect_demos",
    "dagger",
    "load_hyperparams",
    "merge_lora",
    "policy_snapshot",
    "random_shift",
    "train",
]


__getattr__, __dir__ = lazy_exports(__name__, _MODULES)
