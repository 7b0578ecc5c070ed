"""What every benchmark script shares: arguments from a dataclass, progress bars, a
description of the machine, markdown tables, and JSON written atomically.

The scripts stay readable top to bottom (CleanRL's habit); only this plumbing, which
would otherwise be copied into each, lives here. Scripts run as
``python benchmarks/NAME.py``, which puts this folder on ``sys.path``.

- arguments: :func:`parse_dataclass` (``--flag`` per field, ``--quick`` overrides),
  built on :func:`dataclass_parser` and :func:`field_docs`;
- output: :func:`markdown_table` / :func:`table_lines`, :func:`progress`;
- results: :func:`machine` (where and with what it ran), :func:`write_results` (the
  JSON file of a measurement script), :func:`write_json_atomic`;
- suite-based experiments (headline.py, learning.py, ensemble.py, transfer.py):
  :class:`SuiteArgs`, :func:`run_suite_cells` and :func:`suite_main`, the scripts'
  ``main``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib.metadata
import inspect
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from rlkit.atomic import atomic_write_text

REPO = Path(__file__).resolve().parents[1]

T = TypeVar("T")
A = TypeVar("A")
try:
    from tqdm import tqdm as _tqdm
except ImportError:  # progress bars are a nicety, not a dependency
    _tqdm = None

_KINDS: dict[str, type] = {"int": int, "float": float, "str": str}


def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of a dataclass (Python keeps none at runtime),
    inherited ones included; a subclass that redefines a field redefines its doc."""
    docs = {}
    for klass in reversed([k for k in cls.__mro__ if dataclasses.is_dataclass(k)]):
        body = ast.parse(inspect.getsource(klass)).body[0].body  # type: ignore[attr-defined]
        for node, after in itertools.pairwise(body):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
            ):
                docs[node.target.id] = " ".join(str(after.value.value).split())
    return docs


def dataclass_parser(cls: type, doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with a ``--flag`` per field of dataclass ``cls``.

    Field docstrings become the help; ``bool`` fields are switches, ``list[X]`` fields
    take one or more values; the description is the first paragraph of ``doc``.
    """
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    docs = field_docs(cls)
    for f in dataclasses.fields(cls):
        flag, kind = "--" + f.name.replace("_", "-"), str(f.type)
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[operator]
        if kind == "bool":
            parser.add_argument(flag, action="store_true", help=docs[f.name])
        elif kind.startswith("list["):
            shown = " ".join(map(str, default))
            parser.add_argument(flag, nargs="+", type=_KINDS[kind[5:-1]], default=default,
                                help=f"{docs[f.name]} (default: {shown})")  # fmt: skip
        else:
            parser.add_argument(flag, type=_KINDS[kind], default=default,
                                help=f"{docs[f.name]} (default: {default})")  # fmt: skip
    return parser


def parse_dataclass(
    cls: type[A],
    doc: str | None,
    argv: Sequence[str] | None = None,
    quick: Mapping[str, Any] | None = None,
) -> tuple[A, argparse.ArgumentParser]:
    """``cls`` filled from the command line ``argv`` (default: ``sys.argv[1:]``), and its
    parser (for ``parser.error``).

    With ``--quick``, the fields named in ``quick`` take its values, whatever was given;
    a callable value maps the given one instead (``partial(min, 0.1)``: at most 0.1).
    """
    parser = dataclass_parser(cls, doc)
    args = cls(**vars(parser.parse_args(argv)))
    if quick and getattr(args, "quick", False):
        for name, value in quick.items():
            setattr(args, name, value(getattr(args, name)) if callable(value) else value)
    return args, parser


def table_lines(header: Sequence[str], align: str, rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a markdown table: the ``header`` cells, the alignment row ``align``,
    then a line per row of cells (each shown with ``str``).

    >>> table_lines(["a", "b"], "|---|--:|", [(1, "x")])
    ['| a | b |', '|---|--:|', '| 1 | x |']
    """
    return [_row(header), align, *map(_row, rows)]


def markdown_table(header: Sequence[str], align: str, rows: Iterable[Sequence[object]]) -> str:
    """:func:`table_lines` as one string."""
    return "\n".join(table_lines(header, align, rows))


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(map(str, cells)) + " |"


def progress(items: Iterable[T], **kwargs: Any) -> Iterator[T]:
    """``tqdm(items)`` on stderr when tqdm is installed, else ``items`` unchanged."""
    if _tqdm is None:
        return iter(items)
    # disable=None: no bar when stderr is not a terminal (CI logs, subprocess tests)
    return iter(_tqdm(items, file=sys.stderr, dynamic_ncols=True, disable=None, **kwargs))


def version(package: str) -> str | None:
    """Installed version of ``package``, or None."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def git_commit() -> str:
    """Short commit of the checkout, ``-dirty`` when tracked files differ from it."""

    def git(*argv: str) -> str:
        return subprocess.run(
            ["git", "--no-optional-locks", *argv],  # read-only: never touches the index
            cwd=REPO, capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def machine(*packages: str) -> dict[str, Any]:
    """Where and with what a benchmark ran: platform, CPU, load, versions, commit, date."""
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "load_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        **{name: version(name) for name in ("numpy", *packages)},
        "git_commit": git_commit(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON to a temporary file beside ``path``, then rename: never a half-written
    file (:func:`rlkit.atomic.atomic_write_text`)."""
    atomic_write_text(path, json.dumps(data, indent=1) + "\n")


def write_results(out: str, args: Any, about: dict[str, Any], wall: float, **fields: Any) -> None:
    """The results file ``out`` of a measurement script, written atomically: the command,
    the arguments (a dataclass), the machine and the wall time, then ``fields`` in order;
    and its ``results: OUT`` line on stdout."""
    write_json_atomic(
        Path(out),
        {
            "command": [sys.executable, *sys.argv],
            "args": dataclasses.asdict(args),
            "machine": about,
            "wall_time_s": wall,
            **fields,
        },
    )
    print(f"results: {out}")


@dataclasses.dataclass
class SuiteArgs:
    """The arguments every suite-based experiment script takes (headline.py,
    learning.py); each script's ``Args`` subclasses it and sets the default suite."""

    suite: str = ""
    """the suite file"""
    out: str = str(REPO / "benchmarks" / "results")
    """results folder: the suite writes OUT/<suite name>/"""
    workers: int = 0
    """cells run at once (0: the CPU cores)"""
    report_only: bool = False
    """only rewrite the report from the cell files"""
    resamples: int = 2000
    """bootstrap resamples of every interval"""
    quick: bool = False
    """smoke test: a few tiny cells of the suite (in a temporary folder unless --out)"""


def run_suite_cells(
    args: SuiteArgs,
    *,
    default_out: str,
    shrink: Callable[[Any], Any],
    script: str,
    argv: Sequence[str] | None,
    cells: Sequence[str] | None = None,
) -> tuple[Any, Path, list[str]]:
    """The suite part of a suite-based experiment (headline.py, learning.py).

    Loads ``args.suite``; with ``args.quick`` shrinks it (``shrink(suite)``) into a
    temporary folder unless ``--out`` was given, so smoke-test cells never mix with the
    committed results; runs the cells not finished yet (all of them, or those matching
    ``cells``) unless ``args.report_only``. Returns ``(suite, its results folder,
    the command line)``.
    """
    import tempfile

    from rlkit.sweep.runner import run_suite
    from rlkit.sweep.schema import load_suite

    suite = load_suite(args.suite)
    out = Path(args.out)
    if args.quick:
        suite = shrink(suite)
        if args.out == default_out:
            out = Path(tempfile.mkdtemp(prefix=f"rlkit-{Path(script).stem}-"))
    command = ["python", script, *(sys.argv[1:] if argv is None else argv)]
    if not args.report_only:
        run_suite(
            suite,
            out=out,
            workers=args.workers or None,
            cells=cells,
            command=command,
            progress_bar=not args.quick,
            report=False,
        )
    return suite, out / suite.name, command


def suite_main(
    args: SuiteArgs,
    argv: Sequence[str] | None,
    *,
    script: str,
    shrink: Callable[[Any], Any],
    analyse: Callable[[Any, Path, int], dict[str, Any]],
    text: Callable[[dict[str, Any]], list[str]],
    json_name: str,
    plots: Callable[[dict[str, Any], Path], list[str]] | None = None,
    cells: Sequence[str] | None = None,
    shown: Callable[[dict[str, Any]], int] | None = None,
) -> int:
    """The ``main`` of a suite-based experiment script (headline.py, learning.py, ...),
    after its arguments; returns the exit status, 0.

    Runs the cells (:func:`run_suite_cells`), computes ``analyse(suite, folder,
    args.resamples)``, writes the suite report with ``text(analysis)`` and then
    ``plots(analysis, folder)`` (if given) as its sections, and ``folder / json_name``:
    the command, the machine, the wall time and the analysis. Prints the sections (the
    first ``shown(analysis)`` lines with ``shown``, else all) and the report's path.
    """
    from rlkit.sweep.report import write_report

    started = time.perf_counter()
    suite, folder, command = run_suite_cells(
        args, default_out=type(args).out, shrink=shrink, script=script, argv=argv, cells=cells
    )
    analysis = analyse(suite, folder, args.resamples)
    lines = text(analysis)
    sections = lines + (plots(analysis, folder) if plots else [])
    report = write_report(suite, folder, command=command, sections=sections)
    write_json_atomic(
        folder / json_name,
        {"command": " ".join(command), "machine": machine("torch", "stable-baselines3"),
         "wall_time_s": round(time.perf_counter() - started, 1), **analysis},
    )  # fmt: skip
    print("\n".join(lines if shown is None else lines[: shown(analysis)]))
    print(f"report: {report}")
    return 0
