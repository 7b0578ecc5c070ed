"""The reliability scorecard (issue #18): hostile input and injected faults, counted.

Runs two pytest campaigns in subprocesses, each with ``reliability_plugin`` (beside this
file) recording every test case as it runs, and writes
``benchmarks/results/reliability.md``:

- fuzz (``tests/fuzz``): per reader (the MovingAI map and scenario readers,
  ``GridMap.from_ascii``, ``gym.make`` of each registered id, suite YAML, hyperparameter
  YAML and overrides, backbone files), the hostile inputs run (hypothesis's own count of
  the examples that reached the end of the test or failed it, plus the pinned inputs:
  ``@example`` decorators and plain test cases), the uncaught errors, the hangs and the
  other failed checks (a message that names no input, a wrong result), and the
  regression tests of crashes the campaign found (test cases whose docstring starts with
  "Regression": the marker the fuzz tests use);
- faults (``tests/faults``): the line each test wrote through the ``fault_log``
  fixture (``RLKIT_FAULT_LOG``): job, fault, outcome, processes killed, runs resumed,
  result files lost; a test that failed, errored or was skipped is a row of its own;
- the goals against what was measured, and where, with what and when it ran.

Exits 1 when a goal is missed (the report is written all the same), else 0.

    python benchmarks/reliability.py                 # bounded fuzz profile, default faults
    python benchmarks/reliability.py --profile slow --slow   # 1000 examples per fuzz test
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reliability_plugin import Run, run_pytest
from scripting import REPO, machine, markdown_table, parse_dataclass

from rlkit.atomic import atomic_write_text

PROFILES = {"bounded": "the default test run's campaign",
            "slow": "RLKIT_FUZZ=slow, up to 1000 examples per test"}  # fmt: skip
#: Outcomes that count as a killed job recovered: its results equal an uninterrupted
#: run's, lose at most one checkpoint interval, or its lost cell was run again (Ray).
RECOVERED = ("identical", "within-interval", "retried")
#: The job and fault cells of a test that recorded no fault (it failed or was skipped).
NOT_RECORDED = "(not recorded)"
#: (test module, part of the test's name, reader): the first match names the reader;
#: ``{env_id}`` is the test's ``env_id`` parameter or the gym id its source names.
READERS = [
    ("test_fuzz_movingai", "scen", "MovingAI scenario reader `read_scen`"),
    ("test_fuzz_movingai", "ascii", "`GridMap.from_ascii`"),
    ("test_fuzz_movingai", "", "MovingAI map reader `read_map`"),
    ("test_fuzz_gym_make", "", "`gym.make({env_id})` kwargs, seeds, actions"),
    ("test_fuzz_suite", "", "suite YAML `load_suite`"),
    ("test_fuzz_hyperparameters", "file", "hyperparameter YAML file `load_hyperparams`"),
    ("test_fuzz_hyperparameters", "", "hyperparameter overrides `resolve_hyperparams`"),
    ("test_fuzz_backbones", "", "backbone files `load_backbone`"),
]


@dataclass
class Args:
    profile: str = "bounded"
    """fuzz campaign size: bounded (the default test run's) or slow (RLKIT_FUZZ=slow)"""
    slow: bool = False
    """also run the fault tests marked slow"""
    fuzz_dir: str = str(REPO / "tests" / "fuzz")
    """the fuzz tests"""
    faults_dir: str = str(REPO / "tests" / "faults")
    """the fault-injection tests"""
    out: str = str(REPO / "benchmarks" / "results" / "reliability.md")
    """the scorecard (markdown, written atomically)"""
    timeout: int = 3600
    """seconds each pytest run may take; the test then running counts as a hang"""


def reader(test: dict[str, Any]) -> str:
    """The reader a fuzz test case exercises (:data:`READERS`; else its module's name
    without ``test_fuzz_``)."""
    module, function = test.get("module", ""), test.get("function", "")
    for pattern_module, part, name in READERS:
        if module == pattern_module and part in function:
            ids = test.get("env_ids") or []
            env_id = test.get("params", {}).get("env_id") or (ids[0] if len(ids) == 1 else "*")
            return name.format(env_id=env_id)
    return module.removeprefix("test_fuzz_").removeprefix("test_") or "?"


FUZZ_COLUMNS = ["tests", "skipped", "generated", "pinned", "regression", "uncaught", "hangs",
                "checks", "failed"]  # fmt: skip


def fuzz_rows(run: Run) -> dict[str, dict[str, int]]:
    """Per reader: test cases, skipped, generated and pinned inputs run, regression
    tests, uncaught errors, hangs, other failed checks, failed test cases."""
    rows: dict[str, dict[str, int]] = {}
    for test in run.tests.values():
        row = rows.setdefault(reader(test), dict.fromkeys(FUZZ_COLUMNS, 0))
        status = run.status(test)
        row["tests"] += 1
        row["regression"] += bool(test.get("regression"))
        if status in ("skipped", "not run"):
            row["skipped"] += 1
            continue
        if test.get("hypothesis"):
            row["generated"] += int(test.get("generated", 0))
            row["pinned"] += int(test.get("explicit_examples", 0))
        else:
            row["pinned"] += 1  # one fixed hostile input
        failures = test.get("failures") or []
        for failure in failures:
            kind = failure["kind"]
            row[{"uncaught": "uncaught", "hang": "hangs"}.get(kind, "checks")] += 1
        if status == "hang":
            row["hangs"] += 1
        elif status == "crashed":  # the process died in the test (killed for memory, ...)
            row["uncaught"] += 1
        elif status in ("failed", "error") and not failures:
            row["checks"] += 1
        row["failed"] += status in ("failed", "error", "hang", "crashed")
    for error in run.collect_errors:
        module = Path(error["nodeid"].split("::")[0]).stem
        row = rows.setdefault(reader({"module": module}), dict.fromkeys(FUZZ_COLUMNS, 0))
        row["checks"] += 1
        row["failed"] += 1
    return rows


def fault_rows(run: Run) -> tuple[list[list[object]], list[str]]:
    """The fault table's rows (each recorded fault; each failed, errored, skipped or
    unfinished test) and the test cases that passed without recording a fault."""
    by_test: dict[str, list[dict[str, Any]]] = {}
    for entry in run.faults:
        by_test.setdefault(entry.get("test", ""), []).append(entry)
    rows: list[list[object]] = []
    quiet: list[str] = []
    for nodeid, test in run.tests.items():
        status, name = run.status(test), nodeid.split("::", 1)[-1]
        entries = by_test.pop(nodeid, [])
        for entry in entries:  # a test that failed after recording is shown failed
            after = "" if status == "passed" else f"**{status}** after "
            rows.append(_fault_row(entry, after + entry["outcome"], name))
        if not entries and status == "passed":
            quiet.append(name)
        if entries or status == "passed":
            continue
        label = f"**{status}**" if status != "skipped" else "skipped"
        failures = test.get("failures") or []
        detail = failures[0]["message"] if failures else test.get("message", "")
        if status in ("hang", "crashed"):
            detail = f"the pytest run {'timed out' if run.timed_out else 'died'} in this test"
        rows.append([NOT_RECORDED, NOT_RECORDED, label, "", "", "", _cell(detail), f"`{name}`"])
    for error in run.collect_errors:
        rows.append([NOT_RECORDED, NOT_RECORDED, "**collection error**", "", "", "",
                     _cell(error["message"]), f"`{error['nodeid']}`"])  # fmt: skip
    for entries in by_test.values():  # recorded by a test the plugin did not see finish
        for entry in entries:
            rows.append(_fault_row(entry, f"{entry['outcome']} (test unknown)", entry["test"]))
    return rows, quiet


def _fault_row(entry: dict[str, Any], outcome: str, test: str) -> list[object]:
    return [entry["job"], entry["fault"], outcome, entry["killed"], entry["resumed"],
            entry["files_lost"], _cell(entry.get("detail", "")), f"`{test}`"]  # fmt: skip


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _broken(run: Run) -> int:
    """1 when pytest itself failed (usage error, internal error) with no test to blame."""
    blamed = run.collect_errors or any(
        run.status(t) not in ("passed", "skipped") for t in run.tests.values()
    )
    return int(run.returncode not in (0, 1, 5) and not blamed)


def goals(fuzz: Run, faults: Run) -> list[tuple[str, str, str, bool]]:
    """(goal, target, measured, met) for each goal of issue #18; a goal with nothing
    measured (no input run, no fault recorded) is not met, nor a recovery whose test
    failed after recording it."""
    totals = {c: sum(r[c] for r in fuzz_rows(fuzz).values()) for c in FUZZ_COLUMNS}
    inputs = totals["generated"] + totals["pinned"]
    checks = totals["checks"] + _broken(fuzz)
    killed = [e for e in faults.faults if e["killed"] > 0]
    passed = {n for n, t in faults.tests.items() if faults.status(t) == "passed"}
    recovered = sum(e["outcome"] in RECOVERED and e["test"] in passed for e in killed)
    kills = sum(e["killed"] for e in killed)
    resumes = sum(e["resumed"] for e in killed)
    lost = sum(e["files_lost"] for e in faults.faults)
    statuses = [faults.status(t) for t in faults.tests.values()]
    failed = sum(s not in ("passed", "skipped") for s in statuses)
    failed += len(faults.collect_errors) + _broken(faults)
    uncaught, hangs = totals["uncaught"], totals["hangs"]
    return [
        ("uncaught errors on hostile input", "0", f"{uncaught} in {inputs} inputs",
         inputs > 0 and uncaught == 0),
        ("hangs on hostile input", "0", str(hangs), inputs > 0 and hangs == 0),
        ("other failed fuzz checks (message names no input, wrong result)", "0", str(checks),
         inputs > 0 and checks == 0),
        ("faults that killed a job: resumed identical or within one interval (Ray: retried)",
         "all", f"{recovered} of {len(killed)} ({kills} kills, {resumes} resumes)",
         bool(killed) and recovered == len(killed)),
        ("finished result files lost", "0", f"{lost} in {len(faults.faults)} faults",
         bool(faults.faults) and lost == 0),
        ("fault tests failed", "0", f"{failed} of {len(statuses)}",
         bool(statuses) and failed == 0),
    ]  # fmt: skip


def report(args: Args, fuzz: Run, faults: Run, command: str, wall: float) -> tuple[str, bool]:
    """The scorecard's markdown and whether every goal was met."""
    about = machine("hypothesis", "pytest")
    table = goals(fuzz, faults)
    met = all(row[3] for row in table)
    lines = [
        "# Reliability scorecard",
        "",
        "Hostile input (fuzz) and injected faults (issue #18), from one run of "
        "`benchmarks/reliability.py`: every number below was counted in that run.",
        "",
        f"## Goals: {'all met' if met else 'MISSED'}",
        "",
        markdown_table(
            ["goal", "target", "measured", "met"],
            "|---|--:|--:|:-:|",
            [(*row[:3], "yes" if row[3] else "**no**") for row in table],
        ),
        "",
        f"- Command: `{command}`",
        f"- Wall time: {wall:.0f} s (fuzz {fuzz.wall:.0f} s, pytest exit {fuzz.returncode}; "
        f"faults {faults.wall:.0f} s, pytest exit {faults.returncode})",
        f"- Machine: {about['platform']} | {about['cpu']} ({about['cpus']} CPUs, load "
        f"{about['load_1min']})",
        f"- Versions: Python {about['python']} | hypothesis {about['hypothesis']} | pytest "
        f"{about['pytest']} | numpy {about['numpy']}",
        f"- Commit: {about['git_commit']} | date: {about['date']}",
        "",
        *fuzz_section(args, fuzz),
        *faults_section(args, faults),
    ]
    return "\n".join(lines) + "\n", met


def fuzz_section(args: Args, run: Run) -> list[str]:
    rows = fuzz_rows(run)
    total = {c: sum(r[c] for r in rows.values()) for c in FUZZ_COLUMNS}
    header = ["reader", "test cases", "skipped or not run", "generated inputs", "pinned inputs",
              "regression tests", "uncaught errors", "hangs", "other failed checks",
              "failed test cases"]  # fmt: skip
    body = [[name, *(row[c] for c in FUZZ_COLUMNS)] for name, row in sorted(rows.items())]
    body.append(["**all**", *(f"**{total[c]}**" for c in FUZZ_COLUMNS)])
    regressions = len(
        {t["nodeid"].split("[")[0] for t in run.tests.values() if t.get("regression")}
    )
    return [
        f"## Fuzz: hostile inputs per reader (profile `{args.profile}`: {PROFILES[args.profile]})",
        "",
        markdown_table(header, "|---|" + "--:|" * len(FUZZ_COLUMNS), body),
        "",
        f"From `{_shown(args.fuzz_dir)}`. Generated inputs: hypothesis's own count of the "
        "examples that ran to the end of a test or failed it (filtered and oversized draws "
        "left out). Pinned inputs: the `@example` inputs of the hypothesis tests and one "
        "per plain test case. Regression tests: test cases whose docstring starts with "
        '"Regression", the fuzz tests\' marker of a failure the campaign found (in '
        f"{regressions} test functions; their inputs count as pinned too). Uncaught errors: "
        "an exception the reader does not document (the fuzz "
        "oracle's `uncaught internal error`, or any exception raised outside it); hangs: "
        "an example past the oracle's time limit, or a run that timed out in the test; each "
        "distinct failure hypothesis reports counts once.",
        "",
        *_failure_lines(run),
    ]


def _failure_lines(run: Run) -> list[str]:
    lines = []
    for test in run.tests.values():
        for failure in test.get("failures") or []:
            lines.append(f"- `{test['nodeid']}`: {failure['kind']}: {_cell(failure['message'])}")
        if run.status(test) in ("hang", "crashed"):
            lines.append(f"- `{test['nodeid']}`: {run.status(test)} (the pytest run "
                         f"{'timed out' if run.timed_out else 'died'} in this test)")  # fmt: skip
    for error in run.collect_errors:
        lines.append(f"- `{error['nodeid']}`: collection error: {_cell(error['message'])}")
    return (["Failures:", "", *lines, ""]) if lines else []


def faults_section(args: Args, run: Run) -> list[str]:
    rows, quiet = fault_rows(run)
    header = ["job", "fault", "outcome", "killed", "resumed", "files lost", "detail", "test"]
    faults = run.faults
    lines = [
        f"## Faults: injected into long jobs ({'all' if args.slow else 'default'} fault tests)",
        "",
        markdown_table(header, "|---|---|---|--:|--:|--:|---|---|", rows)
        if rows
        else "No fault test ran.",
        "",
        f"From `{_shown(args.faults_dir)}`: {len(faults)} faults recorded by "
        f"{len(run.tests)} test cases; jobs killed {sum(e['killed'] for e in faults)}, "
        f"runs resumed {sum(e['resumed'] for e in faults)}, files lost "
        f"{sum(e['files_lost'] for e in faults)}. Outcomes: identical (the same results as "
        "an uninterrupted run), within-interval (at most one checkpoint interval lost), "
        "detected (a damaged file noticed and redone, not trusted), clear-error (a typed "
        "error naming the problem, nothing half-written), retried (the lost work run "
        "again, the job finished); a test that failed is shown as failed.",
    ]
    if run.deselected:
        lines.append(f"\nSlow fault test cases not run: {run.deselected} (`--slow` runs them).")
    if quiet:
        lines.append(f"\nPassed without recording a fault: {', '.join(f'`{q}`' for q in quiet)}.")
    return [*lines, ""]


def _shown(path: str) -> str:
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    args, parser = parse_dataclass(Args, __doc__, argv)
    if args.profile not in PROFILES:
        parser.error(f"--profile must be one of {sorted(PROFILES)}, got {args.profile!r}")
    for name in ("fuzz_dir", "faults_dir"):
        if not Path(getattr(args, name)).is_dir():
            parser.error(f"--{name.replace('_', '-')}: no folder {getattr(args, name)}")
    started = time.perf_counter()
    fuzz_marks = "slow or not slow" if args.profile == "slow" else "not slow"
    fuzz = run_pytest(Path(args.fuzz_dir), fuzz_marks,
                      {"RLKIT_FUZZ": args.profile}, args.timeout)  # fmt: skip
    faults = run_pytest(Path(args.faults_dir), "slow or not slow" if args.slow else "not slow",
                        {}, args.timeout)  # fmt: skip
    given = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", "benchmarks/reliability.py", *given])
    text, met = report(args, fuzz, faults, command, time.perf_counter() - started)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(args.out), text)
    print(text.split("\n## Fuzz")[0].rstrip())
    print(f"report: {args.out}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
