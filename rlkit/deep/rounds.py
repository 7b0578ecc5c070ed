"""The rounds of distillation, shared by behaviour cloning and DAgger.

Round 0 fits the student (:mod:`rlkit.deep.student`) on expert demos; each later round
(:class:`Rounds`: DAgger's schedule) plays episodes of a mixture of expert and student,
labels every visited state with the expert's action, adds them to the data and fits the
student again on all of it. Behaviour cloning is round 0 alone. :func:`distil` runs the
rounds and returns a :class:`DistillResult`; :func:`run_rounds` is the schedule alone,
which teacher -> student distillation (:mod:`rlkit.deep.teacher_student`) and
fine-tuning (:mod:`rlkit.deep.transfer_training`) share.

Minibatch order comes from a ``torch.Generator`` seeded with ``seed``, the
expert-or-student coin flips from a numpy stream of their own, the init and the
augmentation from SB3's ``seed``: on CPU the same arguments give the same weights.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rlkit.deep.demos import Demos, check_positive, labelled_rollouts, make_expert_env
from rlkit.deep.mixtures import Choose, mixture, noisy_expert
from rlkit.deep.round_checkpoints import RoundCheckpoints, RoundState
from rlkit.deep.student import (
    DistillOptions,
    Minibatches,
    greedy,
    make_optimizer,
    make_student,
    minimise,
    nll_loss,
)
from rlkit.evaluation.atomic import atomic_output

if TYPE_CHECKING:
    from stable_baselines3 import PPO

__all__ = [
    "Choose",
    "Collect",
    "DistillResult",
    "FitAll",
    "Rounds",
    "distil",
    "recorded_rounds",
    "run_rounds",
]


#: ``collect(seeds, choose, stop_on_repeat, beta)``: play one labelled episode per reset
#: seed (``choose=None``: the expert's own, round 0), add them to the data and return
#: how many states it holds.
Collect = Callable[[list[int], Choose | None, int | None, float], int]

#: ``fit_all(batches)``: train on all the data so far
#: (:class:`~rlkit.deep.student.Minibatches`); returns the updates made.
FitAll = Callable[[Minibatches], int]


@dataclass(eq=False)
class DistillResult:
    """What :func:`~rlkit.deep.distill.behaviour_cloning` and
    :func:`~rlkit.deep.distill.dagger` return.

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


@dataclass(frozen=True)
class Rounds:
    """DAgger's schedule after round 0 (the defaults: none, behaviour cloning).

    Round ``i = 1 .. iterations`` plays ``rollouts_per_iteration`` episodes in which the
    expert acts with probability ``beta_decay ** i``; an episode ends early when one
    observation comes back ``stop_on_repeat`` times (None: never).
    """

    iterations: int = 0
    rollouts_per_iteration: int = 1
    beta_decay: float = 1.0
    stop_on_repeat: int | None = None

    @classmethod
    def checked(
        cls,
        iterations: int,
        rollouts_per_iteration: int,
        beta_decay: float,
        stop_on_repeat: int | None,
    ) -> Rounds:
        """DAgger's arguments, checked (``ValueError`` for counts below 1 or a
        ``beta_decay`` outside ``[0, 1]``)."""
        iterations = check_positive("iterations", iterations)
        rollouts_per_iteration = check_positive("rollouts_per_iteration", rollouts_per_iteration)
        if stop_on_repeat is not None:
            stop_on_repeat = check_positive("stop_on_repeat", stop_on_repeat)
        if not 0.0 <= beta_decay <= 1.0:
            raise ValueError(f"beta_decay must be in [0, 1], got {beta_decay!r}")
        return cls(iterations, rollouts_per_iteration, beta_decay, stop_on_repeat)


@dataclass
class _History:
    """The data trained on so far and what training it gave."""

    data: Demos | None = None
    sizes: list[int] = field(default_factory=list)
    betas: list[float] = field(default_factory=list)
    parts: list[Demos] = field(default_factory=list)  #: each round's rollouts

    def add(self, rollouts: Demos, beta: float) -> int:
        """Aggregate a round's rollouts (the first ones start the data); returns the
        states held."""
        self.data = rollouts if self.data is None else Demos.concatenate([self.data, rollouts])
        self.sizes.append(len(self.data))
        self.betas.append(beta)
        self.parts.append(rollouts)
        return len(self.data)


def distil(
    method: str,
    env_id: str,
    demos: int,
    rounds: Rounds,
    arguments: Mapping[str, Any],
    *,
    init: Callable[[PPO], Mapping[str, Any] | None] | None = None,
    zero_shot: bool = False,
    description: str | None = None,
) -> DistillResult:
    """Run round 0 on ``demos`` expert episodes, then ``rounds``; the student and its
    training from the :class:`~rlkit.deep.student.DistillOptions` in ``arguments`` (the
    public function's ``locals()``).

    ``init(model)``, if given, is called right after the student is built (before any
    data or optimizer), e.g. to load a source policy's weights
    (:func:`~rlkit.deep.transfer_training.fine_tune`); the entries it returns are added
    to the config. ``zero_shot=True`` also calls ``options.callback(-1, model)`` once
    before any training. ``description`` labels the progress bar (default ``"METHOD on
    ENV_ID"``). ``arguments["checkpoints"]`` (a folder, optional) keeps a checkpoint
    after every round, and ``arguments["resume"]`` continues from the latest
    (:mod:`rlkit.deep.round_checkpoints`).

    Raises
    ------
    ValueError
        For ``demos`` below 1, bad options (:meth:`DistillOptions.of`) or an env without
        an expert, a checkpoint folder of another run (or of one, without ``resume``);
        and whatever ``init`` raises.
    """
    demos = check_positive("demos", demos)
    options = DistillOptions.of(arguments)
    started = time.perf_counter()
    config: dict[str, Any] = {
        "method": method,
        "env_id": env_id,
        "env_kwargs": dict(options.env_kwargs or {}),
        "demos": demos,
        **(recorded_rounds(rounds) if method == "dagger" else {}),
        **options.recorded(),
    }
    folder = arguments.get("checkpoints")
    store = None
    if folder is not None:
        store = RoundCheckpoints.open(Path(folder), config, resume=arguments.get("resume", False))
    env = make_expert_env(env_id, options.env_kwargs)
    try:
        model = make_student(env_id, options)
        if init is not None:
            config.update(init(model) or {})
        model.rlkit_distillation = config  # type: ignore[attr-defined]  # saved in the .zip
        history = _History()
        resumed = None if store is None else store.restore()
        if resumed is not None:
            for round_, part in enumerate(resumed[1]):
                history.add(part, rounds.beta_decay**round_ if round_ else 1.0)

        def checkpoint(state: RoundState) -> None:
            if store is not None:  # passed to run_rounds only with a store
                store.save(state, history.parts)

        def collect(seeds: list[int], choose: Choose | None, stop: int | None, beta: float) -> int:
            return history.add(labelled_rollouts(env, seeds, choose, stop), beta)

        def fit_all(batches: Minibatches) -> int:
            data = history.data
            assert data is not None  # round 0 collects first
            return minimise(model, data.observations, len(data), nll_loss(model, data), batches)

        losses, updates = run_rounds(
            model,
            demos,
            rounds,
            options,
            description or f"{method} on {env_id}",
            collect,
            fit_all,
            zero_shot=zero_shot,
            resumed=None if resumed is None else resumed[0],
            on_round=None if store is None else checkpoint,
        )
    finally:
        env.close()
    assert history.data is not None
    return DistillResult(
        model=model,
        method=method,
        demos=history.data,
        expert_episodes=demos,
        updates=updates,
        losses=losses,
        dataset_sizes=history.sizes,
        betas=history.betas,
        seconds=time.perf_counter() - started,
        config=config,
    )


def recorded_rounds(rounds: Rounds) -> dict[str, Any]:
    """DAgger's schedule as a config records it (JSON-able)."""
    return {
        "iterations": rounds.iterations,
        "rollouts_per_iteration": rounds.rollouts_per_iteration,
        "beta_decay": rounds.beta_decay,
        "stop_on_repeat": rounds.stop_on_repeat,
    }


def run_rounds(
    model: PPO,
    demos: int,
    rounds: Rounds,
    options: DistillOptions,
    description: str,
    collect: Collect,
    fit_all: FitAll,
    *,
    zero_shot: bool = False,
    digits: int = 3,
    resumed: RoundState | None = None,
    on_round: Callable[[RoundState], None] | None = None,
) -> tuple[list[float], int]:
    """Round 0 and every round of ``rounds``, each ending with ``options.callback``;
    returns the loss of every epoch and the updates made.

    Round 0 collects the expert's own episodes (seeds ``seed .. seed + demos - 1``,
    ``choose=None``; with ``options.demo_noise`` the expert's actions with noise on them,
    :func:`~rlkit.deep.mixtures.noisy_expert`, from a numpy stream seeded ``[seed, 2]``);
    round ``i`` plays ``rollouts_per_iteration`` more episodes (seeds run on) of the mixture
    that follows the expert with probability ``beta_decay ** i`` (a coin of a numpy stream
    seeded ``[seed, 1]``) and the student's greedy action otherwise. After each collection
    ``fit_all`` trains on all the data (:class:`~rlkit.deep.student.Minibatches`: one Adam
    optimizer of :func:`~rlkit.deep.student.make_optimizer`, one minibatch-order generator
    seeded ``seed``, ``options.epochs`` and ``batch_size``). ``zero_shot``: also
    ``options.callback(-1, model)`` after round 0's collection, before any training.
    ``digits``: decimals of the loss on the progress bar. ``resumed``: the state after a
    round of an earlier run (its data already collected): training goes on with the round
    after. ``on_round(state)`` after each round's training, before the callback (a
    checkpoint).
    """
    from tqdm import tqdm

    seed = options.seed
    optimizer = make_optimizer(model, options.learning_rate)
    generator = torch.Generator().manual_seed(seed)
    # Expert-or-student coin flips: a stream of their own, so they shift nothing else.
    coins = np.random.default_rng([seed, 1])
    student = greedy(model)
    losses: list[float] = []
    updates, states, first_round = 0, 0, 0
    if resumed is not None:
        resumed.apply(model, optimizer, generator, coins)
        losses, updates, first_round = list(resumed.losses), resumed.updates, resumed.round + 1
    else:
        noisy = noisy_expert(
            model.action_space, options.demo_noise, np.random.default_rng([seed, 2])
        )
        states = collect([seed + i for i in range(demos)], noisy, None, 1.0)
        if zero_shot and options.callback is not None:
            options.callback(-1, model)
    total = options.epochs * (rounds.iterations + 1)
    with tqdm(
        total=total, initial=min(len(losses), total), desc=description, unit="epoch",
        disable=not options.progress_bar,
    ) as bar:  # fmt: skip

        def on_epoch(loss: float) -> None:
            losses.append(loss)
            bar.update()
            bar.set_postfix(loss=f"{loss:.{digits}f}", states=states)

        batches = Minibatches(optimizer, generator, options.epochs, options.batch_size, on_epoch)

        for round_ in range(first_round, rounds.iterations + 1):
            if round_ > 0:
                beta = rounds.beta_decay**round_
                first = seed + demos + (round_ - 1) * rounds.rollouts_per_iteration
                seeds = list(range(first, first + rounds.rollouts_per_iteration))
                choose = mixture(student, coins, beta)
                states = collect(seeds, choose, rounds.stop_on_repeat, beta)
            updates += fit_all(batches)
            if on_round is not None:
                on_round(RoundState.capture(
                    round_, model, optimizer, generator, coins, losses, updates
                ))  # fmt: skip
            if options.callback is not None:
                options.callback(round_, model)
    return losses, updates
