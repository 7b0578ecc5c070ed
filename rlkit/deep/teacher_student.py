"""The rounds of teacher -> student distillation and their result.

Policy distillation (Rusu et al., "Policy Distillation", ICLR 2016) with Hinton et al.'s
temperature-softened KL loss ("Distilling the Knowledge in a Neural Network", 2015;
:func:`~rlkit.deep.teacher.distillation_loss`), on states gathered as in DAgger (Ross,
Gordon & Bagnell 2011; the schedule of :class:`~rlkit.deep.rounds.Rounds`): round 0
plays ``demos`` teacher episodes; round ``i`` plays episodes in which the teacher acts
with probability ``beta_decay ** i`` and the student's greedy action is taken otherwise.
The teacher labels every visited state (:mod:`rlkit.deep.teacher_rollouts`) and the
student is fitted to all the states so far. :func:`~rlkit.deep.distill.distil_teacher`
is the public call; :func:`run_teacher_rounds` does the work.

Seeds as in :mod:`rlkit.deep.rounds`: minibatch order from a ``torch.Generator``, coin
flips from a numpy stream of their own, init from SB3's ``seed``; the teacher is read
in evaluation mode, so on CPU the same arguments give the same student.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import NDArray

from rlkit.deep.demos import check_positive
from rlkit.deep.rounds import Choose, DistillResult, Rounds, recorded_rounds, run_rounds
from rlkit.deep.student import DistillOptions, Minibatches, make_student, minimise
from rlkit.deep.teacher import (
    Teacher,
    acting_parameters,
    check_temperature,
    distillation_loss,
)
from rlkit.deep.teacher_rollouts import (
    STUDENT_SIZES,
    PairedEnv,
    TeacherData,
    student_encoder,
    teacher_env_kwargs,
    teacher_rollouts,
)

if TYPE_CHECKING:
    from stable_baselines3 import PPO

__all__ = ["TeacherDistillResult", "fit_to_teacher", "run_teacher_rounds"]


@dataclass(eq=False)
class TeacherDistillResult(DistillResult):
    """What :func:`~rlkit.deep.distill.distil_teacher` returns: a
    :class:`~rlkit.deep.rounds.DistillResult` (``method="teacher"``; ``demos`` hold
    the teacher's greedy action in each state, ``losses`` the KL loss per epoch) plus:

    Attributes
    ----------
    targets : numpy.ndarray
        The teacher's targets, one row per row of ``demos``.
    teacher_parameters, student_parameters : int
        Parameters each uses to act (:func:`~rlkit.deep.teacher.acting_parameters`).
    """

    targets: NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    teacher_parameters: int = 0
    student_parameters: int = 0

    def summary(self) -> dict[str, Any]:
        """:meth:`DistillResult.summary` plus the temperature and parameter counts
        (``teacher_success_rate``: the teacher's own episodes of round 0)."""
        facts = super().summary()
        return {
            **facts,
            "teacher_success_rate": facts["expert_success_rate"],
            "temperature": self.config.get("temperature"),
            "student_size": self.config.get("student_size"),
            "teacher_parameters": self.teacher_parameters,
            "student_parameters": self.student_parameters,
            "parameter_ratio": round(self.student_parameters / max(self.teacher_parameters, 1), 4),
        }


def fit_to_teacher(
    model: PPO, data: TeacherData, kind: str, temperature: float, batches: Minibatches
) -> int:
    """Minimise the KL loss to the teacher's targets over ``data`` as ``batches`` says
    (:func:`~rlkit.deep.student.minimise`); returns the updates made."""
    device = model.policy.device

    def kl(distribution: Any, index: NDArray[np.int64]) -> torch.Tensor:
        targets = torch.as_tensor(data.targets[index], device=device)
        return distillation_loss(distribution, targets, kind, temperature)

    return minimise(model, data.demos.observations, len(data.demos), kl, batches)


def _options(arguments: Mapping[str, Any]) -> tuple[DistillOptions, dict[str, Any]]:
    """The student's :class:`DistillOptions` and the PPO arguments of its size."""
    size = arguments["student_size"]
    encoder = student_encoder(size, int(arguments["seed"]))
    values = dict(arguments)
    ppo_kwargs = dict(arguments["ppo_kwargs"] or {})
    preset = STUDENT_SIZES[size]
    if encoder is not None and preset is not None:
        from rlkit.backbones import DEFAULT_BACKBONE

        if arguments["finetune"] != "full" or arguments["backbone"] != DEFAULT_BACKBONE:
            raise ValueError(
                f"backbone and finetune choose the encoder of student_size='same'; "
                f"student_size={size!r} trains its own small CNN from scratch"
            )
        policy_kwargs = dict(ppo_kwargs.pop("policy_kwargs", None) or {})
        ppo_kwargs["policy_kwargs"] = {"net_arch": preset["net_arch"], **policy_kwargs}
        values.update(backbone=encoder, finetune="scratch")
    values["ppo_kwargs"] = ppo_kwargs
    options = DistillOptions.of(values)
    return options, {
        "student_size": size,
        "encoder": None if encoder is None else encoder.architecture,
        "backbone": None if encoder is not None else str(arguments["backbone"]),
        "finetune": options.finetune,
        "augment": options.augment,
        "lora_rank": options.lora_rank,
        "spatial": options.spatial,
        "backbone_lr_scale": options.backbone_lr_scale,
        "epochs": options.epochs,
        "batch_size": options.batch_size,
        "learning_rate": options.learning_rate,
        "seed": options.seed,
    }


def run_teacher_rounds(
    teacher: Teacher, env_id: str, demos: int, rounds: Rounds, arguments: Mapping[str, Any]
) -> TeacherDistillResult:
    """Round 0 on ``demos`` teacher episodes, then ``rounds`` (``Rounds()``: none); the
    rest from ``arguments``, the ``locals()`` of
    :func:`~rlkit.deep.distill.distil_teacher` (documented there)."""
    started = time.perf_counter()
    demos = check_positive("demos", demos)
    temperature = check_temperature(arguments["temperature"])
    options, recorded = _options(arguments)
    env_kwargs = {"obs": "pixels", **(options.env_kwargs or {})}
    teacher_kwargs = teacher_env_kwargs(
        env_id, env_kwargs, teacher, arguments["teacher_env_kwargs"]
    )
    config: dict[str, Any] = {
        "method": "teacher",
        "teacher": arguments["teacher_name"],
        "teacher_kind": teacher.kind,
        "temperature": temperature,
        "env_id": env_id,
        "env_kwargs": dict(options.env_kwargs or {}),
        "teacher_env_kwargs": teacher_kwargs,
        "demos": demos,
        **recorded_rounds(rounds),
        **recorded,
    }
    env = PairedEnv(env_id, env_kwargs, teacher_kwargs)
    try:
        model = make_student(env_id, options)
        model.rlkit_distillation = config  # type: ignore[attr-defined]  # saved in the .zip
        description = f"teacher -> student on {env_id}"
        data, losses, updates = _train(
            model, teacher, env, demos, rounds, options, temperature, description
        )
    finally:
        env.close()
    return TeacherDistillResult(
        model=model,
        method="teacher",
        demos=data.demos,
        expert_episodes=demos,
        updates=updates,
        losses=losses,
        dataset_sizes=data.sizes,
        betas=data.betas,
        seconds=time.perf_counter() - started,
        config=config,
        targets=data.targets,
        teacher_parameters=teacher.parameters,
        student_parameters=acting_parameters(model),
    )


def _train(
    model: PPO,
    teacher: Teacher,
    env: PairedEnv,
    demos: int,
    rounds: Rounds,
    options: DistillOptions,
    temperature: float,
    description: str,
) -> tuple[TeacherData, list[float], int]:
    """The rounds of :func:`~rlkit.deep.rounds.run_rounds`, labelled by the teacher and
    fitted to its targets."""
    held: list[TeacherData] = []

    def collect(seeds: list[int], choose: Choose | None, stop: int | None, beta: float) -> int:
        rollouts, rows = teacher_rollouts(env, teacher, seeds, choose, stop)
        if not held:
            held.append(TeacherData(rollouts, rows, sizes=[len(rollouts)], betas=[beta]))
        else:
            held[0].add(rollouts, rows, beta)
        return len(held[0].demos)

    def fit_all(batches: Minibatches) -> int:
        return fit_to_teacher(model, held[0], teacher.kind, temperature, batches)

    losses, updates = run_rounds(
        model, demos, rounds, options, description, collect, fit_all, digits=4
    )
    return held[0], losses, updates
