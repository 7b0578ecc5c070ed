"""Distil the planner into a pixel policy: behaviour cloning and DAgger.

The expert is the env's planner (``env.unwrapped.expert_action()``), which knows the
map; the student sees only pixels. The student is the very network PPO trains in rlkit
(an SB3 ``PPO`` model on :class:`~rlkit.deep.policies.BackbonePPOPolicy`), trained by
supervised learning to maximise the log-likelihood of the expert's actions under its
action distribution (categorical for ``Discrete`` actions, diagonal Gaussian for
``Box``). So a distilled model saves, loads and evaluates like any PPO model, and
``model.learn`` fine-tunes it further with reinforcement learning.

- :func:`collect_demos` (from :mod:`rlkit.deep.demos`): expert episodes as arrays.
- :func:`behaviour_cloning`: fit the student on expert demos.
- :func:`dagger`: Dataset Aggregation (Ross, Gordon & Bagnell 2011): the student also
  learns the expert's answer in the states its own mistakes lead to.

Only trainable parameters are optimised, so ``finetune="frozen"`` keeps the backbone
bit-identical and ``"lora"`` trains adapters and heads, as in RL. Minibatch order comes
from a ``torch.Generator`` seeded with ``seed``, the init and the augmentation from
SB3's ``seed``: on CPU the same arguments give the same weights.

Examples
--------
>>> import tempfile, torch; torch.set_num_threads(1)
>>> result = behaviour_cloning("rlkit/GridNav-v0", 2, epochs=2,
...                            env_kwargs={"layout": "empty", "size": 4},
...                            ppo_kwargs={"n_steps": 16, "batch_size": 16})
>>> result.updates, len(result.losses), result.summary()["expert_success_rate"]
(2, 2, 1.0)
>>> result.save(tempfile.mkdtemp() + "/bc").name
'bc.zip'
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch
from numpy.typing import NDArray

from rlkit.backbones import DEFAULT_BACKBONE
from rlkit.deep.demos import (
    Demos,
    Observations,
    collect_demos,
    labelled_rollouts,
    make_expert_env,
)
from rlkit.deep.extractor import FINETUNE_MODES, Finetune
from rlkit.evaluation.atomic import atomic_output

if TYPE_CHECKING:
    from stable_baselines3 import PPO

__all__ = ["Demos", "DistillResult", "behaviour_cloning", "collect_demos", "dagger"]

#: ``obs -> action`` of the student, acting greedily.
StudentPolicy = Callable[[Any], Any]

#: ``callback(round, model)``: called after each round's training (round 0 is the
#: behaviour cloning on the demos), e.g. to evaluate or snapshot the student. It must
#: not change the model.
RoundCallback = Callable[[int, "PPO"], None]


@dataclass(eq=False)
class DistillResult:
    """What :func:`behaviour_cloning` and :func:`dagger` return.

    Attributes
    ----------
    model : stable_baselines3.PPO
        The student, in evaluation mode; its env is a ``DummyVecEnv`` of the env id.
    method : str
        ``"bc"`` or ``"dagger"``.
    demos : Demos
        Every labelled state trained on (for DAgger, the aggregated dataset).
    expert_episodes : int
        Expert-only episodes collected first (the ``demos`` argument).
    updates : int
        Gradient steps taken.
    losses : list of float
        Mean negative log-likelihood of the expert actions, one entry per epoch.
    dataset_sizes : list of int
        Rows trained on in each round: ``[len(expert demos), after iteration 1, ...]``.
    betas : list of float
        Probability of following the expert in each round's rollouts (1.0 for the demos).
    seconds : float
        Wall time, collection included.
    config : dict
        The arguments of the call (JSON-able), also stored on the model as
        ``model.rlkit_distillation``, so it is saved in the ``.zip``.
    """

    model: PPO
    method: str
    demos: Demos
    expert_episodes: int
    updates: int
    losses: list[float] = field(default_factory=list)
    dataset_sizes: list[int] = field(default_factory=list)
    betas: list[float] = field(default_factory=list)
    seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the model as a stable-baselines3 ``.zip`` atomically; returns the path.

        As ``model.save``, a path without a suffix gets ``.zip``. Load it with
        ``PPO.load(path)`` or :func:`rlkit.agents.load_agent`.
        """
        target = Path(path)
        if target.suffix == "":
            target = target.with_suffix(".zip")
        with atomic_output(target) as tmp:
            self.model.save(tmp)
        return target

    def summary(self) -> dict[str, Any]:
        """JSON-able facts of the run (everything but the model and the arrays)."""
        demos = self.demos
        return {
            "method": self.method,
            "expert_episodes": self.expert_episodes,
            "episodes": demos.num_episodes,
            "samples": len(demos),
            "updates": self.updates,
            "loss_first": self.losses[0] if self.losses else None,
            "loss_last": self.losses[-1] if self.losses else None,
            "dataset_sizes": list(self.dataset_sizes),
            "betas": list(self.betas),
            "expert_success_rate": float(demos.episode_successes[: self.expert_episodes].mean()),
            "seconds": round(self.seconds, 3),
        }


# ---------------------------------------------------------------------- collection


# ---------------------------------------------------------------------- the student


def _make_student(
    env_id: str,
    env_kwargs: dict[str, Any] | None,
    *,
    backbone: str | os.PathLike[str],
    finetune: str,
    augment: bool,
    lora_rank: int,
    spatial: int,
    backbone_lr_scale: float,
    seed: int,
    device: str,
    ppo_kwargs: dict[str, Any] | None,
) -> PPO:
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from rlkit.deep.policies import BackbonePPOPolicy
    from rlkit.evaluation.evaluate import make_env

    kwargs = {"obs": "pixels", **(env_kwargs or {})}
    vec_env = DummyVecEnv([lambda: make_env(env_id, kwargs)])
    ppo_kwargs = dict(ppo_kwargs or {})
    # ppo_kwargs may carry policy_kwargs (net_arch, more extractor arguments such as
    # spatial=): merged under the student's own, key by key.
    given = dict(ppo_kwargs.pop("policy_kwargs", None) or {})
    policy_kwargs = {
        **given,
        "features_extractor_kwargs": {
            **dict(given.get("features_extractor_kwargs") or {}),
            "backbone": backbone,
            "finetune": finetune,
            "augment": augment,
            "lora_rank": lora_rank,
            "spatial": spatial,
            "seed": seed,
        },
        "backbone_lr_scale": backbone_lr_scale,
    }
    return PPO(
        BackbonePPOPolicy,
        vec_env,
        seed=seed,
        device=device,
        policy_kwargs=policy_kwargs,
        **ppo_kwargs,
    )


def _optimizer(model: PPO, learning_rate: float) -> torch.optim.Adam:
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


def _rows(observations: Observations, index: NDArray[np.int64]) -> Observations:
    if isinstance(observations, dict):
        return {k: v[index] for k, v in observations.items()}
    return observations[index]


def _fit(
    model: PPO,
    demos: Demos,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    *,
    epochs: int,
    batch_size: int,
    on_epoch: Callable[[float], None],
) -> int:
    """Minimise the expert actions' negative log-likelihood; returns the updates made."""
    policy = model.policy
    discrete = isinstance(model.action_space, gym.spaces.Discrete)
    size = len(demos)
    updates = 0
    policy.set_training_mode(True)  # random-shift augmentation applies in training mode
    try:
        for _ in range(epochs):
            order = torch.randperm(size, generator=generator).numpy()
            total = 0.0
            for start in range(0, size, batch_size):
                index = order[start : start + batch_size]
                obs, _ = policy.obs_to_tensor(_rows(demos.observations, index))
                actions = torch.as_tensor(demos.actions[index], device=policy.device)
                distribution = policy.get_distribution(obs)
                log_prob = distribution.log_prob(actions.long() if discrete else actions)
                loss = -log_prob.mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(index)
                updates += 1
            on_epoch(total / size)
    finally:
        policy.set_training_mode(False)
    return updates


def _greedy(model: PPO) -> StudentPolicy:
    def act(obs: Any) -> Any:
        action, _ = model.predict(obs, deterministic=True)
        if isinstance(model.action_space, gym.spaces.Discrete):
            return int(action)
        return action

    return act


def _check_positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _distill(
    method: str,
    env_id: str,
    demos: int,
    *,
    iterations: int,
    rollouts_per_iteration: int,
    beta_decay: float,
    stop_on_repeat: int | None,
    backbone: str | os.PathLike[str],
    finetune: str,
    augment: bool,
    lora_rank: int,
    spatial: int,
    backbone_lr_scale: float,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    device: str,
    env_kwargs: dict[str, Any] | None,
    ppo_kwargs: dict[str, Any] | None,
    progress_bar: bool,
    callback: RoundCallback | None = None,
) -> DistillResult:
    """DAgger with ``iterations`` rounds; behaviour cloning is round 0 alone."""
    demos = _check_positive("demos", demos)
    if finetune not in FINETUNE_MODES:
        raise ValueError(f"finetune must be one of {list(FINETUNE_MODES)}, got {finetune!r}")
    epochs = _check_positive("epochs", epochs)
    batch_size = _check_positive("batch_size", batch_size)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    from tqdm import tqdm

    started = time.perf_counter()
    config: dict[str, Any] = {
        "method": method,
        "env_id": env_id,
        "env_kwargs": dict(env_kwargs or {}),
        "demos": demos,
        **(
            {
                "iterations": iterations,
                "rollouts_per_iteration": rollouts_per_iteration,
                "beta_decay": beta_decay,
                "stop_on_repeat": stop_on_repeat,
            }
            if method == "dagger"
            else {}
        ),
        "backbone": os.fspath(backbone),
        "finetune": finetune,
        "augment": augment,
        "lora_rank": lora_rank,
        "spatial": spatial,
        "backbone_lr_scale": backbone_lr_scale,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "seed": seed,
    }
    env = make_expert_env(env_id, env_kwargs)
    try:
        model = _make_student(
            env_id,
            env_kwargs,
            backbone=backbone,
            finetune=finetune,
            augment=augment,
            lora_rank=lora_rank,
            spatial=spatial,
            backbone_lr_scale=backbone_lr_scale,
            seed=seed,
            device=device,
            ppo_kwargs=ppo_kwargs,
        )
        model.rlkit_distillation = config  # type: ignore[attr-defined]  # saved in the .zip
        optimizer = _optimizer(model, learning_rate)
        generator = torch.Generator().manual_seed(seed)
        # Expert-or-student coin flips: a stream of their own, so they shift nothing else.
        coins = np.random.default_rng([seed, 1])
        student = _greedy(model)
        losses: list[float] = []
        updates = 0
        data = labelled_rollouts(env, [seed + i for i in range(demos)])
        sizes, betas = [len(data)], [1.0]
        next_seed = seed + demos
        bar = tqdm(
            total=epochs * (iterations + 1),
            desc=f"{method} on {env_id}",
            unit="epoch",
            disable=not progress_bar,
        )
        with bar:

            def on_epoch(loss: float) -> None:
                losses.append(loss)
                bar.update()
                bar.set_postfix(loss=f"{loss:.3f}", states=len(data))

            for round_ in range(iterations + 1):
                if round_ > 0:
                    beta = beta_decay**round_

                    def mixture(obs: Any, expert_action: Any, beta: float = beta) -> Any:
                        return expert_action if coins.random() < beta else student(obs)

                    seeds = list(range(next_seed, next_seed + rollouts_per_iteration))
                    next_seed += rollouts_per_iteration
                    rollouts = labelled_rollouts(env, seeds, mixture, stop_on_repeat)
                    data = Demos.concatenate([data, rollouts])
                    sizes.append(len(data))
                    betas.append(beta)
                updates += _fit(
                    model,
                    data,
                    optimizer,
                    generator,
                    epochs=epochs,
                    batch_size=batch_size,
                    on_epoch=on_epoch,
                )
                if callback is not None:
                    callback(round_, model)
    finally:
        env.close()
    return DistillResult(
        model=model,
        method=method,
        demos=data,
        expert_episodes=demos,
        updates=updates,
        losses=losses,
        dataset_sizes=sizes,
        betas=betas,
        seconds=time.perf_counter() - started,
        config=config,
    )


def behaviour_cloning(
    env_id: str,
    demos: int = 200,
    *,
    backbone: str | os.PathLike[str] = DEFAULT_BACKBONE,
    finetune: Finetune = "full",
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
    """Behaviour cloning: fit a pixel PPO policy to ``demos`` planner episodes.

    Parameters
    ----------
    env_id : str
        An env with ``env.unwrapped.expert_action()``; made with ``obs="pixels"``.
    demos : int, default 200
        Expert episodes, reset with seeds ``seed .. seed + demos - 1``.
    backbone, finetune, augment, lora_rank, spatial : optional
        The :class:`~rlkit.deep.extractor.BackboneExtractor` of the student
        (``spatial=8`` reads every wall of a map that changes per episode).
    backbone_lr_scale : float, default 1.0
        Backbone parameters learn at this times ``learning_rate``.
    epochs : int, default 30
        Passes over the demos.
    batch_size : int, default 64
        Rows per gradient step (the last one of an epoch may have fewer).
    learning_rate : float, default 1e-3
        Adam's step size.
    seed : int, default 0
        Seeds the demos, the student's init and augmentation (SB3's ``seed``) and the
        minibatch order.
    device : str, default "auto"
        Torch device of the student.
    env_kwargs : dict, optional
        Keyword arguments of ``gymnasium.make``, on top of ``obs="pixels"``.
    ppo_kwargs : dict, optional
        More arguments of ``PPO(...)`` (``n_steps``, ``learning_rate``, ...): they only
        matter for fine-tuning the student with ``model.learn`` afterwards.
    progress_bar : bool, default False
        Show a tqdm bar over epochs.
    callback : callable, optional
        ``callback(round, model)`` after training (round 0); see :func:`dagger`.

    Returns
    -------
    DistillResult

    Raises
    ------
    ValueError
        For ``demos``, ``epochs`` or ``batch_size`` below 1, a ``learning_rate`` not
        above 0, an unknown ``finetune``, or an env without an expert.

    Examples
    --------
    >>> result = behaviour_cloning(  # doctest: +SKIP
    ...     "rlkit/GridNav-v0", demos=50, env_kwargs={"size": 7})
    >>> result.save("runs/bc/model.zip")  # doctest: +SKIP
    PosixPath('runs/bc/model.zip')
    """
    return _distill(
        "bc",
        env_id,
        demos,
        iterations=0,
        rollouts_per_iteration=1,
        beta_decay=1.0,
        stop_on_repeat=None,
        backbone=backbone,
        finetune=finetune,
        augment=augment,
        lora_rank=lora_rank,
        spatial=spatial,
        backbone_lr_scale=backbone_lr_scale,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        device=device,
        env_kwargs=env_kwargs,
        ppo_kwargs=ppo_kwargs,
        progress_bar=progress_bar,
        callback=callback,
    )


def dagger(
    env_id: str,
    demos: int = 100,
    *,
    iterations: int = 8,
    rollouts_per_iteration: int = 100,
    beta_decay: float = 0.5,
    stop_on_repeat: int | None = 3,
    backbone: str | os.PathLike[str] = DEFAULT_BACKBONE,
    finetune: Finetune = "full",
    augment: bool = False,
    lora_rank: int = 4,
    spatial: int = 0,
    backbone_lr_scale: float = 1.0,
    epochs: int = 10,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    seed: int = 0,
    device: str = "auto",
    env_kwargs: dict[str, Any] | None = None,
    ppo_kwargs: dict[str, Any] | None = None,
    progress_bar: bool = False,
    callback: RoundCallback | None = None,
) -> DistillResult:
    """DAgger: behaviour cloning, then learn the expert's action where the student goes.

    Dataset Aggregation (Ross, Gordon & Bagnell, "A Reduction of Imitation Learning and
    Structured Prediction to No-Regret Online Learning", AISTATS 2011). Round 0 is
    behaviour cloning on ``demos`` expert episodes (``beta_0 = 1``: expert only). Round
    ``i = 1 .. iterations`` plays ``rollouts_per_iteration`` episodes of the mixture
    policy that takes the expert's action with probability ``beta_i = beta_decay ** i``
    and the student's greedy action otherwise, labels every visited state with
    ``expert_action()``, adds them to the dataset and trains the student on all of it
    for ``epochs`` more epochs (continuing from its current weights). Reset seeds run on
    from the demos' (``seed + demos``, ...).

    Parameters
    ----------
    env_id, backbone, finetune, augment, lora_rank, spatial, backbone_lr_scale, \
batch_size, learning_rate, seed, device, env_kwargs, ppo_kwargs, progress_bar
        As for :func:`behaviour_cloning`.
    demos : int, default 100
        Expert episodes of round 0.
    epochs : int, default 10
        Passes over the aggregated data in every round.
    iterations : int, default 8
        Aggregation rounds after behaviour cloning.
    rollouts_per_iteration : int, default 100
        Episodes played per round.
    beta_decay : float, default 0.5
        ``p`` of Ross et al.'s schedule ``beta_i = p ** i``; 0 lets the student act
        alone from round 1 (often the best choice in their experiments).
    stop_on_repeat : int or None, default 3
        A round's episode ends when one observation comes back for this many times: a
        student caught in a loop would fill the data with copies of the loop until the
        env's time limit (484 steps on the default four rooms), while the labels of the
        loop's states are in after the first pass. None: play to the time limit.
    callback : callable, optional
        ``callback(round, model)`` after each round's training, rounds ``0 ..
        iterations`` (0: behaviour cloning on the demos): a learning curve over rounds
        without training again (``benchmarks/learning.py`` evaluates each round's
        student on held-out seeds). It must not change the model.

    Returns
    -------
    DistillResult
        ``dataset_sizes`` and ``betas`` have ``iterations + 1`` entries.

    Raises
    ------
    ValueError
        As :func:`behaviour_cloning`, and for ``iterations`` or
        ``rollouts_per_iteration`` below 1 or ``beta_decay`` outside ``[0, 1]``.

    Examples
    --------
    >>> result = dagger("rlkit/GridNav-v0", 20, env_kwargs={"size": 7})  # doctest: +SKIP
    >>> result.dataset_sizes  # doctest: +SKIP
    [...]
    """
    iterations = _check_positive("iterations", iterations)
    rollouts_per_iteration = _check_positive("rollouts_per_iteration", rollouts_per_iteration)
    if stop_on_repeat is not None:
        stop_on_repeat = _check_positive("stop_on_repeat", stop_on_repeat)
    if not 0.0 <= beta_decay <= 1.0:
        raise ValueError(f"beta_decay must be in [0, 1], got {beta_decay!r}")
    return _distill(
        "dagger",
        env_id,
        demos,
        iterations=iterations,
        rollouts_per_iteration=rollouts_per_iteration,
        beta_decay=beta_decay,
        stop_on_repeat=stop_on_repeat,
        backbone=backbone,
        finetune=finetune,
        augment=augment,
        lora_rank=lora_rank,
        spatial=spatial,
        backbone_lr_scale=backbone_lr_scale,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        device=device,
        env_kwargs=env_kwargs,
        ppo_kwargs=ppo_kwargs,
        progress_bar=progress_bar,
        callback=callback,
    )
