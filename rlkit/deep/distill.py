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
- :func:`distil_teacher`: the expert is a trained network instead (policy distillation,
  Rusu et al. 2016): a student, often smaller, learns its soft action distributions.

Both run the rounds of :mod:`rlkit.deep.rounds` (:class:`DistillResult`) on the student
of :mod:`rlkit.deep.student`. Only trainable parameters are optimised, so
``finetune="frozen"`` keeps the backbone bit-identical and ``"lora"`` trains adapters
and heads, as in RL. Minibatch order comes from a ``torch.Generator`` seeded with
``seed``, the init and the augmentation from SB3's ``seed``: on CPU the same arguments
give the same weights.

Examples
--------
>>> import tempfile, torch; torch.set_num_threads(1)
>>> result = behaviour_cloning("rlkit/GridNav-v0", 2, epochs=2,
...                            env_kwargs={"layout": "empty", "size": 4},
...                            ppo_kwargs={"n_steps": 16, "batch_size": 16})
>>> result.updates, len(result.losses), result.summary()["expert_success_rate"]
(2, 2, 1.0)
>>> folder = tempfile.TemporaryDirectory()
>>> result.save(folder.name + "/bc").name
'bc.zip'
>>> folder.cleanup()
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rlkit.backbones import DEFAULT_BACKBONE
from rlkit.deep.demos import Demos, collect_demos
from rlkit.deep.extractor import Finetune
from rlkit.deep.rounds import DistillResult, Rounds, distil
from rlkit.deep.student import RoundCallback

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

    from rlkit.deep.teacher_student import TeacherDistillResult

__all__ = [
    "Demos",
    "DistillResult",
    "behaviour_cloning",
    "collect_demos",
    "dagger",
    "distil_teacher",
]


def behaviour_cloning(
    env_id: str,
    demos: int = 200,
    *,
    backbone: str | os.PathLike[str] = DEFAULT_BACKBONE,
    finetune: Finetune = "full",
    augment: bool = False,
    lora_rank: int = 4,
    spatial: int = 0,
    plan: Mapping[str, Any] | None = None,
    keypoints: Mapping[str, Any] | None = None,
    demo_noise: float = 0.0,
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
    checkpoints: str | os.PathLike[str] | None = None,
    resume: bool = False,
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
    plan : mapping, optional
        A value iteration head (:mod:`rlkit.deep.planning`), e.g. ``{"grid": 11,
        "iterations": 30}`` on ``rlkit/GridNav-v0``: plans on maps that change every
        episode. On envs that tell where the agent stands
        (:func:`~rlkit.deep.demos.agent_position`) its attention also learns that cell
        (an auxiliary loss; training only).
    keypoints : mapping, optional
        A keypoint head (:mod:`rlkit.deep.keypoints`), e.g. ``{"count": 8}`` on
        ``rlkit/ArmReach-v0``: positions to a fraction of a pixel for reaching. On envs
        that tell where things are (:func:`~rlkit.deep.demos.agent_position`: ArmReach's
        end effector, goal and joints) its first keypoints also learn those (an
        auxiliary loss; training only). ``{"count": 3, "cspace": 48}`` on
        ``rlkit/ArmReachObstacles-v0`` adds a planner in the arm's joint space
        (:mod:`rlkit.deep.arm_planning`).
    demo_noise : float, default 0.0
        Noise on the actions the expert's demos take, labels unchanged (DART, Laskey et
        al. 2017): the demos then show recoveries from small errors. ``Box`` actions:
        the std of Gaussian noise in action units (0.3 on ArmReach); ``Discrete``: the
        chance of a uniformly random action. 0: the expert's own actions.
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
    checkpoints, resume : optional
        As for :func:`dagger`.

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
    return distil("bc", env_id, demos, Rounds(), locals())


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
    plan: Mapping[str, Any] | None = None,
    keypoints: Mapping[str, Any] | None = None,
    demo_noise: float = 0.0,
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
    checkpoints: str | os.PathLike[str] | None = None,
    resume: bool = False,
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
    env_id, backbone, finetune, augment, lora_rank, spatial, plan, keypoints, \
demo_noise, backbone_lr_scale, batch_size, learning_rate, seed, device, env_kwargs, \
ppo_kwargs, progress_bar
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
    checkpoints : path, optional
        A folder for a checkpoint after every round (the round's data and the whole
        training state, written atomically; :mod:`rlkit.deep.round_checkpoints`). A run
        killed at any moment and resumed loses at most the round it was in. None: none.
    resume : bool, default False
        Continue the run in ``checkpoints`` after its latest round (same arguments;
        ``iterations`` may grow): on CPU the result equals an uninterrupted run's. A
        damaged checkpoint is moved aside with a ``RuntimeWarning`` and the one before
        used. Without ``resume`` a folder holding a run is a ``ValueError``.

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
    rounds = Rounds.checked(iterations, rollouts_per_iteration, beta_decay, stop_on_repeat)
    return distil("dagger", env_id, demos, rounds, locals())


def distil_teacher(
    teacher: str | os.PathLike[str] | BaseAlgorithm,
    env_id: str,
    demos: int = 100,
    *,
    temperature: float = 3.0,
    student_size: str = "small",
    iterations: int = 6,
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
    teacher_env_kwargs: dict[str, Any] | None = None,
    ppo_kwargs: dict[str, Any] | None = None,
    progress_bar: bool = False,
    callback: RoundCallback | None = None,
) -> TeacherDistillResult:
    """Distil a trained policy into a (smaller) pixel student on its soft actions.

    Policy distillation (Rusu et al., "Policy Distillation", ICLR 2016) with the
    temperature-softened KL loss of Hinton, Vinyals & Dean ("Distilling the Knowledge
    in a Neural Network", 2015): ``T**2 * KL(teacher_T || student_T)``, a categorical
    for ``Discrete`` actions and a diagonal Gaussian for ``Box`` (SAC's squashed
    Gaussian linearised at its mean; :mod:`rlkit.deep.teacher`). States come as in
    :func:`dagger`: ``demos`` teacher episodes, then ``iterations`` rounds of
    ``rollouts_per_iteration`` episodes where the teacher acts with probability
    ``beta_decay ** i`` and the student otherwise; the teacher labels every state and
    the student trains ``epochs`` epochs on all of them after each round
    (:mod:`rlkit.deep.teacher_student`).

    .. warning::
       Loading a teacher ``.zip`` unpickles it: only load files you trust.

    Parameters
    ----------
    teacher : path or BaseAlgorithm
        A stable-baselines3 PPO, A2C, DQN or SAC model or its ``.zip``, trained on
        ``env_id`` (same action space), on any observation of it.
    env_id : str
        The env; the student sees it with ``obs="pixels"`` (and ``env_kwargs``).
    demos : int, default 100
        Teacher episodes of round 0, reset seeds ``seed ..``; later rounds run on.
    temperature : float, default 3.0
        ``T`` of the loss (> 0; 1 is the plain KL, larger shows more of the teacher's
        ranking of other actions). The defaults are the budget
        ``benchmarks/teacher.py`` measures on four rooms.
    student_size : {"small", "tiny", "same"}, default "small"
        :data:`~rlkit.deep.teacher_rollouts.STUDENT_SIZES`: a small CNN from scratch,
        or the DAgger student (``"same"``: ``backbone`` and ``finetune`` apply).
    iterations : int, default 6
        Rounds after round 0 (0: distil on the teacher's own episodes only).
    rollouts_per_iteration : int, default 100
        Episodes per round.
    beta_decay, stop_on_repeat
        As for :func:`dagger`.
    backbone, finetune, augment, lora_rank, spatial, backbone_lr_scale, epochs, \
batch_size, learning_rate, seed, device, ppo_kwargs, progress_bar, callback
        As for :func:`dagger` (``backbone``, ``finetune``, ``lora_rank``: size
        ``"same"`` only).
    env_kwargs : dict, optional
        Keyword arguments of the student's env, on top of ``obs="pixels"``.
    teacher_env_kwargs : dict, optional
        Keyword arguments of the env the teacher reads (e.g. ``{"obs": "dict"}``);
        default: the student's if the teacher reads pixels, else the first ``obs=``
        mode whose space fits the teacher. A second copy of the env, reset and
        stepped with the student's, gives it its observations.

    Returns
    -------
    TeacherDistillResult
        A :class:`DistillResult` with ``method="teacher"``, the teacher's targets and
        both parameter counts; ``result.save(path)`` writes the student's ``.zip``.

    Raises
    ------
    FileNotFoundError
        If the teacher's path does not exist.
    ValueError
        For bad arguments (named in the message), a file that is no SB3 model, or a
        teacher whose actions or observations do not fit ``env_id``.
    TypeError
        For a teacher without an action distribution (TD3, DDPG).

    Examples
    --------
    >>> result = distil_teacher("runs/dagger/model.zip", "rlkit/GridNav-Map-v0",
    ...                         env_kwargs={"max_steps": 60})  # doctest: +SKIP
    >>> result.summary()["parameter_ratio"]  # doctest: +SKIP
    0.22
    """
    from rlkit.deep.teacher import load_teacher
    from rlkit.deep.teacher_student import run_teacher_rounds

    loaded = load_teacher(teacher, device=device)
    rounds = Rounds()
    if iterations != 0:
        rounds = Rounds.checked(iterations, rollouts_per_iteration, beta_decay, stop_on_repeat)
    arguments = {**locals(), "teacher_name": loaded.name}
    return run_teacher_rounds(loaded, env_id, demos, rounds, arguments)
