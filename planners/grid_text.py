"""Grids as text, read into and written from plain arrays (no map class here).

Two forms: the ASCII maps of :meth:`planners.GridMap.from_ascii` and
:meth:`~planners.GridMap.to_ascii`, and the ``.map`` files of the MovingAI benchmarks
(:mod:`planners.movingai` describes the format and returns :class:`~planners.GridMap`).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["format_ascii", "format_movingai_map", "parse_ascii", "read_movingai_map"]

_BLOCKED_CHARS = frozenset("#@OTW")
_FREE_CHARS = frozenset(".SG")
# the MovingAI .map characters
_PASSABLE = frozenset(".GS")
_BLOCKED = frozenset("@OTW")


def parse_ascii(text: str) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64] | None]:
    """Return the occupancy and terrain (``None`` if all 1) of an ASCII map.

    See :meth:`planners.GridMap.from_ascii` for the characters; ValueError on rows of
    different lengths or an unknown character, naming line and column.

    Examples
    --------
    >>> parse_ascii("..#\\n.2.")
    (array([[False, False,  True],
           [False, False, False]]), array([[1., 1., 1.],
           [1., 2., 1.]]))
    """
    lines = [line.strip() for line in text.strip("\n").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        raise ValueError("ASCII map is empty: give at least one row of cells")
    width = len(lines[0])
    occ = np.zeros((len(lines), width), dtype=bool)
    ter = np.ones((len(lines), width))
    for r, line in enumerate(lines):
        if len(line) != width:
            raise ValueError(
                f"ASCII map line {r + 1} has {len(line)} cells, expected {width} "
                "(every row must be as long as the first)"
            )
        for c, ch in enumerate(line):
            if ch in _BLOCKED_CHARS:
                occ[r, c] = True
            elif ch in "123456789":
                ter[r, c] = float(ch)
            elif ch not in _FREE_CHARS:
                raise ValueError(
                    f"ASCII map line {r + 1}, column {c + 1}: unknown character {ch!r} "
                    "(blocked: # @ O T W; free: . S G; terrain cost: 1-9)"
                )
    return occ, ter if (ter != 1).any() else None


def format_ascii(occupancy: npt.NDArray[np.bool_], terrain: npt.NDArray[np.float64] | None) -> str:
    """Return a map as text: ``#`` blocked, ``.`` free (terrain costs as digits when integral).

    Examples
    --------
    >>> print(format_ascii(np.array([[False, True], [False, False]]), None))
    .#
    ..
    """
    chars = np.where(occupancy, "#", ".")
    if terrain is not None:
        t = terrain
        digit = ~occupancy & (t != 1) & (t == np.round(t)) & (t <= 9)
        chars = np.where(digit, t.astype(int).astype(str), chars)
    return "\n".join("".join(row) for row in chars)


def read_movingai_map(path: str | PathLike[str]) -> tuple[npt.NDArray[np.bool_], str]:
    """Return the occupancy of a MovingAI ``.map`` file and the file's stem.

    See :func:`planners.movingai.read_map` for the errors.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> f = pathlib.Path(folder.name, "row.map")
    >>> _ = f.write_text(format_movingai_map(np.array([[False, True]])))
    >>> read_movingai_map(f)
    (array([[False,  True]]), 'row')
    >>> folder.cleanup()
    """
    path = Path(path)
    lines = path.read_text(encoding="latin-1").splitlines()

    def fail(lineno: int, why: str) -> ValueError:
        return ValueError(f"{path}:{lineno}: {why}")

    header: dict[str, str] = {}
    expected = ("type", "height", "width", "map")
    for lineno, key in enumerate(expected, start=1):
        if lineno > len(lines):
            raise fail(lineno, f"file ends before the header line '{key} ...'")
        words = lines[lineno - 1].split()
        if not words or words[0] != key:
            raise fail(lineno, f"expected header line '{key} ...', got {lines[lineno - 1]!r}")
        if key != "map":
            if len(words) != 2:
                raise fail(lineno, f"expected '{key} VALUE', got {lines[lineno - 1]!r}")
            header[key] = words[1]
    if header["type"] != "octile":
        raise fail(1, f"unsupported map type {header['type']!r} (only 'octile' exists)")
    size: dict[str, int] = {}
    for lineno, key in ((2, "height"), (3, "width")):
        try:
            size[key] = int(header[key])
        except ValueError:
            raise fail(lineno, f"{key} must be a positive integer, got {header[key]!r}") from None
        if size[key] < 1:
            raise fail(lineno, f"{key} must be a positive integer, got {size[key]}")
    height, width = size["height"], size["width"]
    rows = lines[4:]
    while rows and not rows[-1].strip():
        rows.pop()
    if len(rows) != height:
        raise fail(5 + min(len(rows), height), f"expected {height} map rows, found {len(rows)}")
    for r, row in enumerate(rows):
        if len(row) != width:
            raise fail(5 + r, f"row {r} has {len(row)} characters, expected width {width}")
    # one vectorised pass over all characters; only an error looks at single cells
    chars = np.frombuffer("".join(rows).encode("latin-1", "replace"), dtype="S1")
    chars = chars.reshape(height, width)
    occ = np.isin(chars, [c.encode() for c in sorted(_BLOCKED)])
    unknown = ~occ & ~np.isin(chars, [c.encode() for c in sorted(_PASSABLE)])
    if unknown.any():
        r, c = (int(v) for v in np.argwhere(unknown)[0])
        raise fail(
            5 + r,
            f"unknown character {rows[r][c]!r} at column {c + 1} "
            "(passable: . G S; blocked: @ O T W)",
        )
    return occ, path.stem


def format_movingai_map(occupancy: npt.NDArray[np.bool_]) -> str:
    """Return the text of a MovingAI ``.map`` file: ``.`` free, ``@`` blocked.

    Examples
    --------
    >>> print(format_movingai_map(np.array([[False, True]])), end="")
    type octile
    height 1
    width 2
    map
    .@
    """
    rows, cols = occupancy.shape
    body = "\n".join("".join(row) for row in np.where(occupancy, "@", "."))
    return f"type octile\nheight {rows}\nwidth {cols}\nmap\n{body}\n"
