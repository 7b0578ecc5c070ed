"""The student of distillation: rlkit's pixel PPO model, fitted to the expert's actions.

- :class:`DistillOptions`: the keyword arguments :func:`~rlkit.deep.distill.behaviour_cloning`
  and :func:`~rlkit.deep.distill.dagger` share (the student, its training, reporting),
  read once from a call's arguments and checked.
- :func:`make_student`: an SB3 ``PPO`` model on
  :class:`~rlkit.deep.policies.BackbonePPOPolicy`, so a distilled model saves, loads and
  evaluates like any PPO model.
- :func:`make_optimizer` and :func:`fit`: Adam over the trainable parameters, minimising
  the negative log-likelihood of the expert's actions under the policy's action
  distribution (categorical for ``Discrete`` actions, diagonal Gaussian for ``Box``);
  :func:`minimise` is the minibatch loop for any loss of that distribution.
- :func:`greedy`: the student acting on its own (DAgger's rollouts).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch
from numpy.typing import NDArray

from rlkit.deep.demos import Demos, Observations, check_positive
from rlkit.deep.extractor import check_finetune
from rlkit.deep.keypoints import KeypointHead, check_keypoints, keypoint_loss
from rlkit.deep.planning import ValueIterationHead, attention_loss, check_plan

if TYPE_CHECKING:
    from stable_baselines3 import PPO

__all__ = [
    "BatchLoss",
    "DistillOptions",
    "Minibatches",
    "RoundCallback",
    "StudentPolicy",
    "fit",
    "greedy",
    "make_optimizer",
    "make_student",
    "minimise",
    "nll_loss",
    "rows",
]

#: ``obs -> action`` of the student, acting greedily.
StudentPolicy = Callable[[Any], Any]

#: ``callback(round, model)``: called after each round's training (round 0 is the
#: behaviour cloning on the demos), e.g. to evaluate or snapshot the student. It must
#: not change the model.
RoundCallback = Callable[[int, "PPO"], None]


@dataclass(frozen=True)
class DistillOptions:
    """The keyword arguments behaviour cloning and DAgger share (documented there)."""

    backbone: str | os.PathLike[str]
    finetune: str
    augment: bool
    lora_rank: int
    spatial: int
    backbone_lr_scale: float
    epochs: int
    batch_size: int
    learning_rate: float
    seed: int
    device: str
    env_kwargs: dict[str, Any] | None
    ppo_kwargs: dict[str, Any] | None
    progress_bar: bool
    callback: RoundCallback | None
    #: A value iteration head (``BackboneExtractor(plan=...)``); optional, so callers
    #: without the argument (ensembles, transfer, teachers) build students without it.
    plan: Mapping[str, Any] | None = None
    #: A keypoint head (``BackboneExtractor(keypoints=...)``); optional as ``plan``.
    keypoints: Mapping[str, Any] | None = None
    #: Noise on the actions the expert's demos take (DART); 0: none. Optional as ``plan``.
    demo_noise: float = 0.0

    @classmethod
    def of(cls, arguments: Mapping[str, Any]) -> DistillOptions:
        """The options among a call's ``arguments`` (its ``locals()``), checked.

        Raises
        ------
        ValueError
            For an unknown ``finetune``, ``epochs`` or ``batch_size`` below 1 or a
            ``learning_rate`` not above 0.
        """
        options = cls(
            **{
                field.name: (
                    arguments.get(field.name, field.default)
                    if field.default is not dataclasses.MISSING
                    else arguments[field.name]
                )
                for field in dataclasses.fields(cls)
            }
        )
        check_plan(options.plan)
        check_keypoints(options.keypoints)
        check_finetune(options.finetune)
        epochs = check_positive("epochs", options.epochs)
        batch_size = check_positive("batch_size", options.batch_size)
        if not options.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {options.learning_rate!r}")
        noise = options.demo_noise
        if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 <= noise <= 1:
            raise ValueError(
                f"demo_noise must be a number in [0, 1] (Box: the std of Gaussian noise on "
                f"the action; Discrete: the chance of a random action), got {noise!r}"
            )
        return dataclasses.replace(options, epochs=epochs, batch_size=batch_size)

    def recorded(self) -> dict[str, Any]:
        """The options a distilled model records (JSON-able; ``config`` of the result)."""
        return {
            "backbone": os.fspath(self.backbone),
            "finetune": self.finetune,
            "augment": self.augment,
            "lora_rank": self.lora_rank,
            "spatial": self.spatial,
            **({} if self.plan is None else {"plan": check_plan(self.plan)}),
            **({} if self.keypoints is None else {"keypoints": check_keypoints(self.keypoints)}),
            **({"demo_noise": float(self.demo_noise)} if self.demo_noise else {}),
            "backbone_lr_scale": self.backbone_lr_scale,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "seed": self.seed,
        }


def make_student(env_id: str, options: DistillOptions) -> PPO:
    """The untrained student: ``PPO`` on ``env_id`` (``obs="pixels"``) with the
    backbone, extractor, seed, device and PPO arguments of ``options``."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from rlkit.deep.buffers import rollout_buffer_for
    from rlkit.deep.policies import BackbonePPOPolicy
    from rlkit.deep.runs import quiet_logger
    from rlkit.evaluation.evaluate import make_env

    kwargs = {"obs": "pixels", **(options.env_kwargs or {})}
    vec_env = DummyVecEnv([lambda: make_env(env_id, kwargs)])
    ppo_kwargs = dict(options.ppo_kwargs or {})
    # ppo_kwargs may carry policy_kwargs (net_arch, more extractor arguments such as
    # spatial=): merged under the student's own, key by key.
    given = dict(ppo_kwargs.pop("policy_kwargs", None) or {})
    policy_kwargs = {
        **given,
        "features_extractor_kwargs": {
            **dict(given.get("features_extractor_kwargs") or {}),
            "backbone": options.backbone,
            "finetune": options.finetune,
            "augment": options.augment,
            "lora_rank": options.lora_rank,
            "spatial": options.spatial,
            **({} if options.plan is None else {"plan": dict(options.plan)}),
            **({} if options.keypoints is None else {"keypoints": dict(options.keypoints)}),
            "seed": options.seed,
        },
        "backbone_lr_scale": options.backbone_lr_scale,
    }
    model = PPO(
        BackbonePPOPolicy,
        vec_env,
        seed=options.seed,
        device=options.device,
        policy_kwargs=policy_kwargs,
        **{**rollout_buffer_for(vec_env.observation_space), **ppo_kwargs},
    )
    # A later model.learn() (RL fine-tuning of the student) would otherwise make SB3's
    # default logger, an empty /tmp/SB3-<time> folder per call.
    model.set_logger(quiet_logger(model.verbose))
    return model


def make_optimizer(model: PPO, learning_rate: float) -> torch.optim.Adam:
    """Adam over the trainable parameters, backbone ones at ``backbone_lr_scale`` x lr."""
    from rlkit.deep.policies import backbone_extractors

    policy = model.policy
    scale = float(getattr(policy, "backbone_lr_scale", 1.0))
    backbone = {id(p) for e in backbone_extractors(policy) for p in e.backbone_parameters()}
    trainable = [p for p in policy.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in trainable if id(p) not in backbone], "lr": learning_rate},
        {"params": [p for p in trainable if id(p) in backbone], "lr": learning_rate * scale},
    ]
    return torch.optim.Adam([g for g in groups if g["params"]], lr=learning_rate)


def rows(observations: Observations, index: NDArray[np.int64]) -> Observations:
    """The rows ``index`` of ``observations`` (of every array of a dict)."""
    if isinstance(observations, dict):
        return {k: v[index] for k, v in observations.items()}
    return observations[index]


#: ``loss(distribution, index)``: the mean loss of the minibatch of rows ``index``, from
#: the policy's action distribution on their observations.
BatchLoss = Callable[[Any, NDArray[np.int64]], torch.Tensor]


@dataclass(frozen=True)
class Minibatches:
    """How :func:`minimise` trains: ``epochs`` passes in minibatches of ``batch_size``
    rows, in an order drawn from ``generator``, one ``optimizer`` step each;
    ``on_epoch(mean loss)`` after each pass."""

    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    epochs: int
    batch_size: int
    on_epoch: Callable[[float], None]


def minimise(
    model: PPO, observations: Observations, size: int, loss: BatchLoss, batches: Minibatches
) -> int:
    """Minimise ``loss`` over the ``size`` rows of ``observations`` as ``batches`` says;
    returns the updates made. The policy is in training mode meanwhile (random-shift
    augmentation applies), in evaluation mode after."""
    policy = model.policy
    updates = 0
    policy.set_training_mode(True)
    try:
        for _ in range(batches.epochs):
            order = torch.randperm(size, generator=batches.generator).numpy()
            total = 0.0
            for start in range(0, size, batches.batch_size):
                index = order[start : start + batches.batch_size]
                obs, _ = policy.obs_to_tensor(rows(observations, index))
                value = loss(policy.get_distribution(obs), index)
                batches.optimizer.zero_grad()
                value.backward()
                batches.optimizer.step()
                total += float(value.detach()) * len(index)
                updates += 1
            batches.on_epoch(total / size)
    finally:
        policy.set_training_mode(False)
    return updates


def nll_loss(model: PPO, demos: Demos) -> BatchLoss:
    """The negative log-likelihood of the expert actions of ``demos`` (:func:`fit`)."""
    discrete = isinstance(model.action_space, gym.spaces.Discrete)
    device = model.policy.device

    plans, keypoints = auxiliary_heads(model) if demos.positions is not None else ([], [])

    def nll(distribution: Any, index: NDArray[np.int64]) -> torch.Tensor:
        actions = torch.as_tensor(demos.actions[index], device=device)
        loss = -distribution.log_prob(actions.long() if discrete else actions).mean()
        if plans or keypoints:
            assert demos.positions is not None
            positions = torch.as_tensor(demos.positions[index], device=device)
            for head in plans:  # the agent's cell: the first point
                loss = loss + attention_loss(head, positions[:, :2])
            for finder, weight in keypoints:
                loss = loss + weight * keypoint_loss(finder, positions)
        return loss

    return nll


def plan_heads(model: PPO) -> list[ValueIterationHead]:
    """The value iteration head of the extractor the actor reads (the one
    ``get_distribution`` runs), in a list; empty without one."""
    return auxiliary_heads(model)[0]


def auxiliary_heads(
    model: PPO,
) -> tuple[list[ValueIterationHead], list[tuple[KeypointHead, float]]]:
    """The heads with auxiliary losses in the extractor the actor reads (the one
    ``get_distribution`` runs): its value iteration head and its keypoint head with
    the loss's weight, each in a list (empty without one)."""
    from rlkit.deep.extractor import BackboneExtractor

    extractor = getattr(model.policy, "pi_features_extractor", None)
    if not isinstance(extractor, BackboneExtractor):
        return [], []
    plans = [] if extractor.plan_head is None else [extractor.plan_head]
    keypoints = (
        []
        if extractor.keypoint_head is None
        else [(extractor.keypoint_head, extractor.keypoint_weight)]
    )
    return plans, keypoints


def fit(
    model: PPO,
    demos: Demos,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    *,
    epochs: int,
    batch_size: int,
    on_epoch: Callable[[float], None],
) -> int:
    """Minimise the expert actions' negative log-likelihood; returns the updates made.

    ``epochs`` passes over ``demos`` in minibatches of ``batch_size`` rows, in an order
    drawn from ``generator``; ``on_epoch(mean loss)`` after each pass (:func:`minimise`).
    """
    batches = Minibatches(optimizer, generator, epochs, batch_size, on_epoch)
    return minimise(model, demos.observations, len(demos), nll_loss(model, demos), batches)


def greedy(model: PPO) -> StudentPolicy:
    """The student's deterministic action for an observation (an int for ``Discrete``)."""

    def act(obs: Any) -> Any:
        action, _ = model.predict(obs, deterministic=True)
        if isinstance(model.action_space, gym.spaces.Discrete):
            return int(action)
        return action

    return act
