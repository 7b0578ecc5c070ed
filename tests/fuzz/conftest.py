"""Hypothesis profiles and the shared oracle of the hostile-input fuzz tests (issue #18).

Every reader fuzzed here must, for any input, either behave correctly or raise one of
the typed exceptions it documents, with a message that names the input (a file path or
an argument name). An uncaught internal error (``AttributeError``, ``KeyError``, ...), a
message that does not say what was wrong, a hang or a write outside the target folder
fails the test.

Profiles: ``fuzz`` is the bounded default (a few dozen examples per test, so the whole
folder runs in about a minute); ``fuzz-slow`` explores many more examples. It is chosen
by ``RLKIT_FUZZ=slow`` or by running the slow tests (``pytest -m slow tests/fuzz``)::

    RLKIT_FUZZ=slow .venv/bin/python -m pytest tests/fuzz -q
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings

_T = TypeVar("_T")

#: Seconds one example may take before it counts as a hang.
HANG_SECONDS = 20
_BASE = settings.default  # the ci/dev profile tests/conftest.py loaded (derandomize on CI)
_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "fuzz-bounded", _BASE, max_examples=30, deadline=None, suppress_health_check=_SUPPRESSED
)
settings.register_profile(
    "fuzz-slow", _BASE, max_examples=1000, deadline=None, suppress_health_check=_SUPPRESSED
)


def _slow_requested(config: pytest.Config | None) -> bool:
    if os.environ.get("RLKIT_FUZZ", "").lower() == "slow":
        return True
    markexpr = str(config.getoption("markexpr", "") or "") if config is not None else ""
    return markexpr.strip() == "slow"


def pytest_configure(config: pytest.Config) -> None:
    """Alias the active campaign size as the profile ``fuzz``, which the tests apply."""
    chosen = "fuzz-slow" if _slow_requested(config) else "fuzz-bounded"
    settings.register_profile("fuzz", settings.get_profile(chosen))


settings.register_profile(  # before any test module imports; pytest_configure may redo it
    "fuzz", settings.get_profile("fuzz-slow" if _slow_requested(None) else "fuzz-bounded")
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``-m slow`` the fuzz tests run (with the slow profile) although unmarked."""
    if str(config.getoption("markexpr", "") or "").strip() == "slow":
        for item in items:
            if "tests/fuzz/" in str(item.path).replace(os.sep, "/"):
                item.add_marker(pytest.mark.slow)


class Hang(Exception):
    """An example ran longer than :data:`HANG_SECONDS`."""


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds} s: a hang on hostile input")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _typed_or_ok(
    call: Callable[[], _T],
    accepted: tuple[type[BaseException], ...],
    names: Sequence[str],
) -> _T | BaseException:
    """``call()``'s result, or the accepted exception it raised (checked to name one of
    ``names`` in its message); anything else fails the test."""
    try:
        with _time_limit(HANG_SECONDS):
            return call()
    except Hang:
        raise
    except accepted as error:
        message = str(error)
        if names:
            assert any(name in message for name in names), (
                f"{type(error).__name__} does not name the input (one of {list(names)}): "
                f"{message!r}"
            )
        return error
    except Exception as error:
        raise AssertionError(
            f"uncaught internal error {type(error).__name__}: {error} "
            f"(expected a result or one of {[a.__name__ for a in accepted]})"
        ) from error


@pytest.fixture(scope="session")
def typed_or_ok() -> Callable[..., Any]:
    """``typed_or_ok(call, accepted, names)``: the fuzz oracle (see the module docstring)."""
    return _typed_or_ok


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder the examples of a session write their input files into."""
    return tmp_path_factory.mktemp("fuzz")
