"""``rlkit train --algo ppo|dqn|sac``: the deep half of the ``rlkit train`` subcommand.

``rlkit/cli.py`` owns ``rlkit train``; it adds these options with
:func:`add_deep_train_arguments` and hands deep algorithms to :func:`run_deep_train`::

    rlkit train --algo ppo --env rlkit/GridNav-v0 --finetune lora --steps 200000
    rlkit train --algo ppo --env rlkit/GridNav-v0 --finetune adapter --adapter-size 8
    rlkit train --algo sac --env rlkit/ArmReach-v0 --env-kwargs '{"obs": "dict"}' \\
        --goal-pixels --set replay_buffer_class=HerReplayBuffer --set learning_starts=500
    rlkit train --algo ppo --env rlkit/GridNav-v0 --out runs/ppo --resume   # after a kill

It writes the run folder of :func:`rlkit.deep.train` (``OUT/model.zip``, which
``rlkit eval --agent OUT/model.zip`` evaluates, ``OUT/config.json``, checkpoints,
Monitor CSVs, TensorBoard logs) and prints a one-line summary. This module imports
neither torch nor stable-baselines3; only :func:`run_deep_train` does, so
``rlkit --help`` stays fast.

Interrupted runs: every file is written atomically, so after Ctrl-C, ``kill -9`` or a
crash the same command with ``--resume`` continues from the latest checkpoint and trains
at most one ``--checkpoint-every`` interval again (without ``--resume`` an existing run
is an error, never overwritten). A damaged checkpoint is moved aside with a warning and
the one before is used. A full disk or a read-only ``--out`` stops the run with one line
naming the file (exit status 1); the checkpoints written before stay usable.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_deep_train_arguments(parser)
>>> args = parser.parse_args(["--finetune", "lora", "--set", "n_steps=64",
...                           "--set", "policy_kwargs.net_arch=[32]"])
>>> args.finetune, hyperparams_from(args.set)
('lora', {'n_steps': 64, 'policy_kwargs': {'net_arch': [32]}})
>>> parser.parse_args(["--finetune", "adapter", "--adapter-size", "8"]).adapter_size
8
"""

from __future__ import annotations

import argparse
import ast
import errno
import json
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rlkit.cliargs import add_backbone_arguments

__all__ = [
    "DEEP_ALGORITHMS",
    "DEEP_OPTIONS",
    "add_deep_train_arguments",
    "hyperparams_from",
    "run_deep_train",
    "with_adapter_size",
]

#: The ``--algo`` choices handled here (rlkit.deep.trainer.ALGORITHMS, without torch).
DEEP_ALGORITHMS = ("dqn", "ppo", "sac")
#: Destination -> flag of every option only deep algorithms take.
DEEP_OPTIONS: dict[str, str] = {
    "backbone": "--backbone",
    "finetune": "--finetune",
    "lora_rank": "--lora-rank",
    "adapter_size": "--adapter-size",
    "augment": "--augment",
    "backbone_lr_scale": "--backbone-lr-scale",
    "n_envs": "--n-envs",
    "set": "--set",
    "goal_pixels": "--goal-pixels",
    "device": "--device",
    "checkpoint_every": "--checkpoint-every",
    "resume": "--resume",
    "no_tensorboard": "--no-tensorboard",
}


def _assignment(text: str) -> tuple[str, Any]:
    """``"n_steps=64"`` -> ("n_steps", 64): Python or JSON literals, else the string."""
    key, sep, value = text.partition("=")
    if not sep or not all(part.isidentifier() for part in key.split(".")):
        raise argparse.ArgumentTypeError(f"--set takes KEY=VALUE (KEY may be a.b), got {text!r}")
    for parse in (ast.literal_eval, json.loads):
        try:
            return key, parse(value)
        except (ValueError, SyntaxError):
            continue
    return key, value


def hyperparams_from(assignments: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """Nested hyperparameters from ``--set`` pairs; dotted keys make nested dicts."""
    result: dict[str, Any] = {}
    for key, value in assignments:
        *parents, last = key.split(".")
        node = result
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"--set {key}: {part} was set to a value, not a mapping")
            node = child
        node[last] = value
    return result


def with_adapter_size(hyperparams: dict[str, Any], size: int | None) -> dict[str, Any]:
    """``hyperparams`` with ``policy_kwargs.features_extractor_kwargs.adapter_size`` set
    to ``size`` (``--adapter-size``; unchanged for None), the way the extractor's
    arguments reach SB3's policy (``rlkit train``) or the student (``rlkit distill``).

    >>> with_adapter_size({"policy_kwargs": {"net_arch": [32]}}, 8)
    {'policy_kwargs': {'net_arch': [32], 'features_extractor_kwargs': {'adapter_size': 8}}}
    """
    if size is None:
        return hyperparams
    policy_kwargs = dict(hyperparams.get("policy_kwargs") or {})
    extractor = dict(policy_kwargs.get("features_extractor_kwargs") or {})
    policy_kwargs["features_extractor_kwargs"] = {**extractor, "adapter_size": size}
    return {**hyperparams, "policy_kwargs": policy_kwargs}


def add_deep_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of deep algorithms to ``rlkit train``'s parser (as a group)."""
    group = parser.add_argument_group(
        "deep algorithms (ppo, dqn, sac)",
        "stable-baselines3 on pixels through a backbone CNN; hyperparameters come from "
        "rlkit/deep/hyperparams/<algo>.yml, --steps defaults to the file's total_steps",
    )
    add_backbone_arguments(group, backbone_help="shipped name or a .pt file")
    group.add_argument(
        "--adapter-size",
        type=int,
        default=None,
        help="bottleneck channels of each adapter (--finetune adapter); None: the "
        "extractor's default (16)",
    )

    def from_yaml(flag: str, kind: type, what: str) -> None:
        group.add_argument(flag, type=kind, default=None, help=f"{what}; None: the YAML file's")

    from_yaml("--backbone-lr-scale", float, "backbone lr / head lr")
    from_yaml("--n-envs", int, "parallel envs")
    group.add_argument(
        "--set",
        action="append",
        type=_assignment,
        default=[],
        metavar="KEY=VALUE",
        help="override a hyperparameter, e.g. --set n_steps=64 (repeatable)",
    )
    group.add_argument(
        "--goal-pixels", action="store_true", help="ArmReach obs=dict goals + frames (HER)"
    )
    group.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, ...")
    from_yaml("--checkpoint-every", int, "steps between checkpoints")
    group.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its latest good checkpoint (after a kill: "
        "at most one checkpoint interval is trained again; damaged checkpoints are moved "
        "aside as *.corrupt)",
    )
    group.add_argument("--no-tensorboard", action="store_true", help="no logs in OUT/tb")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def run_deep_train(args: argparse.Namespace) -> int:
    """Handle ``rlkit train`` for a deep algorithm: train, write the run folder, print a
    summary. Bad input raises ValueError (``rlkit.cli.main`` prints it, status 2); a run
    folder that cannot be written (disk full, read-only) is one line on stderr, status 1.
    """
    out: Path = args.out or Path("runs") / f"{_slug(args.env)}__{args.algo}__{args.seed}"
    try:
        return _train_into(args, out)
    except OSError as error:
        if error.errno not in _WRITE_ERRORS:
            raise
        print(
            f"rlkit train: error: {error}; the run folder {out} needs free space and write "
            "permission (nothing half-written is left: free space or fix the permission, "
            "then rerun with --resume, or choose another --out)",
            file=sys.stderr,
        )
        return 1


#: errno of a folder that cannot be written: full disk or quota, read-only, no permission.
_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


def _train_into(args: argparse.Namespace, out: Path) -> int:
    from rlkit.deep import train
    from rlkit.evaluation.atomic import atomic_write_text

    env_kwargs = dict(args.env_kwargs)
    if args.max_episode_steps is not None:
        env_kwargs["max_episode_steps"] = args.max_episode_steps
    result = train(
        args.algo,
        args.env,
        backbone=args.backbone,
        finetune=args.finetune,
        total_steps=args.steps,
        seed=args.seed,
        device=args.device,
        env_kwargs=env_kwargs,
        goal_pixels=args.goal_pixels,
        n_envs=args.n_envs,
        hyperparams=with_adapter_size(hyperparams_from(args.set), args.adapter_size),
        augment=args.augment,
        lora_rank=args.lora_rank,
        backbone_lr_scale=args.backbone_lr_scale,
        out=out,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        progress_bar=not args.no_progress,
        tensorboard=not args.no_tensorboard,
    )
    config_path = out / "config.json"
    config = json.loads(config_path.read_text("utf-8"))
    argv = getattr(args, "argv", None)
    if argv is not None:
        config["command"] = shlex.join(["rlkit", *argv])
    config["arguments"] = {
        k: str(v) if isinstance(v, Path) else v
        for k, v in vars(args).items()
        if k not in ("func", "argv")
    }
    atomic_write_text(config_path, json.dumps(config, indent=2, default=str) + "\n")
    venv = result.model.get_env()
    if venv is not None:
        venv.close()  # flushes and closes the Monitor files
    summary = result.summary()
    success = summary["success_rate"]
    mean_return = summary["mean_return"]
    print(
        f"trained {args.algo} on {args.env}: {result.steps} steps, {result.episodes} episodes "
        f"in {result.seconds:.1f} s; last {summary['recent_episodes']} episodes: "
        f"mean return {'n/a' if mean_return is None else f'{mean_return:.3f}'}"
        + ("" if success is None else f", success {success:.2f}")
    )
    print(f"saved {out / 'model.zip'} and {config_path}")
    return 0
