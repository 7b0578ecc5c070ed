"""Fine-tuning on a target task from a source policy, the pretrained backbone, or scratch.

:func:`fine_tune` runs behaviour cloning or DAgger on the target, its student started by
:func:`rlkit.deep.transfer.init_from` (``init="source"``), from the shipped backbone
(``"pretrained"``) or from random weights (``"scratch"``): the three rows of the
transfer matrix of ``benchmarks/transfer.py``. It runs the very rounds of
:func:`rlkit.deep.rounds.distil` (same seeds, coin flips and minibatch order), the
source loaded by its ``init`` hook, so the three inits differ only by where the
student starts.

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
from typing import TYPE_CHECKING, Any, Literal

from rlkit.backbones import DEFAULT_BACKBONE
from rlkit.deep.distill import behaviour_cloning
from rlkit.deep.rounds import DistillResult, Rounds, distil
from rlkit.deep.student import RoundCallback
from rlkit.deep.transfer import INITS, Init, Transferred, init_from

if TYPE_CHECKING:
    from stable_baselines3 import PPO

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
    rounds = Rounds()
    if method == "dagger":
        rounds = Rounds.checked(iterations, rollouts_per_iteration, beta_decay, stop_on_repeat)
    arguments = {**_DEFAULTS, **{k: v for k, v in locals().items() if k in _DEFAULTS}}

    def start(model: PPO) -> dict[str, Any]:
        carried = None
        if source is not None:
            carried = init_from(model, source)
            if carried.backbone_missing:
                raise ValueError(
                    f"the source backbone does not fit backbone={os.fspath(backbone)!r}: "
                    f"{carried.backbone_missing} found no place; pass the source's backbone"
                )
        return {"transfer": _transfer(init, source, carried)}

    description = f"{method} ({init}) on {env_id}"
    return distil(
        method, env_id, demos, rounds, arguments,
        init=start, zero_shot=True, description=description,
    )  # fmt: skip


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


def _transfer(init: str, source: Any, carried: Transferred | None) -> dict[str, Any]:
    """``config["transfer"]``: the init, the source and what was carried over."""
    made_by = getattr(source, "rlkit_distillation", None)
    described = os.fspath(source) if isinstance(source, (str, os.PathLike)) else made_by
    transfer = {"init": init, "source": described, **(carried.summary() if carried else {})}
    if carried is None:
        transfer["skipped"] = {}
    return transfer
