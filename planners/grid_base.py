"""What a grid map is: :class:`GridBase`, the base of :class:`~planners.grid.GridMap`.

It checks and holds the occupancy, terrain costs and name, reads and writes the text
forms (through :mod:`planners.grid_text`), compares, pickles and answers questions about
single cells. The moves between cells are :mod:`planners.grid_moves`; planning on them
is :mod:`planners.grid`.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from os import PathLike
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from planners.grid_backends import new_workspace
from planners.grid_plan import Cell as Cell
from planners.grid_text import format_ascii, parse_ascii, read_movingai_map

__all__ = ["Cell", "GridBase"]

_Grid = TypeVar("_Grid", bound="GridBase")


class GridBase:
    """An occupancy grid with optional per-cell terrain costs, without moves or plans.

    Parameters and checks as for :class:`~planners.grid.GridMap`, the class to use.
    """

    def __init__(
        self,
        occupancy: npt.ArrayLike,
        terrain: npt.ArrayLike | None = None,
        *,
        name: str | None = None,
    ) -> None:
        occ = np.asarray(occupancy)
        if occ.ndim != 2 or occ.shape[0] < 1 or occ.shape[1] < 1:
            raise ValueError(
                f"occupancy must be a 2-D array with at least one cell, got shape {occ.shape}"
            )
        if occ.dtype != bool:
            if not np.isin(occ, (0, 1)).all():
                raise ValueError("occupancy must be boolean (True = blocked) or contain only 0/1")
            occ = occ.astype(bool)
        self.occupancy: npt.NDArray[np.bool_] = occ.copy()
        self._shape = (int(occ.shape[0]), int(occ.shape[1]))
        self.occupancy.flags.writeable = False  # cached graphs depend on it
        self.terrain: npt.NDArray[np.float64] | None = None
        if terrain is not None:
            ter = np.array(terrain, dtype=np.float64)
            if ter.shape != occ.shape:
                raise ValueError(
                    f"terrain has shape {ter.shape} but occupancy has shape {occ.shape}"
                )
            bad = ~occ & ~(np.isfinite(ter) & (ter > 0))
            if bad.any():
                r, c = np.argwhere(bad)[0]
                raise ValueError(
                    f"terrain must be finite and > 0 on free cells; cell ({r}, {c}) has "
                    f"{ter[r, c]} (block the cell in occupancy instead)"
                )
            ter.flags.writeable = False
            self.terrain = ter
        self.name = name
        # the cheapest move multiplier scales the heuristic so that it stays admissible
        free = ~self.occupancy
        self._terrain_floor = (
            1.0 if self.terrain is None or not free.any() else float(self.terrain[free].min())
        )
        self._cache: dict[tuple[str, int], Any] = {}  # move tables and graphs, built on use
        # (backend, connectivity) -> (backend chosen, what it reads), see GridMap._route
        self._routes: dict[tuple[str, int], Any] = {}
        # the compiled searches' reusable work records (None where they were not built)
        self._astar = new_workspace(self._shape[0] * self._shape[1])

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_ascii(cls: type[_Grid], text: str, *, name: str | None = None) -> _Grid:
        """Build a map from text, one line per row.

        ``#``, ``@``, ``O``, ``T`` and ``W`` are blocked; ``.``, ``S`` and ``G`` are free;
        a digit ``1``-``9`` is a free cell with that terrain cost. Blank lines at either
        end and surrounding whitespace on each line are ignored.

        Raises
        ------
        ValueError
            On rows of different lengths or an unknown character, naming line and column.
        TypeError
            If ``text`` is not a ``str``.

        Examples
        --------
        >>> from planners import GridMap
        >>> GridMap.from_ascii("..#\\n.2.").terrain
        array([[1., 1., 1.],
               [1., 2., 1.]])
        """
        if not isinstance(text, str):
            raise TypeError(
                f"text must be the map as a str (one line per row), got {type(text).__name__}"
            )
        occ, ter = parse_ascii(text)
        return cls(occ, ter, name=name)

    @classmethod
    def from_movingai(cls: type[_Grid], path: str | PathLike[str]) -> _Grid:
        """Read a MovingAI ``.map`` file; see :func:`planners.movingai.read_map`."""
        occ, name = read_movingai_map(path)
        return cls(occ, name=name)

    def to_ascii(self) -> str:
        """The map as text: ``#`` blocked, ``.`` free (terrain costs as digits when integral).

        Examples
        --------
        >>> from planners import GridMap
        >>> print(GridMap([[0, 1], [0, 0]]).to_ascii())
        .#
        ..
        """
        return format_ascii(self.occupancy, self.terrain)

    # ------------------------------------------------------------------ queries
    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return self._shape

    @property
    def free(self) -> npt.NDArray[np.bool_]:
        """Boolean array, ``True`` on free cells."""
        return ~self.occupancy

    def __repr__(self) -> str:
        rows, cols = self.shape
        label = f" {self.name!r}" if self.name else ""
        n_free = int(np.count_nonzero(self.free))
        return f"<GridMap{label} {rows}x{cols}, {n_free} free cells>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GridBase):
            return NotImplemented
        if self.shape != other.shape or not np.array_equal(self.occupancy, other.occupancy):
            return False
        return np.array_equal(self._terrain_array(), other._terrain_array())

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container: no hashing

    def __getstate__(self) -> dict[str, Any]:
        # Caches, routes and work records are rebuilt on demand; compiled ones cannot be copied.
        state = self.__dict__.copy()
        state.update(_cache={}, _routes={}, _astar=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_routes", {})  # pickled before routes were cached
        self._astar = new_workspace(self._shape[0] * self._shape[1])

    def _terrain_array(self) -> npt.NDArray[np.float64]:
        return np.ones(self.shape) if self.terrain is None else self.terrain

    def in_bounds(self, cell: Sequence[int]) -> bool:
        """Whether ``cell`` lies on the map."""
        r, c = cell
        return 0 <= r < self.shape[0] and 0 <= c < self.shape[1]

    def is_free(self, cell: Sequence[int]) -> bool:
        """Whether ``cell`` lies on the map and is not blocked."""
        return self.in_bounds(cell) and not bool(self.occupancy[cell[0], cell[1]])

    def check_cell(self, cell: Sequence[int], what: str = "cell") -> Cell:
        """Return ``cell`` as ``(row, col)`` ints, or raise ValueError naming ``what``.

        Examples
        --------
        >>> from planners import GridMap
        >>> GridMap([[0, 1]]).check_cell((0, 1), "goal")
        Traceback (most recent call last):
            ...
        ValueError: goal (0, 1) is a blocked cell
        """
        try:
            r, c = cell
            r, c = operator.index(r), operator.index(c)  # ints and numpy ints, not floats
        except (TypeError, ValueError):
            raise ValueError(
                f"{what} must be a (row, col) pair of integers, got {cell!r}"
            ) from None
        rows, cols = self._shape
        if not (0 <= r < rows and 0 <= c < cols):
            raise ValueError(
                f"{what} ({r}, {c}) is outside the {rows}x{cols} map "
                f"(rows 0..{rows - 1}, cols 0..{cols - 1})"
            )
        if self.occupancy[r, c]:
            raise ValueError(f"{what} ({r}, {c}) is a blocked cell")
        return (r, c)

    def _min_terrain(self) -> float:
        return self._terrain_floor

    def _has_uniform_cost(self) -> bool:
        """Whether all free cells share one terrain cost (always, without terrain)."""
        key = ("uniform", 0)
        if key not in self._cache:
            free_terrain = None if self.terrain is None else self.terrain[self.free]
            self._cache[key] = free_terrain is None or bool(
                (free_terrain == self._terrain_floor).all()
            )
        uniform: bool = self._cache[key]
        return uniform
