"""The ``rlkit pretrain`` subcommand.

``rlkit/cli.py`` adds it to its subparsers::

    from rlkit.backbones.cli import add_pretrain_parser
    add_pretrain_parser(subparsers)
    ...
    args = parser.parse_args(argv)
    return args.func(args)   # run_pretrain: exit status

Only this handler imports torch, so ``rlkit --help`` stays fast. Bad input (an
existing run without ``--resume``, a config that differs from the checkpoint's, a
damaged checkpoint, an unknown device) is printed as one line on stderr with status 2.

Interrupted runs: ``OUT/checkpoint.pt`` is replaced atomically every
``--checkpoint-every`` steps and the outputs are written atomically, so no half-written
file is ever left under its name. After a kill, the same command fails with a hint to
add ``--resume``, which continues bit for bit on CPU: the weights equal an
uninterrupted run's.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="rlkit")
>>> _ = add_pretrain_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["pretrain", "--out", "runs/cnn", "--steps", "100"])
>>> args.steps, args.device, args.resume, args.func.__name__
(100, 'auto', False, 'run_pretrain')
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_pretrain_parser", "run_pretrain"]


def add_pretrain_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``rlkit pretrain`` to ``subparsers`` (from ``parser.add_subparsers()``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "pretrain",
        help="pretrain the perception CNN on GridNav and ArmReach frames (self-supervised)",
        description="Pretrain rlkit's ConvEncoder with ATC temporal contrast and auxiliary "
        "state prediction on frames of GridNav and ArmReach; write OUT/NAME.pt, its model "
        "card OUT/NAME.json, OUT/checkpoint.pt and OUT/history.json. Without options it "
        "reproduces the shipped rlkit-cnn-v2 (about 5 minutes on 2 CPU cores); "
        "--recipe rlkit-cnn-lite the lighter rlkit-cnn-lite (for PPO throughput on the CPU), "
        "--recipe rlkit-cnn-v1 the older, costlier rlkit-cnn-v1. "
        "Load the result with rlkit.backbones.load_backbone('OUT/NAME.pt').",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--steps", type=int, help="gradient steps (default: the recipe's)")
    parser.add_argument("--batch-size", type=int, help="batch size (default: the recipe's)")
    parser.add_argument("--seed", type=int, default=0, help="seed of everything (default 0)")
    parser.add_argument(
        "--recipe",
        default="rlkit-cnn-v2",
        choices=["rlkit-cnn-v2", "rlkit-cnn-lite", "rlkit-cnn-v1"],
        help="architecture and schedule of a shipped backbone (default rlkit-cnn-v2)",
    )
    parser.add_argument("--name", help="name of the weights file (default: the recipe's)")
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:1, ..."
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from OUT/checkpoint.pt if present (after a kill: the same weights "
        "as an uninterrupted run on CPU; a damaged checkpoint is an error naming it)",
    )
    parser.add_argument(
        "--checkpoint-every", type=int, help="steps between checkpoints (default: recipe's)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run_pretrain)
    return parser


def run_pretrain(args: argparse.Namespace) -> int:
    """Handle ``rlkit pretrain``: run it, print where the weights went and the losses."""
    from rlkit.backbones.pretrain import RECIPES, pretrain

    overrides = {
        key: value
        for key, value in (
            ("steps", args.steps),
            ("batch_size", args.batch_size),
            ("checkpoint_every", args.checkpoint_every),
        )
        if value is not None
    }
    try:
        name = args.name or args.recipe
        config = dataclasses.replace(RECIPES[args.recipe], name=name, seed=args.seed, **overrides)
        result = pretrain(
            config,
            args.out,
            device=args.device,
            resume=args.resume,
            progress=not args.no_progress,
        )
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        # RuntimeError: torch's answer to an unusable --device (e.g. cuda without CUDA)
        print(f"rlkit pretrain: error: {error}", file=sys.stderr)
        return 2
    training = result.card["training"]
    print(f"wrote {result.weights_path} and {result.weights_path.with_suffix('.json')}")
    print(
        f"steps {training['steps']}, loss {training['loss_first_50']} -> "
        f"{training['loss_last_50']} (mean of first/last 50 steps), state error "
        f"{training['aux_first_50']} -> {training['aux_last_50']}, "
        f"wall time {result.card['wall_time_s']} s on {training['device']}"
    )
    print(f"sha256 {result.card['sha256']}")
    return 0
