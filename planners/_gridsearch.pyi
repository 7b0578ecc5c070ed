from typing import Any

def search(
    kind: int,
    grid: Any,
    terrain: Any,
    rows: int,
    cols: int,
    start: int,
    goal: int,
    connectivity: int,
    scale: float,
    work: Any,
    mark: int,
    /,
) -> tuple[float, int, list[tuple[int, int]] | None]: ...
def search_many(
    kind: int,
    grid: Any,
    terrain: Any,
    rows: int,
    cols: int,
    starts: Any,
    goals: Any,
    connectivity: int,
    scale: float,
    work: Any,
    mark: int,
    costs: Any,
    want_paths: bool,
    /,
) -> tuple[int, bytes | None, bytes | None]: ...
