"""The ``teacher`` kind: a trained network distilled into a pixel student for a cell.

``kwargs.teacher`` names the teacher's stable-baselines3 ``.zip`` (loading it unpickles
the file: trusted files only); every other keyword is one of
:func:`rlkit.deep.distil_teacher`'s. Each DAgger round's student is evaluated by the
cell (``train.eval_curve``), like the ``dagger`` kind's::

    - name: student
      kind: teacher
      kwargs: {teacher: runs/teacher/model.zip, student_size: small, temperature: 3.0}

The cell's fingerprint holds the teacher's path, not its contents: a suite that
replaces the file under the same name must be rerun without its old cells.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlkit.sweep.kinds.deep import check_deep_kwargs
from rlkit.sweep.kinds.distill import register_student_kind, student_agent
from rlkit.sweep.kinds.registry import TrainedAgent

if TYPE_CHECKING:
    from rlkit.sweep.suite import Cell

__all__: list[str] = []

#: Arguments every teacher cell sets itself.
_FIXED = ("env_id", "env_kwargs", "seed", "progress_bar")


def _check(kwargs: dict[str, Any]) -> None:
    teacher = kwargs.get("teacher")
    if not isinstance(teacher, str) or not teacher.endswith(".zip"):
        raise ValueError(
            "kwargs.teacher: the path of the teacher's stable-baselines3 .zip "
            f"(e.g. runs/teacher/model.zip), got {teacher!r}"
        )
    check_deep_kwargs("rlkit.deep.distill:distil_teacher", _FIXED, kwargs)


def _distil(cell: Cell) -> TrainedAgent:
    from rlkit.deep import distil_teacher
    from rlkit.deep.policies import policy_snapshot

    kwargs = dict(cell.agent.kwargs)
    teacher = Path(kwargs.pop("teacher"))
    if not teacher.is_file():
        raise FileNotFoundError(f"kwargs.teacher: no file {teacher} (train the teacher first)")
    rounds: list[tuple[int, Any]] = []

    def snapshot(round_: int, model: Any) -> None:
        rounds.append((round_, policy_snapshot(model.policy)))

    result = distil_teacher(
        teacher,
        cell.env.id,
        env_kwargs=dict(cell.env.kwargs),
        seed=cell.seed,
        callback=snapshot,
        **kwargs,
    )
    info = {"method": "teacher", "teacher": str(teacher), **result.summary()}
    return student_agent(result, rounds, info, "DAgger round")


register_student_kind(
    "teacher",
    _check,
    "a trained SB3 policy (kwargs.teacher: .zip) distilled into a pixel student on "
    "its soft actions (rlkit.deep.distil_teacher); budget: kwargs demos, iterations",
)(_distil)
