"""``import planners`` stays light: other projects import it without our heavy extras.

Each check runs in a fresh interpreter, since this test process has imported much more
by the time it gets here.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "gymnasium", "pygame")


@pytest.mark.parametrize(
    "statement",
    [
        "import planners",
        "import planners.movingai",
        "import planners.graph, planners.grid",
        "from planners import GridMap; GridMap.from_ascii('..').plan((0, 0), (0, 1))",
    ],
)
def test_planners_does_not_import_heavy_packages(statement: str) -> None:
    code = (
        f"{statement}\n"
        "import sys\n"
        f"print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{statement!r} imported {result.stdout.strip()}"
