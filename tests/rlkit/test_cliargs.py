"""The argument pieces the rlkit subcommands share (rlkit.cliargs)."""

from __future__ import annotations

import argparse

import pytest

from rlkit.cliargs import FINETUNE_MODES, add_backbone_arguments, add_env_arguments, env_kwarg


def test_finetune_modes_mirror_the_extractors() -> None:
    from rlkit.deep.extractor import FINETUNE_MODES as extractor_modes

    assert tuple(FINETUNE_MODES) == tuple(extractor_modes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("size=7", ("size", 7)),
        ("size=(8, 8)", ("size", (8, 8))),
        ("obs=pixels", ("obs", "pixels")),
        ("layout=four rooms", ("layout", "four rooms")),
        ("x=", ("x", "")),
    ],
)
def test_env_kwarg_parses_literals_else_strings(text: str, expected: tuple) -> None:
    assert env_kwarg(text) == expected


@pytest.mark.parametrize("text", ["size", "=3", "not a name=3", "1x=2"])
def test_env_kwarg_rejects_what_is_not_key_value(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="KEY=VALUE"):
        env_kwarg(text)


@pytest.mark.parametrize("sub", ["eval", "render", "distill"])
def test_subcommands_share_env_kwarg(sub: str) -> None:
    from rlkit.cli import build_parser

    argv = [sub, "--env", "rlkit/GridNav-v0", "--env-kwarg", "size=5", "--env-kwarg", "a=b"]
    if sub != "distill":
        argv += ["--agent", "planner"]
    args = build_parser().parse_args(argv)
    assert args.env_kwarg == [("size", 5), ("a", "b")]


def test_backbone_arguments_defaults_and_choices() -> None:
    parser = argparse.ArgumentParser()
    add_env_arguments(parser, env_help="e", kwarg_help="k")
    add_backbone_arguments(parser, backbone_help="b")
    args = parser.parse_args(["--env", "x"])
    assert (args.finetune, args.lora_rank, args.augment) == ("full", 4, False)
    with pytest.raises(SystemExit):
        parser.parse_args(["--env", "x", "--finetune", "sideways"])
    assert parser.parse_args(["--env", "x", "--finetune", "adapter"]).finetune == "adapter"


@pytest.mark.parametrize(("sub", "extra"), [("train", ["--algo", "ppo"]), ("distill", [])])
def test_adapter_size_flag(sub: str, extra: list[str]) -> None:
    from rlkit.cli import build_parser

    argv = [sub, "--env", "rlkit/GridNav-v0", *extra, "--finetune", "adapter"]
    parser = build_parser()
    assert parser.parse_args([*argv, "--adapter-size", "8"]).adapter_size == 8
    assert getattr(parser.parse_args(argv), "adapter_size", None) is None  # the default
