from typing import Any

def astar(
    moves: Any,
    terrain: Any,
    rows: int,
    cols: int,
    start: int,
    goal: int,
    connectivity: int,
    scale: float,
    work: Any,
    open_mark: int,
    /,
) -> tuple[float, int, list[tuple[int, int]] | None]: ...
