"""Argument pieces the ``rlkit`` subcommands share (argparse only: no torch, no gymnasium).

- :func:`env_kwarg`: the ``--env-kwarg KEY=VALUE`` type (VALUE a Python literal, else a
  string), used by ``rlkit eval``, ``rlkit render`` and ``rlkit distill``.
- :func:`add_env_arguments`: ``--env`` and the repeatable ``--env-kwarg``.
- :func:`add_backbone_arguments`: ``--backbone``, ``--finetune``, ``--lora-rank`` and
  ``--augment``, the encoder options of ``rlkit train --algo ppo|dqn|sac`` and
  ``rlkit distill``.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_env_arguments(parser, env_help="env id", kwarg_help="gymnasium.make keyword")
>>> add_backbone_arguments(parser, backbone_help="shipped name or a .pt file")
>>> args = parser.parse_args(["--env", "rlkit/GridNav-v0", "--env-kwarg", "size=(8, 8)",
...                           "--finetune", "lora"])
>>> args.env_kwarg, args.finetune, args.lora_rank, args.augment
([('size', (8, 8))], 'lora', 4, False)
>>> env_kwarg("size")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: --env-kwarg takes KEY=VALUE, got 'size'
"""

from __future__ import annotations

import argparse
import ast
from typing import Any

from rlkit.backbones import DEFAULT_BACKBONE  # light: rlkit.backbones loads torch lazily

__all__ = ["FINETUNE_MODES", "add_backbone_arguments", "add_env_arguments", "env_kwarg"]

#: Mirrors :data:`rlkit.deep.extractor.FINETUNE_MODES`, which would import torch
#: (tests/rlkit/test_deep_cli.py keeps the two equal).
FINETUNE_MODES = ("scratch", "frozen", "full", "lora", "adapter")


def env_kwarg(text: str) -> tuple[str, Any]:
    """``"size=(8, 8)"`` -> ("size", (8, 8)); values are Python literals, else strings."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"--env-kwarg takes KEY=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def add_env_arguments(parser: Any, *, env_help: str, kwarg_help: str) -> None:
    """Add the required ``--env`` and the repeatable ``--env-kwarg KEY=VALUE`` to ``parser``."""
    parser.add_argument("--env", required=True, help=env_help)
    parser.add_argument(
        "--env-kwarg",
        action="append",
        type=env_kwarg,
        default=[],
        metavar="KEY=VALUE",
        help=kwarg_help,
    )


def add_backbone_arguments(parser: Any, *, backbone_help: str) -> None:
    """Add the encoder options to ``parser`` (a parser or an argument group)."""
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE, help=backbone_help)
    parser.add_argument("--finetune", choices=FINETUNE_MODES, default="full", help="mode")
    parser.add_argument("--lora-rank", type=int, default=4, help="adapter rank (lora)")
    parser.add_argument("--augment", action="store_true", help="random-shift augmentation")
