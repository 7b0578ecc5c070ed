"""What :meth:`planners.GridMap.plan` returns: :class:`Plan`, a path with its cost.

The compiled searches build a :class:`Plan` themselves, with the path's cells packed as
``(row, col)`` int64 pairs; :attr:`Plan.path` turns them into the list of tuples when
first read. On a small map, building that list took as long as the search, and many
callers only read the cost.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import FrozenInstanceError
from typing import Any

__all__ = ["Cell", "Plan"]

Cell = tuple[int, int]
# a cell as the compiled searches pack it: (row, col), native int64
_CELL = struct.Struct("=qq")
try:  # the compiled searches build the Plans with packed cells, and unpack them fastest
    from planners._gridsearch import cell_list as _cell_list
except ImportError:  # pragma: no cover - depends on the build machine

    def _cell_list(cells: bytes, /) -> list[Cell]:
        return list(_CELL.iter_unpack(cells))


class Plan:
    """A planned path on a grid.

    Frozen and compared like a dataclass: two plans are equal when their paths and
    costs are (``expanded`` is left out).

    Attributes
    ----------
    path : list of (row, col)
        Cells from start to goal, both included.
    cost : float
        Sum of the move costs along ``path``.
    expanded : int
        Nodes the search labelled (all search rounds together): a measure of effort.

    Examples
    --------
    >>> plan = Plan([(0, 0), (1, 1)], 1.4142, expanded=2)
    >>> plan
    Plan(path=[(0, 0), (1, 1)], cost=1.4142, expanded=2)
    >>> len(plan), plan == Plan([(0, 0), (1, 1)], 1.4142)
    (1, True)
    """

    __slots__ = ("_cells", "_path", "cost", "expanded")
    _cells: bytes  # the compiled searches' cells (see _CELL), b"" where _path is given
    _path: list[Cell] | None  # None until first read, where _cells holds the path
    cost: float
    expanded: int

    def __init__(self, path: Iterable[Cell], cost: float, expanded: int = 0) -> None:
        object.__setattr__(self, "_cells", b"")
        object.__setattr__(self, "_path", list(path))
        object.__setattr__(self, "cost", cost)
        object.__setattr__(self, "expanded", expanded)

    @property
    def path(self) -> list[Cell]:
        """Cells from start to goal, both included."""
        path = self._path
        if path is None:
            path = _cell_list(self._cells)
            object.__setattr__(self, "_path", path)
        return path

    def __len__(self) -> int:
        """Number of moves (one less than the number of cells)."""
        if self._path is None:
            return len(self._cells) // _CELL.size - 1
        return len(self._path) - 1

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Plan)
        return (self.path, self.cost) == (other.path, other.cost)

    __hash__ = None  # type: ignore[assignment]  # holds a list, as the frozen dataclass did

    def __repr__(self) -> str:
        return f"Plan(path={self.path!r}, cost={self.cost!r}, expanded={self.expanded!r})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type[Plan], tuple[list[Cell], float, int]]:
        return (Plan, (self.path, self.cost, self.expanded))
