"""Fuzz suite YAML files (:func:`rlkit.sweep.schema.load_suite`).

Inputs: suites built from valid parts with one part made hostile (unknown keys, wrong
types, duplicate names, names with ``/``, ``..``, absolute paths or a newline), raw
YAML mutations and binary garbage. Oracle: a :class:`SuiteError` naming the file, or a
suite whose every output path (``<out>/<suite>/cells/<cell>.json``) stays inside
``<out>``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rlkit.sweep.cells import cell_path
from rlkit.sweep.schema import load_suite
from rlkit.sweep.suite import Suite, SuiteError

yaml = pytest.importorskip("yaml")

FUZZ = settings.get_profile("fuzz")

#: Names an attacker (or a typo) could give a suite, env or agent.
HOSTILE_NAMES = st.one_of(
    st.sampled_from(
        ["ok", "a/b", "..", "../escape", "/etc/passwd", "a\\b", ".hidden", "a__b", "x\n",
         "", " ", "C:evil", "ok.", "-dash", "a..b", "~", "é"]
    ),
    st.text(max_size=12),
)  # fmt: skip
#: Values of any YAML type.
YAML_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8)
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _valid() -> dict[str, Any]:
    return {
        "suite": "fz",
        "defaults": {"episodes": 2, "seeds": 2},
        "envs": [{"label": "lake", "id": "FrozenLake-v1"}],
        "agents": [{"name": "rand", "kind": "random"}],
    }


@st.composite
def hostile_suites(draw: st.DrawFn) -> dict[str, Any]:
    suite = _valid()
    what = draw(
        st.sampled_from(["suite", "label", "agent", "unknown", "type", "duplicate", "seeds"])
    )
    if what == "suite":
        suite["suite"] = draw(HOSTILE_NAMES)
    elif what == "label":
        suite["envs"][0]["label"] = draw(HOSTILE_NAMES)
        suite["agents"][0]["envs"] = [suite["envs"][0]["label"]]
    elif what == "agent":
        suite["agents"][0]["name"] = draw(HOSTILE_NAMES)
    elif what == "unknown":
        section = draw(st.sampled_from(["top", "env", "agent", "defaults"]))
        target = {"top": suite, "env": suite["envs"][0], "agent": suite["agents"][0],
                  "defaults": suite["defaults"]}[section]  # fmt: skip
        target[draw(st.text(min_size=1, max_size=10))] = draw(YAML_VALUES)
    elif what == "type":
        key = draw(
            st.sampled_from(["suite", "defaults", "envs", "agents", "description", "report"])
        )
        suite[key] = draw(YAML_VALUES)
    elif what == "duplicate":
        suite["agents"].append({"name": "rand", "kind": "random"})
    else:
        suite["defaults"]["seeds"] = draw(YAML_VALUES)
    if what != "type" and draw(st.booleans()):
        entry = draw(st.sampled_from(["env", "agent"]))
        target = suite["envs"][0] if entry == "env" else suite["agents"][0]
        target[
            draw(st.sampled_from(["kwargs", "max_steps", "steps", "episodes", "id", "kind"]))
        ] = draw(YAML_VALUES)
    return suite


def _check_inside(suite: Suite, out: Path) -> None:
    root = out.resolve()
    folder = out / suite.name
    for cell in suite.cells():
        target = cell_path(folder, cell.name).resolve()
        assert target.is_relative_to(root / suite.name), f"{cell.name!r} writes to {target}"
        assert target.parent == (root / suite.name / "cells"), f"{cell.name!r} nests folders"


@pytest.fixture(scope="module")
def suite_file(scratch: Path) -> Path:
    return scratch / "fuzzed.yaml"


@FUZZ
@given(hostile_suites())
@example({**_valid(), "suite": "../escape"})
@example({**_valid(), "suite": "/tmp/abs"})
@example({**_valid(), "suite": "name\n"})
def test_hostile_suites_rejected_or_stay_inside(
    suite_file: Path, scratch: Path, typed_or_ok: Callable[..., Any], data: dict[str, Any]
) -> None:
    suite_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = typed_or_ok(lambda: load_suite(suite_file), (SuiteError,), [str(suite_file)])
    if isinstance(result, Suite):
        _check_inside(result, scratch / "results")
        for name in (
            result.name,
            *(e.label for e in result.envs),
            *(a.name for a in result.agents),
        ):
            assert "/" not in name and "\\" not in name and "\n" not in name
            assert not name.startswith("."), name


@st.composite
def mutated_yaml(draw: st.DrawFn) -> bytes:
    raw = yaml.safe_dump(_valid()).encode()
    how = draw(st.sampled_from(["truncate", "insert", "garbage", "text"]))
    if how == "truncate":
        return raw[: draw(st.integers(0, len(raw)))]
    if how == "insert":
        cut = draw(st.integers(0, len(raw)))
        pieces = [b": :", b"\t", b"- ", b"&a", b"*a", b"!!python/object:os.system",
                  b"\xff\xfe", b"{", b"[", b"'", b"\x00"]  # fmt: skip
        piece = draw(st.sampled_from(pieces))
        return raw[:cut] + piece + raw[cut:]
    if how == "text":
        return draw(st.text(max_size=100)).encode()
    return draw(st.binary(max_size=100))


@FUZZ
@given(mutated_yaml())
@example(b"suite: a\nsuite: b\nenvs: []\nagents: []\n")  # duplicate key
@example(b"\xff\xfe\x00garbage")
def test_mutated_yaml_rejected_or_valid(
    suite_file: Path, scratch: Path, typed_or_ok: Callable[..., Any], data: bytes
) -> None:
    suite_file.write_bytes(data)
    result = typed_or_ok(lambda: load_suite(suite_file), (SuiteError,), [str(suite_file)])
    if isinstance(result, Suite):
        _check_inside(result, scratch / "results")


_BOMB = """suite: bomb
envs: [{label: lake, id: FrozenLake-v1}]
agents:
  - name: rand
    kind: random
    kwargs:
      a: &a [x, x, x, x, x, x, x, x, x, x]
      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
      d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
      e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
      f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
      g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
      h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
      i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_alias_bomb_is_rejected_quickly(suite_file: Path, typed_or_ok: Callable[..., Any]) -> None:
    """Regression (fuzz): YAML aliases nested 9 deep ("billion laughs") parse cheaply but
    expand to 10**9 values when the kwargs are checked as JSON: a hang, not an error."""
    suite_file.write_text(_BOMB, encoding="utf-8")
    result = typed_or_ok(lambda: load_suite(suite_file), (SuiteError,), [str(suite_file)])
    assert isinstance(result, SuiteError)
    assert "kwargs" in str(result)


def test_huge_seed_count_is_rejected(suite_file: Path, typed_or_ok: Callable[..., Any]) -> None:
    """Regression (slow fuzz profile): ``defaults.seeds: 88374664000`` built a tuple of
    that many seeds (MemoryError after a long stall)."""
    suite_file.write_text(yaml.safe_dump({**_valid(), "defaults": {"seeds": 88374664000}}))
    result = typed_or_ok(lambda: load_suite(suite_file), (SuiteError,), [str(suite_file)])
    assert isinstance(result, SuiteError)
    assert "defaults.seeds" in str(result) and "at most" in str(result)


@pytest.mark.parametrize("name", ["name\n", "ok\n"])
def test_name_with_trailing_newline_is_rejected(suite_file: Path, name: str) -> None:
    """Regression (fuzz): the name pattern ended in ``$``, which also matches before a
    final newline, so ``"name\\n"`` became part of cell file names."""
    data = {**_valid(), "suite": name}
    suite_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SuiteError, match="suite: must be a name"):
        load_suite(suite_file)


def test_non_utf8_suite_is_a_suite_error(suite_file: Path) -> None:
    """Regression (fuzz): a non-UTF-8 byte raised a bare UnicodeDecodeError, not a
    SuiteError naming the file."""
    suite_file.write_bytes(b"suite: caf\xe9\n")
    with pytest.raises(SuiteError, match=r"fuzzed\.yaml: not UTF-8"):
        load_suite(suite_file)
