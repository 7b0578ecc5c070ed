"""Fuzz the MovingAI ``.map`` / ``.scen`` readers and :meth:`GridMap.from_ascii`.

Inputs: valid files mutated (truncated, a header line replaced, wrong or huge sizes,
unknown characters, non-UTF-8 bytes) and plain binary garbage. Oracle: a correct map
(checked against the file) or a ``ValueError`` naming the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from planners import GridMap
from planners.movingai import read_map, read_scen

FUZZ = settings.get_profile("fuzz")

_MAP_CHARS = ".GS@OTW"


@st.composite
def map_texts(draw: st.DrawFn) -> tuple[str, np.ndarray]:
    """A valid ``.map`` text and its occupancy."""
    rows = draw(st.integers(1, 6))
    cols = draw(st.integers(1, 6))
    cells = draw(st.lists(st.sampled_from(_MAP_CHARS), min_size=rows * cols, max_size=rows * cols))
    body = ["".join(cells[r * cols : (r + 1) * cols]) for r in range(rows)]
    occ = np.array([[ch in "@OTW" for ch in line] for line in body])
    return f"type octile\nheight {rows}\nwidth {cols}\nmap\n" + "\n".join(body) + "\n", occ


_HOSTILE_NUMBERS = st.sampled_from(
    ["0", "-1", "10000000000000", "9" * 5000, "1e3", "nan", "", "3.5", "0x10", "two"]
)


@st.composite
def mutated_maps(draw: st.DrawFn) -> bytes:
    text, _ = draw(map_texts())
    raw = text.encode("ascii")
    how = draw(st.sampled_from(["truncate", "header", "size", "char", "bytes", "garbage"]))
    if how == "truncate":
        return raw[: draw(st.integers(0, len(raw)))]
    lines = text.split("\n")
    if how == "header":
        lines[draw(st.integers(0, 3))] = draw(st.text(max_size=20).filter(lambda s: "\n" not in s))
    elif how == "size":
        lines[draw(st.sampled_from([1, 2]))] = (
            draw(st.sampled_from(["height", "width"])) + " " + draw(_HOSTILE_NUMBERS)
        )
    elif how == "char":
        row = draw(st.integers(4, len(lines) - 2))
        lines[row] = lines[row][:-1] + draw(st.characters(codec="latin-1"))
    elif how == "bytes":
        cut = draw(st.integers(0, len(raw)))
        return raw[:cut] + draw(st.binary(min_size=1, max_size=8)) + raw[cut:]
    else:
        return draw(st.binary(max_size=200))
    return "\n".join(lines).encode("latin-1", "replace")


@pytest.fixture(scope="module")
def map_file(scratch: Path) -> Path:
    return scratch / "fuzzed.map"


@FUZZ
@given(map_texts())
def test_valid_maps_read_back_exactly(
    map_file: Path, typed_or_ok: Callable[..., Any], case: tuple[str, np.ndarray]
) -> None:
    text, occ = case
    map_file.write_text(text, encoding="ascii")
    grid = read_map(map_file)
    assert np.array_equal(grid.occupancy, occ)
    assert grid.name == "fuzzed"


@FUZZ
@given(mutated_maps())
@example(b"type octile\nheight 100000000000\nwidth 100000000000\nmap\n.\n")
@example("type octile\nheight 1\nwidth 1\nmap\n\u00e9\n".encode())  # UTF-8, not an ASCII map
@example(b"\xff\xfe\x00\x00garbage")
def test_mutated_maps_read_or_raise_naming_the_file(
    map_file: Path, typed_or_ok: Callable[..., Any], data: bytes
) -> None:
    map_file.write_bytes(data)
    result = typed_or_ok(lambda: read_map(map_file), (ValueError,), [str(map_file)])
    if isinstance(result, GridMap):  # accepted: it must be what the file says
        assert result.occupancy.shape[0] >= 1 and result.occupancy.shape[1] >= 1


@st.composite
def scen_texts(draw: st.DrawFn) -> bytes:
    lines = [draw(st.sampled_from(["version 1", "version 1.0", "version 2", "", "versio"]))]
    field = st.one_of(
        st.integers(-5, 10).map(str),
        _HOSTILE_NUMBERS,
        st.sampled_from(["inf", "-inf", "1.5", "tiny.map"]),
    )
    for _ in range(draw(st.integers(0, 4))):
        fields = draw(st.lists(field, min_size=7, max_size=10))
        lines.append(draw(st.sampled_from(["\t", " "])).join(fields))
    raw = "\n".join(lines).encode()
    how = draw(st.sampled_from(["keep", "truncate", "bytes", "garbage"]))
    if how == "truncate":
        return raw[: draw(st.integers(0, len(raw)))]
    if how == "bytes":
        cut = draw(st.integers(0, len(raw)))
        return raw[:cut] + draw(st.binary(min_size=1, max_size=8)) + raw[cut:]
    if how == "garbage":
        return draw(st.binary(max_size=200))
    return raw


@FUZZ
@given(scen_texts())
@example(b"version 1\n0\ttiny.map\t3\t2\t0\t0\t2\t1\t2.5\n")
@example(b"version 1\n0\ttiny.map\t3\t2\t0\t0\t2\t1\t\xff\n")
def test_scenarios_read_or_raise_naming_the_file(
    scratch: Path, typed_or_ok: Callable[..., Any], data: bytes
) -> None:
    path = scratch / "fuzzed.map.scen"
    path.write_bytes(data)
    result = typed_or_ok(lambda: read_scen(path), (ValueError,), [str(path)])
    if isinstance(result, list):
        for scenario in result:
            assert 0 <= scenario.start[0] < scenario.height
            assert 0 <= scenario.goal[1] < scenario.width
            assert np.isfinite(scenario.optimal_length) and scenario.optimal_length >= 0


def test_non_utf8_scenario_names_the_file(scratch: Path) -> None:
    """Regression (fuzz): a non-UTF-8 byte raised a bare UnicodeDecodeError that did
    not say which file was bad."""
    path = scratch / "latin.map.scen"
    path.write_bytes(b"version 1\n0\tcaf\xe9.map\t3\t2\t0\t0\t2\t1\t2.5\n")
    with pytest.raises(ValueError, match=r"latin\.map\.scen.*UTF-8"):
        read_scen(path)


_ASCII = st.text(alphabet=st.sampled_from([*list(".#@OTWSG123456789 \t\n\r0xa"), "\x85", "é"]))


@FUZZ
@given(st.one_of(_ASCII, st.text(max_size=40)))
def test_from_ascii_reads_or_raises(typed_or_ok: Callable[..., Any], text: str) -> None:
    names = ["ASCII map"]
    result = typed_or_ok(lambda: GridMap.from_ascii(text), (ValueError,), names)
    if isinstance(result, GridMap):
        again = GridMap.from_ascii(result.to_ascii())
        assert np.array_equal(again.occupancy, result.occupancy)


@FUZZ
@given(st.one_of(st.none(), st.integers(), st.binary(max_size=10), st.lists(st.text(max_size=3))))
def test_from_ascii_rejects_non_text(typed_or_ok: Callable[..., Any], value: object) -> None:
    """Regression (fuzz): None, bytes or a list raised AttributeError ('no attribute strip')."""
    result = typed_or_ok(lambda: GridMap.from_ascii(value), (TypeError,), ["text"])  # type: ignore[arg-type]
    assert isinstance(result, TypeError)
