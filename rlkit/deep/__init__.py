"""Deep pixel policies: stable-baselines3 agents on the :mod:`rlkit.backbones` CNN.

Where each piece lives (needs the ``rl`` extra: torch, stable-baselines3; names load on
first use, so ``import rlkit.deep`` stays light):

The network
    - :mod:`rlkit.deep.extractor`: :class:`BackboneExtractor`, SB3 features from a
      shipped or user backbone, fine-tuned ``scratch``, ``frozen``, ``full`` or
      ``lora`` (:data:`FINETUNE_MODES`), with optional :func:`random_shift` augmentation.
    - :mod:`rlkit.deep.lora`: low-rank adapters for conv and linear layers
      (:func:`add_lora`, :func:`merge_lora`).
    - :mod:`rlkit.deep.adapters`: Houlsby bottleneck adapters after the backbone's
      conv blocks (:func:`add_adapters`, :class:`ConvAdapter`,
      :data:`DEFAULT_ADAPTER_SIZE`; :func:`parameter_counts`: trainable and total).
    - :mod:`rlkit.deep.policies`: SB3's PPO, DQN and SAC policies around it
      (:class:`BackbonePPOPolicy`, ... by algorithm in :data:`POLICIES`), keeping
      pretrained weights through SB3's init and training the backbone at its own
      learning-rate scale; :func:`policy_snapshot`.
    - :mod:`rlkit.deep.buffers`: :class:`ChannelsLastRolloutBuffer`, PPO's rollout with
      image frames kept channels-last (:func:`rollout_buffer_for` picks it; the CPU's
      convolutions read that layout without a reorder).
    - :mod:`rlkit.deep.planning`: ``ValueIterationHead``, a value iteration network on
      the frame for maps that change every episode (``BackboneExtractor(plan=...)``).
    - :mod:`rlkit.deep.keypoints`: ``KeypointHead``, positions to a fraction of a pixel
      for reaching (``BackboneExtractor(keypoints=...)``).

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
    - :mod:`rlkit.deep.mixtures`: the actions the rounds' episodes take (the expert's
      with DART noise, expert-or-student coins).
    - :mod:`rlkit.deep.distill_cli`: the ``rlkit distill`` command (no torch import).
    - :mod:`rlkit.deep.teacher`, :mod:`rlkit.deep.teacher_rollouts`,
      :mod:`rlkit.deep.teacher_student`: :func:`distil_teacher` (``rlkit distill
      --teacher``), a trained network's soft actions into a smaller pixel student.

Deep ensembles (suite kind ``ensemble``)
    - :mod:`rlkit.deep.ensemble`: :class:`PolicyEnsemble`, K policies acting as one
      agent by mean action probability, their disagreement, save and load.
    - :mod:`rlkit.deep.ensemble_training`: :func:`train_ensemble` (seeds or bagging)
      and :class:`EnsembleResult`.

Transfer across tasks (suite kind ``transfer``)
    - :mod:`rlkit.deep.transfer`: :func:`export_backbone` (a source policy's encoder as
      a backbone ``.pt``), :func:`init_from` (copy matching weights into a new model,
      :class:`Transferred`).
    - :mod:`rlkit.deep.transfer_training`: :func:`fine_tune` (BC or DAgger on the target
      from the source policy, the pretrained backbone or scratch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlkit._lazy import lazy_exports

if TYPE_CHECKING:
    from rlkit.deep.adapters import (
        DEFAULT_ADAPTER_SIZE,
        ConvAdapter,
        add_adapters,
        parameter_counts,
    )
    from rlkit.deep.buffers import ChannelsLastRolloutBuffer, rollout_buffer_for
    from rlkit.deep.demos import Demos, collect_demos
    from rlkit.deep.distill import behaviour_cloning, dagger, distil_teacher
    from rlkit.deep.ensemble import PolicyEnsemble
    from rlkit.deep.ensemble_training import EnsembleResult, train_ensemble
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
    from rlkit.deep.teacher import Teacher, load_teacher
    from rlkit.deep.teacher_rollouts import STUDENT_SIZES
    from rlkit.deep.teacher_student import TeacherDistillResult
    from rlkit.deep.trainer import TrainResult, train
    from rlkit.deep.transfer import Transferred, export_backbone, init_from
    from rlkit.deep.transfer_training import fine_tune
    from rlkit.deep.wrappers import GoalPixels

#: Where each public name lives (PEP 562 lazy attributes: torch loads on first use).
_MODULES: dict[str, str] = {
    "FINETUNE_MODES": ".extractor",
    "BackboneExtractor": ".extractor",
    "random_shift": ".extractor",
    "add_lora": ".lora",
    "merge_lora": ".lora",
    "DEFAULT_ADAPTER_SIZE": ".adapters",
    "ConvAdapter": ".adapters",
    "add_adapters": ".adapters",
    "parameter_counts": ".adapters",
    "POLICIES": ".policies",
    "BackboneDQNPolicy": ".policies",
    "BackbonePPOPolicy": ".policies",
    "BackboneSACPolicy": ".policies",
    "policy_snapshot": ".policies",
    "ChannelsLastRolloutBuffer": ".buffers",
    "rollout_buffer_for": ".buffers",
    "Demos": ".demos",
    "collect_demos": ".demos",
    "DistillResult": ".rounds",
    "behaviour_cloning": ".distill",
    "dagger": ".distill",
    "distil_teacher": ".distill",
    "STUDENT_SIZES": ".teacher_rollouts",
    "Teacher": ".teacher",
    "TeacherDistillResult": ".teacher_student",
    "load_teacher": ".teacher",
    "PolicyEnsemble": ".ensemble",
    "EnsembleResult": ".ensemble_training",
    "train_ensemble": ".ensemble_training",
    "TrainResult": ".trainer",
    "load_hyperparams": ".hyperparameters",
    "train": ".trainer",
    "Transferred": ".transfer",
    "export_backbone": ".transfer",
    "init_from": ".transfer",
    "fine_tune": ".transfer_training",
    "GoalPixels": ".wrappers",
}

__all__ = [
    "DEFAULT_ADAPTER_SIZE",
    "FINETUNE_MODES",
    "POLICIES",
    "STUDENT_SIZES",
    "BackboneDQNPolicy",
    "BackboneExtractor",
    "BackbonePPOPolicy",
    "BackboneSACPolicy",
    "ChannelsLastRolloutBuffer",
    "ConvAdapter",
    "Demos",
    "DistillResult",
    "EnsembleResult",
    "GoalPixels",
    "PolicyEnsemble",
    "Teacher",
    "TeacherDistillResult",
    "TrainResult",
    "Transferred",
    "add_adapters",
    "add_lora",
    "behaviour_cloning",
    "collect_demos",
    "dagger",
    "distil_teacher",
    "export_backbone",
    "fine_tune",
    "init_from",
    "load_hyperparams",
    "load_teacher",
    "merge_lora",
    "parameter_counts",
    "policy_snapshot",
    "random_shift",
    "rollout_buffer_for",
    "train",
    "train_ensemble",
]


__getattr__, __dir__ = lazy_exports(__name__, _MODULES)
