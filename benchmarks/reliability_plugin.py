"""A pytest plugin that records what each test did, and the run that reads it back
(:func:`run_pytest`), for ``benchmarks/reliability.py``.

``reliability.py`` runs pytest on the fuzz and fault folders in a subprocess with this
module as a plugin and ``RLKIT_RELIABILITY_RECORD`` naming a file (:func:`run_pytest`);
the plugin appends one JSON line per event to it, as it happens, so a run that dies
half-way still leaves the tests it finished and the one it was in:

- ``collected``: a test case (``nodeid``, ``module``, ``function``, ``params``), whether
  it is a hypothesis test, its ``@example`` inputs (``explicit_examples``), whether its
  docstring starts with "Regression" (``regression``) and the gym ids its source names
  (``env_ids``);
- ``deselected``: a test case left out by ``-m`` (the slow ones);
- ``collect-error``: a test file that could not be collected, and why;
- ``start``: a test case began;
- ``finish``: its ``outcome`` (passed, failed, error, skipped) and ``message``; for a
  hypothesis test the inputs it ran (``generated``: the examples that reached the test's
  end or failed, from hypothesis's own statistics; ``filtered``: those rejected by
  ``assume``/``filter`` or too large) and its distinct failures, each classified
  (``uncaught``: an exception the code under test should not raise, ``hang``: the fuzz
  oracle's ``Hang``, ``check``: any other failed check).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

RECORD_ENV = "RLKIT_RELIABILITY_RECORD"
BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
_BOOT = (
    "import sys; sys.path.append({folder!r}); import pytest, reliability_plugin; "
    "sys.exit(pytest.main(sys.argv[1:], plugins=[reliability_plugin]))"
)
#: The message the fuzz oracle (tests/fuzz/conftest.py) gives an unexpected exception.
UNCAUGHT_PREFIX = "uncaught internal error"
_ENV_ID = re.compile(r"""["']((?:rlkit/)?[A-Za-z][\w-]*-v\d+)["']""")
#: Per test case while it runs: its outcome, failures and hypothesis counts.
_STATE: dict[str, dict[str, Any]] = {}


def _write(event: str, **fields: Any) -> None:
    target = os.environ.get(RECORD_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as stream:
            stream.write(json.dumps({"event": event, **fields}, default=repr) + "\n")


def _first_line(text: str, limit: int = 200) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _function(item: pytest.Item) -> Callable[..., Any] | None:
    obj = getattr(item, "obj", None)
    return obj if callable(obj) else None


def _describe(item: pytest.Item) -> dict[str, Any]:
    function = _function(item)
    params = getattr(getattr(item, "callspec", None), "params", {})
    try:
        source = inspect.getsource(function) if function is not None else ""
    except (OSError, TypeError):
        source = ""
    hypothesis_test = False
    if function is not None:
        try:
            from hypothesis import is_hypothesis_test

            hypothesis_test = bool(is_hypothesis_test(function))
        except ImportError:
            pass
    return {
        "nodeid": item.nodeid,
        "module": item.path.stem,
        "function": getattr(item, "originalname", item.name),
        "params": {
            k: v if isinstance(v, (str, int, float, bool)) else repr(v) for k, v in params.items()
        },
        "hypothesis": hypothesis_test,
        "explicit_examples": len(getattr(function, "hypothesis_explicit_examples", ()) or ()),
        "regression": (inspect.getdoc(function) or "").startswith("Regression")
        if function is not None
        else False,
        "env_ids": sorted(set(_ENV_ID.findall(source))),
    }


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in session.items:  # after deselection
        _write("collected", **_describe(item))


def pytest_deselected(items: list[pytest.Item]) -> None:
    for item in items:
        _write("deselected", nodeid=item.nodeid, module=item.path.stem)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _write("collect-error", nodeid=report.nodeid, message=_last_line(report.longreprtext))


def _last_line(text: str) -> str:
    """The exception line of a pytest report (its first ``E`` line), else its last line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return _first_line(errors[0] if errors else lines[-1] if lines else "")


def pytest_runtest_logstart(nodeid: str) -> None:
    _STATE[nodeid] = {"outcome": "passed", "message": "", "failures": []}
    _write("start", nodeid=nodeid)


def _count(stats: dict[str, Any]) -> dict[str, int]:
    """Inputs hypothesis ran, from its statistics: every phase but shrinking and
    explaining (which only revisit a failure)."""
    ran = filtered = 0
    for key, phase in stats.items():
        if not key.endswith("-phase") or key in ("shrink-phase", "explain-phase"):
            continue
        for case in phase.get("test-cases", []):
            if case.get("status") in ("valid", "interesting"):
                ran += 1
            else:
                filtered += 1
    return {"generated": ran, "filtered": filtered}


@pytest.hookimpl(wrapper=True, trylast=True)  # innermost: inside hypothesis's own wrapper
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:  # hypothesis hands its statistics to this (internal) callback, then pytest's
        from hypothesis.statistics import collector
    except ImportError:
        return (yield)
    previous = collector.value

    def note(stats: dict[str, Any]) -> None:
        counts = _count(stats)
        state = _STATE.setdefault(item.nodeid, {})
        for key, value in counts.items():  # parametrized reruns of one engine add up
            state[key] = state.get(key, 0) + value
        if previous is not None:
            previous(stats)

    with cast(Any, collector).with_value(note):
        return (yield)


def _leaves(error: BaseException) -> Iterator[BaseException]:
    """The exceptions inside an exception group (hypothesis's distinct failures)."""
    inner = getattr(error, "exceptions", None)
    if isinstance(inner, (list, tuple)) and inner:
        for each in inner:
            yield from _leaves(each)
    else:
        yield error


def classify(error: BaseException) -> str:
    """``hang``, ``uncaught`` or ``check`` (see the module docstring)."""
    if type(error).__name__ == "Hang":
        return "hang"
    if isinstance(error, AssertionError):
        return "uncaught" if str(error).startswith(UNCAUGHT_PREFIX) else "check"
    if isinstance(error, pytest.fail.Exception) or type(error).__module__.startswith(
        ("hypothesis", "_pytest")
    ):
        return "check"  # pytest.raises did not raise, a health check, ...: the test's own
    return "uncaught"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    excinfo = call.excinfo
    if excinfo is not None and not report.skipped:
        state = _STATE.setdefault(item.nodeid, {"failures": []})
        for error in _leaves(excinfo.value):
            state.setdefault("failures", []).append(
                {"kind": classify(error), "when": call.when,
                 "message": f"{type(error).__name__}: {_first_line(str(error))}"}
            )  # fmt: skip
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    state = _STATE.setdefault(report.nodeid, {"outcome": "passed", "message": ""})
    if report.failed:
        state["outcome"] = "failed" if report.when == "call" else "error"
        state["message"] = state.get("message") or _last_line(report.longreprtext)
    elif report.skipped and state.get("outcome") == "passed":
        state["outcome"] = "skipped"
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        state["message"] = _first_line(str(reason).removeprefix("Skipped: "))


def pytest_runtest_logfinish(nodeid: str) -> None:
    state = _STATE.pop(nodeid, {})
    _write("finish", nodeid=nodeid, **{"outcome": "passed", "message": "", **state})


# The reading side, used by reliability.py: run pytest with this plugin, read its lines.


@dataclass
class Run:
    """One pytest campaign: its exit status, wall time and recorded test cases."""

    returncode: int
    wall: float
    timed_out: bool
    tests: dict[str, dict[str, Any]] = field(default_factory=dict)
    collect_errors: list[dict[str, Any]] = field(default_factory=list)
    deselected: int = 0
    faults: list[dict[str, Any]] = field(default_factory=list)

    def status(self, test: dict[str, Any]) -> str:
        """passed, failed, error, skipped; ``hang`` / ``crashed`` for the test the run
        was in when it timed out / died; ``not run`` after that."""
        if "outcome" in test:
            return str(test["outcome"])
        if test.get("started"):
            return "hang" if self.timed_out else "crashed"
        return "not run"


def run_pytest(folder: Path, marks: str, env: dict[str, str], timeout: int) -> Run:
    """pytest on ``folder`` (``-m marks``) in a subprocess with the plugin; its output
    goes to stderr. ``env`` adds environment variables; ``RLKIT_FAULT_LOG`` is set."""
    with tempfile.TemporaryDirectory(prefix="rlkit-reliability-") as scratch:
        record, faults = Path(scratch) / "record.jsonl", Path(scratch) / "faults.jsonl"
        child_env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
                     RECORD_ENV: str(record), "RLKIT_FAULT_LOG": str(faults), **env}  # fmt: skip
        argv = [str(folder), "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO),
                "-m", marks, "-q", "-p", "no:cacheprovider"]  # fmt: skip
        print(f"$ pytest {shlex.join(argv)}  # + {__name__}", file=sys.stderr, flush=True)
        # The plugin by object, its folder last on sys.path: nothing of benchmarks/ shadows
        # a module, and the jobs the tests start do not inherit it (no PYTHONPATH).
        command = [sys.executable, "-c", _BOOT.format(folder=str(BENCHMARKS)), *argv]
        started, timed_out = time.perf_counter(), False
        process = subprocess.Popen(
            command, cwd=REPO, env=child_env, stdout=sys.stderr, start_new_session=True
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the jobs it started too
            process.wait()
        run = Run(process.returncode, time.perf_counter() - started, timed_out)
        for event in _lines(record):
            kind = event.pop("event")
            if kind == "collected":
                run.tests[event["nodeid"]] = event
            elif kind == "start":
                run.tests.setdefault(event["nodeid"], {"nodeid": event["nodeid"]})["started"] = 1
            elif kind == "finish":
                run.tests.setdefault(event["nodeid"], {"nodeid": event["nodeid"]}).update(event)
            elif kind == "collect-error":
                run.collect_errors.append(event)
            elif kind == "deselected":
                run.deselected += 1
        run.faults = list(_lines(faults))
    return run


def _lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of ``path`` (none if it was never written; a line cut short by a
    killed process is left out)."""
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries
