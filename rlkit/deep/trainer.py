"""Train stable-baselines3 PPO, DQN or SAC on pixels through an :mod:`rlkit.backbones` CNN.

:func:`train` builds the env (``obs="pixels"`` for rlkit envs), wraps it in SB3's
``Monitor``, vectorises it, builds the algorithm with the policy of
:data:`rlkit.deep.policies.POLICIES` and learns. Hyperparameters come from per-algorithm
YAML files shipped in ``rlkit/deep/hyperparams/`` (rl-zoo style: one entry per env id
over a ``default`` entry, see :func:`load_hyperparams` in
:mod:`rlkit.deep.hyperparameters`), overridden by ``hyperparams=``.

With ``out=`` a run is a folder that survives being killed (layout, checkpoints and
resume in :mod:`rlkit.deep.runs`): ``resume=True`` continues from the latest
checkpoint, so an interrupted run loses at most one interval.

Examples
--------
>>> import torch
>>> torch.set_num_threads(1)
>>> result = train(
...     "ppo", "rlkit/GridNav-Empty-v0", total_steps=64,
...     env_kwargs={"size": 3, "pixel_size": 32, "max_steps": 8},
...     hyperparams={"n_envs": 1, "n_steps": 32, "batch_size": 32, "n_epochs": 1},
... )
>>> result.steps, result.model.device.type, result.hyperparams["n_steps"]
(64, 'cpu', 32)
>>> set(result.learning_curve[0]) == {"step", "episode_return", "episode_length", "is_success"}
True
>>> result = train("ppo", "rlkit/GridNav-v0", out="runs/ppo", finetune="lora")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from rlkit.backbones import DEFAULT_BACKBONE, resolve_device
from rlkit.deep.buffers import rollout_buffer_for
from rlkit.deep.extractor import check_finetune
from rlkit.deep.hyperparameters import (
    ALGORITHMS,
    allowed_hyperparams,
    check_algo,
    jsonable,
    load_hyperparams,
    resolve_hyperparams,
    sb3_kwargs,
)
from rlkit.deep.runs import (
    finish_run,
    learn_callbacks,
    load_checkpoint,
    open_run,
    quiet_logger,
    tensorboard_folder,
    write_config,
)
from rlkit.deep.training_envs import Probe, make_kwargs, probe, vec_env
from rlkit.evaluation.provenance import provenance

__all__ = ["ALGORITHMS", "TrainResult", "allowed_hyperparams", "load_hyperparams", "train"]

#: The name this function had here before :mod:`rlkit.deep.hyperparameters` held it.
_sb3_kwargs = sb3_kwargs


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` made.

    Attributes
    ----------
    model : stable_baselines3.common.base_class.BaseAlgorithm
        The trained model (its env still open, so ``model.learn`` may continue).
    steps : int
        ``model.num_timesteps``: environment steps, all envs and resumed parts together.
    episodes : int
        Episodes finished, resumed parts included.
    learning_curve : list of dict
        One point per episode in step order: ``step`` (training step it ended at),
        ``episode_return``, ``episode_length`` and, where the env reports it,
        ``is_success``.
    out : Path or None
        The run folder.
    seconds : float
        Wall time of this call.
    hyperparams : dict
        The hyperparameters used (JSON values; also in ``out/config.json``).
    """

    model: BaseAlgorithm
    steps: int
    episodes: int
    learning_curve: list[dict[str, Any]]
    out: Path | None
    seconds: float
    hyperparams: dict[str, Any]

    def summary(self, last: int = 100) -> dict[str, Any]:
        """Steps, episodes, seconds, and the mean return and success rate (None where
        the env reports no success) of the ``last`` episodes."""
        recent = self.learning_curve[-last:]
        returns = [p["episode_return"] for p in recent]
        successes = [p["is_success"] for p in recent if "is_success" in p]
        return {
            "steps": self.steps,
            "episodes": self.episodes,
            "seconds": round(self.seconds, 3),
            "recent_episodes": len(recent),
            "mean_return": float(np.mean(returns)) if returns else None,
            "success_rate": float(np.mean(successes)) if successes else None,
        }


# ------------------------------------------------------------------ the model


class _Plan(NamedTuple):
    """What :func:`train` settles before it touches the run folder."""

    env_kwargs: dict[str, Any]  #: of ``gymnasium.make``
    probe: Probe  #: the policy and the Monitor's extra columns
    hp: dict[str, Any]  #: the hyperparameters, with the extractor's arguments
    sb3: dict[str, Any]  #: SB3 constructor arguments made from them
    run: dict[str, Any]  #: how the run is made (JSON; config.json, checked on resume)


def _plan(
    algo: str,
    env_id: str,
    seed: int,
    env_kwargs: Mapping[str, Any] | None,
    goal_pixels: bool,
    hyperparams: Mapping[str, Any] | None,
    explicit: Mapping[str, Any | None],
    extractor: Mapping[str, Any],
) -> _Plan:
    """Hyperparameters (``explicit``: train's arguments of those names), the env's
    ``gymnasium.make`` arguments and policy, and the run's record; ``extractor``: the
    features extractor's arguments (with a warning where the env has no image for it)."""
    hp = resolve_hyperparams(algo, env_id, hyperparams, explicit)
    kwargs = make_kwargs(env_id, env_kwargs, goal_pixels)
    probed = probe(algo, env_id, kwargs, goal_pixels, seed)
    policy = probed.policy
    if probed.backbone_policy:
        policy_kwargs = dict(hp.get("policy_kwargs") or {})
        policy_kwargs["features_extractor_kwargs"] = {
            **dict(policy_kwargs.get("features_extractor_kwargs") or {}),
            **extractor,
        }
        hp["policy_kwargs"] = policy_kwargs
    elif extractor["augment"] or explicit["backbone_lr_scale"] is not None:
        warnings.warn(
            f"{env_id} has no image observation: SB3's {policy} is used and augment / "
            "backbone_lr_scale do nothing",
            stacklevel=3,  # the caller of train
        )
    run: dict[str, Any] = {
        "algo": algo,
        "env_id": env_id,
        "env_kwargs": jsonable(kwargs),
        "goal_pixels": goal_pixels,
        "seed": seed,
        "policy": policy if isinstance(policy, str) else policy.__name__,
        "hyperparams": jsonable(hp),
    }
    return _Plan(kwargs, probed, hp, sb3_kwargs(hp, probed.backbone_policy), run)


def _build_model(
    algo: str,
    plan: _Plan,
    venv: VecEnv,
    checkpoint: tuple[int, Path] | None,
    *,
    seed: int,
    env_seed: int,
    **common: Any,
) -> BaseAlgorithm:
    """A fresh ``algo`` model of the plan, or the checkpoint's reseeded with
    ``env_seed``; ``common``: SB3's ``device``, ``tensorboard_log`` and ``verbose``."""
    algorithm = ALGORITHMS[algo]
    if checkpoint is None:
        sb3 = dict(plan.sb3)
        if algo == "ppo" and plan.probe.backbone_policy:  # frames kept channels-last
            sb3 = {**rollout_buffer_for(venv.observation_space), **sb3}
        return algorithm(plan.probe.policy, venv, seed=seed, **common, **sb3)
    model = load_checkpoint(algorithm, checkpoint, env=venv, **common)
    model.set_random_seed(env_seed)
    return model


# ------------------------------------------------------------------ train


def train(
    algo: str,
    env_id: str,
    *,
    backbone: str = DEFAULT_BACKBONE,
    finetune: str = "full",
    total_steps: int | None = None,
    seed: int = 0,
    device: str = "auto",
    env_kwargs: Mapping[str, Any] | None = None,
    goal_pixels: bool = False,
    n_envs: int | None = None,
    hyperparams: Mapping[str, Any] | None = None,
    augment: bool = False,
    lora_rank: int = 4,
    spatial: int = 0,
    backbone_lr_scale: float | None = None,
    out: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    progress_bar: bool = False,
    tensorboard: bool = True,
    verbose: int = 0,
    callback: BaseCallback | None = None,
) -> TrainResult:
    """Train ``algo`` on ``env_id`` from pixels through a backbone CNN.

    Parameters
    ----------
    algo : {"ppo", "dqn", "sac"}
        The stable-baselines3 algorithm (DQN needs Discrete actions, SAC Box actions).
    env_id : str
        A Gymnasium id; ``rlkit/...`` envs are made with ``obs="pixels"`` unless
        ``env_kwargs`` says otherwise.
    backbone, finetune, augment, lora_rank, spatial
        The :class:`~rlkit.deep.extractor.BackboneExtractor` (``finetune`` one of
        ``scratch``, ``frozen``, ``full``, ``lora``). Envs without an image
        observation (e.g. ArmReach ``obs="dict"`` for HER) get SB3's
        ``MlpPolicy``/``MultiInputPolicy`` instead, and these are unused.
    total_steps, n_envs, checkpoint_every, backbone_lr_scale : optional
        Override the hyperparameter of that name (see ``hyperparams``).
    seed : int
        Seeds everything: env resets, action spaces, torch, numpy, ``random``; the same
        seed on CPU gives the same run.
    device : str
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda:0"``, ...
    env_kwargs : dict, optional
        Keyword arguments of ``gymnasium.make``.
    goal_pixels : bool
        Wrap the env in :class:`~rlkit.deep.wrappers.GoalPixels`: goal-conditioned
        pixels ``{"pixels", "achieved_goal", "desired_goal"}`` from ArmReach's
        ``obs="dict"`` (the default obs then), for SAC with ``HerReplayBuffer``.
    hyperparams : dict, optional
        Overrides of the shipped YAML entry (:func:`load_hyperparams`): SB3 constructor
        arguments plus ``n_envs``, ``total_steps``, ``checkpoint_every`` (default
        10000) and ``backbone_lr_scale``.
    out : path, optional
        Run folder (layout in :mod:`rlkit.deep.runs`): checkpoints, Monitor CSVs,
        TensorBoard logs, ``model.zip`` and ``config.json``. Without it nothing is
        written. An existing run folder needs ``resume=True``.
    resume : bool
        Continue the run in ``out`` from its latest checkpoint (with its replay buffer)
        up to ``total_steps``; starts afresh when there is none. After a kill at most
        one ``checkpoint_every`` interval is trained again. A damaged checkpoint or
        buffer is moved aside (``*.corrupt``, a ``RuntimeWarning`` names it) and the one
        before is used.
    progress_bar : bool
        Show a tqdm bar.
    tensorboard : bool
        Log to ``out/tb`` (with ``out`` only).
    verbose : int
        SB3's verbosity.
    callback : stable_baselines3 BaseCallback, optional
        Called by ``learn`` besides rlkit's own (episode log, checkpoints, progress);
        e.g. ``EveryNTimesteps`` snapshots for a learning curve.

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        Unknown ``algo``, ``finetune`` or hyperparameter key, an algorithm that does not
        fit the action space, an unknown ``env_id`` or bad ``env_kwargs``, a folder that
        holds another run, or ``resume`` with settings that differ from the run's.
    OSError
        Where ``out`` cannot be written (disk full, read-only): the message names the
        file; no file is left half-written and earlier checkpoints stay usable.
    """
    algo = check_algo(algo)
    check_finetune(finetune)
    out_path = Path(out) if out is not None else None
    if resume and out_path is None:
        raise ValueError("resume=True needs out= (the folder of the run to continue)")
    explicit = {
        "total_steps": total_steps,
        "n_envs": n_envs,
        "checkpoint_every": checkpoint_every,
        "backbone_lr_scale": backbone_lr_scale,
    }
    extractor = {
        "backbone": str(backbone),
        "finetune": finetune,
        "lora_rank": lora_rank,
        "spatial": spatial,
        "augment": augment,
        "seed": seed,
    }
    plan = _plan(algo, env_id, seed, env_kwargs, goal_pixels, hyperparams, explicit, extractor)
    total, count = int(plan.hp["total_steps"]), int(plan.hp["n_envs"])
    keys = plan.probe.info_keys
    opened = open_run(out_path, plan.run, resume=resume, n_envs=count, info_keys=keys)
    venv = vec_env(
        env_id, plan.env_kwargs, goal_pixels, n_envs=count, start=opened.start,
        seed=opened.env_seed, monitor_dir=None if out_path is None else out_path / "monitor",
        info_keys=keys,
    )  # fmt: skip
    tb_log = tensorboard_folder(out_path, tensorboard)
    torch_device = resolve_device(device)
    started = time.perf_counter()
    try:
        model = _build_model(
            algo, plan, venv, opened.checkpoint, seed=seed, env_seed=opened.env_seed,
            device=torch_device, tensorboard_log=tb_log, verbose=verbose,
        )  # fmt: skip
        if tb_log is None:
            model.set_logger(quiet_logger(verbose))
        record = {**plan.run, "device": str(torch_device), **provenance()}
        if out_path is not None:
            write_config(out_path, record, status="running", resumed_from=opened.start)
        progress = f"{algo} {env_id}" if progress_bar else None
        every = int(plan.hp["checkpoint_every"])
        log, saver, callbacks = learn_callbacks(
            out_path, every, opened.start, progress, total, callback
        )
        _learn(model, total, callbacks, fresh=opened.checkpoint is None, name=algo.upper())
    except BaseException:
        venv.close()  # flushes the Monitor files; the checkpoints are on disk
        raise
    seconds = time.perf_counter() - started
    curve = sorted(opened.prior + log.points, key=lambda p: p["step"])
    result = TrainResult(
        model=model,
        steps=int(model.num_timesteps),
        episodes=len(curve),
        learning_curve=curve,
        out=out_path,
        seconds=seconds,
        hyperparams=plan.run["hyperparams"],
    )
    if out_path is not None:
        summary = result.summary()
        finish_run(out_path, model, saver, record, resumed_from=opened.start, result=summary)
    return result


def _learn(
    model: BaseAlgorithm, total: int, callbacks: list[BaseCallback], *, fresh: bool, name: str
) -> None:
    """``model.learn`` up to ``total`` steps (none where it has them already)."""
    if total > model.num_timesteps:
        model.learn(
            total - model.num_timesteps,
            callback=callbacks,
            reset_num_timesteps=fresh,
            tb_log_name=name,
        )
