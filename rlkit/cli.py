"""The ``rlkit`` command line.

One subcommand per job, each registered by an ``add_*(subparsers)`` function listed in
:data:`SUBCOMMANDS`, which sets the handler as ``func`` on its parser
(``parser.set_defaults(func=run_x)``, the convention of :mod:`rlkit.evaluation.cli`);
``main`` calls ``args.func(args)`` for the exit status. Today::

    rlkit train --algo q_learning --env FrozenLake-v1 --steps 200000 --seed 0 --out runs/fl_q
    rlkit train --algo ppo --env rlkit/GridNav-v0 --finetune lora --out runs/grid_ppo
    rlkit eval --agent runs/fl_q/agent.npz --env FrozenLake-v1 --episodes 100 --seeds 5
    rlkit render --env rlkit/GridNav-v0 --agent planner --episodes 3 --out run.gif
    rlkit pretrain --out runs/backbone
    rlkit distill --env rlkit/GridNav-Map-v0 --demos 10 --out runs/grid_bc
    rlkit bench --suite quick

Library errors that name bad input (``ValueError``) are printed as one line, without a
traceback, and exit with status 2 (argparse's status for usage errors).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import json
import platform
import shlex
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import rlkit
from rlkit.atomic import atomic_write_text
from rlkit.backbones.cli import add_pretrain_parser
from rlkit.deep.distill_cli import add_distill_parser
from rlkit.evaluation.cli import add_eval_parser, add_render_parser
from rlkit.evaluation.provenance import git_commit
from rlkit.sweep.cli import add_bench_parser

__all__ = ["SUBCOMMANDS", "build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rlkit`` command with ``argv`` (default ``sys.argv[1:]``); returns the
    exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # Recorded in result files, so every output says which command made it.
    args.argv = list(sys.argv[1:] if argv is None else argv)
    handler: Callable[[argparse.Namespace], int] = args.func
    try:
        return handler(args)
    except ValueError as error:
        print(f"rlkit {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.errno not in _DISK_ERRORS:
            raise
        # Every writer goes through rlkit.atomic, so nothing half-written is left behind;
        # what the user needs is where and why, not a traceback.
        where = f" writing {error.filename}" if error.filename else ""
        print(
            f"rlkit {args.command}: error{where}: {error.strerror or error}; free some space "
            "or choose a writable output folder, then run the command again",
            file=sys.stderr,
        )
        return 1


#: Write errors ``main`` reports in one line: disk full, read-only file system, no
#: permission, quota exceeded.
_DISK_ERRORS = frozenset(
    {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, getattr(errno, "EDQUOT", errno.ENOSPC)}
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="rlkit",
        description="Robot-learning workbench: train, evaluate and compare agents.",
    )
    parser.add_argument("--version", action="version", version=f"rlkit {rlkit.__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


# -- rlkit train ---------------------------------------------------------------------


#: Options of `rlkit train` that only tabular algorithms take (deep ones: DEEP_OPTIONS).
_TABULAR_OPTIONS: dict[str, str] = {
    "episodes": "--episodes",
    "gamma": "--gamma",
    "learning_rate": "--learning-rate",
    "epsilon": "--epsilon",
    "q_init": "--q-init",
    "n": "--n",
    "bins": "--bins",
    "low": "--low",
    "high": "--high",
}


def _add_train(subparsers: Any) -> None:
    # Imported here, not at module level, so `rlkit --help` stays fast (neither imports
    # torch: rlkit.deep.cli leaves that to its handler).
    from rlkit.deep.cli import DEEP_ALGORITHMS, add_deep_train_arguments
    from rlkit.tabular import ALGORITHMS

    train = subparsers.add_parser(
        "train",
        help="train a tabular or deep (ppo, dqn, sac) agent and save it",
        description=(
            "Train a tabular learner on a Gymnasium environment with Discrete observations "
            "and actions (or Box observations with --bins), then write OUT/agent.npz and "
            "OUT/config.json; or a stable-baselines3 PPO, DQN or SAC agent on pixels "
            "through a backbone CNN (--algo ppo|dqn|sac), then write OUT/model.zip, "
            "OUT/config.json, checkpoints and logs."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument(
        "--algo", required=True, choices=sorted([*ALGORITHMS, *DEEP_ALGORITHMS]), help="algorithm"
    )
    train.add_argument("--env", required=True, help="Gymnasium environment id")
    train.add_argument("--env-kwargs", type=_json_object, default={}, help="JSON keyword args")
    train.add_argument("--max-episode-steps", type=int, default=None, help="time limit")
    train.add_argument("--steps", type=int, default=None, help="environment steps to train")
    train.add_argument("--episodes", type=int, default=None, help="episodes to train")
    train.add_argument("--seed", type=int, default=0, help="seed of all randomness")
    train.add_argument("--gamma", type=float, default=0.99, help="discount in [0, 1]")
    train.add_argument(
        "--learning-rate", default="0.1", help="number or schedule, e.g. 'linear(0.5,0.05,1.0)'"
    )
    train.add_argument(
        "--epsilon", default="0.1", help="exploration rate or schedule, e.g. 'exp(1.0,0.01,0.5)'"
    )
    train.add_argument("--q-init", type=float, default=0.0, help="initial table value")
    train.add_argument("--n", type=int, default=3, help="backup length of nstep_sarsa")
    train.add_argument("--bins", default=None, help="discretise Box observations: '6,6,12,12'")
    train.add_argument(
        "--low", default=None, help="lower bounds for --bins, e.g. --low=-2.4,-3,-0.2,-3 (with '=')"
    )
    train.add_argument("--high", default=None, help="upper bounds for --bins")
    train.add_argument("--out", type=Path, default=None, help="output folder (default runs/NAME)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_deep_train_arguments(train)
    train.set_defaults(func=_train)


class _Unset(list[Any]):
    """Marks an option left out (a list, so ``action="append"`` options accept it)."""


def _given_options(args: argparse.Namespace) -> set[str]:
    """Destinations of the options on ``rlkit train``'s command line (``args.argv``),
    even those given their default value."""
    argv = getattr(args, "argv", None)
    if argv is None or "train" not in argv:
        return set()
    subparsers = argparse.ArgumentParser().add_subparsers()
    _add_train(subparsers)
    unset = _Unset()
    namespace = argparse.Namespace(**{key: unset for key in vars(args)})
    subparsers.choices["train"].parse_args(argv[argv.index("train") + 1 :], namespace)
    return {key for key, value in vars(namespace).items() if value is not unset}


def _train(args: argparse.Namespace) -> int:
    from rlkit.deep.cli import DEEP_ALGORITHMS, DEEP_OPTIONS, run_deep_train
    from rlkit.tabular import ALGORITHMS, DiscretizeObservation

    deep = args.algo in DEEP_ALGORITHMS
    other = _TABULAR_OPTIONS if deep else DEEP_OPTIONS
    given = _given_options(args)
    wrong = [flag for dest, flag in other.items() if dest in given]
    if wrong and deep:
        raise ValueError(
            f"{', '.join(wrong)}: only for tabular algorithms, not {args.algo}; set its "
            "hyperparameters with --set KEY=VALUE (e.g. --set gamma=0.95)"
        )
    if wrong:
        raise ValueError(
            f"{', '.join(wrong)}: only for deep algorithms ({', '.join(DEEP_ALGORITHMS)}), "
            f"not {args.algo}"
        )
    for dest in other:  # keep each kind's recorded arguments to its own options
        delattr(args, dest)
    if deep:
        return run_deep_train(args)
    if args.steps is None and args.episodes is None:
        raise ValueError("give a training budget: --steps N and/or --episodes N")
    env = _make_env(args.env, args.env_kwargs, args.max_episode_steps)
    if args.bins is not None:
        env = DiscretizeObservation(
            env,
            bins=[int(b) for b in _numbers(args.bins, "--bins")],
            low=None if args.low is None else _numbers(args.low, "--low"),
            high=None if args.high is None else _numbers(args.high, "--high"),
        )
    extra = {"n": args.n} if args.algo == "nstep_sarsa" else {}
    agent = ALGORITHMS[args.algo](
        env,
        gamma=args.gamma,
        learning_rate=args.learning_rate,
        epsilon=args.epsilon,
        q_init=args.q_init,
        seed=args.seed,
        **extra,
    )
    run_name = f"{args.env.replace('/', '-')}__{args.algo}__{args.seed}"
    out: Path = args.out if args.out is not None else Path("runs") / run_name
    recent: deque[float] = deque(maxlen=100)
    started = time.perf_counter()
    agent.learn(
        total_steps=args.steps,
        episodes=args.episodes,
        callback=lambda _, summary: recent.append(summary.episode_return),
        progress_bar=not args.no_progress,
    )
    seconds = time.perf_counter() - started
    agent_path = agent.save(out / "agent.npz")
    mean_return = sum(recent) / len(recent) if recent else None
    config = {
        "command": shlex.join(["rlkit", *args.argv]),
        "arguments": {k: _jsonable(v) for k, v in vars(args).items() if k not in ("func", "argv")},
        "algorithm": args.algo,
        "env_id": args.env,
        "env_kwargs": args.env_kwargs,
        "seed": args.seed,
        "hyperparameters": agent.get_hyperparameters(),
        "agent": agent_path.name,
        "result": {
            "steps": agent.num_timesteps,
            "episodes": agent.num_episodes,
            "seconds": round(seconds, 3),
            "mean_return_last_100_episodes": mean_return,
        },
        "versions": _versions(),
        "git_commit": git_commit()[0],
    }
    atomic_write_text(out / "config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
    shown = "n/a" if mean_return is None else f"{mean_return:.3f}"
    print(
        f"trained {args.algo} on {args.env}: {agent.num_timesteps} steps, "
        f"{agent.num_episodes} episodes in {seconds:.1f} s; "
        f"mean return of the last {len(recent)} episodes {shown}"
    )
    print(f"saved {agent_path} and {out / 'config.json'}")
    return 0


#: Functions adding one subcommand each.
SUBCOMMANDS: list[Callable[[Any], object]] = [
    _add_train,
    add_eval_parser,
    add_render_parser,
    add_pretrain_parser,
    add_distill_parser,
    add_bench_parser,
]


# -- shared helpers --------------------------------------------------------------------


def _make_env(env_id: str, kwargs: dict[str, Any], max_episode_steps: int | None) -> Any:
    import gymnasium as gym

    if env_id.startswith("rlkit/"):
        importlib.import_module("envs")  # registers the rlkit/... ids
    if max_episode_steps is not None:
        kwargs = {**kwargs, "max_episode_steps": max_episode_steps}
    try:
        return gym.make(env_id, **kwargs)
    except gym.error.Error as error:
        raise ValueError(f"--env {env_id!r}: {error}") from None
    except TypeError as error:  # an unknown keyword in --env-kwargs
        raise ValueError(f"--env-kwargs {json.dumps(kwargs)}: {error}") from None


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error}): {text}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object like '{{\"k\": 1}}': {text}")
    return value


def _numbers(text: str, option: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"{option} must be comma-separated numbers, got {text!r}") from None


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def _versions() -> dict[str, str]:
    import gymnasium
    import numpy

    return {
        "rlkit": rlkit.__version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "gymnasium": gymnasium.__version__,
    }


if __name__ == "__main__":
    sys.exit(main())
