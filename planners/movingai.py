"""Read and write the MovingAI grid-pathfinding formats (``.map`` and ``.scen``).

The formats are those of Nathan Sturtevant's benchmark set (movingai.com; N. Sturtevant,
"Benchmarks for Grid-Based Pathfinding", IEEE TCIAIG 4(2), 2012). Files use ``(x, y)``
with ``x`` the column; everything returned here uses ``(row, col)``.

``.map``::

    type octile
    height 2
    width 3
    map
    ..@
    ...

Passable characters are ``.`` ``G`` ``S``; blocked are ``@`` ``O`` ``T`` ``W``.

``.scen`` (version 1): a ``version 1`` line, then one tab-separated line per query:
``bucket map width height start_x start_y goal_x goal_y optimal_length``.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from planners.grid import GridMap
from planners.grid_text import format_movingai_map

__all__ = ["Scenario", "read_map", "read_scen", "write_map"]


@dataclass(frozen=True)
class Scenario:
    """One query of a ``.scen`` file, in ``(row, col)`` coordinates.

    Attributes
    ----------
    bucket : int
        Difficulty bucket (optimal length // 4 in the published sets).
    map_name : str
        The ``.map`` file the query is for, as written in the file.
    width, height : int
        Size of that map.
    start, goal : (row, col)
        End points.
    optimal_length : float
        Optimal cost with octile moves and no corner cutting.
    """

    bucket: int
    map_name: str
    width: int
    height: int
    start: tuple[int, int]
    goal: tuple[int, int]
    optimal_length: float


def read_map(path: str | PathLike[str]) -> GridMap:
    """Read the MovingAI ``.map`` file at ``path`` as a :class:`GridMap` named after its stem.

    Raises
    ------
    ValueError
        If the header, a row's length or a character is wrong; the message names the
        file and the line.
    FileNotFoundError
        If the file does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> f = pathlib.Path(folder.name) / "tiny.map"
    >>> _ = f.write_text("type octile\\nheight 2\\nwidth 3\\nmap\\n..@\\n...\\n")
    >>> read_map(f)
    <GridMap 'tiny' 2x3, 5 free cells>
    >>> folder.cleanup()
    """
    return GridMap.from_movingai(path)


def write_map(path: str | PathLike[str], grid: GridMap) -> None:
    """Write ``grid`` as a MovingAI ``.map`` file (``.`` free, ``@`` blocked), atomically.

    The file is written to a temporary file in the same folder and renamed over
    ``path``, so a crash never leaves a half-written map.

    Raises
    ------
    ValueError
        If the map has terrain costs other than 1: the format cannot store them.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> f = pathlib.Path(folder.name) / "out.map"
    >>> grid = GridMap.from_ascii("..#\\n...")
    >>> write_map(f, grid)
    >>> read_map(f) == grid
    True
    >>> folder.cleanup()
    """
    if grid.terrain is not None and not np.all(grid.terrain[grid.free] == 1):
        raise ValueError(
            "the .map format has no terrain costs; this map has costs other than 1 "
            "(build a GridMap without terrain to write it)"
        )
    _write_atomic(Path(path), format_movingai_map(grid.occupancy))


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
        # mkstemp creates the file 0600; give it the mode a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_scen(path: str | PathLike[str]) -> list[Scenario]:
    """Read a MovingAI ``.scen`` file (version 1).

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    list of Scenario
        One per query line, with ``(row, col)`` end points.

    Raises
    ------
    ValueError
        On a missing version line, a malformed query line (naming file and line) or a
        file that is not UTF-8 text (naming the file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> f = pathlib.Path(folder.name) / "tiny.map.scen"
    >>> _ = f.write_text("version 1\\n0\\ttiny.map\\t3\\t2\\t0\\t0\\t2\\t1\\t2.41421356\\n")
    >>> s = read_scen(f)[0]
    >>> s.start, s.goal, s.optimal_length
    ((0, 0), (1, 2), 2.41421356)
    >>> folder.cleanup()
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: not a UTF-8 text file ({err.reason} at byte {err.start}); "
            "give a MovingAI .scen file"
        ) from None
    if not lines or lines[0].split()[:1] != ["version"]:
        raise ValueError(f"{path}:1: expected 'version 1' first, got {lines[:1]}")
    version = lines[0].split()[1:2]
    if version not in (["1"], ["1.0"]):
        raise ValueError(f"{path}:1: unsupported scenario version {version} (only 1 is read)")
    result = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) != 9:
            raise ValueError(
                f"{path}:{lineno}: expected 9 fields (bucket map width height start_x "
                f"start_y goal_x goal_y optimal_length), got {len(fields)}"
            )
        try:
            bucket, width, height, sx, sy, gx, gy = (int(fields[i]) for i in (0, 2, 3, 4, 5, 6, 7))
            optimal = float(fields[8])
        except ValueError as err:
            raise ValueError(f"{path}:{lineno}: {err}") from None
        if not math.isfinite(optimal) or optimal < 0:
            raise ValueError(f"{path}:{lineno}: optimal length must be finite and >= 0")
        for name, x, y in (("start", sx, sy), ("goal", gx, gy)):
            if not (0 <= x < width and 0 <= y < height):
                raise ValueError(
                    f"{path}:{lineno}: {name} (x={x}, y={y}) lies outside the {width}x{height} map"
                )
        result.append(Scenario(bucket, fields[1], width, height, (sy, sx), (gy, gx), optimal))
    return result
