"""Fine-tuning on a target task from a source policy, the pretrained backbone, or scratch.

:func:`fine_tune` runs behaviour cloning or DAgger on the target, its student started by
:func:`rlkit.deep.transfer.init_from` (``init="source"``), from the shipped backbone
(``"pretrained"``) or from random weights (``"scratch"``): the three rows of the
transfer matrix of ``benchmarks/transfer.py``. Its rounds are those of
:mod:`rlkit.deep.rounds` (same seeds, coin flips and minibatch order), built from the
public pieces of :mod:`rlkit.deep.student` and :mod:`rlkit.deep.demos`, so the three
inits differ only by where the student starts.

Examples
--------
>>> import torch; torch.set_num_threads(1)
>>> from rlkit.deep.distill import behaviour_cloning
>>> source = behaviour_cloning("rlkit/GridNav-v0", 2, epochs=1,
...                            env_kwargs={"layout": "empty", "size": 4},
...                            ppo_kwargs={"n_steps": 16, "batch_size": 16}).model
>>> result = fine_tune("rlkit/GridNav-v0", 2, source=source, epochs=1,
...                    env_kwargs={"layout": "rooms", "size": 4})
>>> result.config["transfer"]["init"], result.config["transfer"]["skipped"]
('source', {})
"""

from __future__ import annotations

import inspect
import os
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch

from rlkit.backbones import DEFAULT_BACKBONE
from rlkit.deep.demos import Demos, check_positive, labelled_rollouts, make_expert_env
from rlkit.deep.distill import behaviour_cloning
from rlkit.deep.rounds import DistillResult, Rounds
from rlkit.deep.student import (
    DistillOptions,
    RoundCallback,
    fit,
    greedy,
    make_optimizer,
    make_student,
)
from rlkit.deep.transfer import INITS, Init, Transferred, init_from

__all__ = ["fine_tune"]


#: behaviour_cloning's defaults: the student options fine_tune does not set itself.
_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(behaviour_cloning).parameters.items()
    if parameter.default is not inspect.Parameter.empty
}


def fine_tune(
    env_id: str,
    demos: int = 25,
    *,
    source: Any = None,
    init: Init = "source",
    method: Literal["bc", "dagger"] = "bc",
    iterations: int = 2,
    rollouts_per_iteration: int = 20,
    beta_decay: float = 0.5,
    stop_on_repeat: int | None = 3,
    backbone: str | os.PathLike[str] = DEFAULT_BACKBONE,
    finetune: str | None = None,
    augment: bool = False,
    lora_rank: int = 4,
    spatial: int = 0,
    backbone_lr_scale: float = 1.0,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    seed: int = 0,
    device: str = "auto",
    env_kwargs: dict[str, Any] | None = None,
    ppo_kwargs: dict[str, Any] | None = None,
    progress_bar: bool = False,
    callback: RoundCallback | None = None,
) -> DistillResult:
    """Behaviour cloning or DAgger on the target ``env_id``, from a source policy, the
    pretrained backbone, or scratch.

    Round 0 fits the student on ``demos`` planner episodes (seeds ``seed ..``); DAgger
    then plays ``iterations`` rounds as :func:`rlkit.deep.distill.dagger` does (Ross et
    al. 2011). The three inits share everything else (data, minibatch order, budget),
    so their results differ only by where the student started.

    Parameters
    ----------
    env_id : str
        The target env, with an expert (``obs="pixels"`` unless ``env_kwargs`` says).
    demos : int, default 25
        Planner episodes of round 0 (a small target budget).
    source : stable_baselines3 model or path of its ``.zip``
        The source policy; required by ``init="source"``, refused by the others.
    init : {"source", "pretrained", "scratch"}, default "source"
        ``source``: :func:`init_from` (backbone, and heads where they fit; the whole
        source backbone must land); ``pretrained``: ``backbone`` (default the shipped
        one), fresh heads; ``scratch``: random init (``finetune="scratch"``).
    method : {"bc", "dagger"}, default "bc"
    iterations, rollouts_per_iteration, beta_decay, stop_on_repeat
        DAgger's rounds (:func:`rlkit.deep.distill.dagger`); unused by ``bc``.
    backbone : str or path, default DEFAULT_BACKBONE
        The architecture (``source``: it must be the source's, whose weights replace
        it) or the weights (``pretrained``).
    finetune : str, optional
        ``full`` (default), ``frozen`` or ``lora`` for ``source`` and ``pretrained``;
        ``scratch`` (the default and only choice) for ``scratch``.
    augment, lora_rank, spatial, backbone_lr_scale, epochs, batch_size, learning_rate, \
seed, device, env_kwargs, ppo_kwargs, progress_bar
        As for :func:`rlkit.deep.distill.behaviour_cloning`.
    callback : callable, optional
        ``callback(round, model)`` once before any training (round -1: the start, what
        the source policy does on the target zero-shot) and after each round's training
        (0: the demos; DAgger's rounds 1 ..). It must not change the model.

    Returns
    -------
    DistillResult
        ``config["transfer"]`` records the init, the source and what was carried over
        (:meth:`Transferred.summary`); it is saved in the model's ``.zip``.

    Raises
    ------
    ValueError
        For an unknown ``init`` or ``method``, a ``source`` given or missing against
        ``init``, a ``finetune`` that contradicts it, incompatible spaces
        (:func:`init_from`), a source backbone that does not fit ``backbone``, or the
        arguments :func:`~rlkit.deep.distill.dagger` refuses.
    """
    finetune = _check_init(init, source, finetune)
    if method not in ("bc", "dagger"):
        raise ValueError(f"method must be 'bc' or 'dagger', got {method!r}")
    demos = check_positive("demos", demos)
    rounds = Rounds()
    if method == "dagger":
        rounds = Rounds.checked(iterations, rollouts_per_iteration, beta_decay, stop_on_repeat)
    arguments = {k: v for k, v in locals().items() if k in _DEFAULTS}
    options = DistillOptions.of({**_DEFAULTS, **arguments})
    started = time.perf_counter()
    env = make_expert_env(env_id, env_kwargs)
    try:
        model = make_student(env_id, options)
        carried = None
        if source is not None:
            carried = init_from(model, source)
            if carried.backbone_missing:
                raise ValueError(
                    f"the source backbone does not fit backbone={os.fspath(backbone)!r}: "
                    f"{carried.backbone_missing} found no place; pass the source's backbone"
                )
        config = _config(method, env_id, demos, rounds, options, init, source, carried)
        model.rlkit_distillation = config  # type: ignore[attr-defined]  # saved in the .zip
        history = _train(model, env, demos, rounds, options, f"{method} ({init}) on {env_id}")
    finally:
        env.close()
    return DistillResult(
        model=model,
        method=method,
        demos=history.data,
        expert_episodes=demos,
        updates=history.updates,
        losses=history.losses,
        dataset_sizes=history.sizes,
        betas=history.betas,
        seconds=time.perf_counter() - started,
        config=config,
    )


def _check_init(init: str, source: Any, finetune: str | None) -> str:
    """The finetune mode of ``init``, after checking ``init``, ``source`` and ``finetune``
    agree."""
    if init not in INITS:
        raise ValueError(f"init must be one of {list(INITS)}, got {init!r}")
    if init == "source" and source is None:
        raise ValueError("init='source' needs source= (a model or its .zip)")
    if init != "source" and source is not None:
        raise ValueError(f"init={init!r} does not start from a source policy: drop source=")
    if init == "scratch":
        if finetune not in (None, "scratch"):
            raise ValueError(
                f"init='scratch' trains everything from random: drop finetune={finetune!r}"
            )
        return "scratch"
    if finetune == "scratch":
        raise ValueError(f"finetune='scratch' throws away init={init!r}: use init='scratch'")
    return finetune or "full"


def _config(
    method: str,
    env_id: str,
    demos: int,
    rounds: Rounds,
    options: DistillOptions,
    init: str,
    source: Any,
    carried: Transferred | None,
) -> dict[str, Any]:
    made_by = getattr(source, "rlkit_distillation", None)
    described = os.fspath(source) if isinstance(source, (str, os.PathLike)) else made_by
    transfer = {"init": init, "source": described, **(carried.summary() if carried else {})}
    if carried is None:
        transfer["skipped"] = {}
    schedule = {} if method == "bc" else {
        "iterations": rounds.iterations,
        "rollouts_per_iteration": rounds.rollouts_per_iteration,
        "beta_decay": rounds.beta_decay,
        "stop_on_repeat": rounds.stop_on_repeat,
    }  # fmt: skip
    return {
        "method": method,
        "env_id": env_id,
        "env_kwargs": dict(options.env_kwargs or {}),
        "demos": demos,
        **schedule,
        **options.recorded(),
        "transfer": transfer,
    }


@dataclass
class _History:
    data: Demos
    sizes: list[int]
    betas: list[float] = field(default_factory=lambda: [1.0])
    losses: list[float] = field(default_factory=list)
    updates: int = 0


def _train(
    model: Any,
    env: gym.Env[Any, Any],
    demos: int,
    rounds: Rounds,
    options: DistillOptions,
    description: str,
) -> _History:
    """Round 0 on the demos, then DAgger's rounds: the seeds, coin flips and minibatch
    order of :mod:`rlkit.deep.rounds`, so ``init="pretrained"`` trains as
    ``behaviour_cloning``/``dagger`` would."""
    from tqdm import tqdm

    seed = options.seed
    optimizer = make_optimizer(model, options.learning_rate)
    generator = torch.Generator().manual_seed(seed)
    coins = np.random.default_rng([seed, 1])
    student = greedy(model)
    data = labelled_rollouts(env, [seed + i for i in range(demos)])
    history = _History(data, sizes=[len(data)])
    if options.callback is not None:
        options.callback(-1, model)
    total = options.epochs * (rounds.iterations + 1)
    with tqdm(total=total, desc=description, unit="epoch", disable=not options.progress_bar) as bar:

        def on_epoch(loss: float) -> None:
            history.losses.append(loss)
            bar.update()
            bar.set_postfix(loss=f"{loss:.3f}", states=len(history.data))

        for round_ in range(rounds.iterations + 1):
            if round_ > 0:
                beta = rounds.beta_decay**round_
                first = seed + demos + (round_ - 1) * rounds.rollouts_per_iteration
                seeds = list(range(first, first + rounds.rollouts_per_iteration))

                def act(obs: Any, expert_action: Any, beta: float = beta) -> Any:
                    return expert_action if coins.random() < beta else student(obs)

                rollouts = labelled_rollouts(env, seeds, act, rounds.stop_on_repeat)
                history.data = Demos.concatenate([history.data, rollouts])
                history.sizes.append(len(history.data))
                history.betas.append(beta)
            history.updates += fit(
                model,
                history.data,
                optimizer,
                generator,
                epochs=options.epochs,
                batch_size=options.batch_size,
                on_epoch=on_epoch,
            )
            if options.callback is not None:
                options.callback(round_, model)
    return history
