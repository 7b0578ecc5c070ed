"""The ``rlkit bench`` subcommand.

``rlkit/cli.py`` adds it to its subparsers like the others::

    from rlkit.sweep.cli import add_bench_parser
    add_bench_parser(subparsers)          # sets func=run_bench on the parser

``python -m rlkit.sweep`` runs the same command on its own parser.

What ``rlkit bench`` does when a run goes wrong (details in :mod:`rlkit.sweep.runner`):

- Killed (Ctrl-C, ``kill -9``, a lost machine) at any moment: rerun the same command.
  Finished cells are kept and reused, the temporary files of the killed run are
  deleted, the rest run; the results equal an uninterrupted run's (cells are seeded).
  No file is ever half-written under its final name.
- A damaged cell file (cut short, garbage, edited, another cell's, a config that is not
  the suite's): the rerun does not trust it, runs the cell again and says so;
  ``--list`` shows it as ``damaged``.
- A second run on the same results folder (``OUT/SUITE``) while one runs: it stops at
  once, exit status 2, "results folder OUT/SUITE is in use by process N (...); wait
  for it to finish, or pass another --out". A killed run never holds the folder.
- A full disk or a read-only results folder: exit status 2 and a message naming the
  folder and the fix (free space, ``chmod -R u+w``, or another ``--out``); the workers
  stop, no temporary file is left, finished cells are kept.
- A worker process killed mid-cell: the cell runs again; a cell that kills its worker
  every time is recorded as failed (exit status 1) and the other cells finish.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_bench_parser", "build_parser", "main", "run_bench"]

#: Errors of bad input that the handler reports in one line (exit status 2).
_USER_ERRORS = (ValueError, FileNotFoundError, ImportError)
#: How ``--list`` shows the states of :func:`rlkit.sweep.cells.cell_state`.
_STATE_TEXT = {
    "stale": "stale (made with other settings)",
    "damaged": "damaged (not trusted; a rerun redoes it)",
}


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--suite",
        required=True,
        help="suite name (a file of benchmarks/suites/, e.g. quick or full) or a .yaml path",
    )
    parser.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="local worker processes, or Ray tasks (default local)",
    )
    parser.add_argument(
        "--address",
        help="Ray cluster to join ('auto', 'ray://HOST:10001'); without it Ray starts a "
        "local instance",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="cells run at once (default: the CPU cores, at most the cells to run)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="results folder; the suite writes OUT/SUITE/ (default results)",
    )
    parser.add_argument(
        "--cells",
        action="append",
        metavar="PATTERN",
        help="run only cells whose name (AGENT__ENV__seedN) matches this glob; repeatable "
        "or comma-separated, e.g. 'q_learning__*,*__seed0'",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the cells and their state; run nothing"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the report from the cell files"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def add_bench_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``rlkit bench`` to ``subparsers`` (from ``parser.add_subparsers()``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="run a benchmark suite (agents x envs x seeds) and write its report",
        description="Run the cells of a benchmark suite (agents x envs x seeds) on local "
        "worker processes or Ray, writing OUT/SUITE/cells/CELL.json per cell and "
        "OUT/SUITE/report.md with plots. A rerun (also after a kill) skips finished "
        "cells and retries failed or damaged ones; one run at a time per results "
        "folder.",
    )
    _add_arguments(parser)
    parser.set_defaults(func=run_bench)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """A parser of ``bench``'s arguments alone (for ``python -m rlkit.sweep``)."""
    parser = argparse.ArgumentParser(
        prog="python -m rlkit.sweep", description="Run a benchmark suite (rlkit bench)."
    )
    _add_arguments(parser)
    parser.set_defaults(func=run_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m rlkit.sweep ARGS``: exit status of :func:`run_bench`."""
    args = build_parser().parse_args(argv)
    args.argv = ["bench", *(sys.argv[1:] if argv is None else argv)]
    return run_bench(args)


def _patterns(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [p.strip() for value in values for p in value.split(",") if p.strip()]


def run_bench(args: argparse.Namespace) -> int:
    """Handler of ``rlkit bench``; returns the exit status.

    0 when every selected cell finished, 1 when some failed (the report lists them),
    2 for bad input or a results folder that cannot be used now (in use by another run,
    full, read-only), 130 when interrupted (finished cells are kept; rerun to go on).
    """
    from rlkit.sweep.cells import cell_path, cell_state
    from rlkit.sweep.folder import ResultsFolderError, lock_results_folder, writing
    from rlkit.sweep.report import write_report
    from rlkit.sweep.runner import run_suite
    from rlkit.sweep.schema import load_suite

    argv = getattr(args, "argv", None)
    command = ["rlkit", *argv] if argv is not None else None
    try:
        suite = load_suite(args.suite)
        folder = Path(args.out) / suite.name
        patterns = _patterns(args.cells)
        if args.list:
            for cell in suite.select(patterns):
                state, _ = cell_state(cell_path(folder, cell.name), cell)
                print(f"{cell.name}\t{_STATE_TEXT.get(state, state)}")
            return 0
        if args.report_only:
            with lock_results_folder(folder), writing(folder):
                print(f"wrote {write_report(suite, folder, command=command)}")
            return 0
        run = run_suite(
            suite,
            out=args.out,
            backend=args.backend,
            workers=args.workers,
            address=args.address,
            cells=patterns,
            command=command,
            progress_bar=not args.no_progress,
        )
    except KeyboardInterrupt:
        print(
            "\nrlkit bench: interrupted; finished cells are kept, rerun the same command "
            "to run the rest",
            file=sys.stderr,
        )
        return 130
    except (*_USER_ERRORS, ResultsFolderError) as error:
        print(f"rlkit bench: error: {error}", file=sys.stderr)
        return 2
    print(
        f"suite {suite.name}: {len(run.selected)} cells, {len(run.reused)} finished before, "
        f"{len(run.ran)} run now ({len(run.errors)} failed) in {run.wall_time_s:.1f} s"
    )
    if run.damaged:
        print(
            f"damaged cell files, not trusted and run again: {', '.join(run.damaged)}",
            file=sys.stderr,
        )
    if run.errors:
        print(f"failed cells (tracebacks in {folder / 'cells'}): {', '.join(run.errors)}")
    print(f"report: {run.report}")
    return 1 if run.errors else 0
