"""The ``rlkit distill`` subcommand: behaviour cloning or DAgger from the planner, or
from a trained network with ``--teacher model.zip`` (:func:`~rlkit.deep.distill.distil_teacher`);
``--init-from SOURCE.zip`` starts the student from a source task's policy
(:func:`~rlkit.deep.transfer_training.fine_tune`).

``rlkit/cli.py`` adds it to its subparsers::

    from rlkit.deep.distill_cli import add_distill_parser
    add_distill_parser(subparsers)
    ...
    args = parser.parse_args(argv)
    return args.func(args)   # run_distill: exit status

It writes ``OUT/model.zip`` (a stable-baselines3 PPO model: ``rlkit eval --agent
OUT/model.zip`` evaluates it) and ``OUT/config.json`` (command, arguments, versions,
result), and prints a one-line summary.

Interrupted runs: with the planner as expert (``--method bc|dagger``), a checkpoint is
written to ``OUT/rounds/`` after every round (:mod:`rlkit.deep.round_checkpoints`) and
deleted once ``OUT/model.zip`` and ``OUT/config.json`` are written. After a kill the same
command fails with a hint to add ``--resume``, which continues after the last finished
round: on CPU the model equals an uninterrupted run's; on a finished run it only says
so (no training again). ``--teacher`` and ``--init-from`` runs have no checkpoints.

Only the handler imports torch, so ``rlkit --help`` stays fast. Bad input (an env
without an expert, an unknown env id or backbone, an interrupted run in ``--out``
without ``--resume``) is printed as one line on stderr with status 2.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="rlkit")
>>> _ = add_distill_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["distill", "--env", "rlkit/GridNav-v0", "--demos", "20",
...                           "--method", "dagger", "--env-kwarg", "size=7"])
>>> args.demos, args.method, args.env_kwarg, args.func.__name__
(20, 'dagger', [('size', 7)], 'run_distill')
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlkit.cliargs import add_backbone_arguments, add_env_arguments, env_kwarg

if TYPE_CHECKING:
    from rlkit.deep.rounds import DistillResult

__all__ = ["add_distill_parser", "add_teacher_arguments", "run_distill"]


def add_distill_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``rlkit distill`` to ``subparsers`` (from ``parser.add_subparsers()``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "distill",
        help="distil the planner into a pixel PPO policy (behaviour cloning or DAgger)",
        description="Train rlkit's pixel PPO policy to imitate the env's planner "
        "(env.unwrapped.expert_action()) by behaviour cloning or DAgger; write OUT/model.zip "
        "(a stable-baselines3 PPO model) and OUT/config.json.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_env_arguments(
        parser,
        env_help="env id with an expert, e.g. rlkit/GridNav-v0",
        kwarg_help="keyword argument of gymnasium.make (repeatable; obs=pixels is the default)",
    )
    # None: the default of rlkit.deep.distill's function for the method (dagger: 100
    # demos, 8 rounds of 100 episodes, 10 epochs a round; bc: 200 demos, 30 epochs),
    # chosen from benchmarks/learning.py's curves.
    unset = argparse.SUPPRESS  # absent from args: the function's default applies
    parser.add_argument(
        "--demos", type=int, default=unset, help="expert episodes (dagger 100, bc 200)"
    )
    parser.add_argument("--method", choices=("bc", "dagger"), default="dagger", help="algorithm")
    parser.add_argument("--iterations", type=int, default=unset, help="DAgger rounds (8)")
    parser.add_argument(
        "--rollouts", type=int, default=unset, help="DAgger episodes per round (100)"
    )
    parser.add_argument(
        "--beta-decay",
        type=float,
        default=unset,
        help="DAgger: the expert acts with probability BETA_DECAY**round (0.5)",
    )
    add_backbone_arguments(parser, backbone_help="shipped backbone name or a .pt file")
    parser.add_argument(
        "--adapter-size",
        type=int,
        default=unset,
        help="bottleneck channels of each adapter (--finetune adapter; default 16)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=unset,
        help="passes over the data per round (dagger 10, bc 30)",
    )
    parser.add_argument(
        "--spatial",
        type=int,
        default=0,
        help="channels of a head on the backbone's feature map (8 for maps that change "
        "every episode; 0: none)",
    )
    parser.add_argument(
        "--plan-grid",
        type=int,
        default=unset,
        help="cells across of a value iteration head that plans on the frame (11 for "
        "rlkit/GridNav-v0's new map every episode; 0: none)",
    )
    parser.add_argument(
        "--plan-iterations",
        type=int,
        default=30,
        help="value iteration steps of --plan-grid's head (at least the longest path)",
    )
    parser.add_argument(
        "--keypoints",
        type=int,
        default=unset,
        help="keypoints of a head that finds positions to a fraction of a pixel (8 for "
        "rlkit/ArmReach-v0's goal, joints and end effector; 0: none)",
    )
    parser.add_argument(
        "--demo-noise",
        type=float,
        default=unset,
        help="noise on the actions the expert's demos take, labels unchanged (DART): the "
        "std for continuous actions, the chance of a random one for discrete (0)",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="minibatch size")
    parser.add_argument("--learning-rate", type=float, default=unset, help="Adam step size (0.001)")
    parser.add_argument("--seed", type=int, default=0, help="seed of everything")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, ...")
    parser.add_argument(
        "--out", type=Path, help="output folder (default runs/ENV__distill-METHOD__SEED)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run killed in --out after its last finished round (OUT/rounds/; "
        "the same model as an uninterrupted run on CPU); not with --teacher / --init-from",
    )
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        metavar="SOURCE.zip",
        help="start the student from this trained policy (a stable-baselines3 .zip of a "
        "source task, unpickled: only files you trust; rlkit.deep.fine_tune, "
        "defaults: 25 demos, 2 DAgger rounds of 20 episodes); not with --teacher",
    )
    add_teacher_arguments(parser)
    parser.set_defaults(func=run_distill)
    return parser


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def add_teacher_arguments(parser: argparse.ArgumentParser) -> None:
    """``--teacher`` and its options: distil a trained network instead of the planner
    (:func:`rlkit.deep.distill.distil_teacher`; ``--method bc``: no DAgger rounds)."""
    group = parser.add_argument_group("teacher -> student (rlkit.deep.distil_teacher)")
    group.add_argument(
        "--teacher",
        type=Path,
        default=None,
        help="a stable-baselines3 .zip (PPO, A2C, DQN, SAC) to distil instead of the planner "
        "(unpickled: only files you trust); DAgger rounds labelled by its soft actions "
        "(defaults: 100 demos, 6 rounds of 100 episodes, 10 epochs a round)",
    )
    group.add_argument(
        "--temperature", type=float, default=3.0, help="softmax temperature T of the KL loss"
    )
    group.add_argument(
        "--student-size",
        choices=("small", "tiny", "same"),
        default="small",
        help="student CNN: small/tiny from scratch, or same (--backbone, --finetune)",
    )
    group.add_argument(
        "--teacher-env-kwarg",
        action="append",
        type=env_kwarg,
        default=[],
        metavar="KEY=VALUE",
        help="keyword of the env the teacher observes, e.g. obs=dict (default: inferred)",
    )


def _teacher_kwargs(args: argparse.Namespace, common: dict[str, Any]) -> dict[str, Any]:
    """``distil_teacher``'s arguments from the planner ones (``--method bc``: no rounds)."""
    renamed = {k: v for k, v in common.items() if k not in ("finetune", "backbone")}
    if args.student_size == "same":
        renamed.update(finetune=common["finetune"], backbone=common["backbone"])
    if args.method == "bc":
        renamed["iterations"] = 0
    given = args.teacher_env_kwarg
    return {
        **renamed,
        "temperature": args.temperature,
        "student_size": args.student_size,
        "teacher_env_kwargs": dict(given) if given else None,
    }


def _adapter_size(args: argparse.Namespace) -> dict[str, Any]:
    """``--adapter-size`` as the student's ``ppo_kwargs`` (the extractor's argument
    travels in ``policy_kwargs``); nothing when it is not given."""
    from rlkit.deep.cli import with_adapter_size

    size = getattr(args, "adapter_size", None)
    return {} if size is None else {"ppo_kwargs": with_adapter_size({}, size)}


def run_distill(args: argparse.Namespace) -> int:
    """Handle ``rlkit distill``: train, write ``OUT/model.zip`` and ``OUT/config.json``."""
    import gymnasium as gym

    from rlkit.deep.distill import behaviour_cloning, dagger, distil_teacher
    from rlkit.deep.round_checkpoints import RoundCheckpoints
    from rlkit.evaluation.atomic import atomic_write_text
    from rlkit.evaluation.provenance import provenance

    names = {"demos": "demos", "epochs": "epochs", "learning_rate": "learning_rate"}
    if args.method == "dagger":
        names.update(
            iterations="iterations", rollouts_per_iteration="rollouts", beta_decay="beta_decay"
        )
    given = {name: getattr(args, flag, None) for name, flag in names.items()}
    teacher = getattr(args, "teacher", None)
    init_from = getattr(args, "init_from", None)
    defaults: dict[str, Any] = {}
    if args.method == "dagger" and teacher is None and init_from is None:
        defaults = env_defaults(args.env)
        changed = {key for key, _ in args.env_kwarg} - _SAME_TASK
        if defaults and changed:  # measured on the env as registered, not on another map
            print(
                f"rlkit distill: {args.env} defaults ({DISTILL_DEFAULTS}) not used: "
                f"--env-kwarg {', '.join(sorted(changed))} changes the task",
                file=sys.stderr,
            )
            defaults = {}
        if hasattr(args, "plan_grid"):  # --plan-grid given, 0 included: it decides
            defaults.pop("plan", None)
        if hasattr(args, "keypoints"):  # the same for --keypoints
            defaults.pop("keypoints", None)
        given_now = {k for k, v in given.items() if v is not None}
        if set(defaults) - given_now:
            listed = ", ".join(f"{k}={defaults[k]}" for k in defaults if k not in given_now)
            print(
                f"rlkit distill: {args.env} defaults ({DISTILL_DEFAULTS}): {listed}",
                file=sys.stderr,
            )
    common: dict[str, Any] = {
        **defaults,
        **{k: v for k, v in given.items() if v is not None},
        "backbone": args.backbone,
        "finetune": args.finetune,
        "augment": args.augment,
        "lora_rank": args.lora_rank,
        **_adapter_size(args),
        "spatial": args.spatial,
        **_heads(args),
        "batch_size": args.batch_size,
        "seed": args.seed,
        "device": args.device,
        "env_kwargs": dict(args.env_kwarg),
        "progress_bar": not args.no_progress,
    }
    if teacher is not None and init_from is not None:
        print(
            "rlkit distill: error: --init-from fine-tunes on the planner's labels and "
            "--teacher distils a network: pass one of them",
            file=sys.stderr,
        )
        return 2
    if getattr(args, "demo_noise", None) is not None:
        common["demo_noise"] = args.demo_noise
    for key, flag in _NEW_STUDENT_FLAGS.items():
        if key in common and (teacher is not None or init_from is not None):
            print(
                f"rlkit distill: error: {flag} is for a new student on the planner's demos; "
                "it does not combine with --teacher or --init-from",
                file=sys.stderr,
            )
            return 2
    method = args.method if teacher is None else "teacher"
    out: Path = args.out or Path("runs") / f"{_slug(args.env)}__distill-{method}__{args.seed}"
    resume = getattr(args, "resume", False)
    if resume and (teacher is not None or init_from is not None):
        print(
            "rlkit distill: error: --resume continues a run of the planner's bc or dagger; "
            "--teacher and --init-from runs keep no checkpoints: rerun them without --resume",
            file=sys.stderr,
        )
        return 2
    if resume and RoundCheckpoints.finished(out):  # nothing to resume: never train again
        print(f"rlkit distill: {out} holds a finished run, nothing to resume", file=sys.stderr)
        return 0
    rounds = out / "rounds"
    result: DistillResult
    try:
        if teacher is not None:
            result = distil_teacher(teacher, args.env, **_teacher_kwargs(args, common))
        elif init_from is not None:
            from rlkit.deep.transfer_training import fine_tune

            result = fine_tune(
                args.env, source=init_from, init="source", method=args.method, **common
            )
        else:
            function = dagger if args.method == "dagger" else behaviour_cloning
            result = function(args.env, **common, checkpoints=rounds, resume=resume)
    except (ValueError, TypeError, FileNotFoundError, gym.error.Error, RuntimeError) as error:
        # RuntimeError: torch's answer to an unusable --device (e.g. cuda without CUDA)
        print(f"rlkit distill: error: {error}", file=sys.stderr)
        return 2
    model_path = result.save(out / "model.zip")
    argv = getattr(args, "argv", None)
    record = provenance(None if argv is None else ["rlkit", *argv])
    config = {
        "command": record.pop("command"),
        "arguments": {
            k: str(v) if isinstance(v, Path) else v
            for k, v in vars(args).items()
            if k not in ("func", "argv")
        },
        "distillation": result.config,
        "result": result.summary(),
        "model": model_path.name,
        **record,
    }
    config_path = atomic_write_text(
        out / "config.json", json.dumps(config, indent=2, default=str) + "\n"
    )
    if teacher is None and init_from is None:  # finished: no run left to resume
        RoundCheckpoints(rounds, {}).remove()
    summary = result.summary()
    source = "the planner" if teacher is None else f"teacher {teacher}"
    if init_from is not None:
        source += f" from {init_from}"
    ratio = "" if teacher is None else f", {summary['parameter_ratio']:.2f}x its parameters"
    print(
        f"distilled {source} on {args.env} by {method}{ratio}: {summary['episodes']} episodes "
        f"({summary['samples']} states), {summary['updates']} updates in "
        f"{summary['seconds']:.1f} s, loss {summary['loss_first']:.3f} -> "
        f"{summary['loss_last']:.3f}; wrote {model_path} and {config_path}"
    )
    return 0


#: Arguments for a new student on the planner's demos, and their flags.
_NEW_STUDENT_FLAGS = {
    "plan": "--plan-grid",
    "keypoints": "--keypoints",
    "demo_noise": "--demo-noise",
}
#: Env arguments that leave the task :func:`env_defaults` were measured on as it is.
_SAME_TASK = {"obs", "max_steps", "render_mode"}
#: Where :func:`env_defaults` reads (inside the ``rlkit.deep`` package).
DISTILL_DEFAULTS = "rlkit/deep/hyperparams/distill.yml"


def env_defaults(env_id: str) -> dict[str, Any]:
    """``rlkit distill``'s DAgger defaults for ``env_id`` (:data:`DISTILL_DEFAULTS`; empty
    for envs it does not list: :func:`~rlkit.deep.distill.dagger`'s own apply).

    >>> env_defaults("rlkit/GridNav-v0")["plan"]["grid"]
    11
    >>> env_defaults("rlkit/GridNav-Map-v0")
    {}
    """
    import importlib
    from importlib import resources

    yaml = importlib.import_module("yaml")  # as rlkit.deep.hyperparameters does
    text = resources.files("rlkit.deep").joinpath("hyperparams/distill.yml").read_text("utf-8")
    table = yaml.safe_load(text) or {}
    return dict(table.get(env_id) or {})


def _heads(args: argparse.Namespace) -> dict[str, Any]:
    """``plan`` and ``keypoints`` for :func:`~rlkit.deep.distill.dagger`, those whose
    flag (``--plan-grid``, ``--keypoints``) is given and not 0."""
    heads: dict[str, Any] = {}
    if getattr(args, "plan_grid", 0):
        heads["plan"] = {"grid": args.plan_grid, "iterations": args.plan_iterations}
    if getattr(args, "keypoints", 0):
        heads["keypoints"] = {"count": args.keypoints}
    return heads
