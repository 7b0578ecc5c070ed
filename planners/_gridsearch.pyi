from typing import Any

from planners.grid_plan import Cell, Plan

def cell_list(cells: bytes, /) -> list[Cell]: ...

class Workspace:
    mark: int
    def __init__(self, n_cells: int) -> None: ...

class Route:
    def __init__(
        self,
        workspace: Workspace,
        kind: int,
        grid: Any,
        terrain: Any,
        occupancy: Any,
        rows: int,
        cols: int,
        connectivity: int,
        scale: float,
        plan_type: type[Plan],
    ) -> None: ...
    def plan(self, start: object, goal: object, /) -> Plan | bool | None: ...
    def search_many(
        self, starts: Any, goals: Any, costs: Any, want_paths: bool, /
    ) -> tuple[int, bytes | None, bytes | None]: ...
