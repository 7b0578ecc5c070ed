"""Training a deep ensemble: K distilled students, by seeds or by bagging.

:func:`train_ensemble` builds the K members of a :class:`~rlkit.deep.ensemble.PolicyEnsemble`
with :mod:`rlkit.deep.distill`:

- ``method="bc", mode="seeds"``: the demos are collected once (reset seeds ``seed ..``,
  as :func:`~rlkit.deep.distill.behaviour_cloning` does) and every member fits all of
  them from its own init and minibatch order, seed :func:`member_seed` (``seed + 1000
  k``): the deep ensembles of Lakshminarayanan et al. 2017, which found random inits
  alone to make diverse enough members. Member 0 is exactly ``behaviour_cloning(seed=
  seed)``: the ensemble and a single student see the same demos.
- ``method="bc", mode="bagging"``: the same demos, but member ``k`` fits a bootstrap
  resample of their episodes (:func:`bootstrap_demos`, drawn from
  ``numpy.random.default_rng([seed, k])``; Breiman 1996, "Bagging predictors").
- ``method="dagger", mode="seeds"``: ``dagger(seed=member_seed(seed, k))``: each member
  also collects its own demos and rollouts (DAgger's data depend on the student).

Behaviour cloning on given demos is :func:`clone_demos`: the student, optimiser and
fitting of :mod:`rlkit.deep.student`, with the defaults of ``behaviour_cloning``, minus
the collection. On CPU the same arguments give the same weights.

Examples
--------
>>> import torch; torch.set_num_threads(1)
>>> result = train_ensemble("rlkit/GridNav-v0", 2, demos=2, epochs=1, mode="bagging",
...                         env_kwargs={"layout": "empty", "size": 4},
...                         ppo_kwargs={"n_steps": 16, "batch_size": 16})
>>> len(result.ensemble.members), result.summary()["member_seeds"]
(2, [0, 1000])
"""

from __future__ import annotations

import inspect
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from rlkit.deep.demos import Demos, check_positive, collect_demos
from rlkit.deep.distill import behaviour_cloning, dagger
from rlkit.deep.ensemble import PolicyEnsemble
from rlkit.deep.rounds import DistillResult
from rlkit.deep.student import DistillOptions, fit, make_optimizer, make_student

__all__ = [
    "MEMBER_SEED_STRIDE",
    "EnsembleResult",
    "bootstrap_demos",
    "clone_demos",
    "member_seed",
    "train_ensemble",
]

#: Member ``k`` trains with seed ``seed + MEMBER_SEED_STRIDE * k``.
MEMBER_SEED_STRIDE = 1000
EnsembleMethod = Literal["bc", "dagger"]
EnsembleMode = Literal["seeds", "bagging"]
#: Arguments of behaviour_cloning that clone_demos sets itself.
_CLONE_FIXED = ("env_id", "demos", "seed", "env_kwargs", "progress_bar", "callback")


def member_seed(seed: int, index: int) -> int:
    """The training seed of member ``index`` of an ensemble trained with ``seed``.

    >>> [member_seed(3, k) for k in range(3)]
    [3, 1003, 2003]
    """
    return seed + MEMBER_SEED_STRIDE * index


def bootstrap_demos(demos: Demos, rng: np.random.Generator) -> Demos:
    """A bootstrap resample of ``demos`` by episode (Breiman 1996).

    As many episodes as ``demos`` has, drawn with replacement, each with all its rows
    (resampling whole episodes keeps the states of an episode together); episodes are
    renumbered in draw order.

    >>> demos = collect_demos("rlkit/GridNav-v0", 3, env_kwargs={"layout": "empty", "size": 4})
    >>> bootstrap_demos(demos, np.random.default_rng(0)).num_episodes
    3
    """
    picks = rng.integers(0, demos.num_episodes, demos.num_episodes)
    return Demos.concatenate([_episode(demos, int(e)) for e in picks])


def _episode(demos: Demos, episode: int) -> Demos:
    rows = np.flatnonzero(demos.episode_ids == episode)
    observations = demos.observations
    one = slice(episode, episode + 1)
    return Demos(
        observations=(
            {k: v[rows] for k, v in observations.items()}
            if isinstance(observations, dict)
            else observations[rows]
        ),
        actions=demos.actions[rows],
        episode_ids=np.zeros(rows.size, dtype=np.int64),
        episode_seeds=demos.episode_seeds[one],
        episode_returns=demos.episode_returns[one],
        episode_lengths=demos.episode_lengths[one],
        episode_successes=demos.episode_successes[one],
    )


def _clone_options(options: dict[str, Any]) -> dict[str, Any]:
    """``behaviour_cloning``'s defaults updated with ``options`` (checked by name)."""
    parameters = inspect.signature(behaviour_cloning).parameters
    allowed = [name for name in parameters if name not in _CLONE_FIXED]
    for key in options:
        if key not in allowed:
            raise TypeError(f"unknown option {key!r} of behaviour cloning: it takes {allowed}")
    return {**{name: parameters[name].default for name in allowed}, **options}


def clone_demos(
    env_id: str,
    demos: Demos,
    *,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    progress_bar: bool = False,
    **options: Any,
) -> DistillResult:
    """Behaviour cloning of :func:`~rlkit.deep.distill.behaviour_cloning` on given demos.

    Parameters
    ----------
    env_id : str
        The env the demos come from (the student is made on it, ``obs="pixels"``).
    demos : Demos
        The rows to fit (:func:`~rlkit.deep.distill.collect_demos`, a resample, ...).
    seed : int, default 0
        The student's init, augmentation and minibatch order.
    env_kwargs : dict, optional
        As for ``behaviour_cloning``.
    progress_bar : bool, default False
        A tqdm bar over epochs.
    **options
        ``behaviour_cloning``'s other keywords (``finetune``, ``epochs``, ...), its
        defaults otherwise.

    Returns
    -------
    DistillResult
        ``method="bc"``; ``expert_episodes`` is the demos' episode count.

    Raises
    ------
    TypeError
        For an option ``behaviour_cloning`` does not take.
    ValueError
        For empty demos or bad options (as ``behaviour_cloning``).
    """
    from tqdm import tqdm

    if len(demos) < 1:
        raise ValueError("demos is empty: collect some with collect_demos")
    started = time.perf_counter()
    arguments = {
        **_clone_options(options),
        "seed": seed,
        "env_kwargs": env_kwargs,
        "progress_bar": progress_bar,
        "callback": None,
    }
    student = DistillOptions.of(arguments)
    config: dict[str, Any] = {
        "method": "bc",
        "env_id": env_id,
        "env_kwargs": dict(env_kwargs or {}),
        "demos": demos.num_episodes,
        "demo_seeds": [int(s) for s in demos.episode_seeds],
        **student.recorded(),
    }
    model = make_student(env_id, student)
    model.rlkit_distillation = config  # type: ignore[attr-defined]  # saved in the .zip
    losses: list[float] = []
    with tqdm(
        total=student.epochs, desc=f"bc on {env_id}", unit="epoch", disable=not progress_bar
    ) as bar:

        def on_epoch(loss: float) -> None:
            losses.append(loss)
            bar.update()

        updates = fit(
            model,
            demos,
            make_optimizer(model, student.learning_rate),
            torch.Generator().manual_seed(seed),
            epochs=student.epochs,
            batch_size=student.batch_size,
            on_epoch=on_epoch,
        )
    return DistillResult(
        model=model,
        method="bc",
        demos=demos,
        expert_episodes=demos.num_episodes,
        updates=updates,
        losses=losses,
        dataset_sizes=[len(demos)],
        betas=[1.0],
        seconds=time.perf_counter() - started,
        config=config,
    )


@dataclass(eq=False)
class EnsembleResult:
    """What :func:`train_ensemble` returns.

    Attributes
    ----------
    ensemble : PolicyEnsemble
        The members acting as one agent.
    members : list of DistillResult
        Each member's training, in member order.
    method, mode : str
        How the members were trained.
    seed : int
        The ensemble's seed (member ``k`` trained with :func:`member_seed`).
    seconds : float
        Wall time, collection included.
    """

    ensemble: PolicyEnsemble
    members: list[DistillResult]
    method: str
    mode: str
    seed: int
    seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """:meth:`PolicyEnsemble.save` with this training's :meth:`summary` as config."""
        return self.ensemble.save(folder, **self.summary())

    def summary(self) -> dict[str, Any]:
        """JSON-able facts of the training (each member's ``DistillResult.summary``)."""
        return {
            "members": len(self.members),
            "method": self.method,
            "mode": self.mode,
            "seed": self.seed,
            "member_seeds": [member_seed(self.seed, k) for k in range(len(self.members))],
            "seconds": round(self.seconds, 3),
            "config": self.config,
            "member_training": [m.summary() for m in self.members],
        }


def train_ensemble(
    env_id: str,
    members: int = 5,
    *,
    method: EnsembleMethod = "bc",
    mode: EnsembleMode = "seeds",
    demos: int | Demos | None = None,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    progress_bar: bool = False,
    **member_kwargs: Any,
) -> EnsembleResult:
    """Train ``members`` distilled pixel students and make them one agent.

    Parameters
    ----------
    env_id : str
        An env with a planner expert (``rlkit/GridNav-*``, ``rlkit/ArmReach*``).
    members : int, default 5
        K, the ensemble's size.
    method : {"bc", "dagger"}
        :func:`~rlkit.deep.distill.behaviour_cloning` or
        :func:`~rlkit.deep.distill.dagger` per member.
    mode : {"seeds", "bagging"}
        Members differ by seed only, or also fit bootstrap resamples of the demos
        (``bc`` only); see the module docstring.
    demos : int or Demos, optional
        Expert episodes (the method's default when None), or, for ``bc``, demos
        already collected.
    seed : int, default 0
        Seeds the demos and, through :func:`member_seed`, every member.
    env_kwargs : dict, optional
        Keyword arguments of ``gymnasium.make``, on top of ``obs="pixels"``.
    progress_bar : bool, default False
        A tqdm bar over the members.
    **member_kwargs
        Further keywords of the method (``finetune``, ``epochs``, ``iterations``, ...).

    Returns
    -------
    EnsembleResult

    Raises
    ------
    ValueError
        For ``members`` below 1, an unknown ``method`` or ``mode``, bagging with DAgger,
        or given ``Demos`` with DAgger.
    """
    from tqdm import tqdm

    count = check_positive("members", members)
    if method not in ("bc", "dagger"):
        raise ValueError(f"method must be 'bc' or 'dagger', got {method!r}")
    if mode not in ("seeds", "bagging"):
        raise ValueError(f"mode must be 'seeds' or 'bagging', got {mode!r}")
    if method == "dagger" and (mode == "bagging" or isinstance(demos, Demos)):
        raise ValueError(
            "method='dagger' collects its own data per member: use mode='seeds' and demos "
            "as a count (bagging resamples one demo set: method='bc')"
        )
    started = time.perf_counter()
    data: Demos | None = None
    if method == "bc":
        if isinstance(demos, Demos):
            data = demos
        else:
            default = inspect.signature(behaviour_cloning).parameters["demos"].default
            episodes = demos if demos is not None else default
            data = collect_demos(env_id, episodes, seed=seed, env_kwargs=env_kwargs)
    trained: list[DistillResult] = []
    description = f"ensemble ({method}, {mode}) on {env_id}"
    for k in tqdm(range(count), desc=description, unit="member", disable=not progress_bar):
        if data is not None:
            rows = (
                data if mode == "seeds" else bootstrap_demos(data, np.random.default_rng([seed, k]))
            )
            trained.append(
                clone_demos(env_id, rows, seed=member_seed(seed, k), env_kwargs=env_kwargs,
                            **member_kwargs)
            )  # fmt: skip
        else:
            extra: dict[str, Any] = {} if demos is None else {"demos": demos}
            trained.append(
                dagger(env_id, seed=member_seed(seed, k), env_kwargs=env_kwargs,
                       **extra, **member_kwargs)
            )  # fmt: skip
    ensemble = PolicyEnsemble([t.model for t in trained], name=f"ensemble-{count}-{method}-{mode}")
    return EnsembleResult(
        ensemble=ensemble,
        members=trained,
        method=method,
        mode=mode,
        seed=seed,
        seconds=time.perf_counter() - started,
        config={"env_id": env_id, "env_kwargs": dict(env_kwargs or {}), **member_kwargs},
    )
