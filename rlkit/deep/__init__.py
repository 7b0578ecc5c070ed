"""Deep pixel policies: stable-baselines3 agents on the :mod:`rlkit.backbones` CNN.

- :class:`BackboneExtractor` (:mod:`rlkit.deep.extractor`): SB3 features from a shipped
  or user backbone, fine-tuned ``scratch``, ``frozen``, ``full`` or ``lora``, with
  optional random-shift augmentation.
- :mod:`rlkit.deep.policies`: SB3's PPO, DQN and SAC policies around it
  (``BackbonePPOPolicy``, ...), keeping pretrained weights through SB3's init and
  training the backbone at its own learning-rate scale.
- :mod:`rlkit.deep.lora`: low-rank adapters for conv and linear layers.
- :func:`train` (:mod:`rlkit.deep.trainer`): PPO, DQN or SAC on pixels with
  per-algorithm YAML hyperparameters, atomic checkpoints and resume
  (``rlkit train --algo ppo``). :class:`GoalPixels`
  (:mod:`rlkit.deep.wrappers`) gives HER goal-conditioned frames.
- :func:`behaviour_cloning` and :func:`dagger` (:mod:`rlkit.deep.distill`): the planner
  distilled into the same pixel policy from :func:`collect_demos` (``rlkit distill``).

Needs the ``rl`` extra (torch, stable-baselines3). Names load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlkit.deep.demos import Demos, collect_demos
    from rlkit.deep.distill import DistillResult, behaviour_cloning, dagger
    from rlkit.deep.extractor import FINETUNE_MODES, BackboneExtractor, random_shift
    from rlkit.deep.lora import add_lora, merge_lora
    from rlkit.deep.policies import (
        POLICIES,
        BackboneDQNPolicy,
        BackbonePPOPolicy,
        BackboneSACPolicy,
        policy_snapshot,
    )
    from rlkit.deep.trainer import TrainResult, load_hyperparams, train
    from rlkit.deep.wrappers import GoalPixels

#: Where each public name lives (PEP 562 lazy attributes: torch loads on first use).
_MODULES: dict[str, str] = {
    "FINETUNE_MODES": "extractor",
    "BackboneExtractor": "extractor",
    "random_shift": "extractor",
    "add_lora": "lora",
    "merge_lora": "lora",
    "POLICIES": "policies",
    "BackboneDQNPolicy": "policies",
    "BackbonePPOPolicy": "policies",
    "BackboneSACPolicy": "policies",
    "policy_snapshot": "policies",
    "Demos": "demos",
    "collect_demos": "demos",
    "DistillResult": "distill",
    "behaviour_cloning": "distill",
    "dagger": "distill",
    "TrainResult": "trainer",
    "load_hyperparams": "trainer",
    "train": "trainer",
    "GoalPixels": "wrappers",
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


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'rlkit.deep' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"rlkit.deep.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
