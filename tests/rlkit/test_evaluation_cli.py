"""The `rlkit eval` and `rlkit render` subcommands, on a parser of their own."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from rlkit.evaluation.cli import add_eval_parser, add_render_parser


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlkit")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_eval_parser(subparsers)
    add_render_parser(subparsers)
    return parser


def run(parser: argparse.ArgumentParser, *argv: str) -> int:
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


def test_eval_writes_json_csv_markdown(
    parser: argparse.ArgumentParser, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run(
        parser, "eval", "--agent", "random", "--env", "FrozenLake-v1", "--episodes", "3",
        "--seeds", "0,5", "--out", str(tmp_path), "--no-progress",
        "--env-kwarg", "is_slippery=False",
    )  # fmt: skip
    assert status == 0
    out = capsys.readouterr().out
    assert "| Return |" in out and "n/a (env gives no is_success)" in out
    stem = tmp_path / "random__FrozenLake-v1"
    for suffix in (".json", ".csv", ".md"):
        assert stem.with_suffix(suffix).is_file()
    document = json.loads(stem.with_suffix(".json").read_text())
    assert document["metadata"]["env_kwargs"] == {"is_slippery": False}
    assert document["metadata"]["seeds"] == [0, 5] and len(document["records"]) == 6


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "FrozenLake-v7"], "did you mean 'FrozenLake-v1'"),
        (["--agent", "plannr"], "did you mean 'planner'"),
        (["--episodes", "0"], "episodes must be a positive int"),
    ],
)
def test_eval_bad_input_is_one_line(
    parser: argparse.ArgumentParser,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    defaults = {"--agent": "random", "--env": "FrozenLake-v1", "--episodes": "1"}
    defaults.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    flat = [item for pair in defaults.items() for item in pair]
    assert run(parser, "eval", *flat, "--no-progress") == 2
    err = capsys.readouterr().err
    assert err.startswith("rlkit eval: error: ") and message in err


def test_seeds_argument_is_checked(parser: argparse.ArgumentParser) -> None:
    with pytest.raises(SystemExit):
        parser.parse_args(["eval", "--agent", "random", "--env", "X", "--seeds", "a,b"])


def test_render_gif(parser: argparse.ArgumentParser, tmp_path: Path) -> None:
    out = tmp_path / "run.gif"
    argv = ["render", "--agent", "random", "--env", "FrozenLake-v1", "--episodes", "1"]
    assert run(parser, *argv, "--out", str(out), "--max-steps", "5") == 0
    assert out.is_file()
    assert run(parser, *argv, "--out", str(tmp_path / "run.webm")) == 2
