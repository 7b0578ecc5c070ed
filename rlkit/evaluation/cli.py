"""The ``rlkit eval`` and ``rlkit render`` subcommands.

``rlkit/cli.py`` adds them to its subparsers::

    from rlkit.evaluation.cli import add_eval_parser, add_render_parser
    add_eval_parser(subparsers)
    add_render_parser(subparsers)
    ...
    args = parser.parse_args(argv)
    return args.func(args)   # run_eval / run_render: exit status

Each ``add_*`` function sets ``func`` on its parser (``set_defaults``) and returns the
parser. The handlers print errors in bad input (unknown env id, agent or file type) as
one line on stderr and return 2, as argparse does for bad arguments.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym

from rlkit.cliargs import add_env_arguments

__all__ = ["add_eval_parser", "add_render_parser", "run_eval", "run_render"]

#: Errors of bad input that the handlers report in one line.
_USER_ERRORS = (ValueError, FileNotFoundError, ImportError, gym.error.DependencyNotInstalled)


def _seeds(text: str) -> int | list[int]:
    """``"5"`` -> 5 (a count); ``"0,3,7"`` -> [0, 3, 7]."""
    try:
        if "," in text:
            return [int(part) for part in text.split(",") if part.strip()]
        return int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--seeds takes a count (5) or a comma-separated list (0,3,7), got {text!r}"
        ) from exc


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--agent",
        required=True,
        help="'planner', 'random', a tabular model .npz, or a stable-baselines3 .zip "
        "(a .zip is unpickled, which runs code from it: only load files you trust)",
    )
    add_env_arguments(
        parser,
        env_help="env id, e.g. rlkit/GridNav-v0",
        kwarg_help="keyword argument of gymnasium.make (repeatable); VALUE is a Python literal",
    )
    parser.add_argument(
        "--stochastic",
        action="store_true",
        help="sample the model's actions instead of acting greedily",
    )
    parser.add_argument(
        "--algo", help="stable-baselines3 algorithm of a .zip (PPO, DQN, ...); inferred if omitted"
    )
    parser.add_argument("--max-steps", type=int, help="truncate episodes after this many steps")


def add_eval_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``rlkit eval`` to ``subparsers`` (from ``parser.add_subparsers()``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "eval",
        help="evaluate an agent: success, SPL, return with IQM and 95%% CIs",
        description="Evaluate an agent on an env for a fixed set of seeded episodes; print "
        "the summary table and, with --out, write the result as JSON, CSV and markdown.",
    )
    _add_common(parser)
    parser.add_argument("--episodes", type=int, default=20, help="episodes per seed (default 20)")
    parser.add_argument(
        "--seeds",
        type=_seeds,
        default=5,
        help="number of seeds (5 = seeds 0..4) or a list (0,3,7); default 5",
    )
    parser.add_argument("--out", type=Path, help="folder for <agent>__<env>.json/.csv/.md")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run_eval)
    return parser


def add_render_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``rlkit render`` to ``subparsers`` (from ``parser.add_subparsers()``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "render",
        help="watch an agent in a window, or record it to .gif/.mp4",
        description="Play episodes of an agent in a window, or record them with --out.",
    )
    _add_common(parser)
    parser.add_argument("--episodes", type=int, default=3, help="episodes (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="evaluation seed (default 0)")
    parser.add_argument("--fps", type=float, help="frame rate (default: the env's)")
    parser.add_argument(
        "--out", type=Path, help="record to this .gif or .mp4 (mp4 needs imageio-ffmpeg)"
    )
    parser.set_defaults(func=run_render)
    return parser


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def _fail(command: str, error: BaseException) -> int:
    print(f"rlkit {command}: error: {error}", file=sys.stderr)
    return 2


def _agent(args: argparse.Namespace, env: gym.Env[Any, Any]) -> Any:
    from rlkit.agents import load_agent

    return load_agent(args.agent, env, algo=args.algo, deterministic=not args.stochastic)


def run_eval(args: argparse.Namespace) -> int:
    """Handle ``rlkit eval``: evaluate, print the summary, write files under ``--out``."""
    from rlkit.evaluation.evaluate import evaluate, make_env

    env_kwargs = dict(args.env_kwarg)
    try:
        env = make_env(args.env, env_kwargs)
        try:
            agent = _agent(args, env)
            result = evaluate(
                agent,
                env,
                args.episodes,
                args.seeds,
                deterministic=not args.stochastic,
                max_steps=args.max_steps,
                progress_bar=not args.no_progress,
            )
        finally:
            env.close()
    except _USER_ERRORS as error:
        return _fail("eval", error)
    # evaluate() saw an env instance; record what the command asked for.
    result.metadata.update(env_id=args.env, env_kwargs=env_kwargs, env_source="id")
    print(result.to_markdown())
    if args.out is not None:
        stem = args.out / f"{_slug(result.agent)}__{_slug(args.env)}"
        written = [
            result.to_json(stem.with_suffix(".json")),
            result.to_csv(stem.with_suffix(".csv")),
        ]
        from rlkit.evaluation.atomic import atomic_write_text

        written.append(atomic_write_text(stem.with_suffix(".md"), result.to_markdown()))
        print("wrote " + ", ".join(str(p) for p in written))
    return 0


def run_render(args: argparse.Namespace) -> int:
    """Handle ``rlkit render``: play episodes in a window or record them to ``--out``."""
    from rlkit.evaluation.evaluate import make_env
    from rlkit.evaluation.render import render_episodes

    env_kwargs = dict(args.env_kwarg)
    try:
        agent: Any = args.agent
        if agent not in ("planner", "random"):  # a file: load it once, here
            env = make_env(args.env, env_kwargs)
            try:
                agent = _agent(args, env)
            finally:
                env.close()
        written = render_episodes(
            agent,
            args.env,
            args.episodes,
            args.out,
            seed=args.seed,
            max_steps=args.max_steps,
            fps=args.fps,
            deterministic=not args.stochastic,
            env_kwargs=env_kwargs,
        )
    except _USER_ERRORS as error:
        return _fail("render", error)
    if written is not None:
        print(f"wrote {written}")
    return 0
