"""Map generators for GridNav: one small method per family (Minigrid's ``_gen_grid``).

A :class:`Layout` turns a random generator and a size into an occupancy array
(``True`` = blocked). A new family is one subclass that implements
:meth:`Layout._gen_grid`; :meth:`Layout.generate` wraps the array in a
:class:`planners.GridMap`, which stays the one source of truth for moves and costs.

Families: :class:`EmptyLayout` (no obstacles), :class:`RandomLayout` (independent
obstacles at a given density), :class:`RoomsLayout` (rooms joined by one door per
shared wall) and :class:`MazeLayout` (a perfect maze, optionally with loops).
:class:`FixedLayout` serves one given map: a :class:`~planners.GridMap`, ASCII text or
the path of a MovingAI ``.map`` file.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> grid = MazeLayout().generate(rng, 5, 7)
>>> grid.shape
(5, 7)
>>> print(FixedLayout("..#\\n...").generate(rng, 0, 0).to_ascii())
..#
...
"""

from __future__ import annotations

import itertools
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from planners import GridMap

__all__ = [
    "FOUR_ROOMS",
    "LAYOUTS",
    "EmptyLayout",
    "FixedLayout",
    "Layout",
    "MapLike",
    "MazeLayout",
    "RandomLayout",
    "RoomsLayout",
    "make_layout",
]

#: What ``map=`` accepts: a GridMap, ASCII text, or the path of a MovingAI ``.map`` file.
MapLike = GridMap | str | os.PathLike[str]
BoolArray = npt.NDArray[np.bool_]


class Layout(ABC):
    """A family of maps.

    Subclasses implement :meth:`_gen_grid`; everything else is shared.

    Attributes
    ----------
    name : str
        Short family name, as accepted by :func:`make_layout`.
    fixed : bool
        ``True`` when the map does not depend on the random generator (then an
        environment builds it once and may offer index observations and a
        transition model).
    """

    name: ClassVar[str] = "layout"
    fixed: ClassVar[bool] = False

    def generate(self, rng: np.random.Generator, rows: int, cols: int) -> GridMap:
        """A new map of ``rows`` x ``cols`` cells drawn with ``rng``."""
        occupancy = np.asarray(self._gen_grid(rng, rows, cols), dtype=bool)
        if occupancy.shape != (rows, cols):
            raise RuntimeError(
                f"{type(self).__name__}._gen_grid returned shape {occupancy.shape}, "
                f"expected {(rows, cols)}"
            )
        return GridMap(occupancy, name=self.name)

    @abstractmethod
    def _gen_grid(self, rng: np.random.Generator, rows: int, cols: int) -> BoolArray:
        """Occupancy array of shape ``(rows, cols)``, ``True`` where blocked."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class EmptyLayout(Layout):
    """No obstacles: the map edge is the only wall."""

    name = "empty"
    fixed = True

    def _gen_grid(self, rng: np.random.Generator, rows: int, cols: int) -> BoolArray:
        return np.zeros((rows, cols), dtype=bool)


class RandomLayout(Layout):
    """Each cell is blocked independently with probability ``density``.

    Parameters
    ----------
    density : float, default 0.2
        Obstacle probability, in ``[0, 0.9]``. Free cells cut off from the rest stay
        free; an environment starts the agent in the goal's connected component.
    """

    name = "random"

    def __init__(self, density: float = 0.2) -> None:
        if not 0.0 <= density <= 0.9:
            raise ValueError(f"density must be in [0, 0.9], got {density!r}")
        self.density = float(density)

    def _gen_grid(self, rng: np.random.Generator, rows: int, cols: int) -> BoolArray:
        return rng.random((rows, cols)) < self.density

    def __repr__(self) -> str:
        return f"RandomLayout(density={self.density})"


class RoomsLayout(Layout):
    """A grid of rooms; each wall between two neighbouring rooms has one random door.

    Wall lines sit near even spacing, moved by at most one cell at random while every
    room keeps at least two cells across. Every room can reach every other.

    Parameters
    ----------
    rooms : (int, int), default (2, 2)
        Rooms per column and per row (the default gives Sutton's four rooms). A side
        too short for its rooms gets as many as fit.
    """

    name = "rooms"

    def __init__(self, rooms: tuple[int, int] = (2, 2)) -> None:
        n_r, n_c = rooms
        if n_r < 1 or n_c < 1:
            raise ValueError(f"rooms must be two counts >= 1, got {rooms!r}")
        self.rooms = (int(n_r), int(n_c))

    @staticmethod
    def _wall_lines(rng: np.random.Generator, length: int, n_rooms: int) -> list[int]:
        n_rooms = max(1, min(n_rooms, (length + 1) // 3))  # rooms >= 2 cells, walls 1 cell
        span = (length + 1) / n_rooms
        lines = [round(span * i) - 1 for i in range(1, n_rooms)]
        for i, base in enumerate(lines):
            low = (lines[i - 1] if i else -1) + 3  # the room before keeps two cells
            high = length - 3 * (len(lines) - i)  # and so do the rooms still to come
            choices = [p for p in (base - 1, base, base + 1) if low <= p <= high] or [low]
            lines[i] = int(choices[rng.integers(len(choices))])
        return lines

    def _gen_grid(self, rng: np.random.Generator, rows: int, cols: int) -> BoolArray:
        occupancy = np.zeros((rows, cols), dtype=bool)
        row_lines = self._wall_lines(rng, rows, self.rooms[0])
        col_lines = self._wall_lines(rng, cols, self.rooms[1])
        occupancy[row_lines, :] = True
        occupancy[:, col_lines] = True
        row_edges = [-1, *row_lines, rows]
        col_edges = [-1, *col_lines, cols]
        for r in row_lines:  # a door in each segment of a horizontal wall
            for c0, c1 in itertools.pairwise(col_edges):
                occupancy[r, rng.integers(c0 + 1, c1)] = False
        for c in col_lines:
            for r0, r1 in itertools.pairwise(row_edges):
                occupancy[rng.integers(r0 + 1, r1), c] = False
        return occupancy

    def __repr__(self) -> str:
        return f"RoomsLayout(rooms={self.rooms})"


class MazeLayout(Layout):
    """A maze carved by randomised depth-first search (the recursive backtracker).

    Corridors are one cell wide: maze nodes sit at even ``(row, col)`` and walls in
    between, so odd sizes fill the map exactly and an even size leaves its last row or
    column blocked. Without loops there is exactly one path between two cells.

    Parameters
    ----------
    loops : float, default 0.0
        Probability that each remaining inner wall between two nodes is knocked out,
        adding loops ("braiding").
    """

    name = "maze"

    def __init__(self, loops: float = 0.0) -> None:
        if not 0.0 <= loops <= 1.0:
            raise ValueError(f"loops must be in [0, 1], got {loops!r}")
        self.loops = float(loops)

    def _gen_grid(self, rng: np.random.Generator, rows: int, cols: int) -> BoolArray:
        occupancy = np.ones((rows, cols), dtype=bool)
        n_r, n_c = (rows + 1) // 2, (cols + 1) // 2
        visited = np.zeros((n_r, n_c), dtype=bool)
        start = (int(rng.integers(n_r)), int(rng.integers(n_c)))
        stack = [start]
        visited[start] = True
        occupancy[2 * start[0], 2 * start[1]] = False
        steps = ((-1, 0), (1, 0), (0, -1), (0, 1))
        while stack:
            r, c = stack[-1]
            options = [
                (r + dr, c + dc)
                for dr, dc in steps
                if 0 <= r + dr < n_r and 0 <= c + dc < n_c and not visited[r + dr, c + dc]
            ]
            if not options:
                stack.pop()
                continue
            nr, nc = options[rng.integers(len(options))]
            visited[nr, nc] = True
            occupancy[r + nr, c + nc] = False  # the wall between (2r, 2c) and (2nr, 2nc)
            occupancy[2 * nr, 2 * nc] = False
            stack.append((nr, nc))
        if self.loops > 0:
            inner = np.zeros_like(occupancy)
            inner[0::2, 1::2] = True  # walls between horizontal neighbours
            inner[1::2, 0::2] = True  # and between vertical neighbours
            inner[:, -1] &= cols % 2 == 1  # an even size's last column is not inner
            inner[-1, :] &= rows % 2 == 1
            knock = inner & occupancy & (rng.random((rows, cols)) < self.loops)
            occupancy[knock] = False
        return occupancy

    def __repr__(self) -> str:
        return f"MazeLayout(loops={self.loops})"


class FixedLayout(Layout):
    """One given map, whatever the size asked for.

    Parameters
    ----------
    map : GridMap, str or path-like
        A :class:`~planners.GridMap`; ASCII text (see :meth:`GridMap.from_ascii`); or
        the path of a MovingAI ``.map`` file. A string is read as a path when it has no
        line break and names an existing file or ends in ``.map``.

    Raises
    ------
    ValueError
        If the map has no free cell, or the text cannot be parsed.
    FileNotFoundError
        If a ``.map`` path does not exist.
    """

    name = "map"
    fixed = True

    def __init__(self, map: MapLike) -> None:
        self.grid = _as_grid(map)
        if not self.grid.free.any():
            raise ValueError(f"map {self.grid!r} has no free cell: free at least two cells")

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the map."""
        return self.grid.shape

    def generate(self, rng: np.random.Generator, rows: int, cols: int) -> GridMap:
        """The map itself (the same object each call, so its planner caches persist)."""
        return self.grid

    def _gen_grid(self, rng: np.random.Generator, rows: int, cols: int) -> BoolArray:
        return self.grid.occupancy.copy()

    def __repr__(self) -> str:
        return f"FixedLayout({self.grid!r})"


def _as_grid(map: MapLike) -> GridMap:
    if isinstance(map, GridMap):
        return map
    if isinstance(map, os.PathLike) or (
        isinstance(map, str) and "\n" not in map and (map.endswith(".map") or Path(map).is_file())
    ):
        path = Path(map)
        if not path.is_file():
            raise FileNotFoundError(f"map file {str(path)!r} does not exist")
        return GridMap.from_movingai(path)
    if isinstance(map, str):
        try:
            return GridMap.from_ascii(map)
        except ValueError as exc:
            raise ValueError(
                f"map is neither an existing .map file nor valid ASCII map text: {exc}"
            ) from None
    raise ValueError(f"map must be a GridMap, ASCII text or a .map path, got {type(map).__name__}")


#: The default map of ``rlkit/GridNav-Map-v0``: Sutton's four rooms in 11x11 cells.
FOUR_ROOMS = """
.....#.....
.....#.....
...........
.....#.....
.....#.....
##.####.###
.....#.....
.....#.....
...........
.....#.....
.....#.....
"""

#: Family name -> Layout class, for ``layout="..."``.
LAYOUTS: dict[str, type[Layout]] = {
    "empty": EmptyLayout,
    "random": RandomLayout,
    "rooms": RoomsLayout,
    "maze": MazeLayout,
}


def make_layout(layout: str | Layout) -> Layout:
    """A :class:`Layout` from a family name (default parameters) or a Layout itself.

    Examples
    --------
    >>> make_layout("rooms")
    RoomsLayout(rooms=(2, 2))
    >>> make_layout("caves")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: layout must be one of ['empty', 'random', 'rooms', 'maze'] or a Layout ...
    """
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, str) and layout in LAYOUTS:
        return LAYOUTS[layout]()
    raise ValueError(f"layout must be one of {list(LAYOUTS)} or a Layout instance, got {layout!r}")
